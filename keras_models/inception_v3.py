"""Inception-v3 (Szegedy et al. 2016, arXiv:1512.00567), TF-slim layout as in AI Benchmark's
``ai_benchmark/models/inception_v3.meta``; the Keras twin of ``torch_models/inception_v3.py``
(see there for the facts read from the graph).

In short: conv (no bias) + BN without gamma (epsilon 0.001) + ReLU everywhere; 'valid' padding
on the stem convs 1a/2a/3b/4a, the stem max pools and the stride-2 convs / max pools of Mixed_6a
and Mixed_7a, 'same' elsewhere; the Branch_3 average pools are 3x3/1 'same' (TF excludes the
padding from the mean); ``AuxLogits`` on Mixed_6e = avg pool 5/3 'valid', 1x1 128, 5x5 768
'valid', 1x1 conv with bias, squeeze; ``Logits`` = a fixed 8x8 avg pool with stride 2 'valid'
(the graph's window, a global mean only when the map is 8x8: at 346x346 the map is 9x9 and the
top-left 8x8 window is averaged), [dropout omitted], 1x1 conv with bias, squeeze
(``Reshape((classes,))``, which like ``tf.squeeze`` refuses a map that is not 1x1: as in the
graph, the main head takes inputs of 299..362 pixels per side, the aux head 299..346).

Outputs: the main logits; with ``aux_logits=True`` the model has two outputs,
``[logits, aux_logits]`` (the graph's ``output:0`` is softmax(logits)). Input: [-1, 1] images as
is (the graph itself computes ``(input / 255 - 0.5) * 2`` first).

Layer names are the graph's variable scopes joined with '.' (``Mixed_6b.Branch_1.Conv2d_0b_1x7.conv``,
``Mixed_6b.concat``, ``AuxLogits.Conv2d_2b_1x1.conv``, ``Logits.Conv2d_1c_1x1.conv``).
Layout tables and ``Style``: ``twinzoo.zoo.inception_v3`` (``INCEPTION_V3_*``, ``InceptionV3Style``).
"""

from __future__ import annotations

import keras
from keras import layers

from keras_models.layers import activation, batch_norm, conv_bn_act
from twinzoo.zoo import inception_v3 as spec

# short local names for the twinzoo.zoo.inception_v3 entries used throughout
BN_EPS = spec.INCEPTION_V3_BN_EPS
Op = spec.InceptionV3Op
Style = spec.InceptionV3Style      # the graph's numeric conventions (the default) or torchvision's
SLIM = Style()


# ------------------------------------------------------------------------------------------
# blocks
# ------------------------------------------------------------------------------------------
def slim_conv(x, filters: int, kernel: tuple[int, int], stride: int = 1, padding: str = "SAME", *, name: str,
              style: Style = SLIM):
    """``slim.conv2d``: conv (no bias) -> BN (no gamma) -> ReLU; ``<name>.conv/.bn/.act``."""
    if padding == "SAME":
        return conv_bn_act(x, filters, kernel, stride, name=name, act="relu", bn_eps=BN_EPS, bn_scale=style.bn_scale)
    if padding != "VALID":
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    x = layers.Conv2D(filters, kernel, stride, padding="valid", use_bias=False, name=f"{name}.conv")(x)
    x = batch_norm(f"{name}.bn", BN_EPS, scale=style.bn_scale)(x)
    return activation("relu", f"{name}.act")(x)


