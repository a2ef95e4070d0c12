"""Inception-ResNet-v1 (FaceNet: davidsandberg/facenet src/models/inception_resnet_v1.py)."""

from __future__ import annotations

from twinzoo.graphs import LEAF, Dialect, slim_rules
from twinzoo.network import AIB_2018, Family, Figure, Network, rounding_tol

FAMILY = Family(order=80)
register = FAMILY.register

FACENET = "davidsandberg/facenet src/models/inception_resnet_v1.py"
register(Network(
    name="inception_resnet_v1", family="inception_resnet_v1", builder="inception_resnet_v1",
    task="embedding", input_size=(512, 512),
    input_size_source=AIB_2018 + " (test 3: Inception-ResNet-V1, 512x512, 128-d embedding)",
    parity_sizes=((160, 160),), input_range=(-1.0, 1.0), image_set="classification",
    second_size=(167, 181),
    opts={"embedding_size": 128},
    figures=(
        Figure("params", 22_779_312, FACENET + " with 128-d bottleneck (2017 models): W + b + BN beta",
               "trainable", 0.0),
        Figure("params", 22_808_144, FACENET + " 128-d, with BN moving stats", "trainable+stats", 0.0),
        Figure("params", 22.8e6, AIB_2018 + " (model table '22.8M', unverified)", "trainable",
               rounding_tol(22.8e6, 0.1e6)),
        Figure("macs", 1.417e9, "computed on " + FACENET + " at 160x160 (FaceNet's training size) with "
               "the 128-d bottleneck (NETWORKS.md's 1.418 G is the 512-d count); no published MAC figure",
               "conv+fc", 0.001, (160, 160)),
        Figure("macs", 19.35e9, "computed on " + FACENET + " at 512x512 (AI Benchmark's size); "
               "no published MAC figure", "conv+fc", 0.001, (512, 512)),
    ),
    description="FaceNet's Inception-ResNet-v1, 128-d L2-normalised embedding (AI Benchmark's face test)",
    checkpoint=Dialect(
        "FaceNet InceptionResnetV1 (davidsandberg/facenet src/models/inception_resnet_v1.py)", (
            (r"InceptionResnetV1/(?P<path>Repeat(?:_\d)?/block\d+_\d+|Block8)/Conv2d_1x1/(?P<leaf>weights|biases)",
             lambda m: (f"{m['path'].replace('/', '.')}.Conv2d_1x1", LEAF[m["leaf"]])),
            (r"InceptionResnetV1/Bottleneck/weights", lambda m: ("Bottleneck.fc", "kernel")),
            *slim_rules("InceptionResnetV1", {})),
        ((r"Logits/(weights|biases)", "the training run's identity classifier (softmax over its training "
                                      "identities), not part of the embedding network"),
         (r"centers", "the center loss's class centres, a training-only state"))),
))
register(Network(
    name="inception_resnet_v1_512", family="inception_resnet_v1", builder="inception_resnet_v1",
    task="embedding", input_size=(160, 160), input_size_source="FaceNet 20180402/20180408 models (160x160)",
    parity_sizes=((160, 160),), input_range=(-1.0, 1.0), image_set="classification",
    second_size=(167, 181),
    opts={"embedding_size": 512},
    figures=(
        Figure("params", 23_467_824, FACENET + " with 512-d bottleneck (20180402 models)", "trainable", 0.0),
        Figure("params", 23_497_424, FACENET + " 512-d, with BN moving stats", "trainable+stats", 0.0),
    ),
    description="FaceNet's Inception-ResNet-v1 with the 512-d embedding of the 2018 models",
))
