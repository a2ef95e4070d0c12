"""inception_v4."""

from __future__ import annotations

from dataclasses import dataclass

from twinzoo.zoo import inception_v3
from twinzoo.zoo.inception_v3 import slim_conv_op, slim_pool_op
from twinzoo.graphs import GraphSpec, slim_fc_rules, slim_rules
from twinzoo.network import (AIB_DESKTOP, DEEP_TOLERANCE, GUARD_READINGS, MAIN_JOB_BUDGET, SECOND_INCEPTION, BenchPlan,
                             Family, Figure, Network)

FAMILY = Family(order=120)
register = FAMILY.register

# Inception-v4 — Szegedy et al. 2016 (arXiv:1602.07261), Figs. 3-9; TF-slim inception_v4.py as
# in AI Benchmark's inception_v4.meta (the Inception-v3 op format above)
INCEPTION_V4_STEM: tuple[inception_v3.InceptionV3Op, ...] = (
    slim_conv_op("Conv2d_1a_3x3", 32, (3, 3), 2, "VALID"),
    slim_conv_op("Conv2d_2a_3x3", 32, (3, 3), 1, "VALID"),
    slim_conv_op("Conv2d_2b_3x3", 64, (3, 3)),
)


def _v4_block_a() -> tuple[inception_v3.InceptionV3Branch, ...]:
    """block_inception_a (Mixed_5b..5e, 35x35 at 299)."""
    return (
        ("Branch_0", (slim_conv_op("Conv2d_0a_1x1", 96, (1, 1)),)),
        ("Branch_1", (slim_conv_op("Conv2d_0a_1x1", 64, (1, 1)), slim_conv_op("Conv2d_0b_3x3", 96, (3, 3)))),
        ("Branch_2", (slim_conv_op("Conv2d_0a_1x1", 64, (1, 1)), slim_conv_op("Conv2d_0b_3x3", 96, (3, 3)),
                      slim_conv_op("Conv2d_0c_3x3", 96, (3, 3)))),
        ("Branch_3", (slim_pool_op("avg", "AvgPool_0a_3x3", 3, 1, "SAME"), slim_conv_op("Conv2d_0b_1x1", 96, (1, 1)))),
    )


def _v4_block_b() -> tuple[inception_v3.InceptionV3Branch, ...]:
    """block_inception_b (Mixed_6b..6h, 17x17 at 299)."""
    return (
        ("Branch_0", (slim_conv_op("Conv2d_0a_1x1", 384, (1, 1)),)),
        ("Branch_1", (slim_conv_op("Conv2d_0a_1x1", 192, (1, 1)), slim_conv_op("Conv2d_0b_1x7", 224, (1, 7)),
                      slim_conv_op("Conv2d_0c_7x1", 256, (7, 1)))),
        ("Branch_2", (slim_conv_op("Conv2d_0a_1x1", 192, (1, 1)), slim_conv_op("Conv2d_0b_7x1", 192, (7, 1)),
                      slim_conv_op("Conv2d_0c_1x7", 224, (1, 7)), slim_conv_op("Conv2d_0d_7x1", 224, (7, 1)),
                      slim_conv_op("Conv2d_0e_1x7", 256, (1, 7)))),
        ("Branch_3", (slim_pool_op("avg", "AvgPool_0a_3x3", 3, 1, "SAME"), slim_conv_op("Conv2d_0b_1x1", 128, (1, 1)))),
    )


def _v4_block_c() -> tuple[inception_v3.InceptionV3Branch, ...]:
    """block_inception_c (Mixed_7b..7d, 8x8 at 299): 1x3 and 3x1 in parallel at the ends."""
    return (
        ("Branch_0", (slim_conv_op("Conv2d_0a_1x1", 256, (1, 1)),)),
        ("Branch_1", (slim_conv_op("Conv2d_0a_1x1", 384, (1, 1)),
                      ("split", "concat", (("Conv2d_0b_1x3", 256, (1, 3)), ("Conv2d_0c_3x1", 256, (3, 1)))))),
        ("Branch_2", (slim_conv_op("Conv2d_0a_1x1", 384, (1, 1)), slim_conv_op("Conv2d_0b_3x1", 448, (3, 1)),
                      slim_conv_op("Conv2d_0c_1x3", 512, (1, 3)),
                      ("split", "concat", (("Conv2d_0d_1x3", 256, (1, 3)), ("Conv2d_0e_3x1", 256, (3, 1)))))),
        ("Branch_3", (slim_pool_op("avg", "AvgPool_0a_3x3", 3, 1, "SAME"), slim_conv_op("Conv2d_0b_1x1", 256, (1, 1)))),
    )


