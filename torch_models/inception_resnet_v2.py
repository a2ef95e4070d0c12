"""Inception-ResNet-v2 (Szegedy et al. 2016, arXiv:1602.07261) in TF-slim's layout, as AI
Benchmark's ``ai_benchmark/models/inception_resnet_v2.meta`` (slim ``nets/inception_resnet_v2.py``).

Facts read from the graph:

- slim convs as everywhere in slim's Inceptions: no bias, BN without gamma (epsilon 0.001), ReLU;
  the stem is Inception-v3's (``Conv2d_1a_3x3`` .. ``MaxPool_5a_3x3``, the same 'VALID' places);
- ``Mixed_5b`` (an Inception-A block whose ``Branch_3`` is a 3x3/1 'SAME' average pool + 1x1),
  ``Repeat`` = ten ``block35`` (scale 0.17), ``Mixed_6a`` (reduction A), ``Repeat_1`` = twenty
  ``block17`` (scale 0.10), ``Mixed_7a`` (reduction B), ``Repeat_2`` = nine ``block8`` (scale
  0.20), ``Block8`` (scale 1.0, no activation), ``Conv2d_7b_1x1`` (1536); each residual block is
  facenet's Inception-ResNet-v1 block (``torch_models/inception_resnet_v1.Block``): branches,
  concat, ``Conv2d_1x1`` with bias and nothing after it, ``scale``, ``add``, ReLU — the graph's
  ``mul`` constants are 0.17 / 0.1 / 0.2 / 1.0;
- ``AuxLogits`` on ``Repeat_1``'s output: avg pool 5x5/3 'VALID' (slim calls it
  ``Conv2d_1a_3x3``), ``Conv2d_1b_1x1`` (128), ``Conv2d_2a_5x5`` (768, 'VALID'), ``Flatten``,
  ``Logits`` (fully connected, 1001);
- ``Logits``: ``AvgPool_1a_8x8`` (a fixed 9x9 'VALID' kernel in the graph, built at 346x346: the
  whole map; a global mean in the twin at every size), ``Flatten``, [dropout], ``Logits`` (fully
  connected, 1001); ``output:0`` is the softmax of those logits (the twin returns the logits).

Input: ``(x / 255 - 0.5) * 2``: the twin takes [-1, 1] images. Outputs: the logits, or
``(logits, aux_logits)`` with ``aux_logits=True``. keras.applications' ``InceptionResNetV2`` is
this network without the aux head and with 1000 classes. Architecture table:
``twinzoo.zoo.inception_resnet_v2.INCEPTION_RESNET_V2_*``.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from torch_models.inception_resnet_v1 import Block, Mixed, branch_op
from torch_models.inception_v4 import SlimNet, slim_classifier
from twinzoo.zoo import inception_resnet_v2 as spec


def inception_resnet_v2(num_classes: int = 1001, aux_logits: bool = True) -> SlimNet:
    """Inception-ResNet-v2 as AI Benchmark's inception_resnet_v2.meta (TF-slim, 1001 classes); the
    logits, or ``(logits, aux_logits)`` when ``aux_logits`` (the AuxLogits head on Repeat_1)."""
    body: OrderedDict[str, nn.Module] = OrderedDict()
    c = 3
    for op in spec.INCEPTION_RESNET_V2_STEM:
        body[op[0]], c = branch_op(c, op)
    mixed = Mixed(c, spec.INCEPTION_RESNET_V2_MIXED_5B)
    body["Mixed_5b"], c = mixed, mixed.out_channels
    aux_channels = 0
    for (repeat, prefix, branches, n, scale), reduction in zip(
            spec.INCEPTION_RESNET_V2_REPEATS, spec.INCEPTION_RESNET_V2_REDUCTIONS):
        body[repeat] = nn.Sequential(OrderedDict(
            (f"{prefix}_{i + 1}", Block(c, branches, scale)) for i in range(n)))
        if repeat == spec.INCEPTION_RESNET_V2_AUX.after:
            aux_channels = c
        if reduction is not None:
            mixed = Mixed(c, reduction[1])
            body[reduction[0]], c = mixed, mixed.out_channels
    body["Block8"] = Block(c, spec.INCEPTION_RESNET_V2_BLOCK8, 1.0, relu=False)
    conv_7b = spec.INCEPTION_RESNET_V2_CONV_7B
    body[conv_7b[0]], c = branch_op(c, conv_7b)
    return slim_classifier(body, spec.INCEPTION_RESNET_V2_AUX, aux_channels, spec.INCEPTION_RESNET_V2_LOGITS,
                           c, num_classes, aux_logits)
