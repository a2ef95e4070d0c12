"""Inception-v3 (Szegedy et al. 2016, "Rethinking the Inception Architecture", arXiv:1512.00567),
TF-slim layout as in AI Benchmark's ``ai_benchmark/models/inception_v3.meta`` (slim
``nets/inception_v3.py``: ``inception_v3_base`` + ``AuxLogits`` + ``Logits``).

Facts read from the graph (and followed here where the slim code or the paper differ):

- every ``slim.conv2d`` is a conv without bias, ``FusedBatchNorm`` without gamma (slim's
  ``scale=False``; epsilon 0.001) and ReLU (``ConvBNAct(..., act="relu", bn_scale=False)``);
- padding: stem ``Conv2d_1a_3x3`` (stride 2), ``Conv2d_2a_3x3``, ``Conv2d_3b_1x1``,
  ``Conv2d_4a_3x3``, both stem max pools and every stride-2 conv / max pool of ``Mixed_6a`` and
  ``Mixed_7a`` are 'VALID' (unpadded ``nn.Conv2d`` / ``nn.MaxPool2d``); everything else is 'SAME'
  with stride 1 (``Conv2dSame``). The ``Branch_3`` 3x3 average pools are 'SAME' stride 1, which
  TF computes without counting the padding (``nn.AvgPool2d(3, 1, 1, count_include_pad=False)``);
- slim's scope names are kept verbatim, quirks included: ``Mixed_5c/Branch_1`` is
  ``Conv2d_0b_1x1`` -> ``Conv_1_0c_5x5``; ``Mixed_6a``'s stride-2 3x3 convs are called
  ``Conv2d_1a_1x1``; ``Mixed_7b/Branch_1``'s parallel convs are ``Conv2d_0b_1x3`` /
  ``Conv2d_0b_3x1`` but ``Mixed_7c``'s are ``Conv2d_0b_1x3`` / ``Conv2d_0c_3x1``;
- ``AuxLogits`` (on ``Mixed_6e``): ``AvgPool_1a_5x5`` (5x5, stride 3, 'VALID'),
  ``Conv2d_1b_1x1`` (128), ``Conv2d_2a_5x5`` (768, a fixed 5x5 kernel, 'VALID': the graph was
  exported with an unknown input size, so slim's ``_reduced_kernel_size_for_small_input`` left
  it 5x5), ``Conv2d_2b_1x1`` (1x1 conv with bias, the aux logits) and ``SpatialSqueeze``;
- ``Logits``: ``AvgPool_1a_8x8`` is a *fixed* 8x8 window with slim's default stride 2, 'VALID'
  (not a global pool: unknown input size again), then ``Dropout_1b`` (identity at inference,
  omitted here), ``Conv2d_1c_1x1`` (1x1 conv with bias) and ``SpatialSqueeze``
  (``tf.squeeze(axis=[1, 2])``). At 299x299 the Mixed_7c map is 8x8 and the pool is a global
  mean; at AI Benchmark's 346x346 the map is 9x9 and the graph averages its top-left 8x8 window
  only — this twin does exactly the same at every input size. The squeeze (like the graph's)
  refuses maps that do not pool to 1x1, so, as the graph, the main head runs for inputs of
  299..362 pixels per side (Mixed_7c map 8 for 299..330, 9 for 331..362) and the aux head for
  299..346 (Mixed_6e map 17..19; AI Benchmark's 346 is its largest size); checked against the
  graph at 298/299/346/347/362/363;
- the graph's ``output:0`` is ``InceptionV3/Predictions`` = softmax(main logits); the aux logits
  (``InceptionV3/AuxLogits/SpatialSqueeze:0``) are computed only when fetched. This twin returns
  the main logits (no softmax); with ``aux_logits=True`` it returns the tuple
  ``(logits, aux_logits)`` (the Keras twin: a model with these two outputs, in this order).

Input: the graph feeds ``(input / 255 - 0.5) * 2``, i.e. [-1, 1]; the twin takes the [-1, 1]
image as is (no scaling inside).

Module names are the graph's variable scopes joined with '.': ``Conv2d_1a_3x3``,
``MaxPool_3a_3x3``, ``Mixed_6b.Branch_1.Conv2d_0b_1x7``, ``Mixed_6b.concat``,
``Mixed_7b.Branch_1.concat``, ``AuxLogits.Conv2d_2b_1x1``, ``Logits.Conv2d_1c_1x1``; a slim conv
scope ``X`` is ``X.conv`` / ``X.bn`` / ``X.act`` (the logits convs: ``X.conv`` only).

The layout (stem, Mixed blocks, head sizes) and ``Style`` live once in ``twinzoo.zoo.inception_v3``
(``INCEPTION_V3_*``, ``InceptionV3Style``); both twins walk those tables.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from torch_models.layers import BatchNorm2dNoScale, Concat, ConvBNAct, SpatialSqueeze
from twinzoo.zoo import inception_v3 as spec

# short local names for the twinzoo.zoo.inception_v3 entries used throughout
BN_EPS = spec.INCEPTION_V3_BN_EPS
Op = spec.InceptionV3Op
Style = spec.InceptionV3Style      # the graph's numeric conventions (the default) or torchvision's
SLIM = Style()


# ------------------------------------------------------------------------------------------
# blocks
# ------------------------------------------------------------------------------------------


class ConvBNActValid(nn.Sequential):
    """``ConvBNAct`` with TF 'VALID' padding (an unpadded ``nn.Conv2d``): conv without bias, BN
    (without gamma unless ``bn_scale``), ReLU; children ``conv``, ``bn``, ``act``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: tuple[int, int], stride: int = 1,
                 bn_scale: bool = False) -> None:
        super().__init__(OrderedDict(
            conv=nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=0, bias=False),
            bn=nn.BatchNorm2d(out_channels, eps=BN_EPS) if bn_scale else BatchNorm2dNoScale(out_channels, BN_EPS),
            act=nn.ReLU(inplace=True),
        ))


