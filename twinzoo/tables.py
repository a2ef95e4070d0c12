"""Architecture tables shared by both twins, written the way the papers print them.

Both ``torch_models/<net>.py`` and ``keras_models/<net>.py`` walk these tables, so a
reviewer checks the architecture once, here, against the paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple


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
# Inception-v3 — Szegedy et al. 2016, "Rethinking the Inception Architecture" (arXiv:1512.00567);
# TF-slim nets/inception_v3.py as in AI Benchmark's inception_v3.meta (scope names verbatim)
# --------------------------------------------------------------------------------------
# An op: ("conv", scope, filters, (kh, kw), stride, padding) | ("max" | "avg", scope, None,
# (kh, kw), stride, padding) | ("split", "concat", ((scope, filters, (kh, kw)), ...)): the split
# runs its 'SAME' convs in parallel on the same input and concatenates them (Mixed_7b/7c).
InceptionV3Op = tuple
InceptionV3Branch = tuple[str, tuple[InceptionV3Op, ...]]

INCEPTION_V3_BN_EPS = 1e-3      # inception_v3.meta FusedBatchNorm epsilon (slim batch_norm_epsilon 0.001)


class InceptionV3Style(NamedTuple):
    """The two numeric conventions in which Inception-v3 implementations differ (the layers and
    shapes do not). The graph's: BN without gamma, and 'SAME' average pools that average over the
    window's real pixels only (TF). torchvision's ``Inception3``: BN with gamma (``BasicConv2d``),
    and ``F.avg_pool2d(x, 3, 1, 1)``, whose mean counts the zero padding (``count_include_pad``
    defaults to True). Both twins take both, so torchvision's weights load into them."""

    bn_scale: bool = False
    avg_pool_counts_padding: bool = False


def _v3_conv(scope: str, filters: int, kernel: tuple[int, int], stride: int = 1,
             padding: str = "SAME") -> InceptionV3Op:
    return ("conv", scope, filters, kernel, stride, padding)


def _v3_pool(kind: str, scope: str, kernel: int, stride: int, padding: str) -> InceptionV3Op:
    return (kind, scope, None, (kernel, kernel), stride, padding)


INCEPTION_V3_STEM: tuple[InceptionV3Op, ...] = (
    _v3_conv("Conv2d_1a_3x3", 32, (3, 3), 2, "VALID"),
    _v3_conv("Conv2d_2a_3x3", 32, (3, 3), 1, "VALID"),
    _v3_conv("Conv2d_2b_3x3", 64, (3, 3)),
    _v3_pool("max", "MaxPool_3a_3x3", 3, 2, "VALID"),
    _v3_conv("Conv2d_3b_1x1", 80, (1, 1), 1, "VALID"),
    _v3_conv("Conv2d_4a_3x3", 192, (3, 3), 1, "VALID"),
    _v3_pool("max", "MaxPool_5a_3x3", 3, 2, "VALID"),
)


def _v3_block_35(pool_filters: int,
                 branch_1: tuple[str, str] = ("Conv2d_0a_1x1", "Conv2d_0b_5x5")) -> tuple[InceptionV3Branch, ...]:
    """Mixed_5b/5c/5d (35x35 at 299): 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | avg pool -> 1x1."""
    return (
        ("Branch_0", (_v3_conv("Conv2d_0a_1x1", 64, (1, 1)),)),
        ("Branch_1", (_v3_conv(branch_1[0], 48, (1, 1)), _v3_conv(branch_1[1], 64, (5, 5)))),
        ("Branch_2", (_v3_conv("Conv2d_0a_1x1", 64, (1, 1)), _v3_conv("Conv2d_0b_3x3", 96, (3, 3)),
                      _v3_conv("Conv2d_0c_3x3", 96, (3, 3)))),
        ("Branch_3", (_v3_pool("avg", "AvgPool_0a_3x3", 3, 1, "SAME"),
                      _v3_conv("Conv2d_0b_1x1", pool_filters, (1, 1)))),
    )


def _v3_block_17(c7: int) -> tuple[InceptionV3Branch, ...]:
    """Mixed_6b..6e (17x17 at 299): the 7x7 convs factorised into 1x7 and 7x1."""
    return (
        ("Branch_0", (_v3_conv("Conv2d_0a_1x1", 192, (1, 1)),)),
        ("Branch_1", (_v3_conv("Conv2d_0a_1x1", c7, (1, 1)), _v3_conv("Conv2d_0b_1x7", c7, (1, 7)),
                      _v3_conv("Conv2d_0c_7x1", 192, (7, 1)))),
        ("Branch_2", (_v3_conv("Conv2d_0a_1x1", c7, (1, 1)), _v3_conv("Conv2d_0b_7x1", c7, (7, 1)),
                      _v3_conv("Conv2d_0c_1x7", c7, (1, 7)), _v3_conv("Conv2d_0d_7x1", c7, (7, 1)),
                      _v3_conv("Conv2d_0e_1x7", 192, (1, 7)))),
        ("Branch_3", (_v3_pool("avg", "AvgPool_0a_3x3", 3, 1, "SAME"), _v3_conv("Conv2d_0b_1x1", 192, (1, 1)))),
    )


