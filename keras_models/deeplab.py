"""DeepLab v2 (ASPP on ResNet-101) as AI Benchmark's ``deeplab.meta``; the Keras twin of
``torch_models/deeplab.py`` (see there for the facts read from the graph): conv1 7x7/2 + BN + ReLU,
a 'same' 3x3/2 max pool, Caffe ResNet-101's bottlenecks as ICNet's (``reduce`` / ``conv3x3`` /
``increase`` / ``proj``), dilation 2 in res4 and 4 in res5 (Keras ``dilation_rate`` on a 'same'
conv = the graph's atrous SpaceToBatchND/BatchToSpaceND), four ASPP convs (rates 6/12/18/24, bias)
summed into ``fc1_voc12``.
"""

from __future__ import annotations

import keras
from keras import layers

from keras_models.icnet import bottleneck, conv_unit
from twinzoo.zoo import deeplab as spec

BN_EPS = spec.DEEPLAB_BN_EPS


def deeplab(input_shape=(512, 512, 3), num_classes: int = spec.DEEPLAB_CLASSES) -> keras.Model:
    """DeepLab v2 as AI Benchmark's deeplab.meta (any input size)."""
    f = {"folded": False, "bn_eps": BN_EPS}
    filters, kernel, stride = spec.DEEPLAB_STEM
    inputs = keras.Input(input_shape, name="input")
    x = conv_unit(inputs, filters, kernel, stride, name="conv1", act="relu", **f)
    x = layers.MaxPooling2D(3, 2, padding="same", name="pool1")(x)
    for stage, units, mid, out, dilation, first_stride in spec.DEEPLAB_STAGES:
        for i, unit in enumerate(units):
            x = bottleneck(x, mid, out, first_stride if i == 0 else 1, dilation, name=f"{stage}{unit}", **f)
    outs = [conv_unit(x, num_classes, 3, dilation=rate, name=f"fc1_voc12_c{i}", norm=False)
            for i, rate in enumerate(spec.DEEPLAB_ASPP_RATES)]
    x = layers.Add(name="fc1_voc12")(outs)
    return keras.Model(inputs, x, name="deeplab")
