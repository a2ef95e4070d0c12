"""DPED (Ignatov et al. 2017, "DSLR-Quality Photos on Mobile Devices with Deep Convolutional
Networks"): the ResNet generator and the adversarial discriminator as written in aiff22/DPED
``models.py`` (``resnet`` and ``adversarial``). The generator equals AI Benchmark's ``dped.meta``.

The paper's text says batch norm; the code (and the shipped graph) uses instance norm with a
learned scale and shift and eps 1e-3. Architecture constants: ``twinzoo.zoo.dped`` (DPED_*).

Generator names vs models.py / dped.meta: ``W1, b1`` -> ``head.conv``; ``W2..W9`` (two per block,
each followed by an instance norm and ReLU) -> ``blocks.i.{conv1,norm1,act1,conv2,norm2,act2}``
and the skip ``blocks.i.add``; ``W10, W11`` -> ``convs.{0,1}.conv``; ``W12`` -> ``tail.conv``,
then ``tail.act`` (tanh) and ``tail.scale`` (* 0.58 + 0.5). The graph divides the [0, 255] input by
255 in front; the twin takes [0, 1].
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from twinzoo.zoo import dped as spec
from torch_models.layers import Add, Affine, Conv2dSame, ConvAct, activation

IMAGE_CHANNELS = 3           # the generator enhances RGB photos
DISCRIMINATOR_CHANNELS = 1   # models.py feeds the discriminator grayscale patches
DISCRIMINATOR_CLASSES = 2    # softmax over (fake, real)
LRELU = "lrelu0.2"           # models.py leaky_relu: max(0.2 x, x)


def instance_norm(channels: int) -> nn.InstanceNorm2d:
    """models.py ``_instance_norm``: per-image, per-channel moments over H, W; (x - mu) /
    sqrt(var + 1e-3) * scale + shift. Keras twin: ``GroupNormalization(groups=-1)``."""
    return nn.InstanceNorm2d(channels, eps=spec.DPED_IN_EPS, affine=True)


class ResidualBlock(nn.Module):
    """models.py ``resnet`` block: relu(IN(conv3x3 + b)) twice; the skip is added after the
    second ReLU (``c3 = relu(IN(conv(c2) + b3)) + c1``)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1 = Conv2dSame(width, width, 3, bias=True)
        self.norm1 = instance_norm(width)
        self.act1 = activation("relu")
        self.conv2 = Conv2dSame(width, width, 3, bias=True)
        self.norm2 = instance_norm(width)
        self.act2 = activation("relu")
        self.add = Add()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act1(self.norm1(self.conv1(x)))
        y = self.act2(self.norm2(self.conv2(y)))
        return self.add(y, x)


class DPEDGenerator(nn.Module):
    """9x9 conv + ReLU, 4 residual blocks, two 3x3 conv + ReLU, 9x9 conv, tanh * 0.58 + 0.5."""

    def __init__(self, width: int = spec.DPED_WIDTH, blocks: int = spec.DPED_BLOCKS) -> None:
        super().__init__()
        self.head = ConvAct(IMAGE_CHANNELS, width, 9, "relu")
        self.blocks = nn.Sequential(*(ResidualBlock(width) for _ in range(blocks)))
        self.convs = nn.Sequential(ConvAct(width, width, 3, "relu"), ConvAct(width, width, 3, "relu"))
        self.tail = nn.Sequential(OrderedDict(
            conv=Conv2dSame(width, IMAGE_CHANNELS, 9, bias=True),
            act=activation("tanh"),
            scale=Affine(spec.DPED_OUT_SCALE, spec.DPED_OUT_SHIFT),
        ))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tail(self.convs(self.blocks(self.head(x))))


def dped() -> DPEDGenerator:
    """DPED ResNet generator (aiff22/DPED models.py ``resnet``; AI Benchmark ``dped.meta``):
    401,475 parameters, 399,744 MACs per pixel. Input in [0, 1], any size."""
    return DPEDGenerator()


class DiscriminatorConv(nn.Sequential):
    """models.py ``_conv_layer``: conv + bias -> leaky ReLU 0.2 -> instance norm (``batch_nn``);
    children ``conv``, ``act``, ``norm``. The activation comes *before* the norm, as in the code."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int,
                 norm: bool) -> None:
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["conv"] = Conv2dSame(in_channels, out_channels, kernel_size, stride, bias=True)
        layers["act"] = activation(LRELU)
        if norm:
            layers["norm"] = instance_norm(out_channels)
        super().__init__(layers)


class DiscriminatorHead(nn.Sequential):
    """flatten -> FC 1024 + leaky ReLU 0.2 -> FC 2 -> softmax. torch flattens NCHW (C, H, W);
    the Keras twin flattens NHWC and the weight transfer permutes ``fc``'s input rows."""

    def __init__(self, in_features: int, hidden: int = spec.DPED_DISCRIMINATOR_FC,
                 classes: int = DISCRIMINATOR_CLASSES) -> None:
        super().__init__(OrderedDict(
            flatten=nn.Flatten(),
            fc=nn.Linear(in_features, hidden),
            act=activation(LRELU),
            out=nn.Linear(hidden, classes),
            softmax=nn.Softmax(dim=1),
        ))


class DPEDDiscriminator(nn.Module):
    def __init__(self, input_size: tuple[int, int] = (100, 100),
                 in_channels: int = DISCRIMINATOR_CHANNELS) -> None:
        super().__init__()
        convs: list[nn.Module] = []
        cin, (h, w) = in_channels, input_size
        for kernel, filters, stride, norm in spec.DPED_DISCRIMINATOR_CONVS:
            convs.append(DiscriminatorConv(cin, filters, kernel, stride, norm))
            cin, h, w = filters, -(-h // stride), -(-w // stride)   # 'SAME': ceil(size / stride)
        self.convs = nn.Sequential(*convs)
        self.head = DiscriminatorHead(cin * h * w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.convs(x))


def dped_discriminator(input_size: tuple[int, int] = (100, 100)) -> DPEDDiscriminator:
    """DPED adversarial discriminator (models.py ``adversarial``) on grayscale patches of
    ``input_size`` (100x100 in training: flatten 7*7*128 = 6272); 7,361,122 parameters."""
    return DPEDDiscriminator(tuple(input_size))