def _v3_block_8(branch_1_3x1: str) -> tuple[InceptionV3Branch, ...]:
    """Mixed_7b/7c (8x8 at 299): expanded filter banks, 1x3 and 3x1 in parallel."""
    return (
        ("Branch_0", (_v3_conv("Conv2d_0a_1x1", 320, (1, 1)),)),
        ("Branch_1", (_v3_conv("Conv2d_0a_1x1", 384, (1, 1)),
                      ("split", "concat", (("Conv2d_0b_1x3", 384, (1, 3)), (branch_1_3x1, 384, (3, 1)))))),
        ("Branch_2", (_v3_conv("Conv2d_0a_1x1", 448, (1, 1)), _v3_conv("Conv2d_0b_3x3", 384, (3, 3)),
                      ("split", "concat", (("Conv2d_0c_1x3", 384, (1, 3)), ("Conv2d_0d_3x1", 384, (3, 1)))))),
        ("Branch_3", (_v3_pool("avg", "AvgPool_0a_3x3", 3, 1, "SAME"), _v3_conv("Conv2d_0b_1x1", 192, (1, 1)))),
    )


# slim's scope quirks kept: Mixed_5c/Branch_1 is Conv2d_0b_1x1 -> Conv_1_0c_5x5; Mixed_6a's
# stride-2 3x3 convs are called Conv2d_1a_1x1; Mixed_7b's 3x1 is Conv2d_0b_3x1, Mixed_7c's Conv2d_0c_3x1.
INCEPTION_V3_MIXED: tuple[tuple[str, tuple[InceptionV3Branch, ...]], ...] = (
    ("Mixed_5b", _v3_block_35(32)),
    ("Mixed_5c", _v3_block_35(64, ("Conv2d_0b_1x1", "Conv_1_0c_5x5"))),
    ("Mixed_5d", _v3_block_35(64)),
    ("Mixed_6a", (
        ("Branch_0", (_v3_conv("Conv2d_1a_1x1", 384, (3, 3), 2, "VALID"),)),
        ("Branch_1", (_v3_conv("Conv2d_0a_1x1", 64, (1, 1)), _v3_conv("Conv2d_0b_3x3", 96, (3, 3)),
                      _v3_conv("Conv2d_1a_1x1", 96, (3, 3), 2, "VALID"))),
        ("Branch_2", (_v3_pool("max", "MaxPool_1a_3x3", 3, 2, "VALID"),)),
    )),
    ("Mixed_6b", _v3_block_17(128)),
    ("Mixed_6c", _v3_block_17(160)),
    ("Mixed_6d", _v3_block_17(160)),
    ("Mixed_6e", _v3_block_17(192)),
    ("Mixed_7a", (
        ("Branch_0", (_v3_conv("Conv2d_0a_1x1", 192, (1, 1)), _v3_conv("Conv2d_1a_3x3", 320, (3, 3), 2, "VALID"))),
        ("Branch_1", (_v3_conv("Conv2d_0a_1x1", 192, (1, 1)), _v3_conv("Conv2d_0b_1x7", 192, (1, 7)),
                      _v3_conv("Conv2d_0c_7x1", 192, (7, 1)), _v3_conv("Conv2d_1a_3x3", 192, (3, 3), 2, "VALID"))),
        ("Branch_2", (_v3_pool("max", "MaxPool_1a_3x3", 3, 2, "VALID"),)),
    )),
    ("Mixed_7b", _v3_block_8("Conv2d_0b_3x1")),
    ("Mixed_7c", _v3_block_8("Conv2d_0c_3x1")),
)
INCEPTION_V3_FEATURES = 2048          # Mixed_7c output channels
INCEPTION_V3_AUX_AFTER = "Mixed_6e"   # AuxLogits runs on this block's output
INCEPTION_V3_AUX_POOL = (5, 3)        # AuxLogits/AvgPool_1a_5x5: 5x5, stride 3, VALID
INCEPTION_V3_AUX_MID = 128            # AuxLogits/Conv2d_1b_1x1
INCEPTION_V3_AUX_CONV = (768, 5)      # AuxLogits/Conv2d_2a_5x5: 768 filters, 5x5, VALID
INCEPTION_V3_LOGITS_POOL = (8, 2)     # Logits/AvgPool_1a_8x8: 8x8, stride 2 (slim default), VALID


# --------------------------------------------------------------------------------------
# Inception-ResNet-v1 — Szegedy et al. 2016 (arXiv:1602.07261), Figs. 10-16, as FaceNet builds
# it: davidsandberg/facenet src/models/inception_resnet_v1.py (with the Bottleneck layer)
# --------------------------------------------------------------------------------------
# A branch op: (scope, filters, kernel, stride, padding); filters None is a max pool, "avg" a
# stride-1 'SAME' average pool (Inception-ResNet-v2's Mixed_5b uses the same format).
InceptionResnetV1Op = tuple
InceptionResnetV1Branches = Sequence[tuple[str, Sequence[InceptionResnetV1Op]]]

INCEPTION_RESNET_V1_BN_EPS = 1e-3     # facenet batch_norm_params['epsilon']
INCEPTION_RESNET_V1_L2_EPS = 1e-10    # tf.nn.l2_normalize(prelogits, 1, 1e-10, name='embeddings')

INCEPTION_RESNET_V1_STEM: tuple[InceptionResnetV1Op, ...] = (
    ("Conv2d_1a_3x3", 32, 3, 2, "VALID"),
    ("Conv2d_2a_3x3", 32, 3, 1, "VALID"),
    ("Conv2d_2b_3x3", 64, 3, 1, "SAME"),
    ("MaxPool_3a_3x3", None, 3, 2, "VALID"),
    ("Conv2d_3b_1x1", 80, 1, 1, "VALID"),
    ("Conv2d_4a_3x3", 192, 3, 1, "VALID"),
    ("Conv2d_4b_3x3", 256, 3, 2, "VALID"),
)
def _ir_conv(scope: str, filters: int, kernel: int | tuple[int, int], stride: int = 1,
             padding: str = "SAME") -> InceptionResnetV1Op:
    return (scope, filters, kernel, stride, padding)


