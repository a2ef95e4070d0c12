"""MobileNet v1: 16 width x resolution variants, Conv MobileNet, Shallow MobileNet."""

from __future__ import annotations

from dataclasses import dataclass

from twinzoo.graphs import Dialect, slim_rules
from twinzoo.network import (AIB_2018, EXPORT_JOB_VMHWM, PAPER_MOBILENET, SECOND_CLASSIFIER, SLIM_MOBILENET_V1_MD,
                             BenchPlan, Family, Figure, KerasWitness, Network, rounding_tol)

FAMILY = Family(order=10)
register = FAMILY.register


# MobileNet v1 — Howard et al. 2017, "MobileNets", Table 1 (body); TF-slim mobilenet_v1.py
@dataclass(frozen=True)
class Conv:
    """A standard convolution + BN + ReLU6 (Table 1 rows "Conv / s")."""

    stride: int
    filters: int
    kernel: int = 3


@dataclass(frozen=True)
class DepSep:
    """A depthwise-separable block: dw3x3 + BN + ReLU6, pw1x1 + BN + ReLU6 (rows "Conv dw / s")."""

    stride: int
    filters: int
    kernel: int = 3


# Table 1, top to bottom. The paper prints "Conv dw / s2" for the second-to-last row while its
# input and output are both 7x7; TF-slim (and every released checkpoint) uses stride 1 there.
MOBILENET_V1_BODY: tuple[Conv | DepSep, ...] = (
    Conv(stride=2, filters=32),   # 224x224x3   -> 112x112x32
    DepSep(1, 64),                # 112x112x32  -> 112x112x64
    DepSep(2, 128),               # -> 56x56x128
    DepSep(1, 128),
    DepSep(2, 256),               # -> 28x28x256
    DepSep(1, 256),
    DepSep(2, 512),               # -> 14x14x512
    DepSep(1, 512),               # 5x the 14x14x512 block ("Shallow MobileNet" drops these five)
    DepSep(1, 512),
    DepSep(1, 512),
    DepSep(1, 512),
    DepSep(1, 512),
    DepSep(2, 1024),              # -> 7x7x1024
    DepSep(1, 1024),
)

# Indices (into MOBILENET_V1_BODY) of the five 14x14x512 separable layers that the paper's
# Table 10 "Shallow MobileNet" removes.
MOBILENET_V1_SHALLOW_DROPPED = (7, 8, 9, 10, 11)

MOBILENET_V1_WIDTHS = (1.0, 0.75, 0.5, 0.25)
MOBILENET_V1_RESOLUTIONS = (224, 192, 160, 128)


def mobilenet_v1_depth(channels: int, alpha: float, min_depth: int = 8) -> int:
    """Width multiplier rule of TF-slim ``mobilenet_v1``: ``max(int(d * alpha), min_depth)``."""
    return max(int(channels * alpha), min_depth)


def mobilenet_v1_body(variant: str = "standard") -> tuple[Conv | DepSep, ...]:
    """The body for the paper's variants: standard, "conv" (Table 4 Conv MobileNet: every
    separable layer replaced by a full 3x3 conv) and "shallow" (Table 10 Shallow MobileNet)."""
    if variant == "standard":
        return MOBILENET_V1_BODY
    if variant == "conv":
        return tuple(Conv(b.stride, b.filters) if isinstance(b, DepSep) else b for b in MOBILENET_V1_BODY)
    if variant == "shallow":
        return tuple(b for i, b in enumerate(MOBILENET_V1_BODY) if i not in MOBILENET_V1_SHALLOW_DROPPED)
    raise ValueError(f"unknown MobileNet v1 body variant {variant!r}; known: standard, conv, shallow")


