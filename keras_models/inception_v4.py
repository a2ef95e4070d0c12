"""Inception-v4 (Szegedy et al. 2016, arXiv:1602.07261) in TF-slim's layout, as AI Benchmark's
``inception_v4.meta``; the Keras twin of ``torch_models/inception_v4.py`` (see there for the facts
read from the graph). Slim convs (no bias, BN without gamma, epsilon 0.001, ReLU), the stem and
the Mixed blocks of ``twinzoo.zoo.inception_v4.INCEPTION_V4_*`` walked with Inception-v3's machinery,
``AuxLogits`` on Mixed_6h (avg pool 5/3, 1x1 128, 5x5 768 'valid', flatten, dense) and ``Logits``
(global mean, flatten, dense). Outputs: the logits, or ``[logits, aux_logits]``.
"""

from __future__ import annotations

import keras
from keras import layers

from keras_models.inception_v3 import slim_body, slim_conv, slim_model
from twinzoo.zoo import inception_v4 as spec


def aux_head(x, num_classes: int, names: spec.SlimAuxHead):
    """slim's aux classifier (``spec.SlimAuxHead``), layers ``AuxLogits.<scope>``."""
    (k, s), mid, (width, kernel) = spec.AUX_POOL, spec.AUX_MID, spec.AUX_CONV
    x = layers.AveragePooling2D(k, s, padding="valid", name=f"AuxLogits.{names.pool}")(x)
    x = slim_conv(x, mid, (1, 1), name=f"AuxLogits.{names.conv_1x1}")
    x = slim_conv(x, width, (kernel, kernel), 1, "VALID", name=f"AuxLogits.{names.conv_5x5}")
    x = layers.Flatten(name=f"AuxLogits.{names.flatten}")(x)
    return layers.Dense(num_classes, name=f"AuxLogits.{names.fc}")(x)


def logits_head(x, num_classes: int, names: spec.SlimLogitsHead):
    """slim's main head (``spec.SlimLogitsHead``): global mean, flatten, dense; ``Logits.<scope>``."""
    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"Logits.{names.pool}")(x)
    x = layers.Flatten(name=f"Logits.{names.flatten}")(x)
    return layers.Dense(num_classes, name=f"Logits.{names.fc}")(x)


def slim_classifier(inputs, x, mid, aux: spec.SlimAuxHead, logits: spec.SlimLogitsHead, num_classes: int,
                    aux_logits: bool, name: str) -> keras.Model:
    """The model with both heads (``[logits, aux_logits]``; slim builds AuxLogits first) or Logits only."""
    aux_out = aux_head(mid, num_classes, aux) if aux_logits else None
    return slim_model(inputs, logits_head(x, num_classes, logits), aux_out, name)


def inception_v4(input_shape=(346, 346, 3), num_classes: int = 1001, aux_logits: bool = True) -> keras.Model:
    """Inception-v4 as AI Benchmark's inception_v4.meta (TF-slim, 1001 classes)."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be positive, got {num_classes}")
    inputs = keras.Input(input_shape, name="input")
    x, mid = slim_body(inputs, spec.INCEPTION_V4_STEM, spec.INCEPTION_V4_MIXED, spec.INCEPTION_V4_AUX.after)
    return slim_classifier(inputs, x, mid, spec.INCEPTION_V4_AUX, spec.INCEPTION_V4_LOGITS, num_classes,
                           aux_logits, "inception_v4")
