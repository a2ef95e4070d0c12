"""pspnet."""

from __future__ import annotations

import re

from twinzoo import tables
from twinzoo.graphs import LEAF, GraphSpec, Rule
from twinzoo.network import AIB_DESKTOP, DEEP_TOLERANCE, ICNET_RANGE, Family, Figure, Network

FAMILY = Family(order=150)
register = FAMILY.register


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
    # the pyramid's fixed 60x60 pool (tables.PSPNET_PYRAMID) needs a 60x60 conv5_3 map: >= 473 px
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
                    in_shift=tables.ICNET_MEAN,                  # the graph subtracts ICNet's mean; the twin takes x - mean
                    note="output:0 is conv6/BiasAdd (AI Benchmark's 3 channels at 1/8 of the input size)"),
))
