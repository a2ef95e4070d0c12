"""The machinery of the planted bugs: in-memory patches of the twins' builders and of the weight
transfer, the wrong layout rules converters apply, and the ``Mutation`` record and registry."""


from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
from torch import nn

import keras

import keras_models
import torch_models
from conformance.lib import transfer


# ------------------------------------------------------------------------------------------
# in-memory patching
# ------------------------------------------------------------------------------------------
class Patches:
    """Attribute patches applied in order and undone in reverse order (a tiny monkeypatch)."""

    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any]] = []

    def setattr(self, obj: Any, name: str, value: Any) -> None:
        self._undo.append((obj, name, getattr(obj, name)))
        setattr(obj, name, value)

    def undo(self) -> None:
        while self._undo:
            obj, name, old = self._undo.pop()
            setattr(obj, name, old)


def edit_torch(p: Patches, network: str, edit: Callable[[nn.Module], None]) -> None:
    """Every torch twin of ``network`` built from now on (random-weight, meta-device counting,
    fold and round-trip copies alike) gets ``edit`` applied right after construction. A folded
    twin is built by folding an unfolded one into a new module, so the folded result is edited
    too (else a bug planted in ``icnet`` would vanish in its random-weight twin)."""
    real_build, real_fold = torch_models.build, torch_models.fold_batch_norm

    def build(name: str, **opts: Any) -> nn.Module:
        model = real_build(name, **opts)
        if name == network:
            edit(model)
        return model

    def fold_batch_norm(name: str, model: nn.Module) -> nn.Module:
        folded = real_fold(name, model)
        if name == network:
            edit(folded)
        return folded
    p.setattr(torch_models, "build", build)
    p.setattr(torch_models, "fold_batch_norm", fold_batch_norm)


def edit_keras(p: Patches, network: str, edit: Callable[[keras.Model], None]) -> None:
    """Every Keras twin of ``network`` built from now on gets ``edit`` applied after construction."""
    real = keras_models.build

    def build(name: str, input_size: Any = None, **opts: Any) -> keras.Model:
        model = real(name, input_size=input_size, **opts)
        if name == network:
            edit(model)
        return model
    p.setattr(keras_models, "build", build)


Converted = dict[str, np.ndarray]


def edit_transfer(p: Patches, layer: str, edit: Callable[[Converted, Any], Converted],
                  back: Callable[[Converted, Any], Converted] | None = None) -> None:
    """A converter's wrong layout rule for layer ``layer``, in both directions as a converter
    written with it would apply it: torch -> Keras passes the converted Keras-layout weights
    through ``edit``, Keras -> torch passes the Keras weights through ``back`` (the inverse of
    ``edit``) before the layout rule. The Keras -> torch round trip then stays bit-exact, and
    only the outputs can show the bug. ``back=None`` models a converter that skips the layer in
    that direction too (the torch twin keeps the values it had)."""
    real = transfer.rule_for

    def rule_for(module: nn.Module) -> transfer.Rule:
        rule = real(module)

        def to_keras(t: Converted, m: nn.Module, klayer: Any) -> Converted:
            out = rule.to_keras(t, m, klayer)
            return edit(out, klayer) if klayer.name == layer else out

        def to_torch(k: Converted, m: nn.Module, klayer: Any) -> Converted:
            if klayer.name != layer:
                return rule.to_torch(k, m, klayer)
            if back is None:
                return {n: t.detach().cpu().numpy() for n, t in transfer.own_tensors(m).items()}
            return rule.to_torch(back(k, klayer), m, klayer)
        return transfer.Rule(rule.name, rule.keras_types, to_keras, to_torch)
    p.setattr(transfer, "rule_for", rule_for)


# Wrong layout rules of a converter, on Keras-layout weights. Each is its own inverse, so the
# converter applies the same one in both directions.
def swap_kh_kw(w: Converted, layer: Any) -> Converted:
    return {**w, "kernel": np.ascontiguousarray(w["kernel"].transpose(1, 0, 2, 3))}


def rotate_180(w: Converted, layer: Any) -> Converted:
    return {**w, "kernel": np.ascontiguousarray(w["kernel"][::-1, ::-1])}


def reverse_input_channels(w: Converted, layer: Any) -> Converted:
    return {**w, "kernel": np.ascontiguousarray(w["kernel"][:, :, ::-1, :])}


def swap_gamma_beta(w: Converted, layer: Any) -> Converted:
    return {**w, "gamma": w["beta"], "beta": w["gamma"]}


def replace_module(model: nn.Module, path: str, new: nn.Module) -> None:
    parent, _, leaf = path.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, leaf, new)


def override_call(layer: Any, call: Callable[..., Any]) -> None:
    """Replace one Keras layer's ``call`` (instance attribute: only this layer changes)."""
    object.__setattr__(layer, "call", call)


# ------------------------------------------------------------------------------------------
# the catalogue entry
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mutation:
    name: str
    network: str
    twin: str                       # "torch" | "keras" | "transfer" | "both" (a table both twins walk)
    layer: str | None               # the layer a localising check must name
    description: str                # what is planted
    models: str                     # the real-world bug it models, with a source
    expect: tuple[str, ...]         # checks that must flag it
    apply: Callable[[Patches], None] = field(repr=False)
    invisible: dict[str, str] = field(default_factory=dict)   # check -> why it cannot see this

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        p = Patches()
        try:
            self.apply(p)
            yield
        finally:
            p.undo()


MUTATIONS: list[Mutation] = []


def mutation(name: str, network: str, twin: str, layer: str | None, description: str, models: str,
             expect: tuple[str, ...], invisible: dict[str, str] | None = None):
    """Decorator registering the decorated ``apply(patches)`` as a catalogue entry."""
    def register(apply: Callable[[Patches], None]) -> Callable[[Patches], None]:
        if any(m.name == name for m in MUTATIONS):
            raise ValueError(f"mutation {name!r} registered twice")
        MUTATIONS.append(Mutation(name, network, twin, layer, description, models, expect, apply,
                                  invisible or {}))
        return apply
    return register


EVAL_ONLY = "compares inference (eval-mode) outputs only"
SAME_STRUCTURE = "same layers and shapes: counts cannot differ"
SAME_OUTPUT = "the output is unchanged (only the cost differs)"
COUNTS = {"params": SAME_STRUCTURE, "macs": SAME_STRUCTURE}


LAYER_IN_MESSAGE = re.compile(r"layer '([^']+)'")


def layer_in_message(message: str) -> str | None:
    """The first layer a TransferError-style message names (``layer 'x'``)."""
    m = LAYER_IN_MESSAGE.search(message)
    return m.group(1) if m else None
