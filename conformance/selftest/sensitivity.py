"""How small a porting bug the parity check sees: sweeps of planted bugs and detection floors.

Each planting changes one layer of one twin in memory (undone afterwards) and runs the parity
check itself (``conformance.checks.numeric.check_parity``, same inputs and tolerance as ``python -m conformance
check``) on twins prepared once per network, so a sweep over every layer costs one forward pass
per twin per planting rather than a new randomisation and transfer.

- **Epsilon sweep**: every BN (and instance-norm) layer of the Keras twin in turn gets the other
  framework's default epsilon (1e-5 where the twin has 1e-3, 1e-3 where it has 1e-5): the
  torch/TF default clash of real ports. For a deterministic sample of 12 layers (first, middle
  and last among them) parity must also name the planted layer.
- **Variance sweep** (instance norm): every instance-norm layer of the torch twin in turn
  normalises with the unbiased (n - 1) variance instead of the biased one both frameworks use.
- **Detection floor**: one mid-network kernel of the Keras twin (at 1/4, 1/2 and 3/4 of the
  network's kernel layers) has every weight moved by a seeded Gaussian relative error of size
  ``eps`` (``kernel * (1 + eps * z)``, the error of a lossy conversion of that kernel); bisection
  on log10(eps) finds the smallest ``eps`` that parity flags. The network's floor is the largest
  of its layers' (every probed layer is seen at that size). Relative to each weight, not to the
  kernel's rms: the channels of a trained-like kernel differ in scale by orders of magnitude
  (``trained_like.TRAINED_LIKE``), and noise of the kernel's rms would swamp its small channels.

The result of a planting is its parity error as a multiple of the tolerance (1 = the pass/fail
line), the check's verdict, and the layer it names.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

import keras

from twinzoo import catalogue
from twinzoo.catalogue import Network

# One network per family with normalisation layers (the epsilon sweep), and the instance-norm
# networks (the variance sweep).
EPSILON_SWEEP_NETWORKS = ("mobilenet_v1_0.25_128", "mobilenet_v2_0.35_224", "inception_v3",
                          "inception_resnet_v1_512", "srgan", "srgan_srresnet", "srgan_discriminator",
                          "dped", "dped_discriminator", "icnet_train", "resnet_v2_50")
VARIANCE_SWEEP_NETWORKS = ("dped", "dped_discriminator")
LOCALISED_SAMPLE = 12
MARGIN_GOAL = 3.0                 # a planted bug must reach 3x the tolerance
FLOOR_GOAL = 1e-3                 # the detection floor every network should reach
FLOOR_POSITIONS = (0.25, 0.5, 0.75)
FLOOR_RANGE = (-8.0, 0.0)         # log10(eps) searched
FLOOR_STEPS = 9                   # bisection steps: (8 decades) / 2^9 = 0.016 decade resolution

Plant = Callable[[nn.Module, keras.Model], Callable[[], None]]


def parity_ratios(parity_data: dict[str, Any]) -> list[float]:
    """Each parity input's error as a multiple of its tolerance (``atol + rtol * scale``, each
    output head against its own scale)."""
    return [p["line_ratio"] for p in parity_data.get("inputs", [])]


@dataclass
class Planting:
    network: str
    kind: str                  # epsilon | variance | kernel
    layer: str
    twin: str
    planted: str
    ratio: float               # worst parity input's error / tolerance
    caught: bool               # the parity check failed
    localised: str | None      # the layer parity named (None: not asked)
    asked_to_localise: bool

    @property
    def layer_ok(self) -> bool:
        return not self.asked_to_localise or self.localised == self.layer

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "layer_ok": self.layer_ok}


class Twins:
    """The parity check's twins of one network, prepared once per parity size (the sizes its
    tolerance was placed at, ``Network.parity_sizes``) and reused; each call of the check
    applies ``plant`` to them and undoes it afterwards."""

    def __init__(self, net: Network, seed: int) -> None:
        self.net, self.seed = net, seed
        self.by_size: dict[tuple[int, int], tuple[nn.Module, keras.Model]] = {}

    def get(self, size: tuple[int, int]) -> tuple[nn.Module, keras.Model]:
        from conformance.lib import twins
        key = tuple(size)
        if key not in self.by_size:
            sets = twins.parity_inputs(self.net, key, self.seed)
            calibration = np.concatenate([x for _, x, _ in sets])
            self.by_size[key] = twins.prepare_twins(self.net, key, self.seed, calibration)
        return self.by_size[key]

    def parity(self, plant: Plant | None = None, localise: bool = False):
        from conformance.checks import numeric
        undo: list[Callable[[], None]] = []

        def prepare(net, size, seed, calibration, prebuilt=None):
            tmodel, kmodel = self.get(size)
            if plant is not None:
                undo.append(plant(tmodel, kmodel))
            return tmodel, kmodel
        try:
            # at the parity sizes, where the tolerance was placed and the margins are measured
            return numeric.check_parity(self.net, self.seed, twins=prepare, localise=localise,
                                       sizes=self.net.parity_sizes)
        finally:
            for u in reversed(undo):
                u()


def _record(twins: Twins, kind: str, layer: str, twin: str, planted: str, plant: Plant,
            localise: bool) -> Planting:
    from conformance.checks import FAIL
    res = twins.parity(plant, localise)
    div = res.data.get("first_divergence") or {}
    return Planting(twins.net.name, kind, layer, twin, planted, max(parity_ratios(res.data)),
                    res.status == FAIL, div.get("layer") if localise else None, localise)


def sample_indices(n: int, k: int = LOCALISED_SAMPLE) -> list[int]:
    """k evenly spaced indices of 0..n-1, the first, middle and last among them (all when n <= k)."""
    if n <= k:
        return list(range(n))
    picks = set(np.linspace(0, n - 1, k).round().astype(int).tolist()) | {0, (n - 1) // 2, n - 1}
    return sorted(picks)


# ------------------------------------------------------------------------------------------
# planted bugs
# ------------------------------------------------------------------------------------------
def other_epsilon(eps: float) -> float:
    """The other framework's default: 1e-5 (torch) for a 1e-3 (TF/Keras) layer and the reverse."""
    return 1e-5 if eps >= 1e-4 else 1e-3


