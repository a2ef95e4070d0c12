"""VDSR / "VGG-19 Super-Res" (AI Benchmark vgg19.meta: RGB in and out)."""

from __future__ import annotations

from twinzoo.graphs import GraphSpec
from twinzoo.network import (AIB_2018, AIB_DESKTOP, EXPORT_JOB_VMHWM, MAIN_JOB_BUDGET, BenchPlan, Family, Figure,
                             Network, rounding_tol)

FAMILY = Family(order=40)
register = FAMILY.register

# VDSR — Kim et al. 2016: 20 3x3 conv layers of 64 filters, global residual
VDSR_DEPTH = 20
VDSR_WIDTH = 64


register(Network(
    name="vdsr", family="vdsr", builder="vdsr", task="super-resolution",
    input_size=(192, 192), input_size_source=AIB_2018 + " (test 5: VGG-19 super-res, 192x192)",
    parity_sizes=((48, 48),), image_set="enhancement",
    second_size=(43, 53),
    figures=(
        Figure("params", 668_227, AIB_DESKTOP + " (vgg19.meta, 20 convs RGB in/out)", "trainable", 0.0),
        Figure("params", 665e3, "Kim et al. 2016, VDSR ('665K', 1-channel)", "trainable", 0.01,
               note="the paper's 1-channel network; ours is RGB in and out (+2,306)"),
        Figure("macs", 24.59e9, "computed: 668,227 - biases = 667,008 weights x 192^2 pixels; "
               "no published MAC figure", "conv+fc", 0.001, (192, 192)),
    ),
    description="VDSR as AI Benchmark's 'VGG-19 Super-Res': 20 3x3 convs, RGB, global residual",
    graph=GraphSpec("vgg19.meta",
                    ((r"conv_(?P<i>\d\d)_(?P<kind>[wb])",
                      lambda m: (f"body.conv_{m['i']}", "kernel" if m["kind"] == "w" else "bias")),),
                    in_scale=255.0, out_scale=1 / 255.0),
    bench=BenchPlan(order=110, quick=(32, 32), size=(96, 96), why=f"{MAIN_JOB_BUDGET} (24.6 GMAC at 192x192)",
                    export_rank=19, export_peak_gib=1.5, export_peak_from=EXPORT_JOB_VMHWM),
))
register(Network(
    name="vdsr_y", family="vdsr", builder="vdsr", task="super-resolution",
    input_size=(192, 192), input_size_source=AIB_2018, parity_sizes=((48, 48),), channels=1,
    second_size=(43, 53),
    image_set="enhancement", opts={"channels": 1},
    figures=(
        Figure("params", 665e3, "Kim et al. 2016, VDSR (665K)", "trainable", rounding_tol(665e3, 1e3)),
        Figure("params", 664_704, "computed weights-only count of the paper's 1-channel VDSR", "W", 0.0),
    ),
    description="VDSR on the luminance channel as in the paper",
))
