"""Inception-ResNet-v1 as FaceNet builds it (davidsandberg/facenet ``src/models/inception_resnet_v1.py``,
with the ``Bottleneck`` layer). Mirrors ``torch_models/inception_resnet_v1.py`` layer for layer
(same names, facenet's variable scopes joined with '.'; see there for the code facts followed).

Per layer: slim conv ``X`` -> ``X.conv`` (Conv2D, no bias, facenet's 'SAME'/'VALID' padding),
``X.bn`` (BatchNormalization, scale=False, epsilon 1e-3), ``X.act`` (ReLU); residual blocks end
in ``Conv2d_1x1`` (Conv2D with bias), ``scale`` (Rescaling by 0.17 / 0.10 / 0.20, 1.0 for the last
``Block8``), ``add`` and ``act`` (ReLU; none in ``Block8``); ``Logits.AvgPool_1a_8x8`` (global
mean = facenet's whole-map 'VALID' avg pool), ``Logits.Flatten``, ``Bottleneck.fc`` (Dense, no
bias), ``Bottleneck.bn``, ``embeddings`` (``tf.nn.l2_normalize(x, 1, 1e-10)``). Dropout is
omitted (identity at inference). Input about [-1, 1] (facenet's (x - 127.5) / 128), taken as is.
Layout tables: ``twinzoo.zoo.inception_resnet_v1`` (``INCEPTION_RESNET_V1_*``).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from keras_models.layers import batch_norm
from twinzoo.zoo import inception_resnet_v1 as spec

# short local names for the twinzoo.zoo.inception_resnet_v1 entries used throughout
BN_EPS = spec.INCEPTION_RESNET_V1_BN_EPS
L2_EPS = spec.INCEPTION_RESNET_V1_L2_EPS
Op = spec.InceptionResnetV1Op
Branches = spec.InceptionResnetV1Branches


@keras.saving.register_keras_serializable(package="twinzoo")
class L2Normalize(layers.Layer):
    """``tf.nn.l2_normalize(x, axis=-1, epsilon)``: x * rsqrt(max(sum(x^2), epsilon))."""

    def __init__(self, epsilon: float = L2_EPS, **kwargs) -> None:
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def call(self, inputs):
        return tf.nn.l2_normalize(inputs, axis=-1, epsilon=self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def _slim_conv(x, filters: int, kernel, stride: int, padding: str, name: str):
    """slim.conv2d under facenet's arg_scope: conv (no bias) -> BN (no gamma) -> ReLU."""
    x = layers.Conv2D(filters, kernel, stride, padding=padding.lower(), use_bias=False, name=f"{name}.conv")(x)
    x = batch_norm(f"{name}.bn", BN_EPS, scale=False)(x)
    return layers.ReLU(name=f"{name}.act")(x)


def branch_op(x, op: Op, prefix: str):
    """A slim conv, a max pool (filters None) or an average pool (filters "avg"; Keras' 'same'
    average excludes the padding, as TF's)."""
    name, filters, kernel, stride, padding = op
    if filters is None:
        return layers.MaxPooling2D(kernel, stride, padding=padding.lower(), name=f"{prefix}{name}")(x)
    if filters == "avg":
        return layers.AveragePooling2D(kernel, stride, padding=padding.lower(), name=f"{prefix}{name}")(x)
    return _slim_conv(x, filters, kernel, stride, padding, f"{prefix}{name}")


def mixed(x, branches: Branches, name: str):
    """Parallel branches ``Branch_<i>`` and their ``concat`` (reduction_a / reduction_b, and the
    first half of every residual block)."""
    outs = []
    for branch, ops in branches:
        y = x
        for op in ops:
            y = branch_op(y, op, f"{name}.{branch}.")
        outs.append(y)
    return layers.Concatenate(axis=-1, name=f"{name}.concat")(outs)


def block(x, branches: Branches, scale: float, name: str, relu: bool = True):
    """block35 / block17 / block8: mixed -> Conv2d_1x1 (bias) -> x scale -> add input -> ReLU."""
    up = mixed(x, branches, name)
    up = layers.Conv2D(x.shape[-1], 1, padding="same", use_bias=True, name=f"{name}.Conv2d_1x1")(up)
    up = layers.Rescaling(scale, name=f"{name}.scale")(up)
    y = layers.Add(name=f"{name}.add")([x, up])
    if relu:
        y = layers.ReLU(name=f"{name}.act")(y)
    return y


def inception_resnet_v1(input_shape=(512, 512, 3), embedding_size: int = 128) -> keras.Model:
    """FaceNet's Inception-ResNet-v1 with an L2-normalised ``embedding_size``-d embedding (128 in
    the 2017 models and AI Benchmark's face test, 512 in the 20180402/20180408 models)."""
    if embedding_size <= 0:
        raise ValueError(f"embedding_size must be positive, got {embedding_size}")
    inputs = keras.Input(input_shape, name="input")
    x = inputs
    for op in spec.INCEPTION_RESNET_V1_STEM:
        x = branch_op(x, op, "")
    for (repeat, prefix, branches, n, scale), reduction in zip(
            spec.INCEPTION_RESNET_V1_REPEATS, spec.INCEPTION_RESNET_V1_REDUCTIONS):
        for i in range(n):
            x = block(x, branches, scale, f"{repeat}.{prefix}_{i + 1}")
        if reduction is not None:
            x = mixed(x, reduction[1], reduction[0])
    x = block(x, spec.INCEPTION_RESNET_V1_BLOCK8, 1.0, "Block8", relu=False)
    x = layers.GlobalAveragePooling2D(keepdims=True, name="Logits.AvgPool_1a_8x8")(x)
    x = layers.Flatten(name="Logits.Flatten")(x)
    x = layers.Dense(embedding_size, use_bias=False, name="Bottleneck.fc")(x)
    x = batch_norm("Bottleneck.bn", BN_EPS, scale=False)(x)
    x = L2Normalize(L2_EPS, name="embeddings")(x)
    return keras.Model(inputs, x, name=f"inception_resnet_v1_{embedding_size}")
