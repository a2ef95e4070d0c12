"""inception_resnet_v2."""

from __future__ import annotations

from twinzoo.network import AIB_DESKTOP, SECOND_INCEPTION, Family, Figure, Network

FAMILY = Family(order=130)
register = FAMILY.register


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
))