def _ir_block35(b0: int, b1: tuple[int, int], b2: tuple[int, int, int]) -> InceptionResnetV1Branches:
    """block35 (Inception-ResNet-A): 1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 -> 3x3."""
    return (
        ("Branch_0", (_ir_conv("Conv2d_1x1", b0, 1),)),
        ("Branch_1", (_ir_conv("Conv2d_0a_1x1", b1[0], 1), _ir_conv("Conv2d_0b_3x3", b1[1], 3))),
        ("Branch_2", (_ir_conv("Conv2d_0a_1x1", b2[0], 1), _ir_conv("Conv2d_0b_3x3", b2[1], 3),
                      _ir_conv("Conv2d_0c_3x3", b2[2], 3))),
    )


def _ir_block_factorised(b0: int, b1: tuple[int, int, int], scopes: tuple[str, str],
                         kernels: tuple[tuple[int, int], tuple[int, int]]) -> InceptionResnetV1Branches:
    """block17 (Inception-ResNet-B: 1x7, 7x1) and block8 (Inception-ResNet-C: 1x3, 3x1)."""
    return (
        ("Branch_0", (_ir_conv("Conv2d_1x1", b0, 1),)),
        ("Branch_1", (_ir_conv("Conv2d_0a_1x1", b1[0], 1), _ir_conv(scopes[0], b1[1], kernels[0]),
                      _ir_conv(scopes[1], b1[2], kernels[1]))),
    )


def _ir_block17(b0: int, b1: tuple[int, int, int]) -> InceptionResnetV1Branches:
    return _ir_block_factorised(b0, b1, ("Conv2d_0b_1x7", "Conv2d_0c_7x1"), ((1, 7), (7, 1)))


def _ir_block8(b0: int, b1: tuple[int, int, int]) -> InceptionResnetV1Branches:
    return _ir_block_factorised(b0, b1, ("Conv2d_0b_1x3", "Conv2d_0c_3x1"), ((1, 3), (3, 1)))


def _ir_reduction_a(k: int, lw: int, m: int, n: int) -> InceptionResnetV1Branches:
    """Reduction-A (Mixed_6a) with the paper's k, l, m, n (Szegedy et al. 2016, Table 1)."""
    return (
        ("Branch_0", (_ir_conv("Conv2d_1a_3x3", n, 3, 2, "VALID"),)),
        ("Branch_1", (_ir_conv("Conv2d_0a_1x1", k, 1), _ir_conv("Conv2d_0b_3x3", lw, 3),
                      _ir_conv("Conv2d_1a_3x3", m, 3, 2, "VALID"))),
        ("Branch_2", (("MaxPool_1a_3x3", None, 3, 2, "VALID"),)),
    )


def _ir_reduction_b(b0: tuple[int, int], b1: tuple[int, int], b2: tuple[int, int, int]) -> InceptionResnetV1Branches:
    """Reduction-B (Mixed_7a): three conv branches ending in a 3x3/2 'VALID' conv, and a max pool."""
    return (
        ("Branch_0", (_ir_conv("Conv2d_0a_1x1", b0[0], 1), _ir_conv("Conv2d_1a_3x3", b0[1], 3, 2, "VALID"))),
        ("Branch_1", (_ir_conv("Conv2d_0a_1x1", b1[0], 1), _ir_conv("Conv2d_1a_3x3", b1[1], 3, 2, "VALID"))),
        ("Branch_2", (_ir_conv("Conv2d_0a_1x1", b2[0], 1), _ir_conv("Conv2d_0b_3x3", b2[1], 3),
                      _ir_conv("Conv2d_1a_3x3", b2[2], 3, 2, "VALID"))),
        ("Branch_3", (("MaxPool_1a_3x3", None, 3, 2, "VALID"),)),
    )


INCEPTION_RESNET_V1_BLOCK35 = _ir_block35(32, (32, 32), (32, 32, 32))
INCEPTION_RESNET_V1_BLOCK17 = _ir_block17(128, (128, 128, 128))
INCEPTION_RESNET_V1_BLOCK8 = _ir_block8(192, (192, 192, 192))
INCEPTION_RESNET_V1_MIXED_6A = _ir_reduction_a(192, 192, 256, 384)
INCEPTION_RESNET_V1_MIXED_7A = _ir_reduction_b((256, 384), (256, 256), (256, 256, 256))
# (container scope, block scope prefix, branches, repeats, residual scale)
INCEPTION_RESNET_V1_REPEATS = (("Repeat", "block35", INCEPTION_RESNET_V1_BLOCK35, 5, 0.17),
                               ("Repeat_1", "block17", INCEPTION_RESNET_V1_BLOCK17, 10, 0.10),
                               ("Repeat_2", "block8", INCEPTION_RESNET_V1_BLOCK8, 5, 0.20))
# The reduction after each repeat, (scope, branches), None after the last; then one more Block8
# (scale 1.0, no activation), Logits, Bottleneck, embeddings.
INCEPTION_RESNET_V1_REDUCTIONS = (("Mixed_6a", INCEPTION_RESNET_V1_MIXED_6A),
                                  ("Mixed_7a", INCEPTION_RESNET_V1_MIXED_7A),
                                  None)


# --------------------------------------------------------------------------------------
# ICNet — Zhao et al. 2018 (arXiv:1704.08545); hszhao/ICNet icnet_cityscapes.prototxt as in
# AI Benchmark's icnet.meta (plus its 1x1 conv 19 -> 3 + tanh head)
# --------------------------------------------------------------------------------------
ICNET_IMAGE_CHANNELS = 3
ICNET_NUM_CLASSES = 19
ICNET_BN_EPS = 1e-5                      # BNParameter.eps default of the PSPNet/ICNet Caffe (yjxiong/caffe BN)
ICNET_MEAN = (103.939, 116.779, 123.68)  # icnet.meta ``sub/y``: subtracted before the twins' input
ICNET_HEAD_CHANNELS = 3                  # AI Benchmark's added ``final`` 1x1 conv + tanh

