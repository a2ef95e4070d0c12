"""MobileNet v2 (AI Benchmark graph: TF-slim layout, 1001 classes, 224x224)."""

from __future__ import annotations

from dataclasses import dataclass

from twinzoo.graphs import Dialect, GraphSpec, slim_rules
from twinzoo.network import (AIB_DESKTOP, EXPORT_JOB_VMHWM, SECOND_CLASSIFIER, SLIM_MOBILENET_V2_README, BenchPlan,
                             Family, Figure, KerasWitness, Network, TorchvisionWitness, rounding_tol)

FAMILY = Family(order=20)
register = FAMILY.register


# MobileNet v2 — Sandler et al. 2018, Table 2; TF-slim mobilenet_v2.py (V2_DEF)
@dataclass(frozen=True)
class Bottleneck:
    """One Table 2 row: expansion t, output channels c, repeats n, first stride s."""

    t: int
    c: int
    n: int
    s: int


MOBILENET_V2_STEM = 32          # conv2d 3x3 / 2
MOBILENET_V2_BODY: tuple[Bottleneck, ...] = (
    Bottleneck(1, 16, 1, 1),
    Bottleneck(6, 24, 2, 2),
    Bottleneck(6, 32, 3, 2),
    Bottleneck(6, 64, 4, 2),
    Bottleneck(6, 96, 3, 1),
    Bottleneck(6, 160, 3, 2),
    Bottleneck(6, 320, 1, 1),
)
MOBILENET_V2_HEAD = 1280        # conv2d 1x1; slim keeps 1280 for width < 1 and scales it above 1


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """TF-slim ``_make_divisible``: round to the nearest multiple of ``divisor``, never
    dropping more than 10% below ``value``."""
    min_value = min_value or divisor
    new = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


def mobilenet_v2_head(alpha: float) -> int:
    """Width of ``Conv_1``: 1280 kept for alpha < 1, scaled above 1 (slim's
    ``finegrain_classification_mode``, as keras.applications and torchvision). Only this rule
    reproduces the slim README MACs (0.75/0.5/0.35: 209/97/59M; scaling 1280 too gives 205/91/54M)."""
    return make_divisible(MOBILENET_V2_HEAD * max(1.0, alpha))


def mobilenet_v2_blocks(alpha: float = 1.0) -> list[tuple[str, int, int, int]]:
    """The expanded-conv blocks in slim order: (name, expansion, out_channels, stride).

    Slim names them ``expanded_conv``, ``expanded_conv_1`` ... ``expanded_conv_16``."""
    out: list[tuple[str, int, int, int]] = []
    for row in MOBILENET_V2_BODY:
        for i in range(row.n):
            idx = len(out)
            name = "expanded_conv" if idx == 0 else f"expanded_conv_{idx}"
            out.append((name, row.t, make_divisible(row.c * alpha), row.s if i == 0 else 1))
    return out


PAPER_MOBILENET_V2 = "Sandler et al. 2018, MobileNetV2 (arXiv:1801.04381), Table 4"
_SLIM_V2_MACS = {224: 300, 192: 221, 160: 154, 128: 99, 96: 56}
register(Network(
    name="mobilenet_v2", family="mobilenet_v2", builder="mobilenet_v2", task="classification",
    input_size=(224, 224), input_size_source=AIB_DESKTOP + " (MobileNet-V2 at 224; mobilenet_v2.meta placeholder 224x224)",
    parity_sizes=((224, 224),), input_range=(-1.0, 1.0),
    second_size=SECOND_CLASSIFIER,
    opts={"alpha": 1.0, "num_classes": 1001},
    figures=(
        Figure("macs", 300e6, PAPER_MOBILENET_V2, "conv+fc", 0.01, (224, 224)),
        Figure("params", 3.4e6, PAPER_MOBILENET_V2, "W+b", 0.03,
               note="the paper prints 3.4M; W+b is 3.47M, so held at 3%"),
        *(Figure("macs", m * 1e6, SLIM_MOBILENET_V2_README, "conv+fc", 0.01, (r, r))
          for r, m in _SLIM_V2_MACS.items()),
        Figure("params", 3.47e6, SLIM_MOBILENET_V2_README, "W+b", rounding_tol(3.47e6, 0.01e6),
               note="slim's 3.47M = kernels + biases at 1001 classes (3,472,041)"),
        Figure("params", 3_504_872, "torchvision.models.mobilenet_v2 (1000 classes, numel of parameters)",
               "trainable", 0.0, opts={"num_classes": 1000}),
        Figure("params", 3_538_984, "keras.applications.MobileNetV2 count_params() (1000 classes)",
               "trainable+stats", 0.0, opts={"num_classes": 1000}),
        Figure("params", 3_540_265, AIB_DESKTOP + " (mobilenet_v2.meta, all model variables)",
               "trainable+stats", 0.0),
    ),
    description="MobileNet v2 1.0/224 as in AI Benchmark's mobilenet_v2.meta (TF-slim, 1001 classes)",
    graph=GraphSpec("mobilenet_v2.meta",
                    slim_rules("MobilenetV2", {"Logits/Conv2d_1c_1x1": "logits"}),
                    in_scale=127.5, in_shift=127.5,       # graph: (x/255 - 0.5) * 2
                    input_size=(224, 224), note="output:0 is MobilenetV2/Logits/output (logits)"),
    checkpoint=Dialect("TF-slim MobilenetV2 (as mobilenet_v2.meta)", slim_rules("MobilenetV2", {"Logits/Conv2d_1c_1x1": "logits"})),
    keras_witness=KerasWitness("MobileNetV2", (224, 224), {"num_classes": 1000}, {"alpha": 1.0}),
    torchvision_witness=TorchvisionWitness("mobilenet_v2", (224, 224),
                                           {"num_classes": 1000, "bn_eps": 1e-5, "padding": "symmetric"}),
    bench=BenchPlan(order=20, quick=(128, 128), export_rank=15, export_peak_gib=2.0, export_peak_from=EXPORT_JOB_VMHWM),
))
for _a, _m in ((1.4, 582e6), (0.75, 209e6), (0.5, 97e6), (0.35, 59e6)):
    register(Network(
        name=f"mobilenet_v2_{_a}_224", family="mobilenet_v2", builder="mobilenet_v2", task="classification",
        input_size=(224, 224), input_size_source="slim checkpoint resolution", parity_sizes=((224, 224),),
        second_size=SECOND_CLASSIFIER,
        input_range=(-1.0, 1.0), opts={"alpha": _a, "num_classes": 1001},
        figures=(Figure("macs", _m, SLIM_MOBILENET_V2_README, "conv+fc", 0.01, (224, 224)),),
        description=f"MobileNet v2 width {_a} (slim width multiplier)",
    ))
