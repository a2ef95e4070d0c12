"""The one catalogue of the zoo: every network and variant, how to build each twin, the input it
expects, and the published figures it is held to (each with its source and counting convention).

Each family's entries live in its own module of ``twinzoo.zoo`` (the family's name, as in
``torch_models/`` and ``keras_models/``), registered on its ``FAMILY``; this module finds every
such module (no list to edit: a new family is a new file) and orders the families by
``FAMILY.order``. The record types are ``twinzoo.network``'s.

This module imports no framework: ``torch_models.build`` and ``keras_models.build`` resolve the
builders named here, and ``conformance`` lists and checks the entries.

Every figure states its counting convention: ``twinzoo.network`` defines them.
"""

from __future__ import annotations

import importlib
import pkgutil

from twinzoo import zoo
from twinzoo.network import (PARAM_CONVENTIONS, PARAM_ROLES, TRAIN_OUTPUT_TOLERANCE, Family, Figure, Network,
                             Tolerance, train_output_tolerance, train_tolerance)
from twinzoo.registry import Registry, UnknownNameError

__all__ = ["PARAM_CONVENTIONS", "PARAM_ROLES", "TRAIN_OUTPUT_TOLERANCE", "Figure", "Network", "Tolerance",
           "UnknownModelError", "families", "get", "names", "networks", "train_output_tolerance", "train_tolerance"]


class UnknownModelError(UnknownNameError):
    """An unknown network name; the message lists the known ones."""


def families() -> dict[str, Family]:
    """Every module of ``twinzoo.zoo`` by family name, in catalogue order."""
    found = {m.name: importlib.import_module(f"{zoo.__name__}.{m.name}").FAMILY
             for m in pkgutil.iter_modules(zoo.__path__)}
    by_order: dict[int, str] = {}
    for name, fam in found.items():
        if fam.order in by_order:
            raise ValueError(f"twinzoo.zoo.{name} and twinzoo.zoo.{by_order[fam.order]} share FAMILY.order {fam.order}")
        by_order[fam.order] = name
    return dict(sorted(found.items(), key=lambda kv: kv[1].order))


_REGISTRY: Registry[Network] = Registry("model", error=UnknownModelError,
                                        items=((n.name, n) for fam in families().values() for n in fam.networks))


def get(name: str) -> Network:
    return _REGISTRY[name]


def names(task: str | None = None) -> list[str]:
    return [n for n, net in _REGISTRY.items() if task is None or net.task == task]


def networks() -> list[Network]:
    return _REGISTRY.values()
