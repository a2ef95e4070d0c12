"""Random weights like trained ones (``randomize``, ``TRAINED_LIKE``): what the numeric checks
run the twins on.

A port is judged on random weights, so they must exercise what trained weights exercise. The
numbers a trained network's normalisation layers hold are not those of a freshly initialised
one: BN calibrated on He-initialised activations sees variances of order 1 in every channel,
where an epsilon of 1e-3 or 1e-5 is invisible, and a port with the other framework's epsilon
passes (10 of 48 single-layer plantings missed). Trained networks have channels whose
input variance is near or below epsilon, where epsilon decides the output:

- torchvision's ImageNet Inception-v3: ``Conv2d_2a_3x3.bn.running_var`` holds 1.86e-14 and
  3.74e-14 in two of its 32 channels, dead filters (their conv weights ~3e-10); the other
  channels' folded scales gamma/sqrt(var + eps) run 0.29-3.47 (pytorch/vision#648).
- Krishnamoorthi 2018, "Quantizing deep convolutional networks for efficient inference"
  (arXiv:1806.08342) §3.1.3: per-layer weight quantisation takes MobileNet-v1/v2 to 0.1% top-1,
  "primarily due to batch normalization, which causes extreme variation in dynamic range across
  convolution kernels in a single layer": folded scales orders of magnitude apart, i.e. variances
  down to where epsilon dominates. Sheng et al. 2018 (arXiv:1803.08607) trace MobileNet-v1's
  8-bit collapse (70.5% -> 1.8%) to its depthwise layers and their BN.
- Mehta et al., CVPR 2019, "On Implicit Filter Level Sparsity in CNNs": BN + ReLU networks
  trained with Adam and weight decay grow filters that never fire.
- Measured here: the trained MobileNetV3-small classifier shipped in ``rapidocr-onnxruntime``
  1.4.4 (``ch_ppocr_mobile_v2.0_cls_infer.onnx``, 35 BN layers left unfolded, 2,136 channels):
  log10 of the moving variances has quantiles min -2.34, 1% -1.49, 5% -1.06, 25% -0.45, median
  0.09, 75% 0.51, 99% 1.37, max 1.44; per-layer medians from -1.66 to 1.25; within a depthwise
  layer up to 2.6 decades (about +-2.5 sigma of a normal with sigma 0.5 over ~100 channels), a
  pointwise layer 0.3-1 decade. That small network has no channel below 1e-3.

The distribution, per norm layer (``NormStatistics``): a median log10-variance uniform in
[-1.5, 1.5] and each channel normal around it with sigma 0.5 (the measured bulk), plus a tail
of 1 channel in 8, at least one per layer, log-uniform in [1e-7, 1e-2] (the near-dead channels
of ImageNet-scale networks, over the range where either framework's epsilon, 1e-3 or 1e-5,
changes the output by 5% to 10x; a channel deader than that behaves as zero). How many such
channels a trained layer has is not published; one in every layer is this suite's choice, so
that an epsilon mismatch in any single layer is visible (``conformance.selftest.sensitivity``).
Channels whose input is zero throughout (after a ReLU that never fires) stay at variance 0:
dead channels, as in the Inception-v3 checkpoint. No channel is amplified more than 30x
(``max_gain``): a channel fed by a near-dead one (a ReLU6 that fires on a few values at 1e-5)
has a natural variance of 1e-10, and scaling it up to a bulk draw made float32 rounding around
the ReLU's threshold into signal (MobileNet-v2 0.35, seed 5: a 1% difference between the twins'
training-mode batch variances, and a parity error at 0.7 of the line in MobileNet-v1 0.25); such
a channel keeps a variance below its draw, as a trained network's channel fed by a dead one does.

It is produced so the network stays well conditioned: in the one train-mode calibration pass,
each norm layer's input variance is measured per channel (per group for group/instance norm:
the mean over samples of each instance's variance) and brought to the drawn value by scaling
the output channels of the conv or linear layer that feeds it (through ReLU, LeakyReLU, PReLU,
pooling: positively homogeneous ops), in its weights and, for the rest of the pass, in the
tensor, so every statistic downstream is calibrated on the network as it will run. The
normalised outputs keep their usual scale; only the near-dead channels carry little signal, as
in a trained network. Instance norm (DPED) gets the same per-channel draw for its per-instance
variances. L2 normalisation (FaceNet's embedding) has no statistics to draw; its epsilon (1e-10)
only matters for an all-zero embedding.

Residual streams. A pre-activation ResNet (v2) normalises sums, not conv outputs: each unit's
``preact`` BN reads the previous unit's ``Add`` (or a 1x1/2 max pool of it), ``postnorm`` the
last one (16 of resnet_v2_50's 49 BNs). Left at their natural statistics (variance ~1, no
near-dead channel), an epsilon mismatch planted in one of them reached only 1.1-2.1x the
tolerance. Such a sum is scaled at its sources. A probe pass (eval mode; no weight, statistic or
random state changes; only for a model with an ``Add`` module) finds the residual streams that
feed a norm layer: a stream starts at an ``Add`` of two conv-produced tensors (a projection
unit: shortcut conv + residual conv) and goes on through every ``Add`` of the stream (possibly
through homogeneous ops, e.g. a subsampling max pool) and one more conv-produced tensor
(identity or subsampled shortcut + residual conv). In the calibration pass, at the first ``Add``
of each such stream one per-channel variance is drawn for the sum (the same distribution, the
variance measured as the first norm it feeds measures it, ``max_gain`` kept) and both convs'
output channels are scaled by the factors that bring the sum to it, in the weights and the
tensors; at every later ``Add`` of the stream the added conv's output channels get the same
factors. One draw per stream, not one per norm: a later sum holds the earlier ones, whose convs
have run and whose statistics downstream are already calibrated, so it could not be brought to
a draw of its own without undoing them; and one factor along the stream makes a channel
near-dead in every contribution to it, as a dead channel of a trained residual stream is (a
near-dead sum revived by the next unit's unscaled residual would not be). So the first norm fed
by a stream sees the draw, the later ones the draw times the stream's natural growth (seeds 0
and 1: the median variance grows 2-4x along a block of resnet_v2_50, up to 17x along the 36
units of resnet_v2_152's block 3; every norm a stream feeds keeps at least 9% of its channels
below 1e-2, 12.5% being drawn in the tail). These norm layers are listed in the report as
``scaled`` and also as ``stream``. A network without a norm fed by a stream (every other network
of the zoo) gets no ``Add`` hook and no extra draw: the same weights as without this rule. A norm
layer fed neither by a conv (through homogeneous ops) nor by such a stream keeps its calibrated
statistics and is listed as ``unscalable`` (none in the current zoo).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from torch_models.layers import Add, NormedBahdanauAttention, ScalarBias, SubPixelConv2d


# ------------------------------------------------------------------------------------------
# non-trivial weights with trained-like normalisation statistics
# ------------------------------------------------------------------------------------------
NORMS = (nn.modules.batchnorm._BatchNorm, nn.InstanceNorm2d, nn.GroupNorm)
# Ops through which a per-channel scale passes unchanged: f(s * x) = s * f(x) for s > 0, per
# channel (so the conv before them can carry a norm layer's input scale). ReLU6 is not: it clips.
HOMOGENEOUS = (nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.Identity, nn.MaxPool2d, nn.AvgPool2d, nn.Dropout)


@dataclass(frozen=True)
class NormStatistics:
    """The distribution the normalisation layers' input variances are drawn from, per channel
    (per group for a GroupNorm), in log10 units. See the module docs for where it comes from."""

    layer_median: tuple[float, float] = (-1.5, 1.5)     # uniform, one median per layer
    spread: float = 0.5                                  # normal std of a channel around it
    tail_fraction: float = 1 / 8                         # near-dead channels, at least one per layer
    tail: tuple[float, float] = (-7.0, -2.0)             # uniform, below and around both epsilons
    max_gain: float = 30.0                               # no channel is amplified more than this


TRAINED_LIKE = NormStatistics()


def _can_scale_output_channels(module: nn.Module) -> bool:
    """Whether ``_scale_output_channels`` has a rule for ``module``."""
    return ((isinstance(module, nn.ConvTranspose2d) and module.groups == 1)
            or isinstance(module, (nn.Conv2d, nn.Linear)))


def _scale_output_channels(module: nn.Module, s: torch.Tensor) -> bool:
    """Multiply ``module``'s output channel c by ``s[c]`` through its weights (and bias); False
    when the module type has no such rule."""
    if isinstance(module, SubPixelConv2d):           # channel c of the shuffled output: c*r*r + k
        s = s.repeat_interleave(module.upscale * module.upscale)
    if isinstance(module, nn.ConvTranspose2d) and module.groups == 1:
        module.weight.mul_(s.view(1, -1, 1, 1))
    elif isinstance(module, (nn.Conv2d, nn.Linear)):
        module.weight.mul_(s.view(-1, *([1] * (module.weight.ndim - 1))))
    else:
        return False
    if module.bias is not None:
        module.bias.mul_(s)
    return True


def _channel_scaled(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    return x * s.view(1, x.shape[1], *([1] * (x.ndim - 2)))


class _TensorMap:
    """A map keyed by tensor identity that keeps no tensor alive (a calibration pass of a deep
    network must not hold every activation): an entry whose tensor is gone never matches."""

    def __init__(self) -> None:
        self.entries: dict[int, tuple[weakref.ref, Any]] = {}

    def __setitem__(self, t: torch.Tensor, value: Any) -> None:
        self.entries[id(t)] = (weakref.ref(t), value)

    def get(self, t: Any) -> Any:
        e = self.entries.get(id(t)) if isinstance(t, torch.Tensor) else None
        return e[1] if e is not None and e[0]() is t else None


_PRODUCERS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def _hook_modules(model: nn.Module, norm_pre_hook, producer_hook, passthrough_hook, add_hook=None,
                  add_pre_hook=None) -> list:
    """Register the calibration hooks by module kind (norms, producing convs, homogeneous ops,
    residual Adds), in module order; the handles to remove them."""
    hooks = []
    for module in model.modules():
        if isinstance(module, NORMS):
            hooks.append(module.register_forward_pre_hook(norm_pre_hook))
        elif isinstance(module, _PRODUCERS):
            hooks.append(module.register_forward_hook(producer_hook))
        elif isinstance(module, HOMOGENEOUS):
            hooks.append(module.register_forward_hook(passthrough_hook))
        elif isinstance(module, Add):
            if add_hook is not None:
                hooks.append(module.register_forward_hook(add_hook))
            if add_pre_hook is not None:
                hooks.append(module.register_forward_pre_hook(add_pre_hook))
    return hooks


class _StreamProbe:
    """A pass that changes nothing and finds the residual streams that feed a norm layer.

    A stream starts at an ``Add`` of two conv-produced tensors (a projection unit: shortcut conv
    + residual conv) and goes on through every ``Add`` of the stream (possibly through homogeneous
    ops, e.g. a subsampling max pool) and a conv-produced tensor (identity shortcut + residual
    conv). ``origins`` maps each stream's first ``Add`` that feeds a norm layer (directly or
    through homogeneous ops) to the first such norm (whose kind of statistics the draw follows)."""

    def __init__(self, model: nn.Module) -> None:
        self.producers, self.streams = _TensorMap(), _TensorMap()
        self.origins: dict[nn.Module, nn.Module] = {}
        self.hooks = _hook_modules(model, self.norm_pre_hook, self.producer_hook, self.passthrough_hook,
                                   add_hook=self.add_hook)

    def remove(self) -> None:
        for h in self.hooks:
            h.remove()

    def producer_hook(self, module, inp, out) -> None:
        self.producers[out] = module

    def passthrough_hook(self, module, inp, out) -> None:
        if not inp:
            return
        if (p := self.producers.get(inp[0])) is not None:
            self.producers[out] = p
        if (origin := self.streams.get(inp[0])) is not None:
            self.streams[out] = origin

    def add_hook(self, add, inp, out) -> None:
        if len(inp) != 2:
            return
        a, b = inp
        pa, pb = self.producers.get(a), self.producers.get(b)
        if pa is not None and pb is not None and pa is not pb:
            self.streams[out] = add                      # a projection unit: a new stream
            return
        for stream, p in ((a, pb), (b, pa)):             # the stream plus a conv's output
            origin = self.streams.get(stream)
            if origin is not None and p is not None:
                self.streams[out] = origin
                return

    def norm_pre_hook(self, norm, args) -> None:
        if (origin := self.streams.get(args[0])) is not None:
            self.origins.setdefault(origin, norm)


class _InputScaler:
    """The calibration pass's hooks: each norm layer's input variance is set to a trained-like
    draw by scaling the output channels of the layer that produced it (a conv or linear, possibly
    through homogeneous ops), in the weights and, for this pass, in the tensor itself, so one
    pass calibrates every statistic downstream of the change.

    ``origins`` (from ``_StreamProbe``): the residual streams that feed norm layers. At a stream's
    first ``Add`` one draw is made for the sum and both producing convs are scaled by it; at each
    later ``Add`` of the stream the added conv is scaled by the same factors. Without origins no
    stream hook is registered and nothing differs from a network without ``Add``."""

    def __init__(self, model: nn.Module, gen: torch.Generator, stats: NormStatistics,
                 origins: dict[nn.Module, nn.Module] | None = None) -> None:
        self.gen, self.stats = gen, stats
        self.last: tuple[torch.Tensor, nn.Module] | None = None     # the latest scalable output
        self.scaled: list[str] = []
        self.unscalable: list[str] = []
        self.stream: list[str] = []            # norms whose input is a scaled residual stream
        self.names = {m: n for n, m in model.named_modules()}
        self.origins = origins or {}
        self.producers, self.streams = _TensorMap(), _TensorMap()   # stream tensor -> its scale
        self.stream_scaled: set[nn.Module] = set()     # convs scaled for a stream
        self.norm_scaled: set[nn.Module] = set()       # convs scaled for a norm
        self.pending: torch.Tensor | None = None       # the scale of the running Add's sum
        self.hooks = _hook_modules(model, self.norm_pre_hook, self.producer_hook, self.passthrough_hook,
                                   add_hook=self.add_hook if self.origins else None,
                                   add_pre_hook=self.add_pre_hook if self.origins else None)

    def remove(self) -> None:
        for h in self.hooks:
            h.remove()

    def producer_hook(self, module, inp, out) -> None:
        self.last = (out, module)
        if self.origins:
            self.producers[out] = module

    def passthrough_hook(self, module, inp, out) -> None:
        if self.last is not None and inp and inp[0] is self.last[0]:
            self.last = (out, self.last[1])
        if self.origins and inp:
            if (p := self.producers.get(inp[0])) is not None:
                self.producers[out] = p
            if (s := self.streams.get(inp[0])) is not None:
                self.streams[out] = s

    def draw(self, n: int) -> torch.Tensor:
        """n log10-variances: a bulk around a per-layer median, and a near-dead tail."""
        st, g = self.stats, self.gen
        median = float(torch.rand((), generator=g)) * (st.layer_median[1] - st.layer_median[0]) + st.layer_median[0]
        out = median + st.spread * torch.randn(n, generator=g)
        k = max(1, round(n * st.tail_fraction)) if st.tail_fraction > 0 else 0
        tail = torch.randperm(n, generator=g)[:k]
        out[tail] = torch.rand(k, generator=g) * (st.tail[1] - st.tail[0]) + st.tail[0]
        return out

    def channel_scale(self, x: torch.Tensor, norm: nn.Module) -> torch.Tensor:
        """Per channel of ``x``, the factor that takes its variance, as ``norm`` measures it, to
        a draw (1 for a channel that is zero throughout; at most ``max_gain``)."""
        c = x.shape[1]
        groups = norm.num_groups if isinstance(norm, nn.GroupNorm) else (
            c if isinstance(norm, nn.InstanceNorm2d) else 0)
        if groups:     # per-instance statistics: the variance of each (sample, group), averaged
            v = x.reshape(x.shape[0], groups, -1).double().var(dim=2, unbiased=False).mean(dim=0)
        else:
            v = x.transpose(0, 1).reshape(c, -1).double().var(dim=1, unbiased=False)
        target = 10.0 ** self.draw(v.numel()).double()
        s = torch.where(v > 0, torch.sqrt(target / v.clamp_min(1e-300)), torch.ones_like(v))
        s = s.clamp(max=self.stats.max_gain).float()
        if groups:
            s = s.repeat_interleave(c // groups)
        return s

    def norm_pre_hook(self, norm, args):
        x = args[0]
        producer = self.last[1] if self.last is not None and x is self.last[0] else None
        if producer is not None and producer in self.stream_scaled:
            producer = None                    # its output already carries a stream's scale
        if producer is None:
            if self.origins and self.streams.get(x) is not None:
                self.scaled.append(self.names[norm])       # the stream's draw is its input's
                self.stream.append(self.names[norm])
            else:
                self.unscalable.append(self.names[norm])
            return None
        s = self.channel_scale(x, norm)
        if not _scale_output_channels(producer, s):
            self.unscalable.append(self.names[norm])
            return None
        self.norm_scaled.add(producer)
        self.scaled.append(self.names[norm])
        self.last = None
        return (_channel_scaled(x, s), *args[1:])

    def _free(self, t: Any) -> nn.Module | None:
        """The conv that produced ``t`` if it can still take a scale (not scaled before)."""
        p = self.producers.get(t)
        ok = (p is not None and _can_scale_output_channels(p)
              and p not in self.norm_scaled and p not in self.stream_scaled)
        return p if ok else None

    def _take(self, producer: nn.Module, s: torch.Tensor) -> None:
        _scale_output_channels(producer, s)
        self.stream_scaled.add(producer)
        if self.last is not None and self.last[1] is producer:
            self.last = None

    def add_pre_hook(self, add, args):
        self.pending = None
        if len(args) != 2 or not all(isinstance(t, torch.Tensor) for t in args) or args[0].shape != args[1].shape:
            return None
        a, b = args
        pa, pb = self._free(a), self._free(b)
        if add in self.origins and pa is not None and pb is not None and pa is not pb:
            s = self.channel_scale(a + b, self.origins[add])      # one draw for the stream
            self._take(pa, s)
            self._take(pb, s)
            self.pending = s
            return (_channel_scaled(a, s), _channel_scaled(b, s))
        for stream, other, p in ((a, b, pb), (b, a, pa)):
            s = self.streams.get(stream)
            if s is not None and p is not None:
                self._take(p, s)
                self.pending = s
                return (a, _channel_scaled(b, s)) if other is b else (_channel_scaled(a, s), b)
        return None

    def add_hook(self, add, inp, out) -> None:
        if self.pending is not None:
            self.streams[out] = self.pending
        self.pending = None


def _stream_origins(model: nn.Module, calibration: torch.Tensor) -> dict[nn.Module, nn.Module]:
    """The residual streams that feed a norm layer (``_StreamProbe``), found by an eval-mode pass
    that changes no weight, statistic or random state; no pass at all without an ``Add``."""
    if not any(isinstance(m, Add) for m in model.modules()):
        return {}
    probe = _StreamProbe(model)
    model.eval()
    try:
        model(calibration)
    finally:
        probe.remove()
    return probe.origins


def randomize(model: nn.Module, seed: int, calibration: torch.Tensor | None = None,
              stats: NormStatistics = TRAINED_LIKE, report: dict[str, list[str]] | None = None) -> nn.Module:
    """Give every weight of a torch twin a non-trivial seeded value, with normalisation
    statistics like a trained network's (see the module docs).

    Conv/FC kernels: He-normal (variance-preserving through ReLU stacks); biases uniform in
    [-0.1, 0.1]; norm scale uniform in [0.5, 1.5] and shift in [-0.2, 0.2]; PReLU slopes in
    [0.05, 0.3]; LSTM kernels uniform in +-1/sqrt(units) (torch's own init range), both biases in
    [-0.1, 0.1]; embeddings uniform in [-0.1, 0.1]; attention v in [-0.1, 0.1], its gain g
    sqrt(1/units) x [0.5, 1.5], its bias in [-0.1, 0.1]. With ``calibration`` (NCHW), one train-mode pass sets every norm layer's input
    variance to a draw from ``stats`` (by scaling the output channels of the conv that feeds it)
    and calibrates the BN moving statistics on the result (cumulative average); then the moving
    statistics are perturbed (mean shifted by 0.1 sigma-scale noise, variance scaled by
    [0.7, 1.4]) so no statistic is the trivial 0 / 1. Norm layers fed by a residual stream get
    their draw at the stream's first ``Add`` (module docs). ``report``, if given, gets the names
    of the norm layers whose input was scaled (``scaled``), of those among them fed by a residual
    stream (``stream``) and of those it could not be (``unscalable``: neither a conv nor a
    stream feeds them).
    """
    gen = torch.Generator().manual_seed(seed)

    def uniform(shape, lo, hi):
        return torch.rand(shape, generator=gen) * (hi - lo) + lo

    bns, norms = [], []
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                w = module.weight
                fan_in = w[0].numel() if not isinstance(module, nn.ConvTranspose2d) else w.shape[0] * w[0, 0].numel()
                w.copy_(torch.randn(w.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                if module.bias is not None:
                    module.bias.copy_(uniform(module.bias.shape, -0.1, 0.1))
            elif isinstance(module, nn.modules.batchnorm._BatchNorm):
                if isinstance(module.weight, nn.Parameter):      # not a fixed-gamma (scale=False) BN
                    module.weight.copy_(uniform(module.weight.shape, 0.5, 1.5))
                module.bias.copy_(uniform(module.bias.shape, -0.2, 0.2))
                bns.append(module)
            elif isinstance(module, (nn.InstanceNorm2d, nn.GroupNorm)) and module.affine:
                module.weight.copy_(uniform(module.weight.shape, 0.5, 1.5))
                module.bias.copy_(uniform(module.bias.shape, -0.2, 0.2))
            elif isinstance(module, nn.PReLU):
                module.weight.copy_(uniform(module.weight.shape, 0.05, 0.3))
            elif isinstance(module, ScalarBias):
                module.bias.copy_(uniform(module.bias.shape, -0.1, 0.1))
            elif isinstance(module, nn.Embedding):
                module.weight.copy_(uniform(module.weight.shape, -0.1, 0.1))     # nmt's init_weight range
            elif isinstance(module, NormedBahdanauAttention):
                # v as nmt draws it; the gain g off its init sqrt(1/units), the bias off zero
                units = module.attention_v.numel()
                module.attention_v.copy_(uniform(module.attention_v.shape, -0.1, 0.1))
                module.attention_g.copy_(uniform((), 0.5, 1.5) * units ** -0.5)
                module.attention_b.copy_(uniform(module.attention_b.shape, -0.1, 0.1))
            elif isinstance(module, (nn.LSTM, nn.LSTMCell)):
                # torch's own init range, U(-1/sqrt(units), 1/sqrt(units)), drawn from the seed;
                # both biases non-zero, so a transfer that drops either one shows
                k = module.hidden_size ** -0.5
                for pname, p in module.named_parameters(recurse=False):
                    p.copy_(uniform(p.shape, -k, k) if pname.startswith("weight") else uniform(p.shape, -0.1, 0.1))
            if isinstance(module, NORMS):
                norms.append(module)
        saved = [bn.momentum for bn in bns]
        for bn in bns:
            bn.reset_running_stats()
            bn.momentum = None            # cumulative average: one pass sets the batch stats
        if norms and calibration is not None:
            origins = _stream_origins(model, calibration)
            scaler = _InputScaler(model, gen, stats, origins)
            model.train()
            try:
                model(calibration)
            finally:
                scaler.remove()
                model.eval()
            if report is not None:
                report["scaled"], report["unscalable"] = scaler.scaled, scaler.unscalable
                report["stream"] = scaler.stream
        for bn, momentum in zip(bns, saved):
            bn.momentum = momentum
            sigma = bn.running_var.sqrt()
            bn.running_mean.add_(torch.randn(bn.running_mean.shape, generator=gen) * 0.1 * sigma)
            bn.running_var.mul_(uniform(bn.running_var.shape, 0.7, 1.4))
            bn.num_batches_tracked.zero_()
    model.eval()
    return model
