"""DeepLab v2 (AI Benchmark deeplab.meta: ASPP on Caffe ResNet-101, 3-channel head)."""

from __future__ import annotations

from twinzoo.zoo import icnet
from twinzoo.graphs import LEAF, GraphSpec, Rule
from twinzoo.network import (AIB_DESKTOP, DEEP_TOLERANCE, GUARD_READINGS, ICNET_RANGE, MAIN_JOB_BUDGET, BenchPlan,
                             Family, Figure, Network)

FAMILY = Family(order=160)
register = FAMILY.register

# DeepLab v2 — Chen et al. 2017 (arXiv:1606.00915): DeepLab-ASPP on ResNet-101 as in AI
# Benchmark's deeplab.meta (a TF port of the Caffe model with Caffe's layer names), with AI
# Benchmark's 3-channel head in place of VOC's 21 classes
DEEPLAB_BN_EPS = 1e-3           # deeplab.meta FusedBatchNorm epsilon
DEEPLAB_STEM = (64, 7, 2)       # conv1: 7x7/2 'SAME', no bias, bn_conv1, ReLU; then pool1 3x3/2 'SAME'
# (stage, unit suffixes, mid, out, dilation, first stride): Caffe ResNet-101's res2a..res5c
# (res3b1.., res4b1..b22), the stride on res3a's 1x1 branch2a and branch1, dilation 2 in res4 and
# 4 in res5 (output stride 8).
DEEPLAB_STAGES: tuple[tuple[str, tuple[str, ...], int, int, int, int], ...] = (
    ("res2", ("a", "b", "c"), 64, 256, 1, 1),
    ("res3", ("a", "b1", "b2", "b3"), 128, 512, 1, 2),
    ("res4", ("a", *(f"b{i}" for i in range(1, 23))), 256, 1024, 2, 1),
    ("res5", ("a", "b", "c"), 512, 2048, 4, 1),
)
DEEPLAB_ASPP_RATES = (6, 12, 18, 24)     # fc1_voc12_c0..c3: 3x3 atrous convs with bias, summed
DEEPLAB_CLASSES = 3                      # AI Benchmark's head (VOC's 21 in the paper)


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
                    in_shift=icnet.ICNET_MEAN,                  # the graph subtracts ICNet's mean; the twin takes x - mean
                    note="output:0 is fc1_voc12 (the ASPP sum: AI Benchmark's 3 channels at 1/8 of the input size)"),
    bench=BenchPlan(order=180, quick=(64, 64), size=(128, 128), why=f"{MAIN_JOB_BUDGET} (177.8 GMAC at 512x512)",
                    export_rank=7,
                    export_peak_gib=20.0, export_peak_from=GUARD_READINGS),
))
