"""Keras 3 (TensorFlow backend) twins of the AI Benchmark networks.

``build(name, input_size=None, **opts)`` builds any network of the catalogue
(``twinzoo.catalogue``) as a functional ``keras.Model``; each family lives in a file of the same
name as its torch twin in ``torch_models/``, with the same block names in the same order.
"""

from __future__ import annotations

import importlib
from typing import Any

from twinzoo import environment

environment.prepare()

from twinzoo import catalogue  # noqa: E402
from twinzoo.catalogue import UnknownModelError  # noqa: E402
from twinzoo.options import check_options  # noqa: E402

__all__ = ["build", "list_models", "predict", "UnknownModelError"]


def list_models(task: str | None = None) -> list[str]:
    return catalogue.names(task)


def build(name: str, input_size: tuple[int | None, int | None] | None = None, **opts: Any):
    """Build the Keras twin of catalogue network ``name`` for inputs of ``input_size`` (H, W);
    default the catalogue's canonical size. ``(None, None)`` builds a fully convolutional network
    for any size."""
    net = catalogue.get(name)
    if input_size is None:
        input_size = net.input_size
    if net.fixed_size and tuple(input_size) != tuple(net.input_size):
        raise ValueError(f"{name} has a fully connected head sized for {net.input_size}; "
                         f"input_size {tuple(input_size)} does not fit")
    module = importlib.import_module(f"keras_models.{net.family}")
    builder = getattr(module, net.builder)
    kwargs = net.build_opts(**opts)
    if net.fixed_size:
        kwargs["input_size"] = net.input_size
    check_options(name, builder, kwargs, framework_only=("input_shape",))
    return builder(input_shape=net.batch_shape(input_size)[1:], **kwargs)


def predict(name: str, model, x):
    """Run the Keras twin ``model`` of catalogue network ``name`` on an NHWC float batch ``x``
    after ``twinzoo.validate.check_input`` (against the size the model was built for): a wrong
    rank, channel order, size, dtype or a NaN/Inf raises ``InputError`` naming it."""
    import numpy as np

    from twinzoo.validate import check_input
    net = catalogue.get(name)
    shape = model.inputs[0].shape
    arr = check_input(net, x, layout="NHWC", size=(shape[1], shape[2] if len(shape) > 2 else None))
    return model(np.ascontiguousarray(arr, dtype=net.input_dtype), training=False)
