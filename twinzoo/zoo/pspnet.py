"""pspnet."""

from __future__ import annotations

import re

from twinzoo.zoo import icnet
from twinzoo.graphs import LEAF, GraphSpec, Rule
from twinzoo.network import (AIB_DESKTOP, DEEP_TOLERANCE, GUARD_READINGS, ICNET_RANGE, MAIN_JOB_BUDGET, BenchPlan,
                             Family, Figure, Network)

FAMILY = Family(order=150)
register = FAMILY.register

# PSPNet — Zhao et al. 2017, "Pyramid Scene Parsing Network" (arXiv:1612.01105): PSPNet-50 as in
# AI Benchmark's pspnet.meta (a TF port of hszhao/PSPNet's Caffe net, the scope names of ICNet's
# graph), with AI Benchmark's 3-channel 1x1 head
PSPNET_BN_EPS = 1.001e-5        # pspnet.meta FusedBatchNorm epsilon
PSPNET_STEM = ((64, 2), (64, 1), (128, 1))     # conv1_1_3x3_s2, conv1_2_3x3, conv1_3_3x3: (filters, stride)
# (stage, blocks, mid, out, dilation, first stride): ICNET_STAGES' format at full width; the
# stride is on conv3_1's 1x1 reduce and proj, conv4 and conv5 dilate their 3x3 convs by 2 and 4
# (output stride 8).
PSPNET_STAGES: tuple[tuple[int, int, int, int, int, int], ...] = (
    (2, 3, 64, 256, 1, 1),
    (3, 4, 128, 512, 1, 2),
    (4, 6, 256, 1024, 2, 1),
    (5, 3, 512, 2048, 4, 1),
)
# Pyramid pooling: (graph name suffix, fixed kernel = stride). The graph was built for a 60x60
# conv5_3 map (480x480 input) and holds the kernels 60/30/20/10 (bins 1, 2, 3, 6 there) as
# constants; at AI Benchmark's 720x720 (a 90x90 map) the same kernels give 1, 3, 4 and 9 bins.
# The map must be at least 60x60 (inputs from 473 pixels per side).
PSPNET_PYRAMID: tuple[tuple[int, int], ...] = ((1, 60), (2, 30), (3, 20), (6, 10))
PSPNET_PYRAMID_WIDTH = 512      # conv5_3_pool<b>_conv: 1x1, BN, ReLU
PSPNET_HEAD = (512, 3)          # conv5_4 (3x3, BN, ReLU), conv6 (1x1 with bias: AI Benchmark's 3 channels)


def _pspnet_rules() -> tuple[Rule, ...]:
    """pspnet.meta: ICNet's scope names with unmerged BN in ``<scope>_bn``: a bottleneck's
    ``conv<i>_<j>_<part>[_bn]`` is our ``conv<i>_<j>.<part>.{conv,bn}``, any other ``<s>[_bn]`` is
    ``<s>.{conv,bn}``."""
    part = {"1x1_reduce": "reduce", "3x3": "conv3x3", "1x1_increase": "increase", "1x1_proj": "proj"}
    leaf = "weights|biases|gamma|beta|moving_mean|moving_variance"

    def target(m: re.Match, block: str) -> tuple[str, str]:
        return f"{block}.{'bn' if m['bn'] else 'conv'}", LEAF[m["leaf"]]
    return (
        (rf"conv(?P<i>[2-5]_\d)_(?P<part>1x1_reduce|3x3|1x1_increase|1x1_proj)(?P<bn>_bn)?/(?P<leaf>{leaf})",
         lambda m: target(m, f"conv{m['i']}.{part[m['part']]}")),
        (rf"(?P<s>[^/]+?)(?P<bn>_bn)?/(?P<leaf>{leaf})", lambda m: target(m, m["s"])),
    )


register(Network(
    name="pspnet", family="pspnet", builder="pspnet", task="segmentation",
    input_size=(720, 720), input_size_source=AIB_DESKTOP + " (PSPNet inference at 720x720 -> 90x90x3)",
    # the pyramid's fixed 60x60 pool (PSPNET_PYRAMID) needs a 60x60 conv5_3 map: >= 473 px
    parity_sizes=((480, 480),), image_set="segmentation", input_range=ICNET_RANGE,
    # a 61x63 conv5_3 map: the fixed 60/30/20/10 windows leave a remainder, so they differ from
    # adaptive bins and a global mean there, as at 720 (a 90x90 map), unlike at 480 (60x60)
    second_size=(487, 499),
    tolerance=DEEP_TOLERANCE,
    figures=(
        Figure("params", 46_765_763, AIB_DESKTOP + " (pspnet.meta: every model variable, BN gamma/beta and "
               "moving stats)", "trainable+stats", 0.0),
        Figure("macs", 363_311_532_032, AIB_DESKTOP + ": pspnet.meta's own Conv2D shapes summed at 720x720 "
               "(conformance.lib.graphs.graph_macs)", "conv+fc", 0.0, (720, 720)),
    ),
    description="PSPNet-50 as AI Benchmark's pspnet.meta: dilated ResNet-50 backbone (output stride 8), "
                "pyramid pooling with the graph's fixed kernels, 3-channel head at 1/8 size",
    graph=GraphSpec("pspnet.meta", _pspnet_rules(),
                    in_shift=icnet.ICNET_MEAN,                  # the graph subtracts ICNet's mean; the twin takes x - mean
                    note="output:0 is conv6/BiasAdd (AI Benchmark's 3 channels at 1/8 of the input size)"),
    # the fixed 60x60 pyramid pool needs a 60x60 conv5_3 map: 480 is the smallest size it runs at
    bench=BenchPlan(order=170, quick=(480, 480), size=(480, 480),
                    quick_skip="161 GMAC a call at 480x480, the smallest input its fixed pyramid pool takes",
                    why=f"{MAIN_JOB_BUDGET} (363.3 GMAC at 720x720); 480x480 is the smallest "
                        "input its fixed 60x60 pyramid pool allows (161.5 GMAC)",
                    export_rank=3,
                    export_peak_gib=20.0, export_peak_from=GUARD_READINGS),
))
