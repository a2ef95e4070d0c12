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
matches the model's names and shapes, and every dtype is admitted by ``conformance.lib.dtypes``
(float16/bfloat16/float64 converted to float32; anything else refused). Only then is anything
assigned. Full ``.keras`` model files
are loaded with ``safe_mode=True`` (no Lambda code deserialised); ``torch.load`` is never used.
Files are written atomically (temporary file + rename): a full disk or Ctrl-C leaves nothing.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from conformance.lib import dtypes
from twinzoo import __version__, catalogue, files

FORMAT = "twinzoo-weights/1"
FRAMEWORKS = ("torch", "keras")


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
    """``twinzoo.files.atomic_write``, its failures as ``WeightFileError``: nothing is left behind."""
    path = Path(path).expanduser()
    if not path.parent.is_dir():
        raise WeightFileError(f"cannot write {path}: directory {path.parent} does not exist")
    try:
        files.atomic_write(path, data)
    except files.WriteFailed as exc:
        raise WeightFileError(str(exc)) from None


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
    """The safetensors header of ``path``, after proving the file is whole and the header well
    formed. Reads only the header bytes; never unpickles anything."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
            n = _header_length(path, head, size)
            raw = fh.read(n)
    except OSError as exc:
        raise WeightFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    return _parse_header(path, raw, n, size)


def read_bytes(path: str | Path) -> bytes:
    """The whole file, read once: what is checked (its sha256) is what is parsed."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise WeightFileError(f"cannot read {path}: {exc.strerror or exc}") from None


def header_of(path: Path, data: bytes) -> dict[str, Any]:
    """``read_header`` on bytes already in memory."""
    n = _header_length(path, data[:8], len(data))
    return _parse_header(path, data[8:8 + n], n, len(data))


def _header_length(path: Path, head: bytes, size: int) -> int:
    if len(head) < 8:
        raise WeightFileError(f"{path}: {size} bytes is too short for a safetensors file (truncated or empty)")
    (n,) = struct.unpack("<Q", head)
    if n > size - 8:
        if head[:1] == b"\x80" or head[:2] == b"PK":
            raise WeightFileError(f"{path}: not a safetensors file (it looks like a pickle / "
                                  "torch.save zip); twinzoo never unpickles weight files")
        raise WeightFileError(f"{path}: not a safetensors file, or truncated inside its header "
                              f"(header claims {n} bytes, the file has {size})")
    return n


def _entry_problem(entry: Any) -> str | None:
    """What is wrong with one tensor's header entry, or None."""
    if not isinstance(entry, dict):
        return f"its entry is a {type(entry).__name__}, not an object"
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str):
        return f"dtype {dtype!r} is not a string"
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        return f"shape {shape!r} is not a list of non-negative integers"
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int and o >= 0 for o in offsets)
            and offsets[0] <= offsets[1]):
        return f"data_offsets {offsets!r} is not [begin, end] with integers 0 <= begin <= end"
    return None


