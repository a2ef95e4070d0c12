"""MobileNet v2 (Sandler et al. 2018), TF-slim layout as in AI Benchmark's mobilenet_v2.meta.

Layer names follow slim's variable scopes (``Conv``, ``expanded_conv_<i>/{expand,depthwise,
project}``, ``Conv_1``, ``Logits``); the body walks ``twinzoo.zoo.mobilenet_v2``' Table 2 rows."""

from __future__ import annotations

import keras
from keras import layers

from twinzoo.zoo import mobilenet_v2 as spec
from keras_models.layers import conv_bn_act, logits

BN_EPS = 1e-3  # mobilenet_v2.meta FusedBatchNorm epsilon (slim.batch_norm default 0.001)


def _expanded_conv(x, name: str, expansion: int, out_channels: int, stride: int, conv: dict):
    """Inverted residual: expand (t > 1 only), depthwise with the stride, linear project, add."""
    in_channels = x.shape[-1]
    y = x
    if expansion > 1:
        y = conv_bn_act(y, spec.make_divisible(in_channels * expansion), 1, name=f"{name}.expand", **conv)
    y = conv_bn_act(y, None, 3, stride, depthwise=True, name=f"{name}.depthwise", **conv)
    y = conv_bn_act(y, out_channels, 1, act=None, name=f"{name}.project", **conv)
    if stride == 1 and in_channels == out_channels:
        y = layers.Add(name=f"{name}.add")([x, y])
    return y


def mobilenet_v2(input_shape=(224, 224, 3), alpha: float = 1.0, num_classes: int = 1001,
                 bn_eps: float = BN_EPS, padding: str = "same") -> keras.Model:
    """MobileNet v2 with width multiplier ``alpha`` (slim's ``depth_multiplier``); ``bn_eps=1e-5,
    padding="symmetric"`` gives torchvision's numerics."""
    conv = {"bn_eps": bn_eps, "padding": padding}
    if alpha <= 0:
        raise ValueError(f"alpha must be positive, got {alpha}")
    inputs = keras.Input(input_shape, name="input")
    x = conv_bn_act(inputs, spec.make_divisible(spec.MOBILENET_V2_STEM * alpha), 3, 2, name="Conv", **conv)
    for name, expansion, cout, stride in spec.mobilenet_v2_blocks(alpha):
        x = _expanded_conv(x, name, expansion, cout, stride, conv)
    x = conv_bn_act(x, spec.mobilenet_v2_head(alpha), 1, name="Conv_1", **conv)
    return keras.Model(inputs, logits(x, num_classes), name=f"mobilenet_v2_{alpha}")
