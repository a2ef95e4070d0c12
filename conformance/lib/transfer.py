"""Weight transfer between the twins, torch -> Keras and Keras -> torch.

Driven by the twins' shared layer names (a torch module's qualified name is the Keras layer's
name) and one set of layout rules, keyed by the layer types, never by a per-model table:

============================  ===============================  ==========================================
torch module                  Keras layer                      layout rule
============================  ===============================  ==========================================
Conv2d                        Conv2D                           [O, I, kh, kw] -> [kh, kw, I, O]
SNConv2d                      SNConv2D                         conv rule; the spectral norm's u [1, O]
                                                               as is
Conv2d, groups == in          DepthwiseConv2D                  [C*m, 1, kh, kw] -> [kh, kw, C, m]
SubPixelConv2d                SubPixelConv2D                   conv rule, then output channels
                                                               c*r*r + k (pixel_shuffle) -> k*C + c
                                                               (depth_to_space)
ConvTranspose2d               Conv2DTranspose                  [I, O, kh, kw] -> [kh, kw, O, I]
Linear                        Dense                            [O, I] -> [I, O]; after a Flatten of an
                                                               (H, W, C) map, rows from torch's (C, H, W)
                                                               order to Keras' (H, W, C) order
MaskedConv2d                  MaskedConv2D                     conv rule (the stored kernel, unmasked; the
                                                               mask is a constant of each twin)
DiagonalLSTMScan              DiagonalLSTMScan                 conv rule (its state-to-state conv)
LSTM (one layer, one          LSTM                             weight_ih [4u, I] -> kernel [I, 4u],
direction, batch_first)                                        weight_hh [4u, u] -> recurrent_kernel [u, 4u],
                                                               bias_ih + bias_hh -> bias; same gate order
                                                               (torch i, f, g, o = Keras i, f, c, o); back:
                                                               bias -> bias_ih, bias_hh = 0
LSTMCell                      LSTMCell                         the LSTM rule without the _l0 suffixes
Embedding                     Embedding                        weight -> embeddings, as it is
NormedBahdanauAttention       NormedBahdanauAttention          attention_v, attention_g, attention_b as
                                                               they are
BatchNorm2d                   BatchNormalization               weight, bias, running_mean, running_var
                                                               -> gamma, beta, moving_mean, moving_variance
InstanceNorm2d / GroupNorm    GroupNormalization               weight, bias -> gamma, beta
PReLU                         PReLU                            [n] -> [1, 1, n] (or [1, 1, 1])
ScalarBias                    ScalarBias                       bias -> bias
============================  ===============================  ==========================================

Any mismatch — a layer present on one side only, a pair of layers of incompatible types, or a
weight whose shape differs after the layout rule — raises ``TransferError`` naming the layer
and both shapes, before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

import keras
from keras import layers as kl

from torch_models.layers import ScalarBias as TorchScalarBias
from torch_models.layers import DiagonalLSTMScan as TorchDiagonalLSTMScan
from torch_models.layers import MaskedConv2d, SNConv2d, SubPixelConv2d
from torch_models.layers import NormedBahdanauAttention as TorchNormedBahdanauAttention
from keras_models.layers import DiagonalLSTMScan as KerasDiagonalLSTMScan
from keras_models.layers import ScalarBias as KerasScalarBias
from keras_models.layers import MaskedConv2D, SNConv2D, SubPixelConv2D
from keras_models.layers import NormedBahdanauAttention as KerasNormedBahdanauAttention


class TransferError(ValueError):
    """The twins' weights do not line up; the message lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} weight-transfer problem(s):\n  {shown}{more}")


# ------------------------------------------------------------------------------------------
# enumeration of the weighted layers on both sides
# ------------------------------------------------------------------------------------------
def own_tensors(module: nn.Module) -> dict[str, torch.Tensor]:
    """A module's own weights: parameters and persistent buffers (not ``num_batches_tracked``,
    not non-persistent constants such as BatchNorm2dNoScale's fixed gamma)."""
    out = {n: p for n, p in module.named_parameters(recurse=False)}
    out.update({n: b for n, b in module.named_buffers(recurse=False)
                if n != "num_batches_tracked" and n not in module._non_persistent_buffers_set})
    return out