# MACs of the TF-slim table (mobilenet_v1.md, "Million MACs" column), by (alpha, resolution).
_SLIM_V1_MACS = {
    (1.0, 224): 569, (1.0, 192): 418, (1.0, 160): 291, (1.0, 128): 186,
    (0.75, 224): 317, (0.75, 192): 233, (0.75, 160): 162, (0.75, 128): 104,
    (0.5, 224): 150, (0.5, 192): 110, (0.5, 160): 77, (0.5, 128): 49,
    (0.25, 224): 41, (0.25, 192): 34, (0.25, 160): 21, (0.25, 128): 14,
}
# Params of the same table ("Million Parameters"), by alpha. They are matched by W + b + BN beta +
# BN moving stats at 1001 classes (4,243,945 / 2,594,537 / 1,337,577 / 473,065): the slim graph
# counts every variable of the inference checkpoint, whose BN has no gamma (scale=False).
_SLIM_V1_PARAMS = {1.0: 4.24e6, 0.75: 2.59e6, 0.5: 1.34e6, 0.25: 0.47e6}
# The paper's Table 6 (width) and Table 7 (resolution): million mult-adds and million params,
# counted as conv + FC MACs and kernel weights only (W) at 1000 classes.
_PAPER_V1_TABLE6 = {1.0: (569, 4.2e6), 0.75: (325, 2.6e6), 0.5: (149, 1.3e6), 0.25: (41, 0.5e6)}
_PAPER_V1_TABLE7 = {224: 569, 192: 418, 160: 290, 128: 186}


def _mobilenet_v1_figures(alpha: float, res: int) -> tuple[Figure, ...]:
    figs: list[Figure] = []
    slim_macs = _SLIM_V1_MACS[(alpha, res)]
    erratum = ""
    note = ""
    rel_tol = rounding_tol(slim_macs * 1e6, 1e6)      # printed in whole millions
    if alpha == 0.75:
        # Every 0.75 row of the slim table is ~2.6% below both the paper (325 at 224) and an
        # exact count; no cause is known. Held at 3% so a real regression still shows.
        rel_tol = 0.03
        note = "slim's 0.75 rows run ~2.6% below the paper and the exact count (cause unknown)"
    if (alpha, res) == (0.25, 192):
        erratum = ("slim prints 34 where the exact count is 30.2 M and the neighbours scale by "
                   "(192/224)^2: a typo in mobilenet_v1.md")
    figs.append(Figure("macs", slim_macs * 1e6, SLIM_MOBILENET_V1_MD, "conv+fc", rel_tol,
                       (res, res), note=note, erratum=erratum))
    figs.append(Figure("params", _SLIM_V1_PARAMS[alpha], SLIM_MOBILENET_V1_MD, "W+b+beta+stats",
                       rounding_tol(_SLIM_V1_PARAMS[alpha], 0.01e6),
                       note="slim counts the checkpoint's variables: BN beta and moving stats, no gamma"))
    if res == 224:
        macs, params = _PAPER_V1_TABLE6[alpha]
        figs.append(Figure("macs", macs * 1e6, PAPER_MOBILENET + ", Table 6", "conv+fc",
                           rounding_tol(macs * 1e6, 1e6), (224, 224), opts={"num_classes": 1000}))
        figs.append(Figure("params", params, PAPER_MOBILENET + ", Table 6", "W",
                           rounding_tol(params, 0.1e6), opts={"num_classes": 1000}))
    if alpha == 1.0:
        figs.append(Figure("macs", _PAPER_V1_TABLE7[res] * 1e6, PAPER_MOBILENET + ", Table 7",
                           "conv+fc", rounding_tol(_PAPER_V1_TABLE7[res] * 1e6, 1e6), (res, res),
                           opts={"num_classes": 1000}))
    return tuple(figs)


for _alpha in MOBILENET_V1_WIDTHS:
    for _res in MOBILENET_V1_RESOLUTIONS:
        register(Network(
            name=f"mobilenet_v1_{_alpha}_{_res}",
            family="mobilenet_v1", builder="mobilenet_v1", task="classification",
            input_size=(_res, _res),
            input_size_source=f"the variant's resolution multiplier ({_res}px)",
            parity_sizes=((_res, _res),),
            second_size=SECOND_CLASSIFIER,
            input_range=(-1.0, 1.0),
            opts={"alpha": _alpha, "num_classes": 1001},
            figures=_mobilenet_v1_figures(_alpha, _res),
            description=f"MobileNet v1, width {_alpha}, resolution {_res} (TF-slim layout, 1001 classes)",
        ))

