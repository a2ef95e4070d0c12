"""DPED (Ignatov et al. 2017): the ResNet generator and the adversarial discriminator of
aiff22/DPED ``models.py``; the generator equals AI Benchmark's ``dped.meta``. Mirrors
``torch_models/dped.py`` layer for layer (same names). Constants: ``twinzoo.zoo.dped`` (DPED_*)."""

from __future__ import annotations

import keras
from keras import layers

from twinzoo.zoo import dped as spec
from keras_models.layers import activation, conv_act

IMAGE_CHANNELS = 3           # the generator enhances RGB photos
DISCRIMINATOR_CLASSES = 2    # softmax over (fake, real)
LRELU = "lrelu0.2"           # models.py leaky_relu: max(0.2 x, x)


def instance_norm(name: str) -> layers.GroupNormalization:
    """models.py ``_instance_norm`` (eps 1e-3, learned scale/shift): one group per channel."""
    return layers.GroupNormalization(groups=-1, epsilon=spec.DPED_IN_EPS, name=name)


def _conv(filters: int, kernel_size: int, name: str, stride: int = 1) -> layers.Conv2D:
    return layers.Conv2D(filters, kernel_size, stride, padding="same", use_bias=True, name=name)


def _residual_block(x, width: int, name: str):
    """relu(IN(conv3x3 + b)) twice, the skip added after the second ReLU."""
    y = _conv(width, 3, f"{name}.conv1")(x)
    y = instance_norm(f"{name}.norm1")(y)
    y = activation("relu", f"{name}.act1")(y)
    y = _conv(width, 3, f"{name}.conv2")(y)
    y = instance_norm(f"{name}.norm2")(y)
    y = activation("relu", f"{name}.act2")(y)
    return layers.Add(name=f"{name}.add")([y, x])


def dped(input_shape=(None, None, 3)) -> keras.Model:
    """DPED ResNet generator (models.py ``resnet``; AI Benchmark ``dped.meta``): 401,475
    parameters, 399,744 MACs per pixel. Input in [0, 1], any size."""
    width = spec.DPED_WIDTH
    inputs = keras.Input(input_shape, name="input")
    x = conv_act(inputs, width, 9, "relu", name="head")
    for i in range(spec.DPED_BLOCKS):
        x = _residual_block(x, width, f"blocks.{i}")
    for i in range(2):
        x = conv_act(x, width, 3, "relu", name=f"convs.{i}")
    x = _conv(IMAGE_CHANNELS, 9, "tail.conv")(x)
    x = activation("tanh", "tail.act")(x)
    x = layers.Rescaling(spec.DPED_OUT_SCALE, offset=spec.DPED_OUT_SHIFT, name="tail.scale")(x)
    return keras.Model(inputs, x, name="dped")


def dped_discriminator(input_shape=(100, 100, 1), input_size: tuple[int, int] = (100, 100)) -> keras.Model:
    """DPED adversarial discriminator (models.py ``adversarial``): conv + bias -> leaky ReLU 0.2
    -> instance norm (the activation before the norm, as in the code); flatten; FC 1024 + leaky
    ReLU; FC 2; softmax. 7,361,122 parameters on 100x100 grayscale patches."""
    if tuple(input_shape[:2]) != tuple(input_size):
        raise ValueError(f"input_shape {tuple(input_shape)} does not match input_size {tuple(input_size)}: "
                         "the FC layer is sized for input_size")
    inputs = keras.Input(input_shape, name="input")
    x = inputs
    for i, (kernel, filters, stride, norm) in enumerate(spec.DPED_DISCRIMINATOR_CONVS):
        x = _conv(filters, kernel, f"convs.{i}.conv", stride)(x)
        x = activation(LRELU, f"convs.{i}.act")(x)
        if norm:
            x = instance_norm(f"convs.{i}.norm")(x)
    x = layers.Flatten(name="head.flatten")(x)       # NHWC order; torch flattens NCHW
    x = layers.Dense(spec.DPED_DISCRIMINATOR_FC, name="head.fc")(x)
    x = activation(LRELU, "head.act")(x)
    x = layers.Dense(DISCRIMINATOR_CLASSES, name="head.out")(x)
    x = layers.Softmax(name="head.softmax")(x)
    return keras.Model(inputs, x, name="dped_discriminator")
