"""The file a user hands us, read as tensors only (never as code): TF checkpoints, Keras
HDF5, torch state dicts, our safetensors; the formats detected, every file's bytes recorded."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from conformance.lib import dtypes
from conformance.lib.ports import PortError
from twinzoo.files import sha256


FORMATS = ("auto", "tf-checkpoint", "keras-h5", "torch-state-dict", "twinzoo")


EMA_MODES = ("auto", "use", "ignore")


EMA_SUFFIX = "/ExponentialMovingAverage"


@dataclass
class Source:
    path: Path
    format: str
    tensors: dict[str, np.ndarray]          # in the file's order
    files: list[dict[str, Any]]             # every file read: path, bytes, sha256
    meta: dict[str, Any] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)    # each tensor's dtype in the file


def _file_record(path: Path) -> dict[str, Any]:
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": sha256(path)}


def _checkpoint_prefix(path: Path) -> Path | None:
    """The TF checkpoint prefix ``path`` names (the prefix, its ``.index`` or a data shard, or a
    directory whose ``checkpoint`` file or single ``.index`` points at it); None if it is none."""
    if path.is_dir():
        import tensorflow as tf
        latest = tf.train.latest_checkpoint(str(path))
        if latest:
            return Path(latest)
        indexes = sorted(path.glob("*.index"))
        return indexes[0].with_suffix("") if len(indexes) == 1 else None
    if path.suffix == ".index":
        return path.with_suffix("")
    if path.suffix == ".ckpt" and path.is_file():
        return path                    # a V1 (single-file) checkpoint: slim's 2016 releases
    m = re.fullmatch(r"(.+)\.data-\d{5}-of-\d{5}", path.name)
    if m:
        return path.with_name(m[1])
    if Path(f"{path}.index").exists():
        return path
    return None


def detect_format(path: Path) -> str:
    """The format of ``path`` from its name and first bytes (never from unpickling)."""
    if _checkpoint_prefix(path) is not None:
        return "tf-checkpoint"
    if not path.is_file():
        raise PortError(f"{path}: no such file (nor a TF checkpoint prefix, its .index, or a directory "
                        "holding one)")
    with open(path, "rb") as f:
        head = f.read(8)
    if head == b"\x89HDF\r\n\x1a\n":
        return "keras-h5"
    if head[:4] == b"PK\x03\x04" or head[:1] == b"\x80":
        return "torch-state-dict"
    if path.suffix == ".safetensors":
        return "twinzoo"
    if len(head) == 8:
        from conformance.lib import weights
        try:
            weights.read_header(path)
            return "twinzoo"
        except weights.WeightFileError:
            pass
    raise PortError(f"{path}: cannot tell its format (not a TF checkpoint, an HDF5 file, a torch file or "
                    f"safetensors: first bytes {head!r}); pass --format")


def read_tf_checkpoint(path: Path) -> Source:
    prefix = _checkpoint_prefix(path)
    if prefix is None:
        raise PortError(f"{path}: not a TF checkpoint (no '<prefix>.index' beside it)")
    import tensorflow as tf
    try:
        reader = tf.train.load_checkpoint(str(prefix))
        shapes = reader.get_variable_to_shape_map()
        kinds = reader.get_variable_to_dtype_map()
        tensors = {}
        for name in sorted(shapes):
            if name == "_CHECKPOINTABLE_OBJECT_GRAPH" or kinds[name] == tf.string:
                continue
            tensors[name] = np.asarray(reader.get_tensor(name))
    except Exception as exc:  # noqa: BLE001 — TF's reader on a hostile or short file: any failure is the file's
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise PortError(f"{prefix}: unreadable TF checkpoint (truncated or corrupt?): {first}") from None
    if any("/.ATTRIBUTES/" in n for n in tensors):
        raise PortError(f"{prefix}: a TF2 object-based checkpoint (names like "
                        f"{next(n for n in tensors if '/.ATTRIBUTES/' in n)!r}): its names follow Python "
                        "attribute paths, not a layer dialect; save a name-based checkpoint "
                        "(tf.compat.v1.train.Saver) or the Keras model's .weights.h5")
    files = [prefix] if prefix.is_file() else \
        [prefix.with_name(prefix.name + ".index"), *sorted(prefix.parent.glob(prefix.name + ".data-*"))]
    return Source(prefix, "tf-checkpoint", tensors, [_file_record(f) for f in files if f.exists()])


H5_NAMES_SECONDS = 30.0     # reading a list of layer names takes milliseconds


def _decode_names(values: Any) -> list[str]:
    return [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in np.atleast_1d(values)]


def _h5_names(path: Path, node: Any, attr: str) -> list[str]:
    """A legacy Keras name list (``layer_names``, ``weight_names``). Fixed-length strings (Keras
    2) are read here. Variable-length ones (Keras 3's legacy format) are read in a forked child
    with a time limit: HDF5 reads them through pointers into the file's global heap, and a
    damaged pointer can spin the reading process in native code, beyond any exception's reach
    (a fuzzed file did: H5Aread never returned)."""
    from h5py import h5t
    aid = node.attrs.get_id(attr)
    if aid.shape is not None and 0 in aid.shape:
        return []                  # a layer without weights: Keras writes np.asarray([]), float64
    htype = aid.get_type()
    if not isinstance(htype, h5t.TypeStringID):
        raise PortError(f"{path}: attribute {attr!r} of {node.name!r} is not a list of names "
                        f"(HDF5 type class {htype.get_class()})")
    if aid.shape is None or len(aid.shape) > 1:
        raise PortError(f"{path}: attribute {attr!r} of {node.name!r} is not a list of names (shape {aid.shape})")
    if not htype.is_variable_str() or not hasattr(os, "fork"):
        return _decode_names(node.attrs[attr])
    return _names_in_child(path, node, attr)


def _names_in_child(path: Path, node: Any, attr: str) -> list[str]:
    import select
    import signal
    import time
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:                                              # the child: read, answer in JSON, exit
        os.close(read_end)
        try:
            answer = {"names": _decode_names(node.attrs[attr])}
        except Exception as exc:  # noqa: BLE001 — any failure is the file's
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        data = json.dumps(answer).encode()
        while data:
            data = data[os.write(write_end, data):]
        os._exit(0)
    os.close(write_end)
    chunks, deadline = [], time.monotonic() + H5_NAMES_SECONDS
    try:
        while (left := deadline - time.monotonic()) > 0 and select.select([read_end], [], [], left)[0]:
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        else:
            os.kill(pid, signal.SIGKILL)
            raise PortError(f"{path}: reading attribute {attr!r} of {node.name!r} did not finish in "
                            f"{H5_NAMES_SECONDS:g} s: the file is damaged")
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    try:
        answer = json.loads(b"".join(chunks))
    except ValueError:
        raise PortError(f"{path}: reading attribute {attr!r} of {node.name!r} failed (the reader died)") from None
    if "error" in answer:
        raise PortError(f"{path}: attribute {attr!r} of {node.name!r} is unreadable: {answer['error']}")
    return answer["names"]


def read_keras_h5(path: Path) -> Source:
    """Every weight dataset, named ``<layer>/<weight>`` (legacy h5, in each layer's
    ``weight_names`` order) or ``layers/<name>/vars/<i>`` (Keras 3 ``.weights.h5``)."""
    import h5py
    try:
        f = h5py.File(path, "r")
    except Exception as exc:  # noqa: BLE001 — h5py on a damaged file
        raise PortError(f"{path}: unreadable HDF5 file (truncated or corrupt?): {exc}") from None
    tensors: dict[str, np.ndarray] = {}
    try:
        with f:
            group = f["model_weights"] if "model_weights" in f else f
            if "layer_names" in group.attrs:                   # legacy Keras (2.x) layout
                kind = "legacy h5" + (" (whole model: model_weights only, its config is not read)"
                                      if group is not f else " (weights only)")
                for lname in _h5_names(path, group, "layer_names"):
                    g = group[lname]
                    for wname in _h5_names(path, g, "weight_names"):
                        tensors[f"{lname}/{wname}"] = np.asarray(g[wname])
            elif "layers" in f:                                  # Keras 3 .weights.h5
                kind = "Keras 3 .weights.h5"
                for lname, g in f["layers"].items():
                    if "layers" in g:
                        raise PortError(f"{path}: layer {lname!r} nests a model; only flat models "
                                        "(keras.applications') are read")
                    for i in sorted(g["vars"].keys(), key=int) if "vars" in g else ():
                        tensors[f"layers/{lname}/vars/{i}"] = np.asarray(g["vars"][i])
            else:
                raise PortError(f"{path}: an HDF5 file without Keras weights (no 'layer_names' attribute, "
                                "no 'model_weights' or 'layers' group)")
    except PortError:
        raise
    except Exception as exc:  # noqa: BLE001 — h5py on a damaged file: any failure is the file's
        raise PortError(f"{path}: damaged Keras HDF5 file: {type(exc).__name__}: {exc}") from None
    return Source(path, "keras-h5", tensors, [_file_record(path)], {"layout": kind})


def read_torch_state_dict(path: Path) -> Source:
    """``torch.load(weights_only=True)``: tensors and plain containers only; anything else (a
    pickled module, a class, code) is refused by torch's restricted unpickler."""
    import pickle

    import torch
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise PortError(f"{path}: refused: the file holds Python objects beyond tensors, which "
                        f"torch.load(weights_only=True) will not unpickle ({first}); twinzoo never "
                        "executes code from a file: save model.state_dict() instead") from None
    except Exception as exc:  # noqa: BLE001 — torch's restricted reader on a hostile file: any failure is the file's
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise PortError(f"{path}: unreadable torch file (truncated or corrupt?): {first}") from None
    wrapped = None
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "model_state_dict"):
            if isinstance(obj.get(key), dict) and not any(isinstance(v, torch.Tensor) for v in obj.values()):
                obj, wrapped = obj[key], key
                break
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise PortError(f"{path}: not a state dict (expected a mapping of names to tensors, got "
                        f"{type(obj).__name__})")
    tensors, names = {}, {}
    for k, v in obj.items():
        names[k] = dtypes.name_of(v.dtype)
        v = v.detach()
        if names[k] in dtypes.CONVERTED:
            v = v.to(torch.float32)          # numpy has no bfloat16: converted here, recorded by name
        try:
            tensors[k] = v.numpy()
        except (TypeError, RuntimeError):    # quantised or sparse storage: no plain array
            raise PortError(f"{path}: tensor {k!r} is {names[k]} ({v.layout}), not plain dense numbers; "
                            "dequantise or densify it first") from None
    return Source(path, "torch-state-dict", tensors, [_file_record(path)],
                  {"wrapped_in": wrapped} if wrapped else {}, names)


