"""PyTorch twins of the AI Benchmark networks.

``build(name, **opts)`` builds any network of the catalogue (``twinzoo.catalogue``); each family
lives in a file of the same name as its Keras twin in ``keras_models/``.
"""

from __future__ import annotations

import importlib
from typing import Any

from twinzoo import catalogue
from twinzoo.catalogue import UnknownModelError
from twinzoo.options import check_options

__all__ = ["build", "fold_batch_norm", "has_folded_form", "list_models", "predict", "UnknownModelError"]


def list_models(task: str | None = None) -> list[str]:
    return catalogue.names(task)


def build(name: str, **opts: Any):
    """Build the torch twin of catalogue network ``name`` (eval mode). ``opts`` override the
    catalogue's builder options; ``input_size`` is accepted (and ignored where the network is
    fully convolutional) so the same call builds both twins."""
    net = catalogue.get(name)
    module = importlib.import_module(f"torch_models.{net.family}")
    builder = getattr(module, net.builder)
    kwargs = net.build_opts(**opts)
    if net.fixed_size:
        kwargs.setdefault("input_size", net.input_size)
    else:
        kwargs.pop("input_size", None)
    check_options(name, builder, kwargs)
    model = builder(**kwargs)
    model.eval()
    return model


def fold_batch_norm(name: str, model):
    """The BN-folded form of ``model`` (an unfolded twin of catalogue network ``name``), by its
    family's ``fold_batch_norm``; a family without one has no folded form."""
    net = catalogue.get(name)
    module = importlib.import_module(f"torch_models.{net.family}")
    fold = getattr(module, "fold_batch_norm", None)
    if fold is None:
        raise ValueError(f"{name}: the {net.family} family has no folded form (no fold_batch_norm)")
    return fold(model).eval()


def has_folded_form(name: str) -> bool:
    net = catalogue.get(name)
    return hasattr(importlib.import_module(f"torch_models.{net.family}"), "fold_batch_norm")


def predict(name: str, model, x):
    """Run the torch twin ``model`` of catalogue network ``name`` on an NCHW float batch ``x``
    (array or tensor), after ``twinzoo.validate.check_input``: a wrong rank, channel order,
    size, dtype or a NaN/Inf raises ``InputError`` naming it. Eval mode, no gradients."""
    import numpy as np
    import torch

    from twinzoo.validate import check_input
    net = catalogue.get(name)
    arr = check_input(net, x, layout="NCHW")
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(arr, dtype=net.input_dtype)))
