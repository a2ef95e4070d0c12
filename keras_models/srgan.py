"""SRGAN (Ledig et al. 2017, arXiv:1609.04802): AI Benchmark's generator (``srgan.meta``), the
paper's SRResNet generator and the paper's discriminator (Fig. 4). Mirrors
``torch_models/srgan.py`` layer for layer (same names; see there for the graph's scopes).
Constants: ``twinzoo.zoo.srgan`` (SRGAN_*)."""

from __future__ import annotations

from typing import Sequence

import keras
from keras import layers

from twinzoo.zoo import srgan as spec
from keras_models.layers import SubPixelConv2D, activation, batch_norm, conv_act, conv_bn_act

IMAGE_CHANNELS = 3
BN_EPS = 1e-5                # tensorlayer BatchNormLayer (srgan.meta: 1e-5); torch default
UPSCALE_STAGES = 2           # two x2 pixel shuffles: x4
LRELU = "lrelu0.2"

# (name, kernel, stride) of the convs before the residual blocks; the last one feeds the long skip.
AIB_STEM: tuple[tuple[str, int, int], ...] = (("n64s0", 7, 4), ("n64s1", 3, 1))   # srgan.meta
PAPER_STEM: tuple[tuple[str, int, int], ...] = (("k9n64s1", 9, 1),)                # Fig. 4's label


def _conv(filters: int, kernel_size: int, name: str, stride: int = 1, bias: bool = True) -> layers.Conv2D:
    return layers.Conv2D(filters, kernel_size, stride, padding="same", use_bias=bias, name=name)


def _residual_block(x, width: int, act: str, bias: bool, name: str):
    """conv3x3 -> BN -> act -> conv3x3 -> BN, plus the block input."""
    y = _conv(width, 3, f"{name}.conv1", bias=bias)(x)
    y = batch_norm(f"{name}.bn1", BN_EPS)(y)
    y = activation(act, f"{name}.act")(y)
    y = _conv(width, 3, f"{name}.conv2", bias=bias)(y)
    y = batch_norm(f"{name}.bn2", BN_EPS)(y)
    return layers.Add(name=f"{name}.add")([x, y])


def _generator(input_shape, stem: Sequence[tuple[str, int, int]], act: str, block_bias: bool,
               out_kernel: int, out_act: str | None, name: str) -> keras.Model:
    width = spec.SRGAN_WIDTH
    inputs = keras.Input(input_shape, name="input")
    x = inputs
    for stage, kernel, stride in stem:
        x = conv_act(x, width, kernel, act, name=f"stem.{stage}", stride=stride)
    skip = x
    for i in range(spec.SRGAN_BLOCKS):
        x = _residual_block(x, width, act, block_bias, f"blocks.{i}")
    x = _conv(width, 3, "m.conv", bias=block_bias)(x)
    x = batch_norm("m.bn", BN_EPS)(x)
    x = layers.Add(name="m.add")([x, skip])
    for i in range(UPSCALE_STAGES):
        x = SubPixelConv2D(width, 3, 2, use_bias=True, name=f"upsample.{i}.conv")(x)
        x = activation(act, f"upsample.{i}.act")(x)
    x = _conv(IMAGE_CHANNELS, out_kernel, "out.conv")(x)
    if out_act is not None:
        x = activation(out_act, "out.act")(x)
    return keras.Model(inputs, x, name=name)


def srgan(input_shape=(None, None, 3)) -> keras.Model:
    """AI Benchmark's SRGAN generator (``srgan.meta``): 7x7/4 stem, 16 ReLU blocks without conv
    biases, two x2 shuffles, 1x1 conv + tanh; output the size of the input (rounded up to a
    multiple of 4). 1,562,755 trainable parameters (+4,224 BN moving stats). Input in [-1, 1]."""
    return _generator(input_shape, AIB_STEM, "relu", block_bias=False, out_kernel=1, out_act="tanh",
                      name="srgan")


def srresnet(input_shape=(None, None, 3)) -> keras.Model:
    """The paper's SRResNet / SRGAN generator (Fig. 4), every conv with a bias, one PReLU slope
    per layer: 1,549,462 trainable parameters; x4 output."""
    return _generator(input_shape, PAPER_STEM, "prelu", block_bias=True, out_kernel=9, out_act=None,
                      name="srresnet")


def srgan_discriminator(input_shape=(96, 96, 3), input_size: tuple[int, int] = (96, 96)) -> keras.Model:
    """Fig. 4 discriminator: k3n64s1 + LReLU, seven k3 convs + BN + LReLU 0.2 (every conv with a
    bias), flatten, Dense 1024, LReLU, Dense 1, sigmoid. 23,565,505 parameters at 96x96."""
    if tuple(input_shape[:2]) != tuple(input_size):
        raise ValueError(f"input_shape {tuple(input_shape)} does not match input_size {tuple(input_size)}: "
                         "the FC layer is sized for input_size")
    inputs = keras.Input(input_shape, name="input")
    x = inputs
    for i, (filters, stride) in enumerate(spec.SRGAN_DISCRIMINATOR_CONVS):
        if i == 0:
            x = conv_act(x, filters, 3, LRELU, name=f"convs.{i}", stride=stride)
        else:
            x = conv_bn_act(x, filters, 3, stride, name=f"convs.{i}", act=LRELU, bn_eps=BN_EPS, bias=True)
    x = layers.Flatten(name="head.flatten")(x)       # NHWC order; torch flattens NCHW
    x = layers.Dense(spec.SRGAN_DISCRIMINATOR_FC, name="head.fc")(x)
    x = activation(LRELU, "head.act")(x)
    x = layers.Dense(1, name="head.out")(x)
    x = activation("sigmoid", "head.sigmoid")(x)
    return keras.Model(inputs, x, name="srgan_discriminator")
