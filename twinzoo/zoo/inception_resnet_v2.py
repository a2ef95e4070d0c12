"""inception_resnet_v2."""

from __future__ import annotations

from twinzoo.graphs import LEAF, GraphSpec, Rule, slim_fc_rules, slim_rules
from twinzoo.network import AIB_DESKTOP, SECOND_INCEPTION, Family, Figure, KerasWitness, Network

FAMILY = Family(order=130)
register = FAMILY.register


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
))
