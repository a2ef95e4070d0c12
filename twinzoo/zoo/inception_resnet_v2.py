"""inception_resnet_v2."""

from __future__ import annotations

from twinzoo.zoo import inception_resnet_v1
from twinzoo.zoo import inception_v4
from twinzoo.graphs import LEAF, GraphSpec, Rule, slim_fc_rules, slim_rules
from twinzoo.network import (AIB_DESKTOP, GUARD_READINGS, MAIN_JOB_BUDGET, SECOND_INCEPTION, BenchPlan, Family, Figure,
                             KerasWitness, Network)

FAMILY = Family(order=130)
register = FAMILY.register

# Inception-ResNet-v2 — Szegedy et al. 2016 (arXiv:1602.07261), Figs. 3, 9-10 and 16-19; TF-slim
# inception_resnet_v2.py as in AI Benchmark's inception_resnet_v2.meta (the Inception-ResNet-v1
# op format above; BN without gamma, epsilon 0.001 as facenet's)
INCEPTION_RESNET_V2_STEM: tuple[inception_resnet_v1.InceptionResnetV1Op, ...] = (    # Inception-v3's stem, verbatim
    ("Conv2d_1a_3x3", 32, 3, 2, "VALID"),
    ("Conv2d_2a_3x3", 32, 3, 1, "VALID"),
    ("Conv2d_2b_3x3", 64, 3, 1, "SAME"),
    ("MaxPool_3a_3x3", None, 3, 2, "VALID"),
    ("Conv2d_3b_1x1", 80, 1, 1, "VALID"),
    ("Conv2d_4a_3x3", 192, 3, 1, "VALID"),
    ("MaxPool_5a_3x3", None, 3, 2, "VALID"),
)
INCEPTION_RESNET_V2_MIXED_5B: inception_resnet_v1.InceptionResnetV1Branches = (
    ("Branch_0", (("Conv2d_1x1", 96, 1, 1, "SAME"),)),
    ("Branch_1", (("Conv2d_0a_1x1", 48, 1, 1, "SAME"), ("Conv2d_0b_5x5", 64, 5, 1, "SAME"))),
    ("Branch_2", (("Conv2d_0a_1x1", 64, 1, 1, "SAME"), ("Conv2d_0b_3x3", 96, 3, 1, "SAME"),
                  ("Conv2d_0c_3x3", 96, 3, 1, "SAME"))),
    ("Branch_3", (("AvgPool_0a_3x3", "avg", 3, 1, "SAME"), ("Conv2d_0b_1x1", 64, 1, 1, "SAME"))),
)
INCEPTION_RESNET_V2_BLOCK35 = inception_resnet_v1._ir_block35(32, (32, 32), (32, 48, 64))
INCEPTION_RESNET_V2_BLOCK17 = inception_resnet_v1._ir_block17(192, (128, 160, 192))
INCEPTION_RESNET_V2_BLOCK8 = inception_resnet_v1._ir_block8(192, (192, 224, 256))
INCEPTION_RESNET_V2_MIXED_6A = inception_resnet_v1._ir_reduction_a(256, 256, 384, 384)
INCEPTION_RESNET_V2_MIXED_7A = inception_resnet_v1._ir_reduction_b((256, 384), (256, 288), (256, 288, 320))
# (container scope, block scope prefix, branches, repeats, residual scale), each followed by its
# reduction (scope, branches) or None; then one more Block8 (scale 1.0, no activation),
# Conv2d_7b_1x1 (1536), the heads. The graph's mul constants: 0.17, 0.10, 0.20 and 1.0.
INCEPTION_RESNET_V2_REPEATS = (("Repeat", "block35", INCEPTION_RESNET_V2_BLOCK35, 10, 0.17),
                               ("Repeat_1", "block17", INCEPTION_RESNET_V2_BLOCK17, 20, 0.10),
                               ("Repeat_2", "block8", INCEPTION_RESNET_V2_BLOCK8, 9, 0.20))
