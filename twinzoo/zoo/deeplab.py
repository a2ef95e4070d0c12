"""DeepLab v2 (AI Benchmark deeplab.meta: ASPP on Caffe ResNet-101, 3-channel head)."""

from __future__ import annotations

from twinzoo import tables
from twinzoo.graphs import LEAF, GraphSpec, Rule
from twinzoo.network import AIB_DESKTOP, DEEP_TOLERANCE, ICNET_RANGE, Family, Figure, Network

FAMILY = Family(order=160)
register = FAMILY.register


def _deeplab_rules() -> tuple[Rule, ...]:
    """deeplab.meta (Caffe ResNet-101 names): ``res<u>_branch<b>/weights`` and
    ``bn<u>_branch<b>/<stat>`` are our ``res<u>.<part>.{conv,bn}`` (``branch2a`` -> ``reduce``,
    ``2b`` -> ``conv3x3``, ``2c`` -> ``increase``, ``1`` -> ``proj``); ``conv1`` / ``bn_conv1``
    are ``conv1.{conv,bn}``; ``fc1_voc12_c<i>`` is ``fc1_voc12_c<i>.conv``."""
    part = {"branch2a": "reduce", "branch2b": "conv3x3", "branch2c": "increase", "branch1": "proj"}
    stats = "gamma|beta|moving_mean|moving_variance"
    return (
        (r"res(?P<u>\w+?)_(?P<b>branch\w+)/weights", lambda m: (f"res{m['u']}.{part[m['b']]}.conv", "kernel")),
        (rf"bn(?P<u>\w+?)_(?P<b>branch\w+)/(?P<leaf>{stats})",
         lambda m: (f"res{m['u']}.{part[m['b']]}.bn", m["leaf"])),
        (r"conv1/weights", lambda m: ("conv1.conv", "kernel")),
        (rf"bn_conv1/(?P<leaf>{stats})", lambda m: ("conv1.bn", m["leaf"])),
        (r"(?P<s>fc1_voc12_c\d)/(?P<leaf>weights|biases)", lambda m: (f"{m['s']}.conv", LEAF[m["leaf"]])),
    )


register(Network(
    name="deeplab", family="deeplab", builder="deeplab", task="segmentation",
    input_size=(512, 512), input_size_source=AIB_DESKTOP + " (DeepLab inference at 512x512 -> 64x64x3)",
    # 224: a 28x28 res5 map, so the rate-24 ASPP branch reads more than its centre tap (at 128
    # the rate-18/24 branches saw only their centre: a wrong rate there was invisible)
    parity_sizes=((224, 224),), image_set="segmentation", input_range=ICNET_RANGE,
    second_size=(227, 233),
    tolerance=DEEP_TOLERANCE,
    figures=(
        Figure("params", 42_826_700, AIB_DESKTOP + " (deeplab.meta: every model variable, BN gamma/beta and "
               "moving stats)", "trainable+stats", 0.0),
        Figure("macs", 177_750_409_216, AIB_DESKTOP + ": deeplab.meta's own Conv2D shapes summed at 512x512, "
               "atrous convs at their cropped output (conformance.lib.graphs.graph_macs)", "conv+fc", 0.0, (512, 512)),
    ),
    description="DeepLab v2 as AI Benchmark's deeplab.meta: ResNet-101 with dilation 2/4 (output stride 8), "
                "ASPP rates 6/12/18/24 summed, 3-channel head at 1/8 size",
    graph=GraphSpec("deeplab.meta", _deeplab_rules(),
                    in_shift=tables.ICNET_MEAN,                  # the graph subtracts ICNet's mean; the twin takes x - mean
                    note="output:0 is fc1_voc12 (the ASPP sum: AI Benchmark's 3 channels at 1/8 of the input size)"),
))