# Bottleneck stages: (stage, blocks, mid, out, dilation, stride of the first block's 1x1 convs).
# conv3_1 runs on the 1/2 input (sub2); conv3_2 onwards on conv3_1 shrunk x2 (sub4).
ICNET_STAGES: tuple[tuple[int, int, int, int, int, int], ...] = (
    (2, 3, 32, 128, 1, 1),
    (3, 4, 64, 256, 1, 2),
    (4, 6, 128, 512, 2, 1),
    (5, 3, 256, 1024, 4, 1),
)
# Pyramid pooling: (graph name suffix, divisor). The graph's "pool6" bin divides by 4, not 6
# (32x48 map: kernels 32x48, 16x24, 10x16, 8x12 -> bins 1x1, 2x2, 3x3, 4x4).
ICNET_PYRAMID: tuple[tuple[int, int], ...] = ((1, 1), (2, 2), (3, 3), (6, 4))


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


# --------------------------------------------------------------------------------------
# VGG-16 — Simonyan & Zisserman 2015 (arXiv:1409.1556), Table 1 column D; TF-slim vgg.py
# (vgg_16), as AI Benchmark's vgg_16.meta
# --------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------
# ResNet v2 — He et al. 2016, "Identity Mappings in Deep Residual Networks" (arXiv:1603.05027);
# TF-slim resnet_v2.py as in AI Benchmark's resnet_v2_50.meta / resnet_v2_152.meta
# --------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------
# Inception-v4 — Szegedy et al. 2016 (arXiv:1602.07261), Figs. 3-9; TF-slim inception_v4.py as
# in AI Benchmark's inception_v4.meta (the Inception-v3 op format above)
# --------------------------------------------------------------------------------------
INCEPTION_V4_STEM: tuple[InceptionV3Op, ...] = (
    _v3_conv("Conv2d_1a_3x3", 32, (3, 3), 2, "VALID"),
    _v3_conv("Conv2d_2a_3x3", 32, (3, 3), 1, "VALID"),
    _v3_conv("Conv2d_2b_3x3", 64, (3, 3)),
)


def _v4_block_a() -> tuple[InceptionV3Branch, ...]:
    """block_inception_a (Mixed_5b..5e, 35x35 at 299)."""
    return (
        ("Branch_0", (_v3_conv("Conv2d_0a_1x1", 96, (1, 1)),)),
        ("Branch_1", (_v3_conv("Conv2d_0a_1x1", 64, (1, 1)), _v3_conv("Conv2d_0b_3x3", 96, (3, 3)))),
        ("Branch_2", (_v3_conv("Conv2d_0a_1x1", 64, (1, 1)), _v3_conv("Conv2d_0b_3x3", 96, (3, 3)),
                      _v3_conv("Conv2d_0c_3x3", 96, (3, 3)))),
        ("Branch_3", (_v3_pool("avg", "AvgPool_0a_3x3", 3, 1, "SAME"), _v3_conv("Conv2d_0b_1x1", 96, (1, 1)))),
    )


def _v4_block_b() -> tuple[InceptionV3Branch, ...]:
    """block_inception_b (Mixed_6b..6h, 17x17 at 299)."""
    return (
        ("Branch_0", (_v3_conv("Conv2d_0a_1x1", 384, (1, 1)),)),
        ("Branch_1", (_v3_conv("Conv2d_0a_1x1", 192, (1, 1)), _v3_conv("Conv2d_0b_1x7", 224, (1, 7)),
                      _v3_conv("Conv2d_0c_7x1", 256, (7, 1)))),
        ("Branch_2", (_v3_conv("Conv2d_0a_1x1", 192, (1, 1)), _v3_conv("Conv2d_0b_7x1", 192, (7, 1)),
                      _v3_conv("Conv2d_0c_1x7", 224, (1, 7)), _v3_conv("Conv2d_0d_7x1", 224, (7, 1)),
                      _v3_conv("Conv2d_0e_1x7", 256, (1, 7)))),
        ("Branch_3", (_v3_pool("avg", "AvgPool_0a_3x3", 3, 1, "SAME"), _v3_conv("Conv2d_0b_1x1", 128, (1, 1)))),
    )


def _v4_block_c() -> tuple[InceptionV3Branch, ...]:
    """block_inception_c (Mixed_7b..7d, 8x8 at 299): 1x3 and 3x1 in parallel at the ends."""
    return (
        ("Branch_0", (_v3_conv("Conv2d_0a_1x1", 256, (1, 1)),)),
        ("Branch_1", (_v3_conv("Conv2d_0a_1x1", 384, (1, 1)),
                      ("split", "concat", (("Conv2d_0b_1x3", 256, (1, 3)), ("Conv2d_0c_3x1", 256, (3, 1)))))),
        ("Branch_2", (_v3_conv("Conv2d_0a_1x1", 384, (1, 1)), _v3_conv("Conv2d_0b_3x1", 448, (3, 1)),
                      _v3_conv("Conv2d_0c_1x3", 512, (1, 3)),
                      ("split", "concat", (("Conv2d_0d_1x3", 256, (1, 3)), ("Conv2d_0e_3x1", 256, (3, 1)))))),
        ("Branch_3", (_v3_pool("avg", "AvgPool_0a_3x3", 3, 1, "SAME"), _v3_conv("Conv2d_0b_1x1", 256, (1, 1)))),
    )


