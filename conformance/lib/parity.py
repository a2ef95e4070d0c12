"""Numeric parity of the twins: non-trivial torch weights, transferred to Keras, the same inputs
through both, outputs compared under the float32 tolerance policy; on failure the first layer
whose activation diverges is named.

Tolerance policy (``catalogue.Tolerance``): an output passes when
``max|keras - torch| <= atol + rtol * max|torch|``. The default (atol 1e-5, rtol 1e-4) is about
1000 float32 ulps of the output's scale: enough for differing summation orders (oneDNN vs
torch's kernels) across deep stacks, far below what a wrong epsilon, padding or layout gives.
Per-network values exist only where a comment in the catalogue justifies them.

The weights are trained-like random ones (``conformance.lib.trained_like``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
import torch
from torch import nn

import keras

from twinzoo.catalogue import Tolerance
from conformance.lib.inputs import nhwc_to_nchw, to_nhwc


# ------------------------------------------------------------------------------------------
# running and comparing
# ------------------------------------------------------------------------------------------
# A network's output: one array, or a list of arrays for networks with several heads (Inception-v3
# with its aux head returns (logits, aux_logits) in torch and [logits, aux_logits] in Keras).
Outputs = Union[np.ndarray, list[np.ndarray]]


def run_torch(model: nn.Module, x_nhwc: np.ndarray) -> Outputs:
    with torch.no_grad():
        y = model(torch.from_numpy(nhwc_to_nchw(x_nhwc)))
    if isinstance(y, (tuple, list)):
        return [to_nhwc(t.numpy()) for t in y]
    return to_nhwc(y.numpy())


def run_keras(model: keras.Model, x_nhwc: np.ndarray) -> Outputs:
    y = model(x_nhwc, training=False)
    if isinstance(y, (tuple, list)):
        return [np.asarray(t) for t in y]
    return np.asarray(y)


@dataclass
class Error:
    max_abs: float
    max_rel: float          # max|d| / max|ref|
    scale: float            # max|ref|
    passed: bool
    shape_mismatch: str = ""
    # the error as a multiple of the line (max|d| / (atol + rtol*scale)): for several outputs the
    # worst output's own, each against its own scale (max_abs and scale may come from two heads)
    ratio: float = float("inf")

    def as_dict(self) -> dict[str, Any]:
        d = {"max_abs": self.max_abs, "max_rel": self.max_rel, "ref_scale": self.scale, "passed": self.passed,
             "line_ratio": self.ratio}
        if self.shape_mismatch:
            d["shape_mismatch"] = self.shape_mismatch
        return d


def compare(ref: Outputs, other: Outputs, tol: Tolerance) -> Error:
    """Compare ``other`` (Keras) against ``ref`` (torch) under ``tol``. Non-finite values fail.

    Several outputs are compared one by one (each against its own scale); the result is the
    worst of them, and a different number of outputs is a mismatch."""
    if isinstance(ref, list) or isinstance(other, list):
        refs = ref if isinstance(ref, list) else [ref]
        others = other if isinstance(other, list) else [other]
        if len(refs) != len(others):
            return Error(float("inf"), float("inf"), float("nan"), False,
                         f"torch gives {len(refs)} outputs, Keras {len(others)}")
        errs = [compare(r, o, tol) for r, o in zip(refs, others)]
        worst = max(errs, key=lambda e: (not e.passed, e.ratio))
        return Error(max(e.max_abs for e in errs), max(e.max_rel for e in errs), worst.scale,
                     all(e.passed for e in errs), "; ".join(f"output {i}: {e.shape_mismatch}"
                                                          for i, e in enumerate(errs) if e.shape_mismatch),
                     max(e.ratio for e in errs))
    if ref.shape != other.shape:
        return Error(float("inf"), float("inf"), float("nan"), False,
                     f"torch {ref.shape} vs Keras {other.shape} (NHWC)")
    ref64, oth64 = ref.astype(np.float64), other.astype(np.float64)
    if not (np.isfinite(ref64).all() and np.isfinite(oth64).all()):
        return Error(float("inf"), float("inf"), float(np.nanmax(np.abs(ref64))), False,
                     "non-finite values")
    diff = float(np.max(np.abs(ref64 - oth64))) if ref.size else 0.0
    scale = float(np.max(np.abs(ref64))) if ref.size else 0.0
    rel = diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))
    line = tol.atol + tol.rtol * scale
    ratio = diff / line if line > 0 else (0.0 if diff == 0 else float("inf"))
    return Error(diff, rel, scale, diff <= line, ratio=ratio)


# ------------------------------------------------------------------------------------------
# first diverging layer
# ------------------------------------------------------------------------------------------
def torch_activations(model: nn.Module, x_nhwc: np.ndarray, names: set[str],
                      training: bool = False) -> dict[str, np.ndarray]:
    """Outputs of the named leaf modules, in execution order, in Keras layout (NHWC; a flatten
    of a feature map in (H, W, C) order); ``training``: a training-mode pass (BN on batch
    statistics, updating its moving ones; no gradients)."""
    acts: dict[str, np.ndarray] = {}
    hooks = []
    for name, module in model.named_modules():
        if name in names:
            def hook(mod, inp, out, name=name):
                if isinstance(mod, nn.RNNBase):
                    out = out[0]          # (every step's output, final state): the outputs, as Keras gives them
                if not isinstance(out, torch.Tensor):
                    return
                if isinstance(mod, nn.Flatten) and inp[0].ndim == 4:
                    # torch flattens (C, H, W), Keras (H, W, C): compare in Keras' order
                    out = inp[0].permute(0, 2, 3, 1).reshape(out.shape)
                acts[name] = to_nhwc(out.detach().numpy())
            hooks.append(module.register_forward_hook(hook))
    was_training = model.training
    model.train(training)
    try:
        run_torch(model, x_nhwc)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return acts


def keras_activations(model: keras.Model, x_nhwc: np.ndarray, names: list[str],
                      training: bool = False) -> dict[str, np.ndarray]:
    # a layer with several outputs (an LSTM returning its state) is compared on its first, the
    # sequence, as torch_activations takes an RNN's
    outputs = [model.get_layer(n).output for n in names]
    probe = keras.Model(model.inputs, [o[0] if isinstance(o, (list, tuple)) else o for o in outputs])
    outs = probe([x_nhwc], training=training)
    if not isinstance(outs, (list, tuple)):
        outs = [outs]
    return {n: np.asarray(o) for n, o in zip(names, outs)}


def comparable_layers(torch_model: nn.Module, keras_model: keras.Model) -> set[str]:
    leaves = {n for n, m in torch_model.named_modules() if n and not list(m.children())}
    # a layer called once: one activation to compare (GNMT's decoder layers run once per step)
    return leaves & {layer.name for layer in keras_model.layers if len(layer._inbound_nodes) == 1}


@dataclass
class Divergence:
    layer: str | None
    error: Error | None
    compared: int
    per_layer: list[tuple[str, Error]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "error": self.error.as_dict() if self.error else None,
                "layers_compared": self.compared}


def first_divergence(torch_model: nn.Module, keras_model: keras.Model, x_nhwc: np.ndarray,
                     tol: Tolerance, training: bool = False) -> Divergence:
    """Compare every same-named intermediate activation, in torch execution order, and name the
    first one outside the tolerance (``training``: of a training-mode pass of both twins)."""
    names = comparable_layers(torch_model, keras_model)
    tacts = torch_activations(torch_model, x_nhwc, names, training)
    order = list(tacts)                       # execution order of the hooks
    kacts = keras_activations(keras_model, x_nhwc, order, training)
    per_layer = [(n, compare(tacts[n], kacts[n], tol)) for n in order]
    for n, err in per_layer:
        if not err.passed:
            return Divergence(n, err, len(order), per_layer)
    return Divergence(None, None, len(order), per_layer)
