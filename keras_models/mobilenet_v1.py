"""MobileNet v1 (Howard et al. 2017), TF-slim layout. The body walks ``twinzoo.zoo.mobilenet_v1``' Table 1."""

from __future__ import annotations

import keras

from twinzoo.zoo import mobilenet_v1 as mobilenet_v1_spec
from keras_models.layers import conv_bn_act, logits

BN_EPS = 1e-3  # TF-slim mobilenet_v1_arg_scope: batch_norm_epsilon=0.001


def _block(x, spec: mobilenet_v1_spec.Conv | mobilenet_v1_spec.DepSep, alpha: float, index: int, prefix: str = "body."):
    cout = mobilenet_v1_spec.mobilenet_v1_depth(spec.filters, alpha)
    if isinstance(spec, mobilenet_v1_spec.Conv):
        return conv_bn_act(x, cout, spec.kernel, spec.stride, name=f"{prefix}Conv2d_{index}", bn_eps=BN_EPS)
    x = conv_bn_act(x, None, spec.kernel, spec.stride, depthwise=True,
                    name=f"{prefix}Conv2d_{index}_depthwise", bn_eps=BN_EPS)
    return conv_bn_act(x, cout, 1, name=f"{prefix}Conv2d_{index}_pointwise", bn_eps=BN_EPS)


def mobilenet_v1(input_shape=(224, 224, 3), alpha: float = 1.0, num_classes: int = 1001,
                 body: str = "standard") -> keras.Model:
    """MobileNet v1 with width multiplier ``alpha``; ``body`` "conv" or "shallow" gives the
    paper's Conv MobileNet (Table 4) or Shallow MobileNet (Table 10)."""
    if alpha <= 0:
        raise ValueError(f"alpha must be positive, got {alpha}")
    inputs = keras.Input(input_shape, name="input")
    x = inputs
    for i, spec in enumerate(mobilenet_v1_spec.mobilenet_v1_body(body)):
        x = _block(x, spec, alpha, i)
    return keras.Model(inputs, logits(x, num_classes), name=f"mobilenet_v1_{alpha}")


def mobilenet_v1_layer(input_shape=(14, 14, 512), kind: str = "depsep", alpha: float = 1.0,
                       filters: int = 512) -> keras.Model:
    """One 512-output layer of the paper's Table 3 in the given form."""
    spec = {"conv": mobilenet_v1_spec.Conv(1, filters), "depsep": mobilenet_v1_spec.DepSep(1, filters)}.get(kind)
    if spec is None:
        raise ValueError(f"unknown Table 3 layer kind {kind!r}; known: conv, depsep")
    inputs = keras.Input(input_shape, name="input")
    x = _block(inputs, spec, alpha, 0, prefix="")
    return keras.Model(inputs, x, name=f"mobilenet_v1_layer_{kind}")
