"""Saving and loading twin weights without ever executing code from a file.

Format: safetensors (a JSON header of names, dtypes, shapes and offsets, then raw little-endian
tensors: nothing to unpickle). The header's metadata says what the file is for:

=================  ====================================================================
``format``         ``twinzoo-weights/1``
``network``        the catalogue name (``mobilenet_v1_0.25_128``)
``family``         the builder family (``mobilenet_v1``)
``options``        the builder options as sorted JSON (the variant: alpha, classes, ...)
``framework``      ``torch`` (tensors by state-dict name, NCHW layouts) or ``keras``
                   (``<layer>/<weight>``, HWIO layouts)
``twinzoo``        the twinzoo version that wrote it
``shapes``         every tensor's shape as JSON (checked against the model before loading)
=================  ====================================================================

``load_*`` checks, in order, before touching the model: the file is whole (its size equals the
header's claim: a truncated download is named as such), it is a safetensors file at all (a pickle
is refused unread), it is for this network, this variant and this framework, and every tensor
matches the model's names and shapes. Only then is anything assigned. Full ``.keras`` model files
are loaded with ``safe_mode=True`` (no Lambda code deserialised); ``torch.load`` is never used.
Files are written atomically (temporary file + rename): a full disk or Ctrl-C leaves nothing.
"""

from __future__ import annotations

import errno
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from twinzoo import __version__, catalogue

FORMAT = "twinzoo-weights/1"
FRAMEWORKS = ("torch", "keras")
_CHUNK = 1 << 20


class WeightFileError(ValueError):
    """A weight file that cannot be loaded into this model; the message says why."""