def plant_keras_epsilon(layer_name: str, eps: float) -> Plant:
    def plant(tmodel: nn.Module, kmodel: keras.Model) -> Callable[[], None]:
        layer = kmodel.get_layer(layer_name)
        old = layer.epsilon
        layer.epsilon = eps
        return lambda: setattr(layer, "epsilon", old)
    return plant


def unbiased_instance_norm(module: nn.InstanceNorm2d) -> Callable[[torch.Tensor], torch.Tensor]:
    """An instance norm that divides by the unbiased (n - 1) variance."""
    def forward(x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(2, 3), keepdim=True)
        var = x.var(dim=(2, 3), unbiased=True, keepdim=True)
        y = (x - mean) / torch.sqrt(var + module.eps)
        if module.affine:
            y = y * module.weight.view(1, -1, 1, 1) + module.bias.view(1, -1, 1, 1)
        return y
    return forward


def plant_unbiased_variance(layer_name: str) -> Plant:
    def plant(tmodel: nn.Module, kmodel: keras.Model) -> Callable[[], None]:
        module = tmodel.get_submodule(layer_name)
        module.forward = unbiased_instance_norm(module)
        return lambda: delattr(module, "forward")
    return plant


def plant_kernel_noise(layer_name: str, eps: float, seed: int) -> Plant:
    def plant(tmodel: nn.Module, kmodel: keras.Model) -> Callable[[], None]:
        var = kmodel.get_layer(layer_name).kernel
        old = np.asarray(var.numpy())
        z = np.random.default_rng(seed).standard_normal(old.shape)
        var.assign((old * (1.0 + eps * z)).astype(np.float32))
        return lambda: var.assign(old)
    return plant


# ------------------------------------------------------------------------------------------
# sweeps
# ------------------------------------------------------------------------------------------
def norm_layers(kmodel: keras.Model) -> list[Any]:
    return [layer for layer in kmodel.layers
            if isinstance(layer, (keras.layers.BatchNormalization, keras.layers.GroupNormalization))]


