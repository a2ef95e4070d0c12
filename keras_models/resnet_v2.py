"""ResNet v2 (He et al. 2016, arXiv:1603.05027) in TF-slim's layout, as AI Benchmark's
``resnet_v2_50.meta`` / ``resnet_v2_152.meta``; the Keras twin of ``torch_models/resnet_v2.py``
(see there for the facts read from the graphs): conv1 7x7/2 with bias after a 3-pixel zero pad,
pool1 3x3/2 'same', pre-activation bottleneck units (preact BN + ReLU; projection shortcut on the
pre-activated input, 1x1/s max-pool subsampling of the raw input in each block's strided last
unit), postnorm, global mean, 1x1 logits conv, squeeze. ``stem_pool_zero_pad``:
keras.applications' ``pool1`` (ZeroPadding2D(1) + 'valid' max pool).

Layer names: ``conv1.pad`` / ``conv1.conv``, ``pool1``, ``block1.unit_1.preact.bn`` / ``.act``,
``block1.unit_1.shortcut.conv``, ``block1.unit_1.conv2.pad`` (strided units), ``block1.unit_3.shortcut``,
``block1.unit_1.add``, ``postnorm.bn``, ``pool5``, ``logits.conv``, ``SpatialSqueeze``.
"""

from __future__ import annotations

import keras
from keras import layers

from keras_models.layers import activation, batch_norm, conv_bn_act
from twinzoo.zoo import resnet_v2 as spec

BN_EPS = 1.001e-5     # resnet_v2_*.meta FusedBatchNorm epsilon


def preact(x, *, name: str):
    """BN with gamma -> ReLU; ``<name>.bn``, ``<name>.act``."""
    x = batch_norm(f"{name}.bn", BN_EPS)(x)
    return activation("relu", f"{name}.act")(x)


def bottleneck(x, depth: int, base: int, stride: int, *, name: str):
    """slim ``bottleneck_v2`` (see the torch twin's ``Bottleneck``)."""
    pre = preact(x, name=f"{name}.preact")
    if depth != x.shape[-1]:
        shortcut = layers.Conv2D(depth, 1, stride, use_bias=True, name=f"{name}.shortcut.conv")(pre)
    elif stride > 1:
        shortcut = layers.MaxPooling2D(1, stride, name=f"{name}.shortcut")(x)
    else:
        shortcut = x
    r = conv_bn_act(pre, base, 1, name=f"{name}.conv1", act="relu", bn_eps=BN_EPS)
    r = conv_bn_act(r, base, 3, stride, name=f"{name}.conv2", act="relu", bn_eps=BN_EPS,
                    padding="same" if stride == 1 else "symmetric")
    r = layers.Conv2D(depth, 1, use_bias=True, name=f"{name}.conv3.conv")(r)
    return layers.Add(name=f"{name}.add")([shortcut, r])


def resnet_v2(depth: int, input_shape, num_classes: int, stem_pool_zero_pad: bool) -> keras.Model:
    if num_classes < 1:
        raise ValueError(f"num_classes must be positive, got {num_classes}")
    filters, kernel, stride = spec.RESNET_V2_STEM
    inputs = keras.Input(input_shape, name="input")
    x = layers.ZeroPadding2D((kernel - 1) // 2, name="conv1.pad")(inputs)
    x = layers.Conv2D(filters, kernel, stride, padding="valid", use_bias=True, name="conv1.conv")(x)
    if stem_pool_zero_pad:
        x = layers.ZeroPadding2D(1, name="pool1.pad")(x)
        x = layers.MaxPooling2D(3, 2, padding="valid", name="pool1.pool")(x)
    else:
        x = layers.MaxPooling2D(3, 2, padding="same", name="pool1")(x)
    for block in spec.resnet_v2_blocks(depth):
        for u in range(block.units):
            last = u == block.units - 1
            x = bottleneck(x, block.depth, block.base, block.stride if last else 1, name=f"{block.scope}.unit_{u + 1}")
    x = preact(x, name="postnorm")
    x = layers.GlobalAveragePooling2D(keepdims=True, name="pool5")(x)
    x = layers.Conv2D(num_classes, 1, use_bias=True, name="logits.conv")(x)
    x = layers.Reshape((num_classes,), name="SpatialSqueeze")(x)
    return keras.Model(inputs, x, name=f"resnet_v2_{depth}")


def resnet_v2_50(input_shape=(346, 346, 3), num_classes: int = 1001, stem_pool_zero_pad: bool = False) -> keras.Model:
    """ResNet-v2-50 as AI Benchmark's resnet_v2_50.meta (TF-slim, 1001 classes)."""
    return resnet_v2(50, input_shape, num_classes, stem_pool_zero_pad)


def resnet_v2_152(input_shape=(256, 256, 3), num_classes: int = 1001, stem_pool_zero_pad: bool = False) -> keras.Model:
    """ResNet-v2-152 as AI Benchmark's resnet_v2_152.meta (TF-slim, 1001 classes)."""
    return resnet_v2(152, input_shape, num_classes, stem_pool_zero_pad)
