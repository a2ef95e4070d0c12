"""Independent reference definitions as further witnesses: keras.applications (and torchvision
where it imports). Their weights are loaded into our twins — Keras directly, torch through our
Keras -> torch transfer — and all outputs must agree on real images.

keras.applications layers carry their own names (``conv_dw_3_bn``), so their weights are paired
with ours by position: the two models' weighted layers in model order, with the layer types and
every weight shape checked. One layout rule is needed: a Dense layer (theirs) where ours has a
conv standing for it (TF-slim's ``Logits/Conv2d_1c_1x1`` 1x1 head; VGG's ``fc6``, a 7x7 conv over
the 7x7 map theirs flattens in the same (H, W, C) order): same numbers, kernel reshaped.

Weights: our torch twin is randomised and calibrated as in the parity check, transferred to our
Keras twin, and copied into the witness; the witness's weights are then loaded into *fresh* twins
through the witness -> ours path under test, and the three models run the same images.
"""

from __future__ import annotations


import numpy as np

import keras
from keras import layers as kl

from twinzoo import catalogue
from twinzoo.network import KerasWitness

# every network's KerasWitness by name, in catalogue order (read at call time: tests replace entries)
KERAS_WITNESSES: dict[str, KerasWitness] = {n.name: n.keras_witness for n in catalogue.networks()
                                            if n.keras_witness is not None}


class WitnessMismatch(ValueError):
    pass


def _weighted(model: keras.Model) -> list[kl.Layer]:
    return [layer for layer in model.layers if layer.weights]


def _compatible(a: kl.Layer, b: kl.Layer) -> bool:
    return type(a) is type(b) or _is_head_pair(a, b)


def _is_head_pair(a: kl.Layer, b: kl.Layer) -> bool:
    """A Dense layer against a conv standing for it (either way round): a 1x1 conv head, or a
    conv over the whole map the Dense layer's Flatten unrolls (VGG's fc6)."""
    def conv(layer: kl.Layer) -> bool:
        return type(layer) is kl.Conv2D
    return (isinstance(a, kl.Dense) and conv(b)) or (conv(a) and isinstance(b, kl.Dense))


def copy_by_position(src: keras.Model, dst: keras.Model) -> list[tuple[str, str]]:
    """Copy every weight of ``src`` into ``dst``, weighted layers paired by position. Raises
    WitnessMismatch naming the first pair whose types or shapes differ (nothing written)."""
    a, b = _weighted(src), _weighted(dst)
    if len(a) != len(b):
        raise WitnessMismatch(f"{src.name} has {len(a)} weighted layers, {dst.name} has {len(b)}")
    plan, pairs = [], []
    for la, lb in zip(a, b):
        if not _compatible(la, lb) or len(la.weights) != len(lb.weights):
            raise WitnessMismatch(f"{la.name} ({type(la).__name__}, {len(la.weights)} weights) does not pair "
                                  f"with {lb.name} ({type(lb).__name__}, {len(lb.weights)} weights)")
        for wa, wb in zip(la.weights, lb.weights):
            value = np.asarray(wa.numpy())
            if value.shape != tuple(wb.shape):
                if _is_head_pair(la, lb) and value.size == int(np.prod(wb.shape)):
                    value = value.reshape(wb.shape)      # Dense <-> conv over the flattened map: same numbers
                else:
                    raise WitnessMismatch(f"{la.name}/{wa.name} {value.shape} vs {lb.name}/{wb.name} {tuple(wb.shape)}")
            plan.append((wb, value))
        pairs.append((la.name, lb.name))
    for var, value in plan:
        var.assign(value)
    return pairs


def build_keras_witness(w: KerasWitness) -> keras.Model:
    ctor = getattr(keras.applications, w.app)
    return ctor(weights=None, input_shape=(*w.size, 3), classifier_activation=None, **w.app_kwargs)


def witness_networks() -> list[str]:
    return list(KERAS_WITNESSES)
