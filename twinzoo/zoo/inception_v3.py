"""Inception-v3 (AI Benchmark inception_v3.meta: TF-slim, 1001 classes, aux head, 346x346)."""

from __future__ import annotations

from typing import NamedTuple

from twinzoo.graphs import GraphSpec, slim_rules
from twinzoo.network import (AIB_2018, AIB_DESKTOP, EXPORT_JOB_VMHWM, MAIN_JOB_BUDGET, SECOND_INCEPTION, BenchPlan,
                             Family, Figure, KerasWitness, Network, TorchvisionWitness, rounding_tol)

FAMILY = Family(order=70)
register = FAMILY.register

# Inception-v3 — Szegedy et al. 2016, "Rethinking the Inception Architecture" (arXiv:1512.00567);
# TF-slim nets/inception_v3.py as in AI Benchmark's inception_v3.meta (scope names verbatim)
# An op: ("conv", scope, filters, (kh, kw), stride, padding) | ("max" | "avg", scope, None,
# (kh, kw), stride, padding) | ("split", "concat", ((scope, filters, (kh, kw)), ...)): the split
# runs its 'SAME' convs in parallel on the same input and concatenates them (Mixed_7b/7c).
InceptionV3Op = tuple
InceptionV3Branch = tuple[str, tuple[InceptionV3Op, ...]]

INCEPTION_V3_BN_EPS = 1e-3      # inception_v3.meta FusedBatchNorm epsilon (slim batch_norm_epsilon 0.001)


class InceptionV3Style(NamedTuple):
    """The two numeric conventions in which Inception-v3 implementations differ (the layers and
    shapes do not). The graph's: BN without gamma, and 'SAME' average pools that average over the
    window's real pixels only (TF). torchvision's ``Inception3``: BN with gamma (``BasicConv2d``),
    and ``F.avg_pool2d(x, 3, 1, 1)``, whose mean counts the zero padding (``count_include_pad``
    defaults to True). Both twins take both, so torchvision's weights load into them."""

    bn_scale: bool = False
    avg_pool_counts_padding: bool = False


def slim_conv_op(scope: str, filters: int, kernel: tuple[int, int], stride: int = 1,
                 padding: str = "SAME") -> InceptionV3Op:
    return ("conv", scope, filters, kernel, stride, padding)


def slim_pool_op(kind: str, scope: str, kernel: int, stride: int, padding: str) -> InceptionV3Op:
    return (kind, scope, None, (kernel, kernel), stride, padding)


INCEPTION_V3_STEM: tuple[InceptionV3Op, ...] = (
    slim_conv_op("Conv2d_1a_3x3", 32, (3, 3), 2, "VALID"),
    slim_conv_op("Conv2d_2a_3x3", 32, (3, 3), 1, "VALID"),
    slim_conv_op("Conv2d_2b_3x3", 64, (3, 3)),
    slim_pool_op("max", "MaxPool_3a_3x3", 3, 2, "VALID"),
    slim_conv_op("Conv2d_3b_1x1", 80, (1, 1), 1, "VALID"),
    slim_conv_op("Conv2d_4a_3x3", 192, (3, 3), 1, "VALID"),
    slim_pool_op("max", "MaxPool_5a_3x3", 3, 2, "VALID"),
)


def _v3_block_35(pool_filters: int,
                 branch_1: tuple[str, str] = ("Conv2d_0a_1x1", "Conv2d_0b_5x5")) -> tuple[InceptionV3Branch, ...]:
    """Mixed_5b/5c/5d (35x35 at 299): 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | avg pool -> 1x1."""
    return (
        ("Branch_0", (slim_conv_op("Conv2d_0a_1x1", 64, (1, 1)),)),
        ("Branch_1", (slim_conv_op(branch_1[0], 48, (1, 1)), slim_conv_op(branch_1[1], 64, (5, 5)))),
        ("Branch_2", (slim_conv_op("Conv2d_0a_1x1", 64, (1, 1)), slim_conv_op("Conv2d_0b_3x3", 96, (3, 3)),
                      slim_conv_op("Conv2d_0c_3x3", 96, (3, 3)))),
        ("Branch_3", (slim_pool_op("avg", "AvgPool_0a_3x3", 3, 1, "SAME"),
                      slim_conv_op("Conv2d_0b_1x1", pool_filters, (1, 1)))),
    )