def slim_conv(in_channels: int, out_channels: int, kernel_size: tuple[int, int], stride: int = 1,
              padding: str = "SAME", style: Style = SLIM) -> nn.Sequential:
    """``slim.conv2d`` under the inception_v3 arg_scope: conv (no bias) -> BN (no gamma) -> ReLU."""
    if padding == "SAME":
        return ConvBNAct(in_channels, out_channels, kernel_size, stride, act="relu", bn_eps=BN_EPS,
                         bn_scale=style.bn_scale)
    if padding == "VALID":
        return ConvBNActValid(in_channels, out_channels, kernel_size, stride, style.bn_scale)
    raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")


def pool(kind: str, kernel: tuple[int, int], stride: int, padding: str, style: Style = SLIM) -> nn.Module:
    """TF max / average pool. Only the cases the graph has: 'VALID' (any stride) and 'SAME' with
    stride 1 and an odd kernel (symmetric padding; TF's average excludes the padding, torchvision's
    counts it: ``style.avg_pool_counts_padding``)."""
    if padding == "VALID":
        return nn.MaxPool2d(kernel, stride) if kind == "max" else nn.AvgPool2d(kernel, stride)
    if padding == "SAME" and stride == 1 and kind == "avg" and all(k % 2 for k in kernel):
        return nn.AvgPool2d(kernel, 1, padding=(kernel[0] // 2, kernel[1] // 2),
                            count_include_pad=style.avg_pool_counts_padding)
    raise ValueError(f"no torch twin for a TF {kind} pool {kernel}/{stride} {padding}")


def op_module(in_channels: int, op: Op, style: Style) -> tuple[nn.Module, int]:
    kind, scope, filters, kernel, stride, padding = op
    if kind == "conv":
        return slim_conv(in_channels, filters, kernel, stride, padding, style), filters
    return pool(kind, kernel, stride, padding, style), in_channels


class SplitBranch(nn.Module):
    """A branch whose last step runs convs in parallel and concatenates them (Mixed_7b/7c):
    children are the chain's scopes, then the parallel convs' scopes, then ``concat``, all
    directly under the branch scope as in the graph."""

    __constants__ = ["n_chain", "n_split"]

    def __init__(self, in_channels: int, ops: Sequence[Op], style: Style = SLIM) -> None:
        super().__init__()
        *chain, split = ops
        channels = in_channels
        for op in chain:
            module, channels = op_module(channels, op, style)
            self.add_module(op[1], module)
        _, concat_scope, convs = split
        for scope, filters, kernel in convs:
            self.add_module(scope, slim_conv(channels, filters, kernel, style=style))
        self.add_module(concat_scope, Concat())
        self.n_chain, self.n_split = len(chain), len(convs)
        self.out_channels = sum(c[1] for c in convs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs: list[torch.Tensor] = []
        for i, m in enumerate(self.children()):       # unrolled by TorchScript; the concat is last
            if i < self.n_chain:
                x = m(x)
            elif i < self.n_chain + self.n_split:
                outs.append(m(x))
        return self.concat(outs)


class Mixed(nn.Module):
    """An Inception block: ``Branch_0`` .. ``Branch_<k>`` on the same input, then ``concat``."""

    __constants__ = ["n_branches"]

    def __init__(self, in_channels: int, branches: Sequence[spec.InceptionV3Branch], style: Style = SLIM) -> None:
        super().__init__()
        self.out_channels = 0
        for name, ops in branches:
            if ops[-1][0] == "split":
                branch: nn.Module = SplitBranch(in_channels, ops, style)
                channels = branch.out_channels
            else:
                layers: OrderedDict[str, nn.Module] = OrderedDict()
                channels = in_channels
                for op in ops:
                    layers[op[1]], channels = op_module(channels, op, style)
                branch = nn.Sequential(layers)
            self.add_module(name, branch)
            self.out_channels += channels
        self.concat = Concat()
        self.n_branches = len(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs: list[torch.Tensor] = []
        for i, m in enumerate(self.children()):       # unrolled by TorchScript; the concat is last
            if i < self.n_branches:
                outs.append(m(x))
        return self.concat(outs)


class AuxLogits(nn.Sequential):
    """slim's aux head on Mixed_6e: avg pool 5/3 VALID, 1x1 128, 5x5 768 VALID, 1x1 logits, squeeze."""

    def __init__(self, in_channels: int, num_classes: int, style: Style = SLIM) -> None:
        k, s = spec.INCEPTION_V3_AUX_POOL
        mid, (filters, k5) = spec.INCEPTION_V3_AUX_MID, spec.INCEPTION_V3_AUX_CONV
        super().__init__(OrderedDict(
            AvgPool_1a_5x5=nn.AvgPool2d(k, s),
            Conv2d_1b_1x1=slim_conv(in_channels, mid, (1, 1), style=style),
            Conv2d_2a_5x5=slim_conv(mid, filters, (k5, k5), 1, "VALID", style),
            Conv2d_2b_1x1=nn.Sequential(OrderedDict(conv=nn.Conv2d(filters, num_classes, 1, bias=True))),
            SpatialSqueeze=SpatialSqueeze(),
        ))


class Logits(nn.Sequential):
    """slim's head: avg pool 8x8/2 VALID (fixed window), [dropout: identity], 1x1 conv with bias, squeeze."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        k, s = spec.INCEPTION_V3_LOGITS_POOL
        super().__init__(OrderedDict(
            AvgPool_1a_8x8=nn.AvgPool2d(k, s),
            Conv2d_1c_1x1=nn.Sequential(OrderedDict(conv=nn.Conv2d(in_channels, num_classes, 1, bias=True))),
            SpatialSqueeze=SpatialSqueeze(),
        ))


class SlimNet(nn.Module):
    """A slim classifier (Inception-v3 here; Inception-v4 and Inception-ResNet-v2 too): the body
    modules in order, then (optionally) ``AuxLogits`` reading the output of body module
    ``aux_after``, then ``Logits``; ``forward`` returns the logits."""

    __constants__ = ["n_body", "aux_index"]

    def __init__(self, body: OrderedDict[str, nn.Module], aux_after: str, aux: nn.Module | None,
                 logits: nn.Module) -> None:
        super().__init__()
        for name, module in body.items():
            self.add_module(name, module)
        self.n_body = len(body)
        self.aux_index = list(body).index(aux_after)
        if aux is not None:
            self.AuxLogits = aux
        self.Logits = logits

    def body(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(output of ``aux_after``, output of the last body module)."""
        mid = x
        for i, m in enumerate(self.children()):       # the body comes first; the heads are not run here
            if i < self.n_body:
                x = m(x)
                if i == self.aux_index:
                    mid = x
        return mid, x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, x = self.body(x)
        return self.Logits(x)


class SlimNetAux(SlimNet):
    """``SlimNet`` whose ``forward`` returns ``(logits, aux_logits)``."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mid, x = self.body(x)
        return self.Logits(x), self.AuxLogits(mid)


def slim_body(stem, mixed, aux_after: str, features: int,
              style: Style = SLIM) -> tuple[OrderedDict[str, nn.Module], int, int]:
    """A slim Inception's body modules from its stem ops and Mixed blocks: (modules, output
    channels (checked against ``features``), channels of ``aux_after``'s output)."""
    body: OrderedDict[str, nn.Module] = OrderedDict()
    channels, aux_channels = 3, 0
    for op in stem:
        body[op[1]], channels = op_module(channels, op, style)
    for name, branches in mixed:
        block = Mixed(channels, branches, style)
        body[name], channels = block, block.out_channels
        if name == aux_after:
            aux_channels = channels
    if channels != features:
        raise AssertionError(f"{list(body)[-1]} gives {channels} channels, expected {features}")
    return body, channels, aux_channels


def inception_v3(num_classes: int = 1001, aux_logits: bool = True, bn_scale: bool = False,
                 avg_pool_counts_padding: bool = False) -> SlimNet:
    """Inception-v3 as AI Benchmark's inception_v3.meta (TF-slim). Returns the main logits, or
    ``(logits, aux_logits)`` when ``aux_logits`` (the graph's AuxLogits head on Mixed_6e).
    ``num_classes=1000, aux_logits=False`` has keras.applications.InceptionV3's layers and counts
    (its global average pool equals the 8x8/2 window for inputs of 299..330: an 8x8 final map).
    ``bn_scale=True, avg_pool_counts_padding=True`` are torchvision's conventions (see ``Style``)."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be positive, got {num_classes}")
    style = Style(bn_scale, avg_pool_counts_padding)
    body, channels, aux_channels = slim_body(spec.INCEPTION_V3_STEM, spec.INCEPTION_V3_MIXED,
                                             spec.INCEPTION_V3_AUX_AFTER, spec.INCEPTION_V3_FEATURES, style)
    logits = Logits(channels, num_classes)
    if aux_logits:
        return SlimNetAux(body, spec.INCEPTION_V3_AUX_AFTER, AuxLogits(aux_channels, num_classes, style), logits)
    return SlimNet(body, spec.INCEPTION_V3_AUX_AFTER, None, logits)