INCEPTION_V4_MIXED: tuple[tuple[str, tuple[InceptionV3Branch, ...]], ...] = (
    ("Mixed_3a", (
        ("Branch_0", (_v3_pool("max", "MaxPool_0a_3x3", 3, 2, "VALID"),)),
        ("Branch_1", (_v3_conv("Conv2d_0a_3x3", 96, (3, 3), 2, "VALID"),)),
    )),
    ("Mixed_4a", (
        ("Branch_0", (_v3_conv("Conv2d_0a_1x1", 64, (1, 1)), _v3_conv("Conv2d_1a_3x3", 96, (3, 3), 1, "VALID"))),
        ("Branch_1", (_v3_conv("Conv2d_0a_1x1", 64, (1, 1)), _v3_conv("Conv2d_0b_1x7", 64, (1, 7)),
                      _v3_conv("Conv2d_0c_7x1", 64, (7, 1)), _v3_conv("Conv2d_1a_3x3", 96, (3, 3), 1, "VALID"))),
    )),
    ("Mixed_5a", (
        ("Branch_0", (_v3_conv("Conv2d_1a_3x3", 192, (3, 3), 2, "VALID"),)),
        ("Branch_1", (_v3_pool("max", "MaxPool_1a_3x3", 3, 2, "VALID"),)),
    )),
    *((f"Mixed_5{c}", _v4_block_a()) for c in "bcde"),
    ("Mixed_6a", (          # reduction_a
        ("Branch_0", (_v3_conv("Conv2d_1a_3x3", 384, (3, 3), 2, "VALID"),)),
        ("Branch_1", (_v3_conv("Conv2d_0a_1x1", 192, (1, 1)), _v3_conv("Conv2d_0b_3x3", 224, (3, 3)),
                      _v3_conv("Conv2d_1a_3x3", 256, (3, 3), 2, "VALID"))),
        ("Branch_2", (_v3_pool("max", "MaxPool_1a_3x3", 3, 2, "VALID"),)),
    )),
    *((f"Mixed_6{c}", _v4_block_b()) for c in "bcdefgh"),
    ("Mixed_7a", (          # reduction_b
        ("Branch_0", (_v3_conv("Conv2d_0a_1x1", 192, (1, 1)), _v3_conv("Conv2d_1a_3x3", 192, (3, 3), 2, "VALID"))),
        ("Branch_1", (_v3_conv("Conv2d_0a_1x1", 256, (1, 1)), _v3_conv("Conv2d_0b_1x7", 256, (1, 7)),
                      _v3_conv("Conv2d_0c_7x1", 320, (7, 1)), _v3_conv("Conv2d_1a_3x3", 320, (3, 3), 2, "VALID"))),
        ("Branch_2", (_v3_pool("max", "MaxPool_1a_3x3", 3, 2, "VALID"),)),
    )),
    *((f"Mixed_7{c}", _v4_block_c()) for c in "bcd"),
)
INCEPTION_V4_FEATURES = 1536


@dataclass(frozen=True)
class SlimAuxHead:
    """The aux classifier of slim's Inception-v4 and Inception-ResNet-v2 (scope ``AuxLogits``):
    a 5x5/3 'VALID' average pool, a 1x1 conv (128), a 5x5 'VALID' conv (768; slim sizes it to the
    pooled map, 5x5 for inputs of 299..~350), flatten, a fully connected layer to the classes. The
    two graphs name the same layers differently; ``after`` is the body block it reads."""

    after: str
    pool: str
    conv_1x1: str
    conv_5x5: str
    flatten: str
    fc: str


@dataclass(frozen=True)
class SlimLogitsHead:
    """slim's main head of the same two networks (scope ``Logits``): an average pool over the
    whole final map (the graphs, built at 346x346, hold a fixed 9x9 kernel = the map: a global
    mean), flatten, [dropout: identity at inference], a fully connected layer ``Logits``."""

    pool: str
    flatten: str
    fc: str = "Logits"


AUX_POOL, AUX_MID, AUX_CONV = (5, 3), 128, (768, 5)      # shared by both aux heads
INCEPTION_V4_AUX = SlimAuxHead("Mixed_6h", "AvgPool_1a_5x5", "Conv2d_1b_1x1", "Conv2d_2a", "Flatten", "Aux_logits")
INCEPTION_V4_LOGITS = SlimLogitsHead("AvgPool_1a", "PreLogitsFlatten")


