"""VDSR (Kim et al. 2016) as AI Benchmark's "VGG-19 Super-Res" (vgg19.meta): 19 x (3x3 conv of
64 + ReLU), a 3x3 conv back to the image channels, and a global residual (output = conv + input).
Names follow the graph's variables ``conv_00`` ... ``conv_18``, ``conv_20`` (it skips 19)."""

from __future__ import annotations

import keras
from keras import layers

from twinzoo.zoo import vdsr as spec
from keras_models.layers import activation


def vdsr(input_shape=(192, 192, 3), channels: int = 3) -> keras.Model:
    """VDSR on ``channels``-channel images (3: AI Benchmark's RGB graph, 1: the paper's Y
    channel); ``input_shape`` may be ``(None, None, channels)``."""
    if input_shape[-1] != channels:
        raise ValueError(f"input_shape {tuple(input_shape)} does not have channels={channels}")
    inputs = keras.Input(input_shape, name="input")
    x = inputs
    for i in range(spec.VDSR_DEPTH - 1):
        x = layers.Conv2D(spec.VDSR_WIDTH, 3, padding="same", name=f"body.conv_{i:02d}")(x)
        x = activation("relu", f"body.relu_{i:02d}")(x)
    x = layers.Conv2D(channels, 3, padding="same", name="body.conv_20")(x)
    x = layers.Add(name="residual")([x, inputs])
    return keras.Model(inputs, x, name="vdsr")