# ------------------------------------------------------------------------------------------
# tensors of each twin
# ------------------------------------------------------------------------------------------
def torch_tensors(model: Any) -> dict[str, np.ndarray]:
    """The torch twin's persistent state (parameters and buffers; not ``num_batches_tracked``)."""
    return {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def keras_tensors(model: Any) -> dict[str, np.ndarray]:
    """The Keras twin's weights by ``<layer name>/<weight name>`` (the twins' shared names)."""
    out = {}
    for layer in model.layers:
        for v in layer.weights:
            out[f"{layer.name}/{v.path.rsplit('/', 1)[-1]}"] = np.asarray(v.numpy())
    return out


def _tensors(model: Any, framework: str) -> dict[str, np.ndarray]:
    return torch_tensors(model) if framework == "torch" else keras_tensors(model)


def _options(name: str, opts: dict[str, Any] | None) -> str:
    net = catalogue.get(name)
    merged = {k: v for k, v in net.build_opts(**(opts or {})).items() if k != "input_size"}
    return json.dumps(merged, sort_keys=True, default=str)


# ------------------------------------------------------------------------------------------
# writing
# ------------------------------------------------------------------------------------------
def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same directory and an ``os.replace``; on any error
    (a full disk: ENOSPC) or Ctrl-C the temporary file is removed and the target left as it was."""
    path = Path(path).expanduser()
    if not path.parent.is_dir():
        raise WeightFileError(f"cannot write {path}: directory {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view[:_CHUNK])
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)          # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise WeightFileError(f"cannot write {path}: no space left on the device "
                                  f"(nothing was written)") from exc
        raise


def save(model: Any, name: str, path: str | Path, framework: str, opts: dict[str, Any] | None = None) -> Path:
    """Save a twin's weights to a safetensors file with twinzoo metadata."""
    from safetensors.numpy import save as st_save
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    net = catalogue.get(name)
    tensors = {k: np.ascontiguousarray(v) for k, v in _tensors(model, framework).items()}
    meta = {"format": FORMAT, "network": net.name, "family": net.family, "options": _options(name, opts),
            "framework": framework, "twinzoo": __version__,
            "shapes": json.dumps({k: list(v.shape) for k, v in tensors.items()}, sort_keys=True)}
    path = Path(path)
    atomic_write_bytes(path, st_save(tensors, metadata=meta))
    return path


def save_torch(model: Any, name: str, path: str | Path, opts: dict[str, Any] | None = None) -> Path:
    return save(model, name, path, "torch", opts)


def save_keras(model: Any, name: str, path: str | Path, opts: dict[str, Any] | None = None) -> Path:
    return save(model, name, path, "keras", opts)


# ------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------
def read_header(path: str | Path) -> dict[str, Any]:
    """The safetensors header of ``path``, after proving the file is whole. Reads only the
    header bytes; never unpickles anything."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise WeightFileError(f"{path}: {size} bytes is too short for a safetensors file "
                                      "(truncated or empty)")
            (n,) = struct.unpack("<Q", head)
            if n > size - 8:
                if head[:2] == b"\x80\x02" or head[:1] == b"\x80" or head[:2] == b"PK":
                    raise WeightFileError(f"{path}: not a safetensors file (it looks like a pickle / "
                                          "torch.save zip); twinzoo never unpickles weight files")
                raise WeightFileError(f"{path}: not a safetensors file, or truncated inside its header "
                                      f"(header claims {n} bytes, the file has {size})")
            raw = fh.read(n)
    except OSError as exc:
        raise WeightFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WeightFileError(f"{path}: not a safetensors file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise WeightFileError(f"{path}: not a safetensors file (its header is not a JSON object)")
    ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"]
    expected = 8 + n + max(ends, default=0)
    if size < expected:
        raise WeightFileError(f"{path}: truncated: the header describes {expected:,} bytes, the file "
                              f"has {size:,} ({expected - size:,} missing)")
    if size > expected:
        raise WeightFileError(f"{path}: {size - expected:,} unexpected bytes after the tensors")
    return header


def _check_metadata(path: Path, meta: dict[str, str], name: str, framework: str,
                    opts: dict[str, Any] | None) -> None:
    if meta.get("format") != FORMAT:
        raise WeightFileError(f"{path}: not a twinzoo weight file (metadata format "
                              f"{meta.get('format')!r}, expected {FORMAT!r})")
    net = catalogue.get(name)
    file_net = meta.get("network")
    file_opts = json.loads(meta.get("options", "{}"))
    want_opts = json.loads(_options(name, opts))
    if file_net != net.name:
        same_family = meta.get("family") == net.family
        kind = f"another variant of {net.family}" if same_family else "another network"
        diff = {k: (file_opts.get(k), want_opts.get(k)) for k in sorted(set(file_opts) | set(want_opts))
                if file_opts.get(k) != want_opts.get(k)}
        detail = "; options differ: " + ", ".join(f"{k}: file {a!r}, model {b!r}" for k, (a, b) in diff.items()) \
            if same_family and diff else ""
        raise WeightFileError(f"{path}: weights of {file_net!r}, {kind}, not {net.name!r}{detail}")
    if file_opts != want_opts:
        diff = ", ".join(f"{k}: file {file_opts.get(k)!r}, model {want_opts.get(k)!r}"
                         for k in sorted(set(file_opts) | set(want_opts)) if file_opts.get(k) != want_opts.get(k))
        raise WeightFileError(f"{path}: weights of {net.name} built with other options (another variant): {diff}")
    if meta.get("framework") != framework:
        raise WeightFileError(f"{path}: holds {meta.get('framework')} weights (layouts of that framework); "
                              f"this is the {framework} twin: load it into the {meta.get('framework')} twin "
                              "and use conformance.transfer")


def _check_tensors(path: Path, file_shapes: dict[str, tuple[int, ...]], model_tensors: dict[str, np.ndarray]) -> None:
    problems = []
    for k in sorted(model_tensors.keys() - file_shapes.keys()):
        problems.append(f"missing {k!r} {tuple(model_tensors[k].shape)}")
    for k in sorted(file_shapes.keys() - model_tensors.keys()):
        problems.append(f"unexpected {k!r} {file_shapes[k]}")
    for k in sorted(file_shapes.keys() & model_tensors.keys()):
        if tuple(file_shapes[k]) != tuple(model_tensors[k].shape):
            problems.append(f"{k!r}: file {file_shapes[k]}, model {tuple(model_tensors[k].shape)}")
    if problems:
        shown = "; ".join(problems[:8]) + (f"; ... {len(problems) - 8} more" if len(problems) > 8 else "")
        raise WeightFileError(f"{path}: {len(problems)} tensor(s) do not fit the model: {shown}")


def load(model: Any, name: str, path: str | Path, framework: str, opts: dict[str, Any] | None = None) -> Any:
    """Load a safetensors weight file into a twin after every check (see the module doc);
    raises ``WeightFileError`` naming the problem, with the model left untouched."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file
    path = Path(path)
    header = read_header(path)
    _check_metadata(path, header.get("__metadata__") or {}, name, framework, opts)
    shapes = {k: tuple(v["shape"]) for k, v in header.items() if k != "__metadata__"}
    current = _tensors(model, framework)
    _check_tensors(path, shapes, current)
    try:
        arrays = load_file(str(path))
    except SafetensorError as exc:
        raise WeightFileError(f"{path}: unreadable safetensors data: {exc}") from None
    _assign(model, framework, arrays)
    return model


def _assign(model: Any, framework: str, arrays: dict[str, np.ndarray]) -> None:
    if framework == "torch":
        import torch
        state = {k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}
        model.load_state_dict(state, strict=False)   # names already proven equal; strict=False only
        return                                       # because num_batches_tracked is not stored
    for layer in model.layers:
        for v in layer.weights:
            v.assign(arrays[f"{layer.name}/{v.path.rsplit('/', 1)[-1]}"])


def load_torch(model: Any, name: str, path: str | Path, opts: dict[str, Any] | None = None) -> Any:
    return load(model, name, path, "torch", opts)


def load_keras(model: Any, name: str, path: str | Path, opts: dict[str, Any] | None = None) -> Any:
    return load(model, name, path, "keras", opts)


def load_keras_model(path: str | Path) -> Any:
    """A whole ``.keras`` model, loaded with ``safe_mode=True``: a file carrying code (a Lambda
    layer's pickled function) is refused with a ``WeightFileError`` instead of executed."""
    import keras
    path = Path(path)
    if path.suffix != ".keras":
        raise WeightFileError(f"{path}: only .keras archives are loaded (no legacy HDF5 / SavedModel)")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except ValueError as exc:
        if "safe_mode" in str(exc) or "Lambda" in str(exc) or "lambda" in str(exc):
            raise WeightFileError(f"{path}: refused: the model carries code (e.g. a Lambda layer) and "
                                  "twinzoo loads models with safe_mode=True") from None
        raise WeightFileError(f"{path}: cannot load: {exc}") from None
