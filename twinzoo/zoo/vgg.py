"""VGG-16 (AI Benchmark vgg_16.meta: TF-slim, FC layers as convs, 1000 classes, 224x224)."""

from __future__ import annotations

from twinzoo.graphs import Dialect, GraphSpec, slim_rules
from twinzoo.network import (AIB_DESKTOP, GUARD_READINGS, BenchPlan, Family, Figure, KerasWitness, Network,
                             TorchvisionWitness, rounding_tol)

FAMILY = Family(order=100)
register = FAMILY.register

# VGG-16 — Simonyan & Zisserman 2015 (arXiv:1409.1556), Table 1 column D; TF-slim vgg.py
# (vgg_16), as AI Benchmark's vgg_16.meta
# (scope, convs, filters): slim's repeat scopes conv1..conv5 of 3x3 'SAME' convs with bias and
# ReLU, each stage followed by a 2x2/2 'VALID' max pool (pool1..pool5).
VGG16_STAGES: tuple[tuple[str, int, int], ...] = (
    ("conv1", 2, 64), ("conv2", 2, 128), ("conv3", 3, 256), ("conv4", 3, 512), ("conv5", 3, 512),
)
# The fully connected layers as slim writes them: convolutions. fc6 is a 7x7 'VALID' conv over
# pool5's 7x7 map (a dense layer over the flattened map), fc7 and fc8 are 1x1 convs; fc8 has no
# activation and is followed by the spatial squeeze (``fc8/squeezed``).
VGG16_FC: tuple[tuple[str, int, int], ...] = (("fc6", 4096, 7), ("fc7", 4096, 1))


def vgg16_check_input_size(input_size: tuple[int, int]) -> None:
    """fc6's 7x7 'VALID' kernel covers pool5's whole map (and the squeeze gets a 1x1 map) only for
    224..255 pixels per side (five 2x2/2 pools: side // 32 == 7)."""
    if any(side // 32 != VGG16_FC[0][2] for side in input_size):
        raise ValueError(f"VGG-16's fc6 is a dense layer over a 7x7 pool5 map: input sides must be "
                         f"224..255, got {tuple(input_size)}")


PAPER_VGG = "Simonyan & Zisserman 2015, Very Deep Convolutional Networks (arXiv:1409.1556)"
register(Network(
    name="vgg_16", family="vgg", builder="vgg_16", task="classification",
    input_size=(224, 224), input_size_source=AIB_DESKTOP + " (VGG-16 at 224; vgg_16.meta placeholder 224x224)",
    parity_sizes=((224, 224),), input_range=(-1.0, 1.0), fixed_size=True,
    opts={"num_classes": 1000},
    figures=(
        Figure("params", 138_357_544, AIB_DESKTOP + " (vgg_16.meta: conv and FC-as-conv kernels + biases)",
               "W+b", 0.0),
        Figure("params", 138_357_544, "keras.applications.VGG16 count_params() (1000 classes)", "W+b", 0.0),
        Figure("params", 138e6, PAPER_VGG + ", Table 2 (configuration D: 138 million)", "W+b",
               rounding_tol(138e6, 1e6)),
        Figure("macs", 15_470_264_320, AIB_DESKTOP + ": vgg_16.meta's own Conv2D shapes summed at 224x224 "
               "(conformance.lib.graphs.graph_macs)", "conv+fc", 0.0, (224, 224)),
        Figure("macs", 15.47e9, "torchvision.models.VGG16_Weights.IMAGENET1K_V1 '_ops' 15.47 GFLOPS (torchvision "
               "counts a multiply-add as one operation)", "conv+fc", 0.01, (224, 224)),
    ),
    description="VGG-16 as AI Benchmark's vgg_16.meta: TF-slim layout, fc6/fc7/fc8 as convolutions",
    graph=GraphSpec("vgg_16.meta", slim_rules("vgg_16", {}),
                    in_scale=127.5, in_shift=127.5,       # graph: (x/255 - 0.5) * 2
                    input_size=(224, 224), note="output:0 is vgg_16/fc8/squeezed (logits)"),
    checkpoint=Dialect("vgg_16.meta / its authors' scopes", slim_rules("vgg_16", {}), (
        (r"vgg_16/mean_rgb", "the training images' mean colour, a constant of slim's input pipeline, not a layer "
                             "(AI Benchmark's graph has none)"),)),
    keras_witness=KerasWitness("VGG16", (224, 224)),
    # torchvision's VGG16: symmetric padding 1 (= 'SAME' for its stride-1 3x3 convs), an adaptive
    # 7x7 average pool (the identity at 224) and Linear layers over the (C, H, W)-flattened map
    torchvision_witness=TorchvisionWitness("vgg16", (224, 224), {"num_classes": 1000}),
    bench=BenchPlan(order=90, export_rank=5,
                    export_peak_gib=20.0, export_peak_from=GUARD_READINGS),
))
