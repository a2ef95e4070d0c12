"""SRGAN (Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a Generative
Adversarial Network", arXiv:1609.04802): AI Benchmark's generator, the paper's SRResNet generator
and the paper's discriminator (Fig. 4). Constants: ``twinzoo.zoo.srgan`` (SRGAN_*).

``srgan()`` is the graph AI Benchmark ships as ``srgan.meta`` (a tensorlayer SRGAN_g with an extra
7x7/4 conv in front). Its scopes and the twin's names:

=====================================  ===================================================
srgan.meta scope                       twin layers
=====================================  ===================================================
n64s0/c (7x7/4 + b, ReLU)              stem.n64s0.{conv,act}
n64s1/c (3x3 + b, ReLU)                stem.n64s1.{conv,act}
n64s1/{c1,b1,c2,b2}/i, b_residual_add  blocks.i.{conv1,bn1,act,conv2,bn2,add} (no conv bias)
n64s1/c/m, n64s1/b/m, add3             m.{conv,bn,add} (long skip from stem.n64s1)
n256s1/i + pixelshufflerx2/i           upsample.{i-1}.{conv,act} (sub-pixel conv + b, ReLU)
out (1x1 + b, tanh)                    out.{conv,act}
=====================================  ===================================================

BN eps is 1e-5 (tensorlayer). The graph maps [0, 255] to [-1, 1] before ``n64s0`` and back after
``out``; the twin works in [-1, 1]. ``srresnet()`` uses the same names with the paper's single
``stem.k9n64s1``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
from torch import nn

from twinzoo.zoo import srgan as spec
from torch_models.layers import Add, Conv2dSame, ConvAct, ConvBNAct, SubPixelConv2d, activation

IMAGE_CHANNELS = 3
BN_EPS = 1e-5                # tensorlayer BatchNormLayer (srgan.meta: batchnorm/add/y = 1e-5); torch default
UPSCALE_STAGES = 2           # two x2 pixel shuffles: x4
LRELU = "lrelu0.2"

# (name, kernel, stride) of the convs before the residual blocks; the last one feeds the long skip.
AIB_STEM: tuple[tuple[str, int, int], ...] = (("n64s0", 7, 4), ("n64s1", 3, 1))   # srgan.meta
PAPER_STEM: tuple[tuple[str, int, int], ...] = (("k9n64s1", 9, 1),)                # Fig. 4's label


class ResidualBlock(nn.Module):
    """conv3x3 -> BN -> act -> conv3x3 -> BN, plus the block input (Fig. 4 "B residual blocks")."""

    def __init__(self, width: int, act: str, bias: bool, bn_eps: float = BN_EPS) -> None:
        super().__init__()
        self.conv1 = Conv2dSame(width, width, 3, bias=bias)
        self.bn1 = nn.BatchNorm2d(width, eps=bn_eps)
        self.act = activation(act)
        self.conv2 = Conv2dSame(width, width, 3, bias=bias)
        self.bn2 = nn.BatchNorm2d(width, eps=bn_eps)
        self.add = Add()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.add(x, self.bn2(self.conv2(self.act(self.bn1(self.conv1(x))))))


class LongSkip(nn.Module):
    """conv3x3 -> BN after the blocks, plus the stem output (the generator's long skip)."""

    def __init__(self, width: int, bias: bool, bn_eps: float = BN_EPS) -> None:
        super().__init__()
        self.conv = Conv2dSame(width, width, 3, bias=bias)
        self.bn = nn.BatchNorm2d(width, eps=bn_eps)
        self.add = Add()

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.add(self.bn(self.conv(x)), skip)


class Upsample(nn.Sequential):
    """conv3x3 64 -> 256 + b, pixel shuffle x2, activation; children ``conv``, ``act``."""

    def __init__(self, width: int, act: str) -> None:
        super().__init__(OrderedDict(
            conv=SubPixelConv2d(width, width, 3, upscale=2, bias=True),
            act=activation(act),
        ))


class SRGANGenerator(nn.Module):
    def __init__(self, stem: Sequence[tuple[str, int, int]], act: str, block_bias: bool,
                 out_kernel: int, out_act: str | None, width: int = spec.SRGAN_WIDTH,
                 blocks: int = spec.SRGAN_BLOCKS) -> None:
        super().__init__()
        self.stem = nn.Sequential(OrderedDict(
            (name, ConvAct(IMAGE_CHANNELS if i == 0 else width, width, kernel, act, stride))
            for i, (name, kernel, stride) in enumerate(stem)
        ))
        self.blocks = nn.Sequential(*(ResidualBlock(width, act, block_bias) for _ in range(blocks)))
        self.m = LongSkip(width, block_bias)
        self.upsample = nn.Sequential(*(Upsample(width, act) for _ in range(UPSCALE_STAGES)))
        out: OrderedDict[str, nn.Module] = OrderedDict(conv=Conv2dSame(width, IMAGE_CHANNELS, out_kernel, bias=True))
        if out_act is not None:
            out["act"] = activation(out_act)
        self.out = nn.Sequential(out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.m(self.blocks(x), x)
        return self.out(self.upsample(x))


def srgan() -> SRGANGenerator:
    """AI Benchmark's SRGAN generator (``srgan.meta``): 7x7/4 stem, 16 ReLU blocks without conv
    biases, two x2 shuffles, 1x1 conv + tanh; output the size of the input (rounded up to a
    multiple of 4). 1,562,755 trainable parameters (+4,224 BN moving stats). Input in [-1, 1]."""
    return SRGANGenerator(AIB_STEM, act="relu", block_bias=False, out_kernel=1, out_act="tanh")


def srresnet() -> SRGANGenerator:
    """The paper's SRResNet / SRGAN generator (Fig. 4): k9n64 + PReLU, 16 blocks (conv + b, BN,
    PReLU), long skip, two x2 sub-pixel convs + PReLU, k9n3; x4 output. Every conv has a bias:
    1,549,462 trainable parameters with one PReLU slope per layer (torch ``nn.PReLU()``)."""
    return SRGANGenerator(PAPER_STEM, act="prelu", block_bias=True, out_kernel=9, out_act=None)


class DiscriminatorHead(nn.Sequential):
    """flatten -> Dense 1024 + leaky ReLU 0.2 -> Dense 1 -> sigmoid. torch flattens NCHW; the
    Keras twin flattens NHWC and the weight transfer permutes ``fc``'s input rows."""

    def __init__(self, in_features: int, hidden: int = spec.SRGAN_DISCRIMINATOR_FC) -> None:
        super().__init__(OrderedDict(
            flatten=nn.Flatten(),
            fc=nn.Linear(in_features, hidden),
            act=activation(LRELU),
            out=nn.Linear(hidden, 1),
            sigmoid=activation("sigmoid"),
        ))


class SRGANDiscriminator(nn.Module):
    """Fig. 4 discriminator: k3n64s1 + LReLU, then seven k3 convs + BN + LReLU 0.2 (every conv
    with a bias: 23,565,505 parameters at 96x96), Dense 1024, LReLU, Dense 1, sigmoid."""

    def __init__(self, input_size: tuple[int, int] = (96, 96)) -> None:
        super().__init__()
        convs: list[nn.Module] = []
        cin, (h, w) = IMAGE_CHANNELS, input_size
        for i, (filters, stride) in enumerate(spec.SRGAN_DISCRIMINATOR_CONVS):
            if i == 0:
                convs.append(ConvAct(cin, filters, 3, LRELU, stride))
            else:
                convs.append(ConvBNAct(cin, filters, 3, stride, act=LRELU, bn_eps=BN_EPS, bias=True))
            cin, h, w = filters, -(-h // stride), -(-w // stride)   # 'SAME': ceil(size / stride)
        self.convs = nn.Sequential(*convs)
        self.head = DiscriminatorHead(cin * h * w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.convs(x))


def srgan_discriminator(input_size: tuple[int, int] = (96, 96)) -> SRGANDiscriminator:
    """The paper's SRGAN discriminator for ``input_size`` crops (96x96: flatten 6*6*512 = 18432)."""
    return SRGANDiscriminator(tuple(input_size))
