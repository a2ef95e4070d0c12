"""ResNet-v2-50 / -152 (AI Benchmark resnet_v2_{50,152}.meta: TF-slim, 1001 classes)."""

from __future__ import annotations

from twinzoo.graphs import GraphSpec, resnet_v2_rules
from twinzoo.network import AIB_DESKTOP, DEEP_TOLERANCE, DEFAULT_TOLERANCE, Family, Figure, KerasWitness, Network

FAMILY = Family(order=110)
register = FAMILY.register

# He et al. 2016 (arXiv:1512.03385) Table 1 gives 3.8e9 / 11.3e9 multiply-adds for ResNet-50 / -152
# at 224 in the v1 layout (stride on each block's first unit). slim's v2 strides on each block's
# last unit instead, so more of the network runs at the lower resolution: the twins (and the
# graphs) count 3.48e9 / 10.91e9 at 224 with 1000 classes. Not the same network's figure: not held.
for _depth, _size, _graph_params, _keras_params, _graph_macs, _tol in (
        (50, (346, 346), 25_615_849, 25_613_800, 8_558_226_112, DEFAULT_TOLERANCE),
        (152, (256, 256), 60_382_697, 60_380_648, 14_244_857_856, DEEP_TOLERANCE)):
    register(Network(
        name=f"resnet_v2_{_depth}", family="resnet_v2", builder=f"resnet_v2_{_depth}", task="classification",
        input_size=_size, input_size_source=AIB_DESKTOP + f" (ResNet-V2-{_depth} at {_size[0]}; "
                                                          f"resnet_v2_{_depth}.meta placeholder)",
        parity_sizes=((96, 96),), input_range=(-1.0, 1.0), tolerance=_tol,
        second_size=(97, 113),
        opts={"num_classes": 1001},
        figures=(
            Figure("params", _graph_params, AIB_DESKTOP + f" (resnet_v2_{_depth}.meta: every model variable, "
                   "BN with gamma and moving stats)", "trainable+stats", 0.0),
            Figure("params", _keras_params, f"keras.applications.ResNet{_depth}V2 count_params() (1000 classes)",
                   "trainable+stats", 0.0, opts={"num_classes": 1000}),
            Figure("macs", _graph_macs, AIB_DESKTOP + f": resnet_v2_{_depth}.meta's own Conv2D shapes summed at "
                   f"{_size[0]}x{_size[1]} (conformance.lib.graphs.graph_macs)", "conv+fc", 0.0, _size),
        ),
        description=f"ResNet-v2-{_depth} as AI Benchmark's resnet_v2_{_depth}.meta: TF-slim, pre-activation "
                    "units, stride on each block's last unit, 1001 classes",
        graph=GraphSpec(f"resnet_v2_{_depth}.meta", resnet_v2_rules(f"resnet_v2_{_depth}"),
                        in_scale=127.5, in_shift=127.5, output=f"resnet_v2_{_depth}/SpatialSqueeze:0", input_size=_size,
                        note="output:0 is softmax(logits); the logits are compared"),
        # keras.applications' pool1 is ZeroPadding2D(1) + a 'valid' max pool (the graph's: 'SAME')
        keras_witness=KerasWitness(f"ResNet{_depth}V2", (224, 224), {"num_classes": 1000, "stem_pool_zero_pad": True}),
    ))