# --------------------------------------------------------------------------------------
# Inception-ResNet-v2 — Szegedy et al. 2016 (arXiv:1602.07261), Figs. 3, 9-10 and 16-19; TF-slim
# inception_resnet_v2.py as in AI Benchmark's inception_resnet_v2.meta (the Inception-ResNet-v1
# op format above; BN without gamma, epsilon 0.001 as facenet's)
# --------------------------------------------------------------------------------------
INCEPTION_RESNET_V2_STEM: tuple[InceptionResnetV1Op, ...] = (    # Inception-v3's stem, verbatim
    ("Conv2d_1a_3x3", 32, 3, 2, "VALID"),
    ("Conv2d_2a_3x3", 32, 3, 1, "VALID"),
    ("Conv2d_2b_3x3", 64, 3, 1, "SAME"),
    ("MaxPool_3a_3x3", None, 3, 2, "VALID"),
    ("Conv2d_3b_1x1", 80, 1, 1, "VALID"),
    ("Conv2d_4a_3x3", 192, 3, 1, "VALID"),
    ("MaxPool_5a_3x3", None, 3, 2, "VALID"),
)
INCEPTION_RESNET_V2_MIXED_5B: InceptionResnetV1Branches = (
    ("Branch_0", (("Conv2d_1x1", 96, 1, 1, "SAME"),)),
    ("Branch_1", (("Conv2d_0a_1x1", 48, 1, 1, "SAME"), ("Conv2d_0b_5x5", 64, 5, 1, "SAME"))),
    ("Branch_2", (("Conv2d_0a_1x1", 64, 1, 1, "SAME"), ("Conv2d_0b_3x3", 96, 3, 1, "SAME"),
                  ("Conv2d_0c_3x3", 96, 3, 1, "SAME"))),
    ("Branch_3", (("AvgPool_0a_3x3", "avg", 3, 1, "SAME"), ("Conv2d_0b_1x1", 64, 1, 1, "SAME"))),
)
INCEPTION_RESNET_V2_BLOCK35 = _ir_block35(32, (32, 32), (32, 48, 64))
INCEPTION_RESNET_V2_BLOCK17 = _ir_block17(192, (128, 160, 192))
INCEPTION_RESNET_V2_BLOCK8 = _ir_block8(192, (192, 224, 256))
INCEPTION_RESNET_V2_MIXED_6A = _ir_reduction_a(256, 256, 384, 384)
INCEPTION_RESNET_V2_MIXED_7A = _ir_reduction_b((256, 384), (256, 288), (256, 288, 320))
# (container scope, block scope prefix, branches, repeats, residual scale), each followed by its
# reduction (scope, branches) or None; then one more Block8 (scale 1.0, no activation),
# Conv2d_7b_1x1 (1536), the heads. The graph's mul constants: 0.17, 0.10, 0.20 and 1.0.
INCEPTION_RESNET_V2_REPEATS = (("Repeat", "block35", INCEPTION_RESNET_V2_BLOCK35, 10, 0.17),
                               ("Repeat_1", "block17", INCEPTION_RESNET_V2_BLOCK17, 20, 0.10),
                               ("Repeat_2", "block8", INCEPTION_RESNET_V2_BLOCK8, 9, 0.20))
INCEPTION_RESNET_V2_REDUCTIONS = (("Mixed_6a", INCEPTION_RESNET_V2_MIXED_6A),
                                  ("Mixed_7a", INCEPTION_RESNET_V2_MIXED_7A), None)
INCEPTION_RESNET_V2_CONV_7B = ("Conv2d_7b_1x1", 1536, 1, 1, "SAME")
INCEPTION_RESNET_V2_AUX = SlimAuxHead("Repeat_1", "Conv2d_1a_3x3", "Conv2d_1b_1x1", "Conv2d_2a_5x5", "Flatten", "Logits")
INCEPTION_RESNET_V2_LOGITS = SlimLogitsHead("AvgPool_1a_8x8", "Flatten")


# --------------------------------------------------------------------------------------
# U-Net — Ronneberger et al. 2015 (arXiv:1505.04597), as AI Benchmark's unet.meta: 'SAME' convs
# (the paper's are unpadded, with crops), instance norm after every conv, a DPED-style output
# --------------------------------------------------------------------------------------
# Encoder stages layer1..layer5 (two 3x3 conv + IN + ReLU each; 2x2/2 max pool after 1-4), then
# decoder stages layer6..layer9, each after upsample_<i> (2x2/2 transposed conv, bias) and
# concat_<i> = [upsampled, encoder stage 10 - i] (the upsampled map first); final 1x1 conv to RGB.
UNET_WIDTHS = (64, 128, 256, 512, 1024)
UNET_IN_EPS = 1e-3           # unet.meta: (x - mean) / (var + 0.001) ** 0.5, as DPED's _instance_norm
UNET_OUT_SCALE = 0.58        # unet.meta: (tanh(final) * 0.58 + 0.5) * 255; the twin stops before * 255
UNET_OUT_SHIFT = 0.5
UNET_DEPTH_MULTIPLE = 16     # four 2x2 pools: the skip concats need sides divisible by 16


# --------------------------------------------------------------------------------------
# PSPNet — Zhao et al. 2017, "Pyramid Scene Parsing Network" (arXiv:1612.01105): PSPNet-50 as in
# AI Benchmark's pspnet.meta (a TF port of hszhao/PSPNet's Caffe net, the scope names of ICNet's
# graph), with AI Benchmark's 3-channel 1x1 head
# --------------------------------------------------------------------------------------
PSPNET_BN_EPS = 1.001e-5        # pspnet.meta FusedBatchNorm epsilon
PSPNET_STEM = ((64, 2), (64, 1), (128, 1))     # conv1_1_3x3_s2, conv1_2_3x3, conv1_3_3x3: (filters, stride)
# (stage, blocks, mid, out, dilation, first stride): ICNET_STAGES' format at full width; the
# stride is on conv3_1's 1x1 reduce and proj, conv4 and conv5 dilate their 3x3 convs by 2 and 4
# (output stride 8).
PSPNET_STAGES: tuple[tuple[int, int, int, int, int, int], ...] = (
    (2, 3, 64, 256, 1, 1),
    (3, 4, 128, 512, 1, 2),
    (4, 6, 256, 1024, 2, 1),
    (5, 3, 512, 2048, 4, 1),
)
# Pyramid pooling: (graph name suffix, fixed kernel = stride). The graph was built for a 60x60
# conv5_3 map (480x480 input) and holds the kernels 60/30/20/10 (bins 1, 2, 3, 6 there) as
# constants; at AI Benchmark's 720x720 (a 90x90 map) the same kernels give 1, 3, 4 and 9 bins.
# The map must be at least 60x60 (inputs from 473 pixels per side).
PSPNET_PYRAMID: tuple[tuple[int, int], ...] = ((1, 60), (2, 30), (3, 20), (6, 10))
PSPNET_PYRAMID_WIDTH = 512      # conv5_3_pool<b>_conv: 1x1, BN, ReLU
PSPNET_HEAD = (512, 3)          # conv5_4 (3x3, BN, ReLU), conv6 (1x1 with bias: AI Benchmark's 3 channels)