INCEPTION_V4_MIXED: tuple[tuple[str, tuple[inception_v3.InceptionV3Branch, ...]], ...] = (
    ("Mixed_3a", (
        ("Branch_0", (slim_pool_op("max", "MaxPool_0a_3x3", 3, 2, "VALID"),)),
        ("Branch_1", (slim_conv_op("Conv2d_0a_3x3", 96, (3, 3), 2, "VALID"),)),
    )),
    ("Mixed_4a", (
        ("Branch_0", (slim_conv_op("Conv2d_0a_1x1", 64, (1, 1)), slim_conv_op("Conv2d_1a_3x3", 96, (3, 3), 1, "VALID"))),
        ("Branch_1", (slim_conv_op("Conv2d_0a_1x1", 64, (1, 1)), slim_conv_op("Conv2d_0b_1x7", 64, (1, 7)),
                      slim_conv_op("Conv2d_0c_7x1", 64, (7, 1)), slim_conv_op("Conv2d_1a_3x3", 96, (3, 3), 1, "VALID"))),
    )),
    ("Mixed_5a", (
        ("Branch_0", (slim_conv_op("Conv2d_1a_3x3", 192, (3, 3), 2, "VALID"),)),
        ("Branch_1", (slim_pool_op("max", "MaxPool_1a_3x3", 3, 2, "VALID"),)),
    )),
    *((f"Mixed_5{c}", _v4_block_a()) for c in "bcde"),
    ("Mixed_6a", (          # reduction_a
        ("Branch_0", (slim_conv_op("Conv2d_1a_3x3", 384, (3, 3), 2, "VALID"),)),
        ("Branch_1", (slim_conv_op("Conv2d_0a_1x1", 192, (1, 1)), slim_conv_op("Conv2d_0b_3x3", 224, (3, 3)),
                      slim_conv_op("Conv2d_1a_3x3", 256, (3, 3), 2, "VALID"))),
        ("Branch_2", (slim_pool_op("max", "MaxPool_1a_3x3", 3, 2, "VALID"),)),
    )),
    *((f"Mixed_6{c}", _v4_block_b()) for c in "bcdefgh"),
    ("Mixed_7a", (          # reduction_b
        ("Branch_0", (slim_conv_op("Conv2d_0a_1x1", 192, (1, 1)), slim_conv_op("Conv2d_1a_3x3", 192, (3, 3), 2, "VALID"))),
        ("Branch_1", (slim_conv_op("Conv2d_0a_1x1", 256, (1, 1)), slim_conv_op("Conv2d_0b_1x7", 256, (1, 7)),
                      slim_conv_op("Conv2d_0c_7x1", 320, (7, 1)), slim_conv_op("Conv2d_1a_3x3", 320, (3, 3), 2, "VALID"))),
        ("Branch_2", (slim_pool_op("max", "MaxPool_1a_3x3", 3, 2, "VALID"),)),
    )),
    *((f"Mixed_7{c}", _v4_block_c()) for c in "bcd"),
)
INCEPTION_V4_FEATURES = 1536


@dataclass(frozen=True)
class SlimAuxHead:
    """The aux classifier of slim's Inception-v4 and Inception-ResNet-v2 (scope ``AuxLogits``):
    a 5x5/3 'VALID' average pool, a 1x1 conv (128), a 5x5 'VALID' conv (768; slim sizes it to the
    pooled map, 5x5 for inputs of 299..~350), flatten, a fully connected layer to the classes. The
    two graphs name the same layers differently; ``after`` is the body block it reads."""

    after: str
    pool: str
    conv_1x1: str
    conv_5x5: str
    flatten: str
    fc: str


@dataclass(frozen=True)
class SlimLogitsHead:
    """slim's main head of the same two networks (scope ``Logits``): an average pool over the
    whole final map (the graphs, built at 346x346, hold a fixed 9x9 kernel = the map: a global
    mean), flatten, [dropout: identity at inference], a fully connected layer ``Logits``."""

    pool: str
    flatten: str
    fc: str = "Logits"


AUX_POOL, AUX_MID, AUX_CONV = (5, 3), 128, (768, 5)      # shared by both aux heads
INCEPTION_V4_AUX = SlimAuxHead("Mixed_6h", "AvgPool_1a_5x5", "Conv2d_1b_1x1", "Conv2d_2a", "Flatten", "Aux_logits")
INCEPTION_V4_LOGITS = SlimLogitsHead("AvgPool_1a", "PreLogitsFlatten")


register(Network(
    name="inception_v4", family="inception_v4", builder="inception_v4", task="classification",
    input_size=(346, 346), input_size_source=AIB_DESKTOP + " (Inception-V4 at 346; inception_v4.meta placeholder)",
    # 299: the aux head's fixed 5x5 'VALID' conv needs a 5x5 pooled map (inputs of ~299..350)
    parity_sizes=((299, 299),), input_range=(-1.0, 1.0), second_size=SECOND_INCEPTION,
    opts={"num_classes": 1001, "aux_logits": True}, tolerance=DEEP_TOLERANCE,
    figures=(
        Figure("params", 46_074_066, AIB_DESKTOP + " (inception_v4.meta: every model variable, aux head, BN "
               "beta + moving stats, no gamma)", "trainable+stats", 0.0),
        Figure("macs", 15_627_127_552, AIB_DESKTOP + ": inception_v4.meta's own Conv2D/MatMul shapes "
               "summed at 346x346, aux head included (conformance.lib.graphs.graph_macs)", "conv+fc", 0.0, (346, 346)),
    ),
    description="Inception-v4 as AI Benchmark's inception_v4.meta: TF-slim layout, aux head, 1001 classes",
    graph=GraphSpec("inception_v4.meta",
                    (*slim_fc_rules("InceptionV4", ("AuxLogits/Aux_logits", "Logits/Logits")),
                     *slim_rules("InceptionV4", {})),
                    in_scale=127.5, in_shift=127.5, output="InceptionV4/Logits/Logits/BiasAdd:0",
                    heads=("InceptionV4/AuxLogits/Aux_logits/BiasAdd:0",), input_size=(346, 346),
                    note="output:0 is softmax(logits); the main logits and the aux head's logits (a sink of the graph "
                         "that output:0 does not reach) are compared"),
    # quick at 299 too: the aux heads' fixed 5x5 'VALID' convs need a 5x5 pooled map (>= 299)
    bench=BenchPlan(order=40, quick=(299, 299), size=(299, 299),
                    why=f"{MAIN_JOB_BUDGET} (15.6 GMAC at 346x346); 299x299 is its native size", export_rank=6,
                    export_peak_gib=20.0, export_peak_from=GUARD_READINGS),
))
