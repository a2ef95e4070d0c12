"""PSPNet-50 as AI Benchmark's ``pspnet.meta``; the Keras twin of ``torch_models/pspnet.py`` (see
there for the facts read from the graph): conv (no bias) + BN (eps 1.001e-5) + ReLU stem, a 'same'
3x3/2 max pool, ICNet's PSPNet bottlenecks at full width (dilation 2 in conv4, 4 in conv5: Keras
``dilation_rate`` on a 'same' conv = the graph's Pad(d) + SpaceToBatchND/BatchToSpaceND), pyramid
pooling with the graph's fixed kernels 60/30/20/10, TF1 bilinear resizes (align_corners=True),
concat [conv5_3, pool6, pool3, pool2, pool1], conv5_4, conv6 (3 channels at 1/8 of the input).
"""

from __future__ import annotations

import keras
from keras import layers

from keras_models.icnet import ResizeLike, bottleneck, conv_unit
from twinzoo.zoo import pspnet as spec

BN_EPS = spec.PSPNET_BN_EPS


def pspnet(input_shape=(720, 720, 3)) -> keras.Model:
    """PSPNet-50 as AI Benchmark's pspnet.meta (inputs from 473 pixels per side)."""
    f = {"folded": False, "bn_eps": BN_EPS}
    inputs = keras.Input(input_shape, name="input")
    x = inputs
    for name, (filters, stride) in zip(("conv1_1_3x3_s2", "conv1_2_3x3", "conv1_3_3x3"), spec.PSPNET_STEM):
        x = conv_unit(x, filters, 3, stride, name=name, act="relu", **f)
    x = layers.MaxPooling2D(3, 2, padding="same", name="pool1_3x3_s2")(x)
    for stage, blocks, mid, cout, dilation, stride in spec.PSPNET_STAGES:
        for j in range(1, blocks + 1):
            x = bottleneck(x, mid, cout, stride if j == 1 else 1, dilation, name=f"conv{stage}_{j}", **f)
    pooled = {}
    for name, kernel in spec.PSPNET_PYRAMID:
        p = layers.AveragePooling2D(kernel, kernel, padding="valid", name=f"conv5_3_pool{name}")(x)
        p = conv_unit(p, spec.PSPNET_PYRAMID_WIDTH, 1, name=f"conv5_3_pool{name}_conv", act="relu",
                      padding="valid", **f)
        pooled[name] = ResizeLike(name=f"conv5_3_pool{name}_interp")([p, x])
    x = layers.Concatenate(axis=-1, name="conv5_3_concat")([x, pooled[6], pooled[3], pooled[2], pooled[1]])
    head, out = spec.PSPNET_HEAD
    x = conv_unit(x, head, 3, name="conv5_4", act="relu", **f)
    x = conv_unit(x, out, 1, name="conv6", norm=False, padding="valid")
    return keras.Model(inputs, x, name="pspnet")