# --------------------------------------------------------------------------------------
# DeepLab v2 — Chen et al. 2017 (arXiv:1606.00915): DeepLab-ASPP on ResNet-101 as in AI
# Benchmark's deeplab.meta (a TF port of the Caffe model with Caffe's layer names), with AI
# Benchmark's 3-channel head in place of VOC's 21 classes
# --------------------------------------------------------------------------------------
DEEPLAB_BN_EPS = 1e-3           # deeplab.meta FusedBatchNorm epsilon
DEEPLAB_STEM = (64, 7, 2)       # conv1: 7x7/2 'SAME', no bias, bn_conv1, ReLU; then pool1 3x3/2 'SAME'
# (stage, unit suffixes, mid, out, dilation, first stride): Caffe ResNet-101's res2a..res5c
# (res3b1.., res4b1..b22), the stride on res3a's 1x1 branch2a and branch1, dilation 2 in res4 and
# 4 in res5 (output stride 8).
DEEPLAB_STAGES: tuple[tuple[str, tuple[str, ...], int, int, int, int], ...] = (
    ("res2", ("a", "b", "c"), 64, 256, 1, 1),
    ("res3", ("a", "b1", "b2", "b3"), 128, 512, 1, 2),
    ("res4", ("a", *(f"b{i}" for i in range(1, 23))), 256, 1024, 2, 1),
    ("res5", ("a", "b", "c"), 512, 2048, 4, 1),
)
DEEPLAB_ASPP_RATES = (6, 12, 18, 24)     # fc1_voc12_c0..c3: 3x3 atrous convs with bias, summed
DEEPLAB_CLASSES = 3                      # AI Benchmark's head (VOC's 21 in the paper)


# --------------------------------------------------------------------------------------
# Nvidia SPADE — Park et al. 2019, "Semantic Image Synthesis with Spatially-Adaptive
# Normalization" (arXiv:1903.07291): the generator as AI Benchmark's spade.meta has it (taki0112's
# SPADE-Tensorflow layout: a 2x2 latent start, spectral-norm convs, 128x128 output)
# --------------------------------------------------------------------------------------
SPADE_Z_DIM = 256               # generator/random_normal [1, 256], N(0, 1)
SPADE_LATENT = (2, 2, 1024)     # linear_x: dense 256 -> 4096, reshaped to [1, 2, 2, 1024] (H, W, C)
# (scope, output channels, upsample after): the residual blocks in order; a block whose input
# width differs from its output has a SPADE'd 1x1 spectral-norm shortcut (spade_shortcut,
# conv_shortcut); the middle conv has min(in, out) channels.
SPADE_BLOCKS: tuple[tuple[str, int, bool], ...] = (
    ("spade_resblock_fix_0", 1024, True),
    ("spade_resblock_fix_1", 1024, True),
    ("spade_resblock_fix_2", 1024, True),
    ("spade_resblock_0", 512, True),
    ("spade_resblock_1", 256, True),
    ("spade_resblock_2", 128, True),
    ("spade_resblock_3", 64, False),
)
SPADE_HIDDEN = 128              # conv_128: the segmentation map's shared 5x5 conv before gamma/beta
SPADE_KERNEL = 5                # conv_128, conv_gamma, conv_beta: 5x5, zero pad 2
SPADE_NORM_EPS = 1e-5           # param_free_norm: (x - mean) / sqrt(var + 1e-5), moments over H, W
SPADE_LRELU = 0.2               # lrelu: max(x, 0.2 x)
SPADE_SN_EPS = 1e-12            # tf.nn.l2_normalize's epsilon in the spectral norm's power iteration
SPADE_OUT_SCALE = 27.5          # spade.meta: output = (tanh(logit) + 1) * 27.5 (sic: not 127.5)
SPADE_Z_SEED = 0                # the twins' fixed draw of z (the graph draws a new one every run)


def spade_latent(seed: int = SPADE_Z_SEED):
    """The fixed latent vector z [1, 256] both SPADE twins use in place of the graph's
    ``RandomStandardNormal`` (N(0, 1), float32), from numpy's PCG64 with ``seed``."""
    import numpy as np
    return np.random.default_rng(seed).standard_normal((1, SPADE_Z_DIM)).astype(np.float32)


# --------------------------------------------------------------------------------------
# LSTM-Sentiment — AI Benchmark test 18 (ai_benchmark/models.py LSTM_Sentiment; lstm.meta):
# one TF1 BasicLSTMCell(1024) run by dynamic_rnn over 1024 steps of 300-d word vectors, then a
# fully connected layer on the last step's output. Reference paper: Hochreiter & Schmidhuber
# 1997, "Long Short-Term Memory"
# --------------------------------------------------------------------------------------
LSTM_SENTIMENT_STEPS = 1024     # input placeholder [None, 1024, 300]
LSTM_SENTIMENT_FEATURES = 300
LSTM_SENTIMENT_UNITS = 1024     # rnn/basic_lstm_cell/kernel [300 + 1024, 4 * 1024]
LSTM_SENTIMENT_CLASSES = 2      # Variable [1024, 2], Variable_1 [2]
# TF1 BasicLSTMCell: gates = [x, h] @ kernel + bias, split in the order (i, j, f, o); c' = c *
# sigmoid(f + forget_bias) + sigmoid(i) * tanh(j); h' = tanh(c') * sigmoid(o). forget_bias (1.0,
# the cell's default) is added at run time and not stored: torch's nn.LSTM (i, f, g, o; two
# biases) and Keras' LSTM (i, f, c, o; one bias) store it in their bias (conformance.lib.transfer).
TF1_LSTM_GATES = ("i", "j", "f", "o")
STOCK_LSTM_GATES = ("i", "f", "j", "o")      # torch (i, f, g, o) and Keras (i, f, c, o): j = g = c
TF1_FORGET_BIAS = 1.0


