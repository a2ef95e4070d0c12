"""VGG-16 (Simonyan & Zisserman 2015, configuration D) in TF-slim's layout, as AI Benchmark's
``vgg_16.meta``; the Keras twin of ``torch_models/vgg.py`` (see there for the facts read from the
graph): five stages of 3x3 'same' convs with bias + ReLU and a 2x2/2 max pool, then the FC layers
as convs (fc6 7x7 'valid', fc7 1x1, fc8 1x1 without activation) and the squeeze, which like
``tf.squeeze`` refuses a map that is not 1x1 (inputs of 224..255 pixels per side).

Layer names: ``conv1.conv1_1.conv`` / ``.act``, ``pool1``, ``fc6.conv`` / ``fc6.act``,
``fc8.conv``, ``fc8.squeezed``.
"""

from __future__ import annotations

import keras
from keras import layers

from keras_models.layers import activation, conv_act
from twinzoo.zoo import vgg as spec


def fc_conv(x, filters: int, kernel_size: int, *, name: str):
    """slim's conv standing for a fully connected layer: 'valid' conv with bias, ReLU."""
    x = layers.Conv2D(filters, kernel_size, padding="valid", use_bias=True, name=f"{name}.conv")(x)
    return activation("relu", f"{name}.act")(x)


def vgg_16(input_shape=(224, 224, 3), num_classes: int = 1000, input_size: tuple[int, int] = (224, 224)) -> keras.Model:
    """VGG-16 as AI Benchmark's vgg_16.meta (TF-slim, 1000 classes, FC layers as convs), for
    inputs of ``input_size`` (224..255 per side)."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be positive, got {num_classes}")
    if tuple(input_shape[:2]) != tuple(input_size):
        raise ValueError(f"input_shape {tuple(input_shape)} does not match input_size {tuple(input_size)}")
    spec.vgg16_check_input_size(input_size)
    inputs = keras.Input(input_shape, name="input")
    x = inputs
    for i, (scope, n, filters) in enumerate(spec.VGG16_STAGES, 1):
        for j in range(1, n + 1):
            x = conv_act(x, filters, 3, "relu", name=f"{scope}.{scope}_{j}")
        x = layers.MaxPooling2D(2, 2, padding="valid", name=f"pool{i}")(x)
    for scope, filters, kernel in spec.VGG16_FC:
        x = fc_conv(x, filters, kernel, name=scope)
    x = layers.Conv2D(num_classes, 1, use_bias=True, name="fc8.conv")(x)
    x = layers.Reshape((num_classes,), name="fc8.squeezed")(x)
    return keras.Model(inputs, x, name="vgg_16")
