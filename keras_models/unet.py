"""U-Net as AI Benchmark's ``unet.meta``; the Keras twin of ``torch_models/unet.py`` (see there for
the facts read from the graph): 'same' 3x3 convs with bias, instance norm (eps 0.001, biased
variance: ``GroupNormalization(groups=-1)``) and ReLU, 2x2 max pools, 2x2/2 transposed convs,
concatenations [upsampled, skip], a 1x1 conv, tanh * 0.58 + 0.5.

Layer names: ``layer1.conv_1`` / ``.norm_1`` / ``.relu_1`` ..., ``pool_1``, ``upsample_6``,
``concat_6``, ``final.conv`` / ``final.act`` / ``final.scale``.
"""

from __future__ import annotations

import keras
from keras import layers

from keras_models.layers import activation
from twinzoo.zoo import unet as spec


def stage(x, filters: int, *, name: str):
    """Two (3x3 'same' conv with bias -> instance norm -> ReLU)."""
    for j in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=True, name=f"{name}.conv_{j}")(x)
        x = layers.GroupNormalization(groups=-1, epsilon=spec.UNET_IN_EPS, name=f"{name}.norm_{j}")(x)
        x = activation("relu", f"{name}.relu_{j}")(x)
    return x


def unet(input_shape=(512, 512, 3)) -> keras.Model:
    """U-Net as AI Benchmark's unet.meta (sides divisible by 16)."""
    widths = spec.UNET_WIDTHS
    depth = len(widths)
    inputs = keras.Input(input_shape, name="input")
    x, skips = inputs, []
    for i, w in enumerate(widths, 1):
        x = stage(x, w, name=f"layer{i}")
        if i < depth:
            skips.append(x)
            x = layers.MaxPooling2D(2, 2, padding="valid", name=f"pool_{i}")(x)
    for i, w in enumerate(reversed(widths[:-1]), depth + 1):
        up = layers.Conv2DTranspose(w, 2, 2, padding="valid", use_bias=True, name=f"upsample_{i}")(x)
        x = layers.Concatenate(axis=-1, name=f"concat_{i}")([up, skips.pop()])
        x = stage(x, w, name=f"layer{i}")
    x = layers.Conv2D(3, 1, use_bias=True, name="final.conv")(x)
    x = activation("tanh", "final.act")(x)
    x = layers.Rescaling(spec.UNET_OUT_SCALE, offset=spec.UNET_OUT_SHIFT, name="final.scale")(x)
    return keras.Model(inputs, x, name="unet")
