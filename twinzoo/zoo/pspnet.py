"""pspnet."""

from __future__ import annotations

from twinzoo.network import AIB_DESKTOP, DEEP_TOLERANCE, ICNET_RANGE, Family, Figure, Network

FAMILY = Family(order=150)
register = FAMILY.register


register(Network(
    name="pspnet", family="pspnet", builder="pspnet", task="segmentation",
    input_size=(720, 720), input_size_source=AIB_DESKTOP + " (PSPNet inference at 720x720 -> 90x90x3)",
    # the pyramid's fixed 60x60 pool (tables.PSPNET_PYRAMID) needs a 60x60 conv5_3 map: >= 473 px
    parity_sizes=((480, 480),), image_set="segmentation", input_range=ICNET_RANGE,
    # a 61x63 conv5_3 map: the fixed 60/30/20/10 windows leave a remainder, so they differ from
    # adaptive bins and a global mean there, as at 720 (a 90x90 map), unlike at 480 (60x60)
    second_size=(487, 499),
    tolerance=DEEP_TOLERANCE,
    figures=(
        Figure("params", 46_765_763, AIB_DESKTOP + " (pspnet.meta: every model variable, BN gamma/beta and "
               "moving stats)", "trainable+stats", 0.0),
        Figure("macs", 363_311_532_032, AIB_DESKTOP + ": pspnet.meta's own Conv2D shapes summed at 720x720 "
               "(conformance.lib.graphs.graph_macs)", "conv+fc", 0.0, (720, 720)),
    ),
    description="PSPNet-50 as AI Benchmark's pspnet.meta: dilated ResNet-50 backbone (output stride 8), "
                "pyramid pooling with the graph's fixed kernels, 3-channel head at 1/8 size",
))
