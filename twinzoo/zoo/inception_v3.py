"""Inception-v3 (AI Benchmark inception_v3.meta: TF-slim, 1001 classes, aux head, 346x346)."""

from __future__ import annotations

from twinzoo.graphs import GraphSpec, slim_rules
from twinzoo.network import (AIB_2018, AIB_DESKTOP, SECOND_INCEPTION, Family, Figure, KerasWitness, Network,
                             TorchvisionWitness, rounding_tol)

FAMILY = Family(order=70)
register = FAMILY.register

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