def read_twinzoo(path: Path) -> Source:
    from conformance.lib import weights
    try:
        data = weights.read_bytes(path)
        header = weights.header_of(path, data)
        meta = header.get("__metadata__") or {}
        if meta.get("format") != weights.FORMAT:
            raise PortError(f"{path}: a safetensors file without twinzoo metadata (format {meta.get('format')!r}); "
                            "only twinzoo's own weight files are read in this format")
        weights.file_options(path, header)
        arrays, converted = weights.read_tensors(path, data, header)
    except weights.WeightFileError as exc:
        raise PortError(str(exc)) from None
    names = {k: v["dtype"] for k, v in header.items() if k != "__metadata__"}
    return Source(path, "twinzoo", arrays, [_file_record(path)], dict(meta),
                  {k: dtypes.SAFETENSORS.get(v, v) for k, v in names.items()})


READERS = {"tf-checkpoint": read_tf_checkpoint, "keras-h5": read_keras_h5,
           "torch-state-dict": read_torch_state_dict, "twinzoo": read_twinzoo}


def read_source(path: str | Path, fmt: str = "auto") -> Source:
    path = Path(path).expanduser()
    if fmt not in FORMATS:
        raise PortError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if fmt == "auto":
        fmt = detect_format(path)
    return admit(READERS[fmt](path))


def admit(source: Source) -> Source:
    """The dtype policy (``conformance.lib.dtypes``) on every tensor read: float16/bfloat16/float64
    made float32 (recorded in ``source.dtypes``); non-numeric data refused now; other numbers
    (integers, bool, complex) kept until placed (``refuse_placed``: a TF checkpoint's int64
    ``global_step`` is read and ignored by rule)."""
    for k, arr in source.tensors.items():
        name = source.dtypes.setdefault(k, dtypes.name_of(arr.dtype))
        if not dtypes.is_numeric(arr):
            raise PortError(f"{source.path}: tensor {k!r} is {dtypes.why_refused(name)}")
        if name in dtypes.CONVERTED:
            source.tensors[k] = dtypes.to_float32(arr)
    return source