def _v3_block_17(c7: int) -> tuple[InceptionV3Branch, ...]:
    """Mixed_6b..6e (17x17 at 299): the 7x7 convs factorised into 1x7 and 7x1."""
    return (
        ("Branch_0", (slim_conv_op("Conv2d_0a_1x1", 192, (1, 1)),)),
        ("Branch_1", (slim_conv_op("Conv2d_0a_1x1", c7, (1, 1)), slim_conv_op("Conv2d_0b_1x7", c7, (1, 7)),
                      slim_conv_op("Conv2d_0c_7x1", 192, (7, 1)))),
        ("Branch_2", (slim_conv_op("Conv2d_0a_1x1", c7, (1, 1)), slim_conv_op("Conv2d_0b_7x1", c7, (7, 1)),
                      slim_conv_op("Conv2d_0c_1x7", c7, (1, 7)), slim_conv_op("Conv2d_0d_7x1", c7, (7, 1)),
                      slim_conv_op("Conv2d_0e_1x7", 192, (1, 7)))),
        ("Branch_3", (slim_pool_op("avg", "AvgPool_0a_3x3", 3, 1, "SAME"), slim_conv_op("Conv2d_0b_1x1", 192, (1, 1)))),
    )


def _v3_block_8(branch_1_3x1: str) -> tuple[InceptionV3Branch, ...]:
    """Mixed_7b/7c (8x8 at 299): expanded filter banks, 1x3 and 3x1 in parallel."""
    return (
        ("Branch_0", (slim_conv_op("Conv2d_0a_1x1", 320, (1, 1)),)),
        ("Branch_1", (slim_conv_op("Conv2d_0a_1x1", 384, (1, 1)),
                      ("split", "concat", (("Conv2d_0b_1x3", 384, (1, 3)), (branch_1_3x1, 384, (3, 1)))))),
        ("Branch_2", (slim_conv_op("Conv2d_0a_1x1", 448, (1, 1)), slim_conv_op("Conv2d_0b_3x3", 384, (3, 3)),
                      ("split", "concat", (("Conv2d_0c_1x3", 384, (1, 3)), ("Conv2d_0d_3x1", 384, (3, 1)))))),
        ("Branch_3", (slim_pool_op("avg", "AvgPool_0a_3x3", 3, 1, "SAME"), slim_conv_op("Conv2d_0b_1x1", 192, (1, 1)))),
    )


# slim's scope quirks kept: Mixed_5c/Branch_1 is Conv2d_0b_1x1 -> Conv_1_0c_5x5; Mixed_6a's
# stride-2 3x3 convs are called Conv2d_1a_1x1; Mixed_7b's 3x1 is Conv2d_0b_3x1, Mixed_7c's Conv2d_0c_3x1.
INCEPTION_V3_MIXED: tuple[tuple[str, tuple[InceptionV3Branch, ...]], ...] = (
    ("Mixed_5b", _v3_block_35(32)),
    ("Mixed_5c", _v3_block_35(64, ("Conv2d_0b_1x1", "Conv_1_0c_5x5"))),
    ("Mixed_5d", _v3_block_35(64)),
    ("Mixed_6a", (
        ("Branch_0", (slim_conv_op("Conv2d_1a_1x1", 384, (3, 3), 2, "VALID"),)),
        ("Branch_1", (slim_conv_op("Conv2d_0a_1x1", 64, (1, 1)), slim_conv_op("Conv2d_0b_3x3", 96, (3, 3)),
                      slim_conv_op("Conv2d_1a_1x1", 96, (3, 3), 2, "VALID"))),
        ("Branch_2", (slim_pool_op("max", "MaxPool_1a_3x3", 3, 2, "VALID"),)),
    )),
    ("Mixed_6b", _v3_block_17(128)),
    ("Mixed_6c", _v3_block_17(160)),
    ("Mixed_6d", _v3_block_17(160)),
    ("Mixed_6e", _v3_block_17(192)),
    ("Mixed_7a", (
        ("Branch_0", (slim_conv_op("Conv2d_0a_1x1", 192, (1, 1)), slim_conv_op("Conv2d_1a_3x3", 320, (3, 3), 2, "VALID"))),
        ("Branch_1", (slim_conv_op("Conv2d_0a_1x1", 192, (1, 1)), slim_conv_op("Conv2d_0b_1x7", 192, (1, 7)),
                      slim_conv_op("Conv2d_0c_7x1", 192, (7, 1)), slim_conv_op("Conv2d_1a_3x3", 192, (3, 3), 2, "VALID"))),
        ("Branch_2", (slim_pool_op("max", "MaxPool_1a_3x3", 3, 2, "VALID"),)),
    )),
    ("Mixed_7b", _v3_block_8("Conv2d_0b_3x1")),
    ("Mixed_7c", _v3_block_8("Conv2d_0c_3x1")),
)
INCEPTION_V3_FEATURES = 2048          # Mixed_7c output channels
INCEPTION_V3_AUX_AFTER = "Mixed_6e"   # AuxLogits runs on this block's output
INCEPTION_V3_AUX_POOL = (5, 3)        # AuxLogits/AvgPool_1a_5x5: 5x5, stride 3, VALID
INCEPTION_V3_AUX_MID = 128            # AuxLogits/Conv2d_1b_1x1
INCEPTION_V3_AUX_CONV = (768, 5)      # AuxLogits/Conv2d_2a_5x5: 768 filters, 5x5, VALID
INCEPTION_V3_LOGITS_POOL = (8, 2)     # Logits/AvgPool_1a_8x8: 8x8, stride 2 (slim default), VALID

