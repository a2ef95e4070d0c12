"""Checking a user's input batch against a network before either twin runs it.

Framework-free (numpy only): ``torch_models.predict`` and ``keras_models.predict`` call
``check_input`` so a wrong rank, shape, channel order, dtype or a NaN/Inf is reported with what
was given, what the network expects and what to do, instead of a framework error deep inside
a conv (or, worse, a silently wrong output: an NCHW batch of 3x3 images fits an NHWC twin).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from twinzoo.catalogue import Network

LAYOUTS = ("NHWC", "NCHW")


class InputError(ValueError):
    """An input batch a network cannot take; the message names the problem and the fix."""


def as_array(x: Any) -> np.ndarray:
    """A numpy view of ``x`` (numpy array, torch tensor, TF tensor or nested lists)."""
    if hasattr(x, "detach"):                       # torch.Tensor
        x = x.detach().cpu().numpy()
    elif hasattr(x, "numpy") and not isinstance(x, np.ndarray):   # tf.Tensor
        x = x.numpy()
    return np.asarray(x)


def _check_rank(net: Network, x: np.ndarray, layout: str) -> None:
    if x.ndim == 4:
        return
    hint = ""
    if x.ndim == 3:
        hint = f" It looks like one image without the batch axis: pass x[None] (1, {', '.join(layout[1:])})."
    raise InputError(f"{net.name}: input has rank {x.ndim} (shape {tuple(x.shape)}); expected a rank-4 "
                     f"{layout} batch (N, {', '.join(layout[1:])}).{hint}")


def _check_dtype(net: Network, x: np.ndarray) -> None:
    if np.issubdtype(x.dtype, np.floating):
        return
    lo, hi = net.input_range
    raise InputError(f"{net.name}: input dtype is {x.dtype}; expected floating point (float32) in "
                     f"[{lo:g}, {hi:g}]" + (" — 8-bit pixels must be scaled first" if x.dtype == np.uint8 else ""))


def _check_layout(net: Network, x: np.ndarray, layout: str) -> None:
    c = net.channels
    c_axis, other = (3, 1) if layout == "NHWC" else (1, 3)
    if x.shape[c_axis] == c:
        return
    if x.shape[other] == c:
        guess = "NCHW (channels first)" if layout == "NHWC" else "NHWC (channels last)"
        fix = "x.transpose(0, 2, 3, 1)" if layout == "NHWC" else "x.transpose(0, 3, 1, 2)"
        raise InputError(f"{net.name}: input shape {tuple(x.shape)} looks like {guess}; this twin takes "
                         f"{layout} with {c} channels: use {fix}")
    raise InputError(f"{net.name}: input shape {tuple(x.shape)} has {x.shape[c_axis]} channels on the "
                     f"{layout} channel axis; the network takes {c}")


def _check_size(net: Network, x: np.ndarray, layout: str, size: tuple[int, int] | None) -> None:
    hw = tuple(x.shape[1:3]) if layout == "NHWC" else tuple(x.shape[2:4])
    if x.shape[0] == 0 or 0 in hw:
        raise InputError(f"{net.name}: input shape {tuple(x.shape)} is empty")
    m = net.size_multiple
    if m > 1 and any(side % m for side in hw):
        raise InputError(f"{net.name}: input is {hw[0]}x{hw[1]}; its sides must be multiples of {m} "
                         f"(the downsampled maps must line up with their skip connections)")
    want = tuple(net.input_size) if net.fixed_size else (tuple(size) if size and None not in size else None)
    if want is not None and hw != want:
        why = "its fully connected head is sized for" if net.fixed_size else "the model was built for"
        raise InputError(f"{net.name}: input is {hw[0]}x{hw[1]}; {why} {want[0]}x{want[1]}")


def _check_finite(net: Network, x: np.ndarray) -> np.ndarray:
    """``x`` cast to the network's dtype, refused when that holds a NaN or Inf: a float64 value
    beyond float32's range is finite as given and Inf in the network."""
    with np.errstate(over="ignore"):
        cast = x.astype(net.input_dtype, copy=False)
    bad = ~np.isfinite(cast)
    if not bad.any():
        return cast
    n_nan, n_inf = int(np.isnan(cast).sum()), int(np.isinf(cast).sum())
    overflow = int((np.isinf(cast) & np.isfinite(x)).sum())
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    beyond = (f"; {overflow} of them finite as {x.dtype} but beyond {net.input_dtype}'s range, in which the "
              "network computes") if overflow else ""
    raise InputError(f"{net.name}: input has {n_nan} NaN and {n_inf} Inf value(s) of {x.size}; "
                     f"first at index {first}{beyond}")


