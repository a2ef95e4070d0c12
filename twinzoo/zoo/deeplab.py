"""DeepLab v2 (AI Benchmark deeplab.meta: ASPP on Caffe ResNet-101, 3-channel head)."""

from __future__ import annotations

from twinzoo.network import AIB_DESKTOP, DEEP_TOLERANCE, ICNET_RANGE, Family, Figure, Network

FAMILY = Family(order=160)
register = FAMILY.register


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
))