def torch_weighted_modules(model: nn.Module) -> dict[str, nn.Module]:
    """Modules owning parameters or buffers (BN's ``num_batches_tracked`` aside), by name."""
    return {name: m for name, m in model.named_modules() if name and own_tensors(m)}


def keras_weighted_layers(model: keras.Model) -> dict[str, kl.Layer]:
    return {layer.name: layer for layer in model.layers if layer.weights}


def _short(variable) -> str:
    return variable.path.rsplit("/", 1)[-1]


# ------------------------------------------------------------------------------------------
# layout rules
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """One layout rule: which Keras types pair with a torch module, and the two conversions
    between torch's named tensors and Keras' named weights."""

    name: str
    keras_types: tuple[type, ...]
    to_keras: Callable[[dict[str, np.ndarray], nn.Module, kl.Layer], dict[str, np.ndarray]]
    to_torch: Callable[[dict[str, np.ndarray], nn.Module, kl.Layer], dict[str, np.ndarray]]


def _conv_k(t, m, layer):
    out = {"kernel": t["weight"].transpose(2, 3, 1, 0)}
    if "bias" in t:
        out["bias"] = t["bias"]
    return out


def _conv_t(k, m, layer):
    out = {"weight": k["kernel"].transpose(3, 2, 0, 1)}
    if "bias" in k:
        out["bias"] = k["bias"]
    return out


def _shuffle_perm(m: SubPixelConv2d) -> np.ndarray:
    """perm[q] = t: Keras (depth_to_space) channel q = k*C + c reads torch (pixel_shuffle)
    channel t = c*r*r + k."""
    rr = m.upscale * m.upscale
    c = m.out_channels // rr
    return np.arange(c * rr).reshape(c, rr).T.ravel()


def _sn_conv_k(t, m, layer):
    return {**_conv_k(t, m, layer), "u": t["u"]}


def _sn_conv_t(k, m, layer):
    return {**_conv_t(k, m, layer), "u": k["u"]}


def _subpixel_k(t, m, layer):
    out = _conv_k(t, m, layer)
    perm = _shuffle_perm(m)
    return {n: a[..., perm] for n, a in out.items()}


def _subpixel_t(k, m, layer):
    inv = np.argsort(_shuffle_perm(m))
    return _conv_t({n: a[..., inv] for n, a in k.items()}, m, layer)