def slim_op(x, op: Op, prefix: str, style: Style):
    kind, scope, filters, kernel, stride, padding = op
    name = f"{prefix}{scope}"
    if kind == "conv":
        return slim_conv(x, filters, kernel, stride, padding, name=name, style=style)
    if kind == "avg" and padding == "SAME" and style.avg_pool_counts_padding:
        # TF's 'same' average divides by the real pixels only; zero-pad first and pool 'valid'
        # to divide by the whole window, as torch's count_include_pad=True does.
        x = layers.ZeroPadding2D((kernel[0] // 2, kernel[1] // 2), name=f"{name}.pad")(x)
        return layers.AveragePooling2D(kernel, stride, padding="valid", name=name)(x)
    pool = layers.MaxPooling2D if kind == "max" else layers.AveragePooling2D
    return pool(kernel, stride, padding=padding.lower(), name=name)(x)


def _branch(x, ops, prefix: str, style: Style):
    for op in ops:
        if op[0] == "split":
            _, concat_scope, convs = op
            outs = [slim_conv(x, filters, kernel, name=f"{prefix}{scope}", style=style)
                    for scope, filters, kernel in convs]
            x = layers.Concatenate(axis=-1, name=f"{prefix}{concat_scope}")(outs)
        else:
            x = slim_op(x, op, prefix, style)
    return x


def mixed_block(x, name: str, branches, style: Style):
    outs = [_branch(x, ops, f"{name}.{branch}.", style) for branch, ops in branches]
    return layers.Concatenate(axis=-1, name=f"{name}.concat")(outs)


def _aux_logits(x, num_classes: int, style: Style):
    k, s = spec.INCEPTION_V3_AUX_POOL
    mid, (filters, k5) = spec.INCEPTION_V3_AUX_MID, spec.INCEPTION_V3_AUX_CONV
    x = layers.AveragePooling2D(k, s, padding="valid", name="AuxLogits.AvgPool_1a_5x5")(x)
    x = slim_conv(x, mid, (1, 1), name="AuxLogits.Conv2d_1b_1x1", style=style)
    x = slim_conv(x, filters, (k5, k5), 1, "VALID", name="AuxLogits.Conv2d_2a_5x5", style=style)
    x = layers.Conv2D(num_classes, 1, use_bias=True, name="AuxLogits.Conv2d_2b_1x1.conv")(x)
    return layers.Reshape((num_classes,), name="AuxLogits.SpatialSqueeze")(x)


def _logits(x, num_classes: int):
    k, s = spec.INCEPTION_V3_LOGITS_POOL
    x = layers.AveragePooling2D(k, s, padding="valid", name="Logits.AvgPool_1a_8x8")(x)
    x = layers.Conv2D(num_classes, 1, use_bias=True, name="Logits.Conv2d_1c_1x1.conv")(x)
    return layers.Reshape((num_classes,), name="Logits.SpatialSqueeze")(x)


def slim_body(x, stem, mixed, aux_after: str, style: Style = SLIM):
    """The stem ops and Mixed blocks of a slim Inception: (last output, output of ``aux_after``)."""
    for op in stem:
        x = slim_op(x, op, "", style)
    mid = None
    for name, branches in mixed:
        x = mixed_block(x, name, branches, style)
        if name == aux_after:
            mid = x
    return x, mid


def slim_model(inputs, logits, aux, name: str) -> keras.Model:
    """The model with outputs ``[logits, aux]`` (named ``<name>_aux``), or ``logits`` alone."""
    if aux is not None:
        return keras.Model(inputs, [logits, aux], name=f"{name}_aux")
    return keras.Model(inputs, logits, name=name)


def inception_v3(input_shape=(346, 346, 3), num_classes: int = 1001, aux_logits: bool = True,
                 bn_scale: bool = False, avg_pool_counts_padding: bool = False) -> keras.Model:
    """Inception-v3 as AI Benchmark's inception_v3.meta (TF-slim). Outputs the main logits, or
    ``[logits, aux_logits]`` when ``aux_logits``. ``num_classes=1000, aux_logits=False`` has
    keras.applications.InceptionV3's layers and counts (its global average pool equals the 8x8/2
    window for inputs of 299..330: an 8x8 final map). ``bn_scale=True, avg_pool_counts_padding=True``
    are torchvision's conventions (see ``Style``)."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be positive, got {num_classes}")
    style = Style(bn_scale, avg_pool_counts_padding)
    inputs = keras.Input(input_shape, name="input")
    x, mid = slim_body(inputs, spec.INCEPTION_V3_STEM, spec.INCEPTION_V3_MIXED, spec.INCEPTION_V3_AUX_AFTER,
                       style)
    aux = _aux_logits(mid, num_classes, style) if aux_logits else None     # slim builds AuxLogits first
    return slim_model(inputs, _logits(x, num_classes), aux, "inception_v3")