def _parse_header(path: Path, raw: bytes, n: int, size: int) -> dict[str, Any]:
    try:
        header = files.json_object(raw)
    except files.NotAnObject as exc:
        raise WeightFileError(f"{path}: not a safetensors file (its header is {exc})") from None
    meta = header.get("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise WeightFileError(f"{path}: malformed safetensors header: __metadata__ is not an object of strings")
    for k, v in header.items():
        problem = None if k == "__metadata__" else _entry_problem(v)
        if problem:
            raise WeightFileError(f"{path}: malformed safetensors header: tensor {k!r}: {problem}")
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
    expected = 8 + n + max(ends, default=0)
    if size < expected:
        raise WeightFileError(f"{path}: truncated: the header describes {expected:,} bytes, the file "
                              f"has {size:,} ({expected - size:,} missing)")
    if size > expected:
        raise WeightFileError(f"{path}: {size - expected:,} unexpected bytes after the tensors")
    return header


def json_field(path: Path, meta: dict[str, str], key: str, default: str) -> Any:
    """A metadata field that holds JSON (``options``, ``shapes``), parsed, or a WeightFileError."""
    try:
        return json.loads(meta.get(key, default))
    except (json.JSONDecodeError, RecursionError):
        raise WeightFileError(f"{path}: malformed twinzoo metadata: {key!r} is not JSON") from None


def file_options(path: Path, header: dict[str, Any]) -> dict[str, Any]:
    """The builder options a twinzoo weight file was written with."""
    opts = json_field(path, header.get("__metadata__") or {}, "options", "{}")
    if not isinstance(opts, dict):
        raise WeightFileError(f"{path}: malformed twinzoo metadata: 'options' is not a JSON object")
    return opts


def check_dtypes(path: Path, header: dict[str, Any]) -> None:
    """Every tensor's dtype admitted by the policy, or a WeightFileError naming the first that is not."""
    for k, v in header.items():
        if k != "__metadata__":
            try:
                dtypes.check(k, dtypes.SAFETENSORS.get(v["dtype"], v["dtype"]), f"{path}: ")
            except dtypes.DtypeRefused as exc:
                raise WeightFileError(str(exc)) from None


def read_tensors(path: Path, data: bytes, header: dict[str, Any]) -> tuple[dict[str, np.ndarray], list[dict[str, str]]]:
    """Every tensor of a safetensors file as float32 under the dtype policy (``conformance.lib.dtypes``),
    with the conversions made. Refuses any tensor the policy refuses before decoding anything."""
    import torch
    from safetensors.torch import load as st_load
    check_dtypes(path, header)
    try:
        raw = st_load(data)
    except Exception as exc:  # noqa: BLE001 — the library's parser on hostile bytes: any failure is the file's
        raise WeightFileError(f"{path}: unreadable safetensors data: {exc}") from None
    arrays, converted = {}, []
    for k, t in raw.items():
        name = dtypes.name_of(t.dtype)
        arrays[k] = t.to(torch.float32).numpy()
        if (c := dtypes.conversion(k, name)) is not None:
            converted.append(c)
    return arrays, converted


def _check_metadata(path: Path, meta: dict[str, str], name: str, framework: str,
                    opts: dict[str, Any] | None) -> None:
    if meta.get("format") != FORMAT:
        raise WeightFileError(f"{path}: not a twinzoo weight file (metadata format "
                              f"{meta.get('format')!r}, expected {FORMAT!r})")
    net = catalogue.get(name)
    file_net = meta.get("network")
    file_opts = file_options(path, {"__metadata__": meta})
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
                              "and use conformance.lib.transfer")


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


def load(model: Any, name: str, path: str | Path, framework: str, opts: dict[str, Any] | None = None,
         data: bytes | None = None) -> Any:
    """Load a safetensors weight file into a twin after every check (see the module doc);
    raises ``WeightFileError`` naming the problem, with the model left untouched. ``data``: the
    file's bytes when the caller has read (and checked) them already."""
    path = Path(path)
    data = read_bytes(path) if data is None else data
    header = header_of(path, data)
    _check_metadata(path, header.get("__metadata__") or {}, name, framework, opts)
    check_dtypes(path, header)
    shapes = {k: tuple(v["shape"]) for k, v in header.items() if k != "__metadata__"}
    current = _tensors(model, framework)
    _check_tensors(path, shapes, current)
    arrays, _ = read_tensors(path, data, header)
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


def load_torch(model: Any, name: str, path: str | Path, opts: dict[str, Any] | None = None,
              data: bytes | None = None) -> Any:
    return load(model, name, path, "torch", opts, data)


def load_keras(model: Any, name: str, path: str | Path, opts: dict[str, Any] | None = None,
              data: bytes | None = None) -> Any:
    return load(model, name, path, "keras", opts, data)


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