KERAS_APPS = "keras.applications.InceptionV3 count_params() (no aux head, 1000 classes, BN without gamma)"
register(Network(
    name="inception_v3", family="inception_v3", builder="inception_v3", task="classification",
    input_size=(346, 346), input_size_source=AIB_2018 + " (test 2: Inception-V3, 346x346) and " + AIB_DESKTOP,
    parity_sizes=((299, 299),), input_range=(-1.0, 1.0), second_size=SECOND_INCEPTION,
    opts={"num_classes": 1001, "aux_logits": True},
    figures=(
        Figure("params", 27_182_194, AIB_DESKTOP + " (inception_v3.meta: every model variable, aux head, "
               "BN beta + moving stats, no gamma)", "trainable+stats", 0.0),
        Figure("params", 27.1e6, AIB_2018 + " (model table '27.1M', unverified)", "trainable",
               rounding_tol(27.1e6, 0.1e6)),
        Figure("macs", 5.72e9, "Zoph et al. 2018, NASNet (arXiv:1707.07012) Table 2 (Inception-v3, 5.72B "
               "mult-adds at 299; unverified)", "conv+fc", 0.01, (299, 299), opts={"aux_logits": False}),
        Figure("macs", 7_331_921_152, AIB_DESKTOP + ": inception_v3.meta's own Conv2D/MatMul shapes summed "
               "at 346x346, aux head included (conformance.lib.graphs.graph_macs)", "conv+fc", 0.0, (346, 346)),
    ),
    description="Inception-v3 as AI Benchmark's inception_v3.meta: TF-slim layout, aux head, 1001 classes",
    graph=GraphSpec("inception_v3.meta", slim_rules("InceptionV3", {}),
                    in_scale=127.5, in_shift=127.5,       # graph: (x/255 - 0.5) * 2, as mobilenet_v2
                    output="InceptionV3/Logits/SpatialSqueeze:0", heads=("InceptionV3/AuxLogits/SpatialSqueeze:0",),
                    input_size=(346, 346),
                    note="output:0 is softmax(logits); the main logits and the aux head's logits (a sink of the graph "
                         "that output:0 does not reach) are compared"),
    # quick at 299 too: the twin's final 8x8 average pool (as the graph's) needs an 8x8 map (>= 299)
    bench=BenchPlan(order=30, quick=(299, 299), size=(299, 299),
                    why=f"{MAIN_JOB_BUDGET} (7.3 GMAC at 346x346); 299x299 is Inception-v3's native size",
                    export_rank=10, export_peak_gib=3.3, export_peak_from=EXPORT_JOB_VMHWM),
))
register(Network(
    name="inception_v3_keras", family="inception_v3", builder="inception_v3", task="classification",
    input_size=(299, 299), input_size_source="keras.applications.InceptionV3 default input",
    parity_sizes=((299, 299),), input_range=(-1.0, 1.0), second_size=SECOND_INCEPTION,
    opts={"num_classes": 1000, "aux_logits": False},
    figures=(
        Figure("params", 23_851_784, KERAS_APPS, "trainable+stats", 0.0),
        Figure("macs", 5.72e9, "Zoph et al. 2018, NASNet (arXiv:1707.07012) Table 2 (unverified)",
               "conv+fc", 0.01, (299, 299)),
    ),
    description="Inception-v3 without the aux head, 1000 classes: keras.applications' layout",
    keras_witness=KerasWitness("InceptionV3", (299, 299)),
    # torchvision's Inception3: BN with gamma (eps 0.001 as slim's) and 3x3 'SAME' average pools
    # that count the padding; no aux head, no input transform (it would rescale ImageNet-normalised
    # input; our twin takes [-1, 1] as the graph does), and no truncated-normal init (randomised anyway).
    torchvision_witness=TorchvisionWitness("inception_v3", (299, 299),
                                           {"num_classes": 1000, "bn_scale": True, "avg_pool_counts_padding": True},
                                           {"aux_logits": False, "transform_input": False, "init_weights": False}),
))