def _check_sequence(net: Network, x: np.ndarray, size: tuple[int | None, int | None] | None) -> None:
    """A sequence network's batch: (N, steps, features) in both twins."""
    steps, features = net.input_size
    if x.ndim != 3:
        hint = " It looks like one sequence without the batch axis: pass x[None]." if x.ndim == 2 else ""
        raise InputError(f"{net.name}: input has rank {x.ndim} (shape {tuple(x.shape)}); expected a rank-3 "
                         f"batch (N, steps, features) of {features}-d vectors.{hint}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise InputError(f"{net.name}: input shape {tuple(x.shape)} is empty")
    if x.shape[2] != features:
        hint = " (steps and features swapped? use x.transpose(0, 2, 1))" if x.shape[1] == features else ""
        raise InputError(f"{net.name}: input shape {tuple(x.shape)} has {x.shape[2]}-d steps; the network takes "
                         f"{features}-d vectors{hint}")
    want = size[0] if size else None
    if want is not None and x.shape[1] != want:
        raise InputError(f"{net.name}: input has {x.shape[1]} steps; the model was built for {want}")


def _check_tokens(net: Network, x: np.ndarray, size: tuple[int | None, int | None] | None) -> None:
    """A translation network's batch: (N, steps) integer token ids inside the vocabulary."""
    vocab = net.input_size[1]
    if x.ndim != 2:
        hint = " It looks like one sentence without the batch axis: pass x[None]." if x.ndim == 1 else ""
        raise InputError(f"{net.name}: input has rank {x.ndim} (shape {tuple(x.shape)}); expected a rank-2 "
                         f"batch (N, steps) of token ids.{hint}")
    if not np.issubdtype(x.dtype, np.integer):
        raise InputError(f"{net.name}: input dtype is {x.dtype}; expected integer token ids (int32) in [0, {vocab}) "
                         f"(a sentence's ids: conformance.lib.text.encode)")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise InputError(f"{net.name}: input shape {tuple(x.shape)} is empty")
    bad = (x < 0) | (x >= vocab)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputError(f"{net.name}: {int(bad.sum())} token id(s) outside the vocabulary [0, {vocab}); "
                         f"first {int(x[first])} at index {first}")
    want = size[0] if size else None
    if want is not None and x.shape[1] != want:
        raise InputError(f"{net.name}: input has {x.shape[1]} tokens; the model was built for {want}")


def check_input(net: Network, x: Any, layout: str = "NHWC", size: tuple[int, int] | None = None) -> np.ndarray:
    """Validate a batch for ``net`` in ``layout`` (the Keras twin takes NHWC, the torch twin NCHW;
    a sequence network (N, steps, features) in both); ``size`` is the (H, W) or (steps, features) a
    Keras twin was built for, if fixed. Returns the batch as an array;
    raises ``InputError`` naming the problem."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    arr = as_array(x)
    if net.layout == "tokens":
        _check_tokens(net, arr, size)
        return arr
    if net.layout == "sequence":
        _check_sequence(net, arr, size)
        _check_dtype(net, arr)
    else:
        _check_rank(net, arr, layout)
        _check_dtype(net, arr)
        _check_layout(net, arr, layout)
        _check_size(net, arr, layout, size)
    _check_finite(net, arr)
    return arr
