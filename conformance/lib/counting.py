"""Parameter and MAC counts, each framework counted on its own.

torch: parameters by role from the module types; MACs through ``torch.utils.flop_counter`` (the
dispatcher-level FLOP counter, which counts conv / linear / matmul only; MACs = FLOPs / 2), run
on the ``meta`` device so even 500-GMAC networks are counted without computing anything.

Keras: trainable and total counts from Keras itself; MACs from our own walk of the built
functional model's conv and dense layers (Keras has no MAC counter) — written by hand because
no maintained library counts Keras 3 MACs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import keras
from keras import layers as kl

import keras_models
import torch_models
from twinzoo import catalogue
from twinzoo.catalogue import PARAM_CONVENTIONS, PARAM_ROLES
from torch_models.layers import ScalarBias as TorchScalarBias
from torch_models.layers import SNConv2d
from torch_models.layers import NormedBahdanauAttention as TorchNormedBahdanauAttention


# ------------------------------------------------------------------------------------------
# parameters
# ------------------------------------------------------------------------------------------
def torch_param_roles(model: nn.Module) -> dict[str, int]:
    """Count the torch twin's parameters and BN stats by role (see ``catalogue.PARAM_ROLES``)."""
    counts = dict.fromkeys(PARAM_ROLES, 0)
    for name, module in model.named_modules():
        own = dict(module.named_parameters(recurse=False))
        bufs = {n: b for n, b in module.named_buffers(recurse=False)
                if n != "num_batches_tracked" and n not in module._non_persistent_buffers_set}
        if not own and not bufs:
            continue
        if isinstance(module, SNConv2d):         # u: the spectral norm's running estimate, a statistic
            roles = {"weight": "W", "bias": "b", "u": "stats"}
        elif isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.Linear)):
            roles = {"weight": "W", "bias": "b"}
        elif isinstance(module, nn.Embedding):
            roles = {"weight": "W"}
        elif isinstance(module, TorchNormedBahdanauAttention):   # v and its weight-norm gain g: weights
            roles = {"attention_v": "W", "attention_g": "W", "attention_b": "b"}
        elif isinstance(module, (nn.LSTM, nn.LSTMCell)):
            roles = {n: "W" if n.startswith("weight") else "b2" if n.startswith("bias_hh") else "b" for n in own}
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            roles = {"weight": "gamma", "bias": "beta", "running_mean": "stats", "running_var": "stats"}
        elif isinstance(module, (nn.InstanceNorm2d, nn.GroupNorm)):
            roles = {"weight": "gamma", "bias": "beta", "running_mean": "stats", "running_var": "stats"}
        elif isinstance(module, nn.PReLU):
            roles = {"weight": "alpha"}
        elif isinstance(module, TorchScalarBias):
            roles = {"bias": "b"}
        else:
            raise TypeError(f"{name}: no parameter-role rule for {type(module).__name__}")
        for n, t in {**own, **bufs}.items():
            if n not in roles:
                raise TypeError(f"{name}.{n}: no parameter role for tensor {n!r} of {type(module).__name__}")
            counts[roles[n]] += t.numel()
    return counts


def count_convention(roles: dict[str, int], convention: str) -> int:
    return sum(roles[r] for r in PARAM_CONVENTIONS[convention])


def keras_param_counts(model: keras.Model) -> dict[str, int]:
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    total = int(model.count_params())
    return {"trainable": trainable, "non_trainable": total - trainable, "total": total}


# ------------------------------------------------------------------------------------------
# MACs
# ------------------------------------------------------------------------------------------
def torch_macs(model: nn.Module, input_shape: tuple[int, ...], dtype: str = "float32") -> int:
    """MACs of one forward pass on an input of ``input_shape`` (N, C, H, W; (N, steps, features) for a
    sequence network; (N, steps) token ids of ``dtype`` int32), counted by torch's
    FlopCounterMode. The model is moved to the meta device (a copy), so nothing is computed."""
    meta = _to_meta(model)
    x = torch.empty(input_shape, device="meta", dtype=getattr(torch, dtype))
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        meta(x)
    flops = counter.get_total_flops()
    if flops % 2:
        raise ArithmeticError(f"torch counted an odd number of FLOPs ({flops}); expected 2 x MACs")
    return flops // 2


