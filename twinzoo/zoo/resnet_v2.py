"""ResNet-v2-50 / -152 (AI Benchmark resnet_v2_{50,152}.meta: TF-slim, 1001 classes)."""

from __future__ import annotations

from dataclasses import dataclass

from twinzoo.graphs import GraphSpec, resnet_v2_rules
from twinzoo.network import (AIB_DESKTOP, DEEP_TOLERANCE, DEFAULT_TOLERANCE, EXPORT_JOB_VMHWM, GUARD_READINGS,
                             MAIN_JOB_BUDGET, BenchPlan, Family, Figure, KerasWitness, Network)

FAMILY = Family(order=110)
register = FAMILY.register


# ResNet v2 — He et al. 2016, "Identity Mappings in Deep Residual Networks" (arXiv:1603.05027);
# TF-slim resnet_v2.py as in AI Benchmark's resnet_v2_50.meta / resnet_v2_152.meta
@dataclass(frozen=True)
class ResNetBlock:
    """One slim ``resnet_v2_block``: ``units`` bottleneck units of ``base`` -> ``4 * base``
    channels; slim v2 puts the block's stride on its *last* unit (the 3x3 conv and a 1x1/stride
    max-pool shortcut), every other unit has stride 1."""

    scope: str
    base: int
    units: int
    stride: int

    @property
    def depth(self) -> int:
        return 4 * self.base


# Units per block (slim resnet_v2_50 / _101 / _152 / _200; the paper's Table 1 of He et al. 2016a).
RESNET_V2_UNITS: dict[int, tuple[int, int, int, int]] = {
    50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3), 200: (3, 24, 36, 3),
}
RESNET_V2_STEM = (64, 7, 2)       # conv1: 64 filters, 7x7, stride 2, with bias, no BN (pre-activation)


def resnet_v2_blocks(depth: int) -> tuple[ResNetBlock, ...]:
    """The four blocks of ResNet-v2-``depth``: bases 64/128/256/512, strides 2/2/2/1."""
    try:
        units = RESNET_V2_UNITS[depth]
    except KeyError:
        raise ValueError(f"unknown ResNet v2 depth {depth}; known: {sorted(RESNET_V2_UNITS)}") from None
    return tuple(ResNetBlock(f"block{i + 1}", base, n, stride)
                 for i, (base, n, stride) in enumerate(zip((64, 128, 256, 512), units, (2, 2, 2, 1))))


# He et al. 2016 (arXiv:1512.03385) Table 1 gives 3.8e9 / 11.3e9 multiply-adds for ResNet-50 / -152
# at 224 in the v1 layout (stride on each block's first unit). slim's v2 strides on each block's
# last unit instead, so more of the network runs at the lower resolution: the twins (and the
# graphs) count 3.48e9 / 10.91e9 at 224 with 1000 classes. Not the same network's figure: not held.
_BENCH = {
    50: BenchPlan(order=70, quick=(128, 128), size=(224, 224),
                  why=f"{MAIN_JOB_BUDGET} (8.6 GMAC at 346x346); 224x224 is ImageNet's", export_rank=13,
                  export_peak_gib=3.4, export_peak_from=EXPORT_JOB_VMHWM),
    152: BenchPlan(order=80, quick=(128, 128), size=(224, 224),
                   why=f"{MAIN_JOB_BUDGET} (14.2 GMAC at 256x256); 224x224 is ImageNet's", export_rank=8,
                   export_peak_gib=20.0, export_peak_from=GUARD_READINGS),
}
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
        bench=_BENCH[_depth],
        keras_witness=KerasWitness(f"ResNet{_depth}V2", (224, 224), {"num_classes": 1000, "stem_pool_zero_pad": True}),
    ))