def epsilon_sweep(name: str, seed: int = 0) -> list[Planting]:
    """Every normalisation layer of the Keras twin with the other framework's epsilon."""
    twins = Twins(catalogue.get(name), seed)
    _, kmodel = twins.get(twins.net.parity_sizes[0])
    layers = norm_layers(kmodel)
    localised = set(sample_indices(len(layers)))
    out = []
    for i, layer in enumerate(layers):
        eps = other_epsilon(layer.epsilon)
        kind = "bn_epsilon" if isinstance(layer, keras.layers.BatchNormalization) else "in_epsilon"
        out.append(_record(twins, kind, layer.name, "keras", f"epsilon {layer.epsilon:g} -> {eps:g}",
                           plant_keras_epsilon(layer.name, eps), i in localised))
    return out


def variance_sweep(name: str, seed: int = 0) -> list[Planting]:
    """Every instance norm of the torch twin with the unbiased variance."""
    twins = Twins(catalogue.get(name), seed)
    tmodel, _ = twins.get(twins.net.parity_sizes[0])
    names = [n for n, m in tmodel.named_modules() if isinstance(m, nn.InstanceNorm2d)]
    return [_record(twins, "in_unbiased_variance", n, "torch", "biased -> unbiased (n-1) variance",
                    plant_unbiased_variance(n), True) for n in names]


# ------------------------------------------------------------------------------------------
# detection floor
# ------------------------------------------------------------------------------------------
KERNEL_LAYERS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense,
                 keras.layers.Conv2DTranspose)


def floor_layers(kmodel: keras.Model) -> list[str]:
    """The kernel layers at FLOOR_POSITIONS of the network's kernel layers (model order)."""
    kernels = [layer.name for layer in kmodel.layers if isinstance(layer, KERNEL_LAYERS)]
    picks = dict.fromkeys(kernels[min(len(kernels) - 1, int(p * len(kernels)))] for p in FLOOR_POSITIONS)
    return list(picks)


def layer_floor(twins: Twins, layer: str, seed: int) -> dict[str, Any]:
    """The smallest relative kernel perturbation of ``layer`` that parity flags (bisection on
    log10 eps over FLOOR_RANGE; inf when even the top of the range passes)."""
    def caught(log_eps: float) -> tuple[bool, float]:
        p = _record(twins, "kernel", layer, "keras", f"kernel noise {10 ** log_eps:.3g} rel",
                    plant_kernel_noise(layer, 10 ** log_eps, seed), False)
        return p.caught, p.ratio
    lo, hi = FLOOR_RANGE
    hi_caught, hi_ratio = caught(hi)
    if not hi_caught:
        return {"layer": layer, "floor": math.inf, "ratio_at_top": hi_ratio}
    lo_caught, _ = caught(lo)
    if lo_caught:
        return {"layer": layer, "floor": 10 ** lo, "ratio_at_top": hi_ratio}
    for _ in range(FLOOR_STEPS):
        mid = (lo + hi) / 2
        if caught(mid)[0]:
            hi = mid
        else:
            lo = mid
    return {"layer": layer, "floor": float(10 ** hi), "ratio_at_top": hi_ratio}


def detection_floor(name: str, seed: int = 0) -> dict[str, Any]:
    twins = Twins(catalogue.get(name), seed)
    _, kmodel = twins.get(twins.net.parity_sizes[0])
    layers = [layer_floor(twins, layer, seed + i) for i, layer in enumerate(floor_layers(kmodel))]
    floor = max(x["floor"] for x in layers)
    return {"network": name, "floor": floor, "goal": FLOOR_GOAL, "meets_goal": floor <= FLOOR_GOAL,
            "layers": layers}


# ------------------------------------------------------------------------------------------
# summaries
# ------------------------------------------------------------------------------------------
def sweep_summary(plantings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (network, kind): plantings, caught, margins (min, median), localised right."""
    rows = []
    for key in dict.fromkeys((p["network"], p["kind"]) for p in plantings):
        ps = [p for p in plantings if (p["network"], p["kind"]) == key]
        ratios = np.array([p["ratio"] for p in ps])
        asked = [p for p in ps if p["asked_to_localise"]]
        weakest = min(ps, key=lambda p: p["ratio"])
        rows.append({
            "network": key[0], "kind": key[1], "planted": ps[0]["planted"], "plantings": len(ps),
            "caught": sum(p["caught"] for p in ps), "min_margin": float(ratios.min()),
            "median_margin": float(np.median(ratios)), "weakest_layer": weakest["layer"],
            "below_goal": int(np.sum(ratios < MARGIN_GOAL)),
            "localised_right": sum(p["layer_ok"] for p in asked), "localise_asked": len(asked),
        })
    return rows