def _dw_k(t, m, layer):
    w = t["weight"]                                   # [C*mult, 1, kh, kw]
    c = m.in_channels
    out = {"kernel": w.reshape(c, w.shape[0] // c, *w.shape[2:]).transpose(2, 3, 0, 1)}
    if "bias" in t:
        out["bias"] = t["bias"]
    return out


def _dw_t(k, m, layer):
    kern = k["kernel"]                                # [kh, kw, C, mult]
    kh, kw, c, mult = kern.shape
    out = {"weight": kern.transpose(2, 3, 0, 1).reshape(c * mult, 1, kh, kw)}
    if "bias" in k:
        out["bias"] = k["bias"]
    return out


def _convt_k(t, m, layer):
    out = {"kernel": t["weight"].transpose(2, 3, 1, 0)}   # [I, O, kh, kw] -> [kh, kw, O, I]
    if "bias" in t:
        out["bias"] = t["bias"]
    return out


def _convt_t(k, m, layer):
    out = {"weight": k["kernel"].transpose(3, 2, 0, 1)}
    if "bias" in k:
        out["bias"] = k["bias"]
    return out


def flatten_order(layer: kl.Layer) -> np.ndarray | None:
    """For a Dense fed by a Flatten of an (H, W, C) map: perm[q] = t maps the Keras input row q
    ((h, w, c) order) to torch's row t ((c, h, w) order). None when no permutation is needed."""
    producer = layer.input._keras_history.operation
    if not isinstance(producer, kl.Flatten):
        return None
    shape = producer.input.shape[1:]
    if len(shape) != 3 or shape[0] * shape[1] == 1:
        return None
    h, w, c = shape
    return np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).ravel()


def _dense_k(t, m, layer):
    kernel = t["weight"].T
    perm = flatten_order(layer)
    if perm is not None:
        if perm.size != kernel.shape[0]:
            raise ValueError(f"flatten of {perm.size} features feeds a dense of {kernel.shape[0]} inputs")
        kernel = kernel[perm]
    out = {"kernel": kernel}
    if "bias" in t:
        out["bias"] = t["bias"]
    return out


def _dense_t(k, m, layer):
    kernel = k["kernel"]
    perm = flatten_order(layer)
    if perm is not None:
        if perm.size != kernel.shape[0]:
            raise ValueError(f"flatten of {perm.size} features feeds a dense of {kernel.shape[0]} inputs")
        kernel = kernel[np.argsort(perm)]
    out = {"weight": kernel.T}
    if "bias" in k:
        out["bias"] = k["bias"]
    return out


_BN = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_variance"}
_NORM = {"weight": "gamma", "bias": "beta"}


def _renamer(table: dict[str, str]):
    inverse = {v: k for k, v in table.items()}

    def to_keras(t, m, layer):
        return {table[n]: a for n, a in t.items()}

    def to_torch(k, m, layer):
        return {inverse[n]: a for n, a in k.items()}
    return to_keras, to_torch


def _prelu_k(t, m, layer):
    return {"alpha": t["weight"]}          # reshaped to Keras' [1, 1, n] by the shape adapter


def _prelu_t(k, m, layer):
    return {"weight": k["alpha"].reshape(-1)}


def _lstm_rules(suffix: str):
    """torch's LSTM (``suffix`` "_l0") or LSTMCell ("") tensors <-> Keras' kernel,
    recurrent_kernel and bias: the same gate order; torch adds two biases where Keras (and the
    TF1 cell) store one, so all of it goes back to bias_ih."""
    ih, hh, bih, bhh = (f"{n}{suffix}" for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def to_keras(t, m, layer):
        return {"kernel": t[ih].T, "recurrent_kernel": t[hh].T, "bias": t[bih] + t[bhh]}

    def to_torch(k, m, layer):
        return {ih: k["kernel"].T, hh: k["recurrent_kernel"].T, bih: k["bias"], bhh: np.zeros_like(k["bias"])}
    return to_keras, to_torch


def _same_k(t, m, layer):
    return dict(t)


def _check_lstm(module: nn.LSTM) -> None:
    if module.num_layers != 1 or module.bidirectional or not module.batch_first or not module.bias \
            or module.proj_size:
        raise TypeError("an LSTM pairs with one Keras LSTM layer only with one layer, one direction, "
                        "batch_first=True, biases and no projection")


def rule_for(module: nn.Module) -> Rule:
    """The layout rule of a torch module, by its type."""
    if isinstance(module, nn.ConvTranspose2d):
        return Rule("conv_transpose", (kl.Conv2DTranspose,), _convt_k, _convt_t)
    if isinstance(module, SubPixelConv2d):
        return Rule("subpixel_conv", (SubPixelConv2D,), _subpixel_k, _subpixel_t)
    if isinstance(module, SNConv2d):
        return Rule("spectral_norm_conv", (SNConv2D,), _sn_conv_k, _sn_conv_t)
    if isinstance(module, MaskedConv2d):
        return Rule("masked_conv", (MaskedConv2D,), _conv_k, _conv_t)
    if isinstance(module, TorchDiagonalLSTMScan):
        return Rule("diagonal_lstm_scan", (KerasDiagonalLSTMScan,), _conv_k, _conv_t)
    if isinstance(module, nn.LSTM):
        _check_lstm(module)
        return Rule("lstm", (kl.LSTM,), *_lstm_rules("_l0"))
    if isinstance(module, nn.LSTMCell):
        if not module.bias:
            raise TypeError("an LSTMCell pairs with a Keras LSTMCell only with biases")
        return Rule("lstm_cell", (kl.LSTMCell,), *_lstm_rules(""))
    if isinstance(module, nn.Embedding):
        return Rule("embedding", (kl.Embedding,), *_renamer({"weight": "embeddings"}))
    if isinstance(module, TorchNormedBahdanauAttention):
        return Rule("normed_bahdanau", (KerasNormedBahdanauAttention,), _same_k, _same_k)
    if isinstance(module, nn.Conv2d):
        if module.groups == 1:
            return Rule("conv", (kl.Conv2D,), _conv_k, _conv_t)
        if module.groups == module.in_channels:
            return Rule("depthwise_conv", (kl.DepthwiseConv2D,), _dw_k, _dw_t)
        raise TypeError(f"grouped convolution with {module.groups} groups has no Keras twin rule")
    if isinstance(module, nn.Linear):
        return Rule("dense", (kl.Dense,), _dense_k, _dense_t)
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return Rule("batch_norm", (kl.BatchNormalization,), *_renamer(_BN))
    if isinstance(module, (nn.InstanceNorm2d, nn.GroupNorm)):
        return Rule("instance_norm", (kl.GroupNormalization,), *_renamer(_NORM))
    if isinstance(module, nn.PReLU):
        return Rule("prelu", (kl.PReLU,), _prelu_k, _prelu_t)
    if isinstance(module, TorchScalarBias):
        return Rule("scalar_bias", (KerasScalarBias,), _same_k, _same_k)
    raise TypeError(f"no transfer rule for torch module type {type(module).__name__}")


# ------------------------------------------------------------------------------------------
# pairing and the two directions
# ------------------------------------------------------------------------------------------
@dataclass
class Pair:
    name: str
    module: nn.Module
    layer: kl.Layer
    rule: Rule


def pair_layers(torch_model: nn.Module, keras_model: keras.Model) -> list[Pair]:
    """Pair the weighted layers of the twins by name and check their types, in torch order."""
    tmods = torch_weighted_modules(torch_model)
    klayers = keras_weighted_layers(keras_model)
    problems: list[str] = []
    for name in tmods.keys() - klayers.keys():
        shapes = {n: tuple(v.shape) for n, v in own_tensors(tmods[name]).items()}
        problems.append(f"layer {name!r} exists in the torch twin {shapes} but not in the Keras twin")
    for name in klayers.keys() - tmods.keys():
        shapes = {_short(v): tuple(v.shape) for v in klayers[name].weights}
        problems.append(f"layer {name!r} exists in the Keras twin {shapes} but not in the torch twin")
    pairs: list[Pair] = []
    for name, module in tmods.items():
        if name not in klayers:
            continue
        layer = klayers[name]
        try:
            rule = rule_for(module)
        except TypeError as exc:
            problems.append(f"layer {name!r}: {exc}")
            continue
        if not isinstance(layer, rule.keras_types) or (
                rule.name == "conv" and isinstance(layer, (SubPixelConv2D, SNConv2D, MaskedConv2D))):
            problems.append(f"layer {name!r}: torch {type(module).__name__} ({rule.name}) pairs with "
                            f"Keras {'/'.join(t.__name__ for t in rule.keras_types)}, "
                            f"found Keras {type(layer).__name__}")
            continue
        pairs.append(Pair(name, module, layer, rule))
    if problems:
        raise TransferError(sorted(problems))
    return pairs


def _fit(name: str, wname: str, array: np.ndarray, target_shape: tuple[int, ...], side: str,
         source: str, problems: list[str]) -> np.ndarray | None:
    if tuple(array.shape) == tuple(target_shape):
        return array
    # PReLU / ScalarBias slopes are stored [n] in torch and [1, 1, n] in Keras: same numbers
    if array.size == int(np.prod(target_shape)) and (array.ndim == 1 or len(target_shape) == 1):
        return array.reshape(target_shape)
    problems.append(f"layer {name!r} weight {wname!r}: the {side} twin has shape {tuple(target_shape)}, "
                    f"the other twin gives {tuple(array.shape)} after the layout rule ({source})")
    return None


def keras_values(torch_model: nn.Module, keras_model: keras.Model) -> tuple[list[Pair], list[tuple]]:
    """Every weight of the torch twin in the Keras twin's layout: the pairs and a plan of
    (Keras variable, value), nothing written. Raises TransferError on any mismatch."""
    pairs = pair_layers(torch_model, keras_model)
    problems: list[str] = []
    plan: list[tuple] = []
    for p in pairs:
        tensors = {n: t.detach().cpu().numpy() for n, t in own_tensors(p.module).items()}
        try:
            converted = p.rule.to_keras(tensors, p.module, p.layer)
        except (ValueError, KeyError) as exc:
            problems.append(f"layer {p.name!r}: {exc}")
            continue
        kvars = {_short(v): v for v in p.layer.weights}
        for wname in converted.keys() - kvars.keys():
            problems.append(f"layer {p.name!r}: torch has {wname!r} "
                            f"{tuple(converted[wname].shape)} but the Keras layer has no such weight")
        for wname in kvars.keys() - converted.keys():
            problems.append(f"layer {p.name!r}: Keras weight {wname!r} {tuple(kvars[wname].shape)} "
                            f"has no torch counterpart")
        for wname, array in converted.items():
            if wname in kvars:
                src = "torch " + ", ".join(f"{n} {tuple(t.shape)}" for n, t in tensors.items())
                fitted = _fit(p.name, wname, array, tuple(kvars[wname].shape), "Keras", src, problems)
                if fitted is not None:
                    plan.append((kvars[wname], fitted.astype(np.float32)))
    if problems:
        raise TransferError(problems)
    return pairs, plan


def torch_to_keras(torch_model: nn.Module, keras_model: keras.Model) -> list[Pair]:
    """Copy every weight of the torch twin into the Keras twin. Raises TransferError (and writes
    nothing) on any mismatch."""
    pairs, plan = keras_values(torch_model, keras_model)
    for var, value in plan:
        var.assign(value)
    return pairs


def keras_to_torch(keras_model: keras.Model, torch_model: nn.Module) -> list[Pair]:
    """Copy every weight of the Keras twin into the torch twin. Raises TransferError (and writes
    nothing) on any mismatch."""
    pairs = pair_layers(torch_model, keras_model)
    problems: list[str] = []
    plan: list[tuple] = []
    for p in pairs:
        kweights = {_short(v): np.asarray(v.numpy()) for v in p.layer.weights}
        try:
            converted = p.rule.to_torch(kweights, p.module, p.layer)
        except (ValueError, KeyError) as exc:
            problems.append(f"layer {p.name!r}: {exc}")
            continue
        tensors = own_tensors(p.module)
        for wname in converted.keys() - tensors.keys():
            problems.append(f"layer {p.name!r}: Keras provides {wname!r} but the torch module has none")
        for wname in tensors.keys() - converted.keys():
            problems.append(f"layer {p.name!r}: torch tensor {wname!r} {tuple(tensors[wname].shape)} "
                            f"has no Keras counterpart")
        for wname, array in converted.items():
            if wname in tensors:
                src = "Keras " + ", ".join(f"{n} {tuple(a.shape)}" for n, a in kweights.items())
                fitted = _fit(p.name, wname, array, tuple(tensors[wname].shape), "torch", src, problems)
                if fitted is not None:
                    plan.append((tensors[wname], fitted))
    if problems:
        raise TransferError(problems)
    with torch.no_grad():
        for tensor, value in plan:
            tensor.copy_(torch.from_numpy(np.array(value, dtype=np.float32, order="C")))   # keeps a 0-d g 0-d
    return pairs