# --------------------------------------------------------------------------------------
# Pixel-RNN — AI Benchmark test 17 (ai_benchmark/models.py PixelRNN + model_utils.py;
# pixel_rnn.meta), after carpedm20/pixel-rnn-tensorflow; van den Oord et al. 2016, "Pixel
# Recurrent Neural Networks" (arXiv:1601.06759), Diagonal BiLSTM
# --------------------------------------------------------------------------------------
PIXEL_RNN_SIZE = (64, 64)       # input placeholder [None, 64, 64, 3], pixels in [0, 255]
PIXEL_RNN_INPUT_CONV = (7, 16, "a")     # conv_inputs: 7x7, 16 filters, mask "a" (centre excluded)
PIXEL_RNN_LAYERS = 7                    # LSTM0..LSTM6: Diagonal BiLSTMs, 16 channels in and out
PIXEL_RNN_HIDDEN = 16                   # DiagonalLSTMCell(16, height, channel)
PIXEL_RNN_STATE_KERNEL = 2              # s_to_s: a 2x1 conv over the column, 'SAME' (pads one row below)
PIXEL_RNN_OUT_CONVS = (32, 32)          # CONV_OUT0, CONV_OUT1: 1x1, mask "b", ReLU
PIXEL_RNN_OUT_CHANNELS = 3              # conv2d_out_logits: 1x1, mask "b", then sigmoid (* 255 in the graph)
# The package's cell differs from the paper's and from a stock LSTM, and the twins follow it:
# every gate, the candidate g included, is a sigmoid of (s_to_s + i_to_s); the four gates are
# consecutive quarters of the column's flattened (row, channel) vector, not per-position
# channel groups; the cell's forget_bias (1.0) is declared and never used; the backward
# direction's last row is zeroed (not shifted down a row); unskew reads width = height.
PIXEL_RNN_GATES = ("i", "g", "f", "o")


def pixel_rnn_mask(kernel: int, mask_type: str):
    """carpedm20's spatial mask [k, k] (1 = kept) of a masked conv: the rows below the centre and
    the centre row right of the centre are zero; mask "a" also zeroes the centre. Colour
    channels are not masked (the package's conv2d masks space only)."""
    import numpy as np
    if mask_type not in ("a", "b"):
        raise ValueError(f"mask type must be 'a' or 'b', got {mask_type!r}")
    mask = np.ones((kernel, kernel), dtype=np.float32)
    c = kernel // 2
    mask[c, c + 1:] = 0.0
    mask[c + 1:, :] = 0.0
    if mask_type == "a":
        mask[c, c] = 0.0
    return mask


# --------------------------------------------------------------------------------------
# GNMT-Translation — AI Benchmark test 19 (gnmt.meta; ai_benchmark/models.py builds no GNMT):
# tensorflow/nmt's GNMTModel in infer mode (Wu et al. 2016, "Google's Neural Machine Translation
# System", arXiv:1609.08144; Luong, Brevdo & Zhao 2017, tensorflow/nmt). Every fact below is read
# off the graph (docs/gnmt_graph.md): 1 bidirectional + 7 unidirectional encoder layers, an
# 8-layer decoder whose bottom cell carries normalised Bahdanau attention (gnmt_v2), greedy
# decoding, all LSTMs TF1 BasicLSTMCells (TF1_LSTM_GATES, TF1_FORGET_BIAS).
# --------------------------------------------------------------------------------------
GNMT_VOCAB = 32316              # embeddings [32316, 1024], output_projection/kernel [1024, 32316]
GNMT_UNITS = 1024               # every cell's num_units, the embedding and attention depth
GNMT_ENCODER_UNI_LAYERS = 7     # encoder/rnn/multi_rnn_cell/cell_0..6 (after the bidirectional layer)
GNMT_ENCODER_RESIDUAL_FROM = 1  # uni layers 1..6 add their input (ResidualWrapper; cell_0 takes [fw, bw])
GNMT_DECODER_LAYERS = 8         # decoder cell_0_attention + cell_1..7
GNMT_DECODER_RESIDUAL_FROM = 2  # decoder cells 2..7 add their input (gnmt_residual_fn), cell 1 does not
GNMT_UNK, GNMT_SOS, GNMT_EOS = 0, 1, 2      # vocab lines <unk>, <s>, </s>; unknown words -> 0
GNMT_DECODING_FACTOR = 2.0      # maximum_iterations = round(2.0 * source length)
GNMT_SOURCE_LENGTH = 20         # the benchmark sentence's tokens (ai_benchmark config.py: [1, 20])
# The sentence AI Benchmark translates (ai_benchmark/utils.py loadData("nlp-text")): 20 tokens on
# single spaces, three of them ("Baggins", "adventure,", "unexpected.") not in the vocabulary.
GNMT_SENTENCE = ("This is a story of how a Baggins had an adventure, and found himself doing and saying "
                 "things altogether unexpected.")
GNMT_VOCAB_FILE = "data/nlp/vocab.bpe.32000.en"   # in the ai_benchmark package; the graph's tables read it


def gnmt_decoding_steps(source_length: int) -> int:
    """The graph's maximum_iterations: round(2.0 * source length) (TF's Round: half to even, as
    Python's round)."""
    return int(round(GNMT_DECODING_FACTOR * source_length))
