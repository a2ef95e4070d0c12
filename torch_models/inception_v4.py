"""Inception-v4 (Szegedy et al. 2016, "Inception-v4, Inception-ResNet and the Impact of Residual
Connections", arXiv:1602.07261) in TF-slim's layout, as AI Benchmark's
``ai_benchmark/models/inception_v4.meta`` (slim ``nets/inception_v4.py``).

Facts read from the graph:

- every conv is slim's ``conv2d`` as in Inception-v3: no bias, BN without gamma (epsilon 0.001),
  ReLU; the stem convs 1a/2a, the stride-2 convs and max pools of ``Mixed_3a``, ``Mixed_5a``,
  ``Mixed_6a``, ``Mixed_7a`` and the 3x3 convs ``Conv2d_1a_3x3`` of ``Mixed_4a`` are 'VALID',
  everything else 'SAME'; the ``Branch_3`` average pools are 3x3/1 'SAME' (TF averages the real
  pixels only);
- body: ``Conv2d_1a_3x3`` .. ``Conv2d_2b_3x3``, ``Mixed_3a``, ``Mixed_4a``, ``Mixed_5a``, four
  Inception-A (``Mixed_5b``..``5e``), reduction A (``Mixed_6a``), seven Inception-B
  (``Mixed_6b``..``6h``), reduction B (``Mixed_7a``), three Inception-C (``Mixed_7b``..``7d``,
  whose last 1x3 / 3x1 convs run in parallel and concatenate under ``Branch_<i>/concat``);
- ``AuxLogits`` on ``Mixed_6h``: avg pool 5x5/3 'VALID', ``Conv2d_1b_1x1`` (128), ``Conv2d_2a``
  (768, 5x5 'VALID': the 5x5 pooled map, for inputs of about 299..350), ``Flatten``,
  ``Aux_logits`` (fully connected, 1001);
- ``Logits``: ``AvgPool_1a`` (the graph, built at 346x346, holds a fixed 9x9 = whole-map kernel;
  slim's code uses the map size: a global mean, which the twin computes at every size),
  ``PreLogitsFlatten``, ``Dropout_1b`` (identity at inference, omitted), ``Logits`` (fully
  connected, 1001); ``output:0`` is the softmax of those logits (the twin returns the logits).

Input: ``(x / 255 - 0.5) * 2``: the twin takes [-1, 1] images. Outputs: the logits, or
``(logits, aux_logits)`` with ``aux_logits=True``. Module names: the graph's scopes joined with
'.', as in ``torch_models/inception_v3.py``. Architecture table: ``twinzoo.zoo.inception_v4.INCEPTION_V4_*``;
the two heads (``SlimAuxHead``, ``SlimLogitsHead``) are shared with Inception-ResNet-v2.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from torch_models.inception_v3 import SlimNet, SlimNetAux, slim_body, slim_conv
from twinzoo.zoo import inception_v4 as spec


class AuxHead(nn.Sequential):
    """slim's aux classifier (``spec.SlimAuxHead``): avg pool 5/3 'VALID', 1x1 conv 128, 5x5
    conv 768 'VALID', flatten, fully connected."""

    def __init__(self, in_channels: int, num_classes: int, names: spec.SlimAuxHead) -> None:
        (k, s), mid, (width, kernel) = spec.AUX_POOL, spec.AUX_MID, spec.AUX_CONV
        super().__init__(OrderedDict([
            (names.pool, nn.AvgPool2d(k, s)),
            (names.conv_1x1, slim_conv(in_channels, mid, (1, 1))),
            (names.conv_5x5, slim_conv(mid, width, (kernel, kernel), 1, "VALID")),
            (names.flatten, nn.Flatten()),
            (names.fc, nn.Linear(width, num_classes)),
        ]))


class LogitsHead(nn.Sequential):
    """slim's main head (``spec.SlimLogitsHead``): global mean, flatten, fully connected."""

    def __init__(self, in_channels: int, num_classes: int, names: spec.SlimLogitsHead) -> None:
        super().__init__(OrderedDict([
            (names.pool, nn.AdaptiveAvgPool2d(1)),
            (names.flatten, nn.Flatten()),
            (names.fc, nn.Linear(in_channels, num_classes)),
        ]))


def slim_classifier(body: OrderedDict[str, nn.Module], aux: spec.SlimAuxHead, aux_channels: int,
                    logits: spec.SlimLogitsHead, channels: int, num_classes: int, aux_logits: bool) -> SlimNet:
    """``SlimNetAux`` with both heads when ``aux_logits``, else ``SlimNet`` with ``Logits`` only."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be positive, got {num_classes}")
    head = LogitsHead(channels, num_classes, logits)
    if aux_logits:
        return SlimNetAux(body, aux.after, AuxHead(aux_channels, num_classes, aux), head)
    return SlimNet(body, aux.after, None, head)


def inception_v4(num_classes: int = 1001, aux_logits: bool = True) -> SlimNet:
    """Inception-v4 as AI Benchmark's inception_v4.meta (TF-slim, 1001 classes); the logits, or
    ``(logits, aux_logits)`` when ``aux_logits`` (the graph's AuxLogits head on Mixed_6h)."""
    body, c, aux_channels = slim_body(spec.INCEPTION_V4_STEM, spec.INCEPTION_V4_MIXED, spec.INCEPTION_V4_AUX.after,
                                      spec.INCEPTION_V4_FEATURES)
    return slim_classifier(body, spec.INCEPTION_V4_AUX, aux_channels, spec.INCEPTION_V4_LOGITS, c,
                           num_classes, aux_logits)
