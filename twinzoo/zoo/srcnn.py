"""SRCNN 9-5-5 on RGB (AI Benchmark srcnn.meta)."""

from __future__ import annotations

import re

from twinzoo.graphs import GraphSpec
from twinzoo.network import AIB_2018, AIB_DESKTOP, EXPORT_JOB_VMHWM, BenchPlan, Family, Figure, Network

FAMILY = Family(order=30)
register = FAMILY.register

# SRCNN — Dong et al. 2016 (TPAMI), 9-5-5; as in AI Benchmark's srcnn.meta
SRCNN_LAYERS = ((9, 64), (5, 32), (5, None))   # (kernel, filters); None = image channels


def _srcnn_rule(m: re.Match) -> tuple[str, str]:
    i = m["i"]
    if m["kind"] == "b" and i == "3":
        return "bias3", "bias"                      # the graph's single shared last bias
    return f"conv{i}", "kernel" if m["kind"] == "w" else "bias"


register(Network(
    name="srcnn", family="srcnn", builder="srcnn", task="enhancement",
    input_size=(300, 300), input_size_source=AIB_2018 + " (test 4: SRCNN 9-5-5, 300x300)",
    parity_sizes=((64, 64),), image_set="enhancement",
    second_size=(61, 67),
    figures=(
        Figure("params", 69_249, AIB_DESKTOP + " (srcnn.meta: w1..w3, b1, b2 and a 1-element b3)",
               "trainable", 0.0),
        Figure("params", 69e3, AIB_2018 + " (model table '69K', unverified)", "trainable", 0.01),
        Figure("macs", 6.224e9, "computed: 69,152 weights x 300^2 output pixels ('same' padding); "
               "no published MAC figure", "conv+fc", 0.001, (300, 300)),
    ),
    description="SRCNN 9-5-5 on RGB, 'same' padding, tanh*0.58+0.5 output, one shared last bias",
    graph=GraphSpec("srcnn.meta",
                    ((r"generator/(?P<kind>[wb])(?P<i>\d)", _srcnn_rule),),
                    in_scale=255.0, out_scale=1 / 255.0),
    bench=BenchPlan(order=100, quick=(64, 64), export_rank=21, export_peak_gib=1.8, export_peak_from=EXPORT_JOB_VMHWM),
))
