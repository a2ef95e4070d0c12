"""VGG-16 (AI Benchmark vgg_16.meta: TF-slim, FC layers as convs, 1000 classes, 224x224)."""

from __future__ import annotations

from twinzoo.graphs import Dialect, GraphSpec, slim_rules
from twinzoo.network import AIB_DESKTOP, Family, Figure, KerasWitness, Network, TorchvisionWitness, rounding_tol

FAMILY = Family(order=100)
register = FAMILY.register

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
))