def _to_meta(model: nn.Module) -> nn.Module:
    if all(p.device.type == "meta" for p in model.parameters()):
        return model
    import copy
    return copy.deepcopy(model).to("meta")


def build_torch_meta(name: str, **opts: Any) -> nn.Module:
    """Build a torch twin directly on the meta device (no memory, no init cost)."""
    with torch.device("meta"):
        return torch_models.build(name, **opts)


def keras_macs(model: keras.Model) -> int:
    """MACs of the Keras twin's conv and dense layers at its built input size; a layer called
    more than once (GNMT's decoder cells, one call per unrolled step) counts every call."""
    total = 0
    for layer in model.layers:
        total += keras_layer_macs(layer) * max(1, len(layer._inbound_nodes))
    return total


def _input_shape(layer: kl.Layer) -> tuple:
    """The shape of a layer's (first) input at its first call: ``layer.input`` refuses a layer
    called more than once."""
    return tuple(keras.tree.flatten(layer._inbound_nodes[0].input_tensors)[0].shape)


def keras_layer_macs(layer: kl.Layer) -> int:
    """MACs of one call of ``layer``."""
    own_rule = getattr(layer, "twinzoo_macs", None)       # a layer that knows its own count (SPADE's z)
    if own_rule is not None:
        return int(own_rule())
    if isinstance(layer, kl.Conv2DTranspose):
        n, h, w, cin = layer.input.shape
        kh, kw = layer.kernel_size
        return int(h * w * cin * kh * kw * layer.filters)
    if isinstance(layer, kl.Conv2D):
        # the conv's own output grid (for SubPixelConv2D: before depth_to_space)
        n, h, w, f = kl.Conv2D.compute_output_shape(layer, layer.input.shape)
        cin = layer.input.shape[-1]
        kh, kw = layer.kernel_size
        return int(h * w * f * kh * kw * cin // layer.groups)
    if isinstance(layer, kl.DepthwiseConv2D):
        n, h, w, f = layer.output.shape
        kh, kw = layer.kernel_size
        return int(h * w * f * kh * kw)
    if isinstance(layer, kl.LSTM):
        # per sequence: [x, h] times the four gates' kernels once per step
        n, steps, features = _input_shape(layer)
        return int(steps * (features + layer.units) * 4 * layer.units)
    if isinstance(layer, kl.LSTMCell):
        return int((_input_shape(layer)[-1] + layer.units) * 4 * layer.units)
    if isinstance(layer, kl.Embedding):
        return 0                                          # a lookup
    if isinstance(layer, kl.Dense):
        shape = _input_shape(layer)
        positions = int(np.prod(shape[1:-1])) if len(shape) > 2 else 1
        return int(positions * shape[-1] * layer.units)
    if layer.weights and not isinstance(layer, (kl.BatchNormalization, kl.GroupNormalization,
                                                kl.PReLU, kl.LayerNormalization)) \
            and type(layer).__name__ != "ScalarBias":
        raise TypeError(f"{layer.name}: no MAC rule for weighted Keras layer {type(layer).__name__}")
    return 0


def macs_at(name: str, size: tuple[int, int], **opts: Any) -> dict[str, int]:
    """MACs of both twins of catalogue network ``name`` at input ``size`` (H, W)."""
    net = catalogue.get(name)
    tmodel = build_torch_meta(name, **opts)
    t = torch_macs(tmodel, net.batch_shape(size, layout="NCHW"), net.input_dtype)
    kmodel = keras_models.build(name, input_size=size, **opts)
    k = keras_macs(kmodel)
    return {"torch": t, "keras": k}
