"""Architecture tables shared by both twins, written the way the papers print them.

Both ``torch_models/<net>.py`` and ``keras_models/<net>.py`` walk these tables, so a
reviewer checks the architecture once, here, against the paper.
"""

from __future__ import annotations

from dataclasses import dataclass


# --------------------------------------------------------------------------------------
# MobileNet v1 — Howard et al. 2017, "MobileNets", Table 1 (body); TF-slim mobilenet_v1.py
# --------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------
# MobileNet v2 — Sandler et al. 2018, Table 2; TF-slim mobilenet_v2.py (V2_DEF)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bottleneck:
    """One Table 2 row: expansion t, output channels c, repeats n, first stride s."""

    t: int
    c: int
    n: int
    s: int


MOBILENET_V2_STEM = 32          # conv2d 3x3 / 2
MOBILENET_V2_BODY: tuple[Bottleneck, ...] = (
    Bottleneck(1, 16, 1, 1),
    Bottleneck(6, 24, 2, 2),
    Bottleneck(6, 32, 3, 2),
    Bottleneck(6, 64, 4, 2),
    Bottleneck(6, 96, 3, 1),
    Bottleneck(6, 160, 3, 2),
    Bottleneck(6, 320, 1, 1),
)
MOBILENET_V2_HEAD = 1280        # conv2d 1x1; slim keeps 1280 for width < 1 and scales it above 1


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """TF-slim ``_make_divisible``: round to the nearest multiple of ``divisor``, never
    dropping more than 10% below ``value``."""
    min_value = min_value or divisor
    new = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


def mobilenet_v2_head(alpha: float) -> int:
    """Width of ``Conv_1``: 1280 kept for alpha < 1, scaled above 1 (slim's
    ``finegrain_classification_mode``, as keras.applications and torchvision). Only this rule
    reproduces the slim README MACs (0.75/0.5/0.35: 209/97/59M; scaling 1280 too gives 205/91/54M)."""
    return make_divisible(MOBILENET_V2_HEAD * max(1.0, alpha))


def mobilenet_v2_blocks(alpha: float = 1.0) -> list[tuple[str, int, int, int]]:
    """The expanded-conv blocks in slim order: (name, expansion, out_channels, stride).

    Slim names them ``expanded_conv``, ``expanded_conv_1`` ... ``expanded_conv_16``."""
    out: list[tuple[str, int, int, int]] = []
    for row in MOBILENET_V2_BODY:
        for i in range(row.n):
            idx = len(out)
            name = "expanded_conv" if idx == 0 else f"expanded_conv_{idx}"
            out.append((name, row.t, make_divisible(row.c * alpha), row.s if i == 0 else 1))
    return out


# --------------------------------------------------------------------------------------
# SRCNN — Dong et al. 2016 (TPAMI), 9-5-5; as in AI Benchmark's srcnn.meta
# --------------------------------------------------------------------------------------
SRCNN_LAYERS = ((9, 64), (5, 32), (5, None))   # (kernel, filters); None = image channels


# --------------------------------------------------------------------------------------
# VDSR — Kim et al. 2016: 20 3x3 conv layers of 64 filters, global residual
# --------------------------------------------------------------------------------------
VDSR_DEPTH = 20
VDSR_WIDTH = 64


# --------------------------------------------------------------------------------------
# DPED ResNet generator — Ignatov et al. 2017, aiff22/DPED models.py
# --------------------------------------------------------------------------------------
DPED_WIDTH = 64
DPED_BLOCKS = 4
DPED_IN_EPS = 1e-3             # models.py _instance_norm: (var + 1e-3) ** 0.5
DPED_OUT_SCALE = 0.58          # tanh(x) * 0.58 + 0.5
DPED_OUT_SHIFT = 0.5

# DPED discriminator (models.py adversarial): (kernel, filters, stride, instance-norm?)
DPED_DISCRIMINATOR_CONVS = (
    (11, 48, 4, False),
    (5, 128, 2, True),
    (3, 192, 1, True),
    (3, 192, 1, True),
    (3, 128, 2, True),
)
DPED_DISCRIMINATOR_FC = 1024


# --------------------------------------------------------------------------------------
# SRGAN — Ledig et al. 2017, Fig. 4 (SRResNet generator and the discriminator)
# --------------------------------------------------------------------------------------
SRGAN_WIDTH = 64
SRGAN_BLOCKS = 16
# Discriminator convs (Fig. 4): (filters, stride); the first has no BN.
SRGAN_DISCRIMINATOR_CONVS = (
    (64, 1), (64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 2),
)
SRGAN_DISCRIMINATOR_FC = 1024
