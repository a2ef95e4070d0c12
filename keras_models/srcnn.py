"""SRCNN 9-5-5 (Dong et al. 2016, TPAMI) as AI Benchmark's srcnn.meta runs it: RGB in and out,
'same' padding, a single shared bias ``b3`` (shape [1]) on the last conv and a
``tanh(x) * 0.58 + 0.5`` output. Kernels and widths come from ``twinzoo.zoo.srcnn.SRCNN_LAYERS``."""

from __future__ import annotations

import keras
from keras import layers

from twinzoo.zoo import srcnn as spec
from keras_models.layers import ScalarBias, activation

OUT_SCALE, OUT_SHIFT = 0.58, 0.5  # srcnn.meta: generator/mul (0.58) and generator/add_3 (0.5)


def srcnn(input_shape=(300, 300, 3), channels: int = 3) -> keras.Model:
    """SRCNN 9-5-5 on ``channels``-channel images in [0, 1]; ``input_shape`` may be
    ``(None, None, channels)``."""
    if input_shape[-1] != channels:
        raise ValueError(f"input_shape {tuple(input_shape)} does not have channels={channels}")
    (k1, f1), (k2, f2), (k3, _) = spec.SRCNN_LAYERS
    inputs = keras.Input(input_shape, name="input")
    x = layers.Conv2D(f1, k1, padding="same", name="conv1")(inputs)
    x = activation("relu", "relu1")(x)
    x = layers.Conv2D(f2, k2, padding="same", name="conv2")(x)
    x = activation("relu", "relu2")(x)
    x = layers.Conv2D(channels, k3, padding="same", use_bias=False, name="conv3")(x)
    x = ScalarBias(name="bias3")(x)
    x = activation("tanh", "tanh")(x)
    x = layers.Rescaling(OUT_SCALE, OUT_SHIFT, name="out")(x)
    return keras.Model(inputs, x, name="srcnn")
