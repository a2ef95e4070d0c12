"""Inception-ResNet-v2 (Szegedy et al. 2016, arXiv:1602.07261) in TF-slim's layout, as AI
Benchmark's ``inception_resnet_v2.meta``; the Keras twin of ``torch_models/inception_resnet_v2.py``
(see there for the facts read from the graph): Inception-v3's stem, Mixed_5b, 10x block35 (0.17),
Mixed_6a, 20x block17 (0.10), Mixed_7a, 9x block8 (0.20), Block8 (1.0, no activation),
Conv2d_7b_1x1, ``AuxLogits`` on Repeat_1 and ``Logits`` (Inception-v4's heads), with facenet's
Inception-ResNet-v1 blocks. Outputs: the logits, or ``[logits, aux_logits]``.
"""

from __future__ import annotations

import keras

from keras_models.inception_resnet_v1 import block, branch_op, mixed
from keras_models.inception_v4 import slim_classifier
from twinzoo.zoo import inception_resnet_v2 as spec


def inception_resnet_v2(input_shape=(346, 346, 3), num_classes: int = 1001, aux_logits: bool = True) -> keras.Model:
    """Inception-ResNet-v2 as AI Benchmark's inception_resnet_v2.meta (TF-slim, 1001 classes)."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be positive, got {num_classes}")
    inputs = keras.Input(input_shape, name="input")
    x = inputs
    for op in spec.INCEPTION_RESNET_V2_STEM:
        x = branch_op(x, op, "")
    x = mixed(x, spec.INCEPTION_RESNET_V2_MIXED_5B, "Mixed_5b")
    mid = None
    for (repeat, prefix, branches, n, scale), reduction in zip(
            spec.INCEPTION_RESNET_V2_REPEATS, spec.INCEPTION_RESNET_V2_REDUCTIONS):
        for i in range(n):
            x = block(x, branches, scale, f"{repeat}.{prefix}_{i + 1}")
        if repeat == spec.INCEPTION_RESNET_V2_AUX.after:
            mid = x
        if reduction is not None:
            x = mixed(x, reduction[1], reduction[0])
    x = block(x, spec.INCEPTION_RESNET_V2_BLOCK8, 1.0, "Block8", relu=False)
    x = branch_op(x, spec.INCEPTION_RESNET_V2_CONV_7B, "")
    return slim_classifier(inputs, x, mid, spec.INCEPTION_RESNET_V2_AUX, spec.INCEPTION_RESNET_V2_LOGITS,
                           num_classes, aux_logits, "inception_resnet_v2")