INCEPTION_RESNET_V2_REDUCTIONS = (("Mixed_6a", INCEPTION_RESNET_V2_MIXED_6A),
                                  ("Mixed_7a", INCEPTION_RESNET_V2_MIXED_7A), None)
INCEPTION_RESNET_V2_CONV_7B = ("Conv2d_7b_1x1", 1536, 1, 1, "SAME")
INCEPTION_RESNET_V2_AUX = inception_v4.SlimAuxHead("Repeat_1", "Conv2d_1a_3x3", "Conv2d_1b_1x1", "Conv2d_2a_5x5", "Flatten", "Logits")
INCEPTION_RESNET_V2_LOGITS = inception_v4.SlimLogitsHead("AvgPool_1a_8x8", "Flatten")


def _inception_resnet_v2_rules() -> tuple[Rule, ...]:
    """slim's Inception-ResNet-v2: the residual blocks' up conv ``<block>/Conv2d_1x1`` is our bare
    ``<block>.Conv2d_1x1`` (facenet's block layout), the two heads' FC layers are Dense, the rest
    is ``slim_rules``."""
    block = r"(?P<path>Repeat(?:_\d)?/block\d+_\d+|Block8)"
    return (
        (rf"InceptionResnetV2/{block}/Conv2d_1x1/(?P<leaf>weights|biases)",
         lambda m: (f"{m['path'].replace('/', '.')}.Conv2d_1x1", LEAF[m["leaf"]])),
        *slim_fc_rules("InceptionResnetV2", ("AuxLogits/Logits", "Logits/Logits")),
        *slim_rules("InceptionResnetV2", {}),
    )


register(Network(
    name="inception_resnet_v2", family="inception_resnet_v2", builder="inception_resnet_v2",
    task="classification", input_size=(346, 346),
    input_size_source=AIB_DESKTOP + " (Inception-ResNet-V2 at 346; inception_resnet_v2.meta placeholder)",
    parity_sizes=((299, 299),), input_range=(-1.0, 1.0), second_size=SECOND_INCEPTION,
    opts={"num_classes": 1001, "aux_logits": True},
    figures=(
        Figure("params", 59_244_594, AIB_DESKTOP + " (inception_resnet_v2.meta: every model variable, aux head, "
               "BN beta + moving stats, no gamma)", "trainable+stats", 0.0),
        Figure("params", 55_873_736, "keras.applications.InceptionResNetV2 count_params() (no aux head, "
               "1000 classes, BN without gamma)", "trainable+stats", 0.0,
               opts={"num_classes": 1000, "aux_logits": False}),
        Figure("macs", 16_733_413_120, AIB_DESKTOP + ": inception_resnet_v2.meta's own Conv2D/MatMul "
               "shapes summed at 346x346, aux head included (conformance.lib.graphs.graph_macs)", "conv+fc", 0.0,
               (346, 346)),
    ),
    description="Inception-ResNet-v2 as AI Benchmark's inception_resnet_v2.meta: TF-slim layout, aux head, "
                "1001 classes",
    graph=GraphSpec("inception_resnet_v2.meta", _inception_resnet_v2_rules(),
                    in_scale=127.5, in_shift=127.5, output="InceptionResnetV2/Logits/Logits/BiasAdd:0",
                    heads=("InceptionResnetV2/AuxLogits/Logits/BiasAdd:0",), input_size=(346, 346),
                    note="output:0 is softmax(logits); the main logits and the aux head's logits (a sink of the graph "
                         "that output:0 does not reach) are compared"),
    keras_witness=KerasWitness("InceptionResNetV2", (299, 299), {"num_classes": 1000, "aux_logits": False}),
    # quick at 299 too: the aux heads' fixed 5x5 'VALID' convs need a 5x5 pooled map (>= 299)
    bench=BenchPlan(order=60, quick=(299, 299), size=(299, 299),
                    why=f"{MAIN_JOB_BUDGET} (16.7 GMAC at 346x346); 299x299 is its native size", export_rank=4,
                    export_peak_gib=20.0, export_peak_from=GUARD_READINGS),
))