register(Network(
    name="mobilenet_v1", family="mobilenet_v1", builder="mobilenet_v1", task="classification",
    input_size=(224, 224), input_size_source=AIB_2018 + " (test 1: MobileNet-V1, 224x224)",
    parity_sizes=((224, 224),), input_range=(-1.0, 1.0),
    second_size=SECOND_CLASSIFIER,
    opts={"alpha": 1.0, "num_classes": 1001},
    figures=_mobilenet_v1_figures(1.0, 224) + (
        Figure("params", 4.2e6, AIB_2018 + " (model table, unverified)", "W", rounding_tol(4.2e6, 0.1e6),
               opts={"num_classes": 1000}),
    ),
    description="MobileNet v1 1.0/224 as AI Benchmark's first test runs it (= mobilenet_v1_1.0_224)",
    checkpoint=Dialect("TF-slim MobilenetV1 (research/slim/nets/mobilenet_v1.py)",
                       slim_rules("MobilenetV1", {"Logits/Conv2d_1c_1x1": "logits"}, prefix="body.")),
    keras_witness=KerasWitness("MobileNet", (224, 224), {"num_classes": 1000}, {"alpha": 1.0}),
    bench=BenchPlan(order=10, quick=(128, 128), export_rank=18, export_peak_gib=1.8, export_peak_from=EXPORT_JOB_VMHWM),
))

register(Network(
    name="mobilenet_v1_conv", family="mobilenet_v1", builder="mobilenet_v1", task="classification",
    input_size=(224, 224), input_size_source=PAPER_MOBILENET + ", Table 4", parity_sizes=((128, 128),),
    second_size=SECOND_CLASSIFIER,
    input_range=(-1.0, 1.0), opts={"alpha": 1.0, "num_classes": 1000, "body": "conv"},
    figures=(
        Figure("macs", 4866e6, PAPER_MOBILENET + ", Table 4 (Conv MobileNet)", "conv+fc", 0.01, (224, 224)),
        Figure("params", 29.3e6, PAPER_MOBILENET + ", Table 4 (Conv MobileNet)", "W",
               rounding_tol(29.3e6, 0.1e6)),
    ),
    description="the paper's Conv MobileNet: every separable layer a full 3x3 convolution",
))

register(Network(
    name="mobilenet_v1_shallow", family="mobilenet_v1", builder="mobilenet_v1", task="classification",
    input_size=(224, 224), input_size_source=PAPER_MOBILENET + ", Table 10", parity_sizes=((224, 224),),
    second_size=SECOND_CLASSIFIER,
    input_range=(-1.0, 1.0), opts={"alpha": 1.0, "num_classes": 1000, "body": "shallow"},
    figures=(
        Figure("macs", 307e6, PAPER_MOBILENET + ", Table 10 (Shallow MobileNet)", "conv+fc", 0.01, (224, 224)),
        Figure("params", 2.9e6, PAPER_MOBILENET + ", Table 10 (Shallow MobileNet)", "W",
               rounding_tol(2.9e6, 0.1e6)),
    ),
    description="the paper's Shallow MobileNet: the five 14x14x512 separable layers removed",
))

# The paper's Table 3: one layer at 14x14x512 in, 512 out, in four forms. Built from the same
# blocks as the network (``mobilenet_v1_layer``), so both twins are checked on them too.
_TABLE3 = PAPER_MOBILENET + ", Table 3"
for _name, _opts, _size, _macs, _params, _pstep in (
    ("conv", {"kind": "conv", "alpha": 1.0}, 14, 462e6, 2.36e6, 0.01e6),
    ("depthwise_separable", {"kind": "depsep", "alpha": 1.0}, 14, 52.3e6, 0.27e6, 0.01e6),
    ("alpha_0.75", {"kind": "depsep", "alpha": 0.75}, 14, 29.6e6, 0.15e6, 0.01e6),
    ("rho_0.714", {"kind": "depsep", "alpha": 0.75}, 10, 15.1e6, 0.15e6, 0.01e6),
):
    register(Network(
        name=f"mobilenet_v1_table3_{_name}", family="mobilenet_v1", builder="mobilenet_v1_layer",
        task="layer", input_size=(_size, _size), input_size_source=_TABLE3,
        parity_sizes=((_size, _size),), channels=int(512 * _opts["alpha"]),
        second_size=(11, 13),          # stride-1 layers: any size; odd and unequal
        input_range=(-1.0, 1.0), image_set=None, opts={**_opts, "filters": 512},
        figures=(
            Figure("macs", _macs, _TABLE3, "conv+fc", 0.01, (_size, _size),
                   note="conv/dw/pw layer MACs only (no BN)"),
            Figure("params", _params, _TABLE3, "W", rounding_tol(_params, _pstep)),
        ),
        description=f"MobileNet paper Table 3 row: {_name.replace('_', ' ')} layer, 512 outputs",
    ))
