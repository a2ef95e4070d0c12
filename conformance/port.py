"""``python -m conformance port``: a user's checkpoint into both twins, with a certificate.

    python -m conformance port --model NAME --from PATH [--format auto|tf-checkpoint|keras-h5|
                               torch-state-dict|twinzoo] [--ema auto|use|ignore] [--size HxW] --out DIR

The file is read as tensors only, never as code:

=====================  ==========================================================================
``tf-checkpoint``      TF1/TF2 name-based checkpoints (``tf.train.load_checkpoint``: the index and
                       data files, no graph): TF-slim's released checkpoints, FaceNet's, DPED's and
                       any checkpoint saved from an AI Benchmark graph, each read by its naming
                       dialect (``conformance.lib.graphs``'s rules, the same that map the graphs)
``keras-h5``           keras.applications weight files: legacy ``.h5`` (weights only, or a whole
                       model's ``model_weights``; its config is never read) and Keras 3
                       ``.weights.h5``, read with h5py into keras.applications' architecture as
                       Keras itself builds it, then into our twin by position (``witnesses``)
``torch-state-dict``   ``torch.load(weights_only=True)`` only: our torch twin's names, or
                       torchvision's (paired by position as the torchvision witness pairs them)
``twinzoo``            our own safetensors (``conformance.lib.weights``: network, variant, framework
                       in its metadata)
=====================  ==========================================================================

The twin the file speaks to is filled first (a TF checkpoint or Keras file: the Keras twin; a
torch file: the torch twin), the other twin by ``conformance.lib.transfer``. Every source tensor is
accounted for: placed (with the target weight), or ignored by a stated rule (``global_step``,
optimiser slots, a training-only head); an unplaced tensor or an unfed weight is an error naming
them, before anything is written. The certificate then judges the two twins on the package's
real images under the network's parity tolerance, the AI Benchmark graph (when the network has
one and the file is for the graph's variant) against both, and for classifiers the twins' top-1
agreement over every classification image of the package.

Output (``DIR``): ``<network>.torch.safetensors``, ``<network>.keras.safetensors`` (only when the
certificate passes) and ``<network>.certificate.{json,md}`` (named by network, so ports of several
networks share one ``DIR``, which ``export --weights DIR`` and ``benchmark --weights DIR`` read);
staged in a temporary directory and moved in at the end, so an error leaves nothing half-written.
"""

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
from twinzoo.graphs import Dialect
from twinzoo.files import sha256
from twinzoo import catalogue, files
from twinzoo.catalogue import Network

FORMATS = ("auto", "tf-checkpoint", "keras-h5", "torch-state-dict", "twinzoo")
EMA_MODES = ("auto", "use", "ignore")
EMA_SUFFIX = "/ExponentialMovingAverage"


# ------------------------------------------------------------------------------------------
# the source file, as tensors
# ------------------------------------------------------------------------------------------
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


def refuse_placed(source: Source, plan: "Plan") -> list[dict[str, str]]:
    """Refuse a placed tensor whose dtype the policy refuses (PortError naming it); the
    conversions made to the placed tensors, for the certificate."""
    conversions = []
    for name in dict.fromkeys(p["source"] for p in plan.placements):
        dtype = source.dtypes.get(name, "float32")
        try:
            dtypes.check(name, dtype, f"{source.path}: ")
        except dtypes.DtypeRefused as exc:
            raise PortError(str(exc)) from None
        if (c := dtypes.conversion(name, dtype)) is not None:
            conversions.append(c)
    return conversions


# ------------------------------------------------------------------------------------------
# where each source tensor goes
# ------------------------------------------------------------------------------------------
@dataclass
class Plan:
    """What a file puts into which twin: ``values`` by target (Keras ``(layer, weight)`` or torch
    state-dict key) in the twin ``framework`` speaks to, built with ``opts``."""
    framework: str                                   # "keras" | "torch"
    opts: dict[str, Any]
    dialect: str
    values: dict[Any, np.ndarray]
    placements: list[dict[str, Any]]                 # source, shape, target, how
    ignored: list[dict[str, Any]] = field(default_factory=list)     # source, shape, reason
    filled: list[dict[str, Any]] = field(default_factory=list)      # target, value, reason




# variables of any TF training checkpoint that are not the network's
TRAINING_STATE = (
    (r"global_step", "the training step counter"),
    (r".+/(Momentum|RMSProp(_1)?|Adam(_1)?|Adagrad|Adadelta(_1)?|Ftrl(_1)?)", "an optimiser slot"),
    (r"beta[12]_power(_\d+)?", "Adam's running powers of beta1/beta2"),
)


def _dialect_of(net: Network) -> Dialect | None:
    """``net``'s own TF checkpoint dialect: its spec's ``checkpoint`` (released checkpoints whose
    names the graph does not give: MobileNet v1's slim ones, FaceNet's Inception-ResNet-v1, slim's
    VGG-16 with its extra ``mean_rgb``), else its AI Benchmark graph's (TF-slim's own scopes for
    the slim networks, so slim's released checkpoints read the same)."""
    if net.checkpoint is not None:
        return net.checkpoint
    if net.graph is not None:
        return Dialect(f"{net.graph.meta} / its authors' scopes", net.graph.rules)
    return None


def tf_dialect(net: Network) -> Dialect:
    """The naming of a TF checkpoint of ``net``: its own dialect, else its family's (the network
    named as the family: a width or resolution variant reads the base network's names)."""
    d = _dialect_of(net)
    if d is None and net.family in catalogue.names():
        d = _dialect_of(catalogue.get(net.family))
    if d is None:
        with_one = sorted(n.name for n in catalogue.networks() if _dialect_of(n) is not None)
        raise PortError(f"no TF checkpoint dialect for {net.name}: the networks with one are "
                        f"{', '.join(with_one)} (and their variants)")
    return d


def _reason(name: str, rules: tuple[tuple[str, str], ...]) -> str | None:
    return next((why for pat, why in rules if re.fullmatch(pat, name)), None)


def _problems(kind: str, items: list[str]) -> str:
    shown = "; ".join(items[:8]) + (f"; ... {len(items) - 8} more" if len(items) > 8 else "")
    return f"{len(items)} {kind}: {shown}"


def plan_tf_checkpoint(net: Network, source: Source, kmodel: Any, ema: str) -> Plan:
    from conformance.lib import graphs as ref
    d = tf_dialect(net)
    names = list(source.tensors)
    shadows = {n[: -len(EMA_SUFFIX)] for n in names if n.endswith(EMA_SUFFIX)}
    if ema == "use" and not shadows:
        raise PortError(f"{source.path}: --ema use, but the checkpoint holds no '{EMA_SUFFIX}' shadow variables")
    use_ema = bool(shadows) and ema in ("auto", "use")
    ignored, candidates = [], []
    for n in names:
        if n.endswith(EMA_SUFFIX):
            continue                                   # accounted for with the variable it shadows
        why = _reason(n, TRAINING_STATE + d.ignore)
        if why:
            ignored.append({"source": n, "shape": list(source.tensors[n].shape), "reason": why})
        else:
            candidates.append(n)
    mapping = ref.map_variables(d, [(n, source.tensors[n].shape) for n in candidates], kmodel)
    fill_rules = {leaf: (value, why) for leaf, value, why in d.fill}
    filled, keras_left = [], []
    for item in mapping.keras_leftovers:
        target = item.split(" ")[0]
        layer, _, leaf = target.rpartition("/")
        if leaf in fill_rules:
            filled.append({"target": target, "value": fill_rules[leaf][0], "reason": fill_rules[leaf][1]})
        else:
            keras_left.append(item)
    problems = []
    if mapping.graph_leftovers:
        problems.append(_problems(f"checkpoint variable(s) with no place in {net.name}", mapping.graph_leftovers))
    if keras_left:
        problems.append(_problems(f"weight(s) of {net.name} the checkpoint does not hold", keras_left))
    if mapping.shape_mismatches:
        problems.append(_problems("shape mismatch(es)", mapping.shape_mismatches))
    if problems:
        raise PortError(f"{source.path} does not fit {net.name} (dialect: {d.name}): " + " | ".join(problems))
    values, placements = {}, []
    placed = set()
    for n in dict.fromkeys(p["graph"] for p in mapping.pairs):
        shadow = use_ema and n in shadows
        src = n + EMA_SUFFIX if shadow else n
        how = "its ExponentialMovingAverage shadow, as TF-slim evaluates" if shadow else "as is"
        if n in mapping.splits:
            how = f"{how}; {mapping.splits[n].how}"
        for (layer, weight), value in mapping.keras_values(n, source.tensors[src]).items():
            values[(layer, weight)] = value
            placements.append({"source": src, "shape": list(source.tensors[n].shape),
                               "target": f"keras:{layer}/{weight}", "how": how})
        placed.add(n)
    for n in sorted(shadows):
        if n in placed and use_ema:
            ignored.append({"source": n, "shape": list(source.tensors[n].shape),
                            "reason": "the raw value of a variable whose ExponentialMovingAverage shadow is used"})
        elif n in placed:
            ignored.append({"source": n + EMA_SUFFIX, "shape": list(source.tensors[n + EMA_SUFFIX].shape),
                            "reason": "an ExponentialMovingAverage shadow (--ema ignore: the raw value is used)"})
        else:
            ignored.append({"source": n + EMA_SUFFIX, "shape": list(source.tensors[n + EMA_SUFFIX].shape),
                            "reason": "the shadow of a variable that is not the network's"})
    for f in filled:
        layer, _, leaf = f["target"].rpartition("/")
        w = next(v for v in kmodel.get_layer(layer).weights if v.path.rsplit("/", 1)[-1] == leaf)
        values[(layer, leaf)] = np.full(tuple(w.shape), f["value"], dtype=np.float32)
        f["target"] = f"keras:{f['target']}"
    return Plan("keras", dict(net.opts), d.name, values, placements, ignored, filled)


def keras_app_for(net: Network):
    """The keras.applications model whose weight files fit ``net`` (``witnesses.KERAS_WITNESSES``;
    the MobileNets' other widths and sizes by the family's witness with this variant's alpha)."""
    import dataclasses

    from conformance.lib.keras_witness import KERAS_WITNESSES
    w = KERAS_WITNESSES.get(net.name)
    if w is None and net.family in ("mobilenet_v1", "mobilenet_v2") and net.family in KERAS_WITNESSES:
        base = KERAS_WITNESSES[net.family]
        w = dataclasses.replace(base, model=net.name, size=tuple(net.input_size),
                                app_kwargs={**base.app_kwargs, "alpha": net.opts.get("alpha", 1.0)})
    if w is None:
        raise PortError(f"no keras.applications model matches {net.name}; Keras weight files are read for "
                        f"{', '.join(sorted(KERAS_WITNESSES))} and the MobileNets' variants")
    return w


def _keras3_names(model: Any) -> dict[str, Any]:
    """The names Keras 3's ``save_weights`` gives a functional model's layers in a
    ``.weights.h5``: the class name in snake case, numbered ``_1``, ``_2`` ... in layer order
    (``keras.src.saving.saving_lib``'s container naming; checked against the file's own groups,
    so a Keras that names otherwise fails loudly, not silently)."""
    from keras.src.utils import naming
    used: dict[str, int] = {}
    out = {}
    for layer in model.layers:
        base = naming.to_snake_case(layer.__class__.__name__)
        n = used.get(base, -1) + 1
        used[base] = n
        out[base if n == 0 else f"{base}_{n}"] = layer
    return out


def plan_keras_h5(net: Network, source: Source) -> Plan:
    import keras

    import keras_models
    from conformance.lib.keras_witness import WitnessMismatch, build_keras_witness, copy_by_position
    w = keras_app_for(net)
    app = build_keras_witness(w)
    by_layer: dict[str, list[str]] = {}
    for key in source.tensors:
        lname = key.split("/")[1] if key.startswith("layers/") and "/vars/" in key else key.split("/")[0]
        by_layer.setdefault(lname, []).append(key)
    names = _keras3_names(app) if source.meta["layout"].startswith("Keras 3") else {layer.name: layer for layer in app.layers}
    problems, app_of_key = [], {}
    for lname, keys in by_layer.items():
        layer = names.get(lname)
        if layer is None:
            problems.append(f"{lname} ({len(keys)} tensors): no such layer in keras.applications.{w.app}")
            continue
        if len(keys) != len(layer.weights):
            problems.append(f"{lname}: {len(keys)} tensors in the file, {len(layer.weights)} weights in the layer")
            continue
        for key, var in zip(keys, layer.weights):
            if tuple(source.tensors[key].shape) != tuple(var.shape):
                problems.append(f"{key} {list(source.tensors[key].shape)} -> {layer.name}/{var.name} {list(var.shape)}")
            app_of_key[key] = (layer, var)
    fed = {id(v) for _, v in app_of_key.values()}
    unfed = [f"{layer.name}/{v.name} {list(v.shape)}" for layer in app.layers for v in layer.weights if id(v) not in fed]
    if unfed:
        problems.append(_problems(f"weight(s) of keras.applications.{w.app} the file does not hold "
                                  "(an include_top=False file?)", unfed))
    if problems:
        raise PortError(f"{source.path} does not fit keras.applications.{w.app} (the architecture of "
                        f"{net.name}): " + " | ".join(problems[:8]))
    for key, (_, var) in app_of_key.items():
        var.assign(source.tensors[key])
    ours = keras_models.build(net.name, input_size=w.size, **w.opts)
    try:
        pairs = copy_by_position(app, ours)
    except WitnessMismatch as exc:
        raise PortError(f"keras.applications.{w.app} does not pair with our {net.name}: {exc}") from None
    ours_of = {}
    for (theirs_name, ours_name) in pairs:
        for tv, ov in zip(app.get_layer(theirs_name).weights, ours.get_layer(ours_name).weights):
            ours_of[id(tv)] = (ours_name, ov.path.rsplit("/", 1)[-1], tuple(ov.shape))
    values, placements = {}, []
    for key, (layer, var) in app_of_key.items():
        ol, ow, oshape = ours_of[id(var)]
        value = np.asarray(var.numpy())
        how = "as is" if value.shape == oshape else f"reshaped {list(value.shape)} -> {list(oshape)} (Dense -> our conv)"
        values[(ol, ow)] = value.reshape(oshape)
        placements.append({"source": key, "shape": list(value.shape), "target": f"keras:{ol}/{ow}",
                           "how": f"keras.applications.{w.app} {layer.name}/{var.name}, {how}"})
    keras.backend.clear_session()
    return Plan("keras", {**net.opts, **w.opts}, f"keras.applications.{w.app} ({source.meta['layout']})",
                values, placements)


def plan_torch_state_dict(net: Network, source: Source) -> Plan:
    import torch

    import torch_models
    from conformance.lib.torchvision_witness import TORCHVISION_WITNESSES, position_plan, state_dict_groups
    counters = [k for k in source.tensors if k.endswith("num_batches_tracked")]
    ignored = [{"source": k, "shape": list(source.tensors[k].shape), "reason": "BN's batch counter (not a weight)"}
               for k in counters]
    state = {k: v for k, v in source.tensors.items() if k not in counters}
    ours = {k: v for k, v in torch_models.build(net.name).state_dict().items() if not k.endswith("num_batches_tracked")}
    if state.keys() == ours.keys():
        bad = [f"{k} {list(state[k].shape)} vs ours {list(ours[k].shape)}" for k in ours
               if tuple(state[k].shape) != tuple(ours[k].shape)]
        if bad:
            raise PortError(f"{source.path}: our {net.name} names, other shapes (another variant?): "
                            + _problems("shape mismatch(es)", bad))
        return Plan("torch", dict(net.opts), "twinzoo torch names", dict(state),
                    [{"source": k, "shape": list(v.shape), "target": f"torch:{k}", "how": "as is"}
                     for k, v in state.items()], ignored)
    w = TORCHVISION_WITNESSES.get(net.name)
    if w is None:
        missing = sorted(ours.keys() - state.keys())
        unexpected = sorted(state.keys() - ours.keys())
        raise PortError(f"{source.path}: its names are not {net.name}'s ("
                        + _problems("missing", missing) + " | " + _problems("unexpected", unexpected)
                        + f"), and {net.name} has no torchvision counterpart to pair it with by position")
    target = torch_models.build(net.name, **w.opts)
    groups = state_dict_groups({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    try:
        plan = position_plan(groups, target)
    except ValueError as exc:
        raise PortError(f"{source.path}: not torchvision.models.{w.ctor}'s state dict for {net.name}: {exc}") from None
    values, placements = {}, []
    for src_key, dst_key, tgt, value in plan:
        values[dst_key] = value.numpy()
        how = "as is" if tuple(state[src_key].shape) == tuple(tgt.shape) else \
            f"reshaped {list(state[src_key].shape)} -> {list(tgt.shape)} (Linear -> our conv)"
        placements.append({"source": src_key, "shape": list(state[src_key].shape), "target": f"torch:{dst_key}",
                           "how": f"torchvision.models.{w.ctor} by position, {how}"})
    return Plan("torch", {**net.opts, **w.opts}, f"torchvision.models.{w.ctor} state dict", values, placements, ignored)


def plan_twinzoo(net: Network, source: Source) -> Plan:
    from conformance.lib import weights
    meta = source.meta
    if meta.get("network") != net.name:
        raise PortError(f"{source.path}: twinzoo weights of {meta.get('network')!r}, not {net.name!r}")
    framework = meta.get("framework")
    if framework not in ("torch", "keras"):
        raise PortError(f"{source.path}: unknown framework {framework!r} in its metadata")
    opts = weights.file_options(source.path, {"__metadata__": meta})
    values = {tuple(k.split("/", 1)) if framework == "keras" else k: v for k, v in source.tensors.items()}
    return Plan(framework, opts, f"twinzoo safetensors ({framework})", values,
                [{"source": k, "shape": list(v.shape), "target": f"{framework}:{k}", "how": "as is"}
                 for k, v in source.tensors.items()])


PLANNERS = {"keras-h5": plan_keras_h5, "torch-state-dict": plan_torch_state_dict, "twinzoo": plan_twinzoo}


# ------------------------------------------------------------------------------------------
# both twins holding the file
# ------------------------------------------------------------------------------------------
def _require_fit(twin: str, values: dict[Any, Any], targets: dict[Any, tuple[int, ...]]) -> None:
    """Every target fed exactly once with its shape, or a PortError naming what is not."""
    def name(k: Any) -> str:
        return "/".join(k) if isinstance(k, tuple) else k
    missing = sorted(name(k) for k in targets.keys() - values.keys())
    extra = sorted(name(k) for k in values.keys() - targets.keys())
    bad = [f"{name(k)} {list(np.shape(v))} vs {list(targets[k])}" for k, v in values.items()
           if k in targets and tuple(np.shape(v)) != tuple(targets[k])]
    if missing or extra or bad:
        raise PortError(f"{twin}: " + " | ".join(
            _problems(k, v) for k, v in (("unfed", missing), ("unknown", extra), ("misshapen", bad)) if v))


def twins_from_plan(net: Network, plan: Plan, size: tuple[int, int]) -> tuple[Any, Any]:
    """The torch and Keras twins built with ``plan.opts``, the plan's twin filled from the file,
    the other through ``conformance.lib.transfer`` (a TransferError is a PortError: nothing fits)."""
    import torch

    import keras_models
    import torch_models
    from conformance.lib import transfer
    tmodel = torch_models.build(net.name, **plan.opts)
    kmodel = keras_models.build(net.name, input_size=size, **plan.opts)
    try:
        if plan.framework == "keras":
            variables = {(layer.name, v.path.rsplit("/", 1)[-1]): v for layer in kmodel.layers for v in layer.weights}
            _require_fit(f"{net.name}'s Keras twin", plan.values, {k: tuple(v.shape) for k, v in variables.items()})
            for key, var in variables.items():
                var.assign(np.asarray(plan.values[key], dtype=np.float32))
            transfer.keras_to_torch(kmodel, tmodel)
        else:
            state = {k: v for k, v in tmodel.state_dict().items() if not k.endswith("num_batches_tracked")}
            _require_fit(f"{net.name}'s torch twin", plan.values, {k: tuple(v.shape) for k, v in state.items()})
            tmodel.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in plan.values.items()},
                                   strict=False)        # every key proven above; counters not stored
            transfer.torch_to_keras(tmodel, kmodel)
    except transfer.TransferError as exc:
        raise PortError(f"the twins do not take these weights: {exc}") from None
    return tmodel.eval(), kmodel


# ------------------------------------------------------------------------------------------
# the certificate
# ------------------------------------------------------------------------------------------
def _first(out: Any) -> np.ndarray:
    return np.asarray(out[0] if isinstance(out, (list, tuple)) else out)


def _param_counts(net: Network, plan: Plan, tmodel: Any, kmodel: Any) -> dict[str, Any]:
    """Counts of the twins as built, and (when the file is for the catalogue's variant) every
    published parameter figure of the network under its convention (``conformance.checks.counts.check_params``)."""
    from conformance.checks import counts
    from conformance.lib import counting
    roles = counting.torch_param_roles(tmodel)
    k = counting.keras_param_counts(kmodel)
    t_train = counting.count_convention(roles, "trainable")
    out: dict[str, Any] = {"torch_trainable": t_train, "torch_stats": roles["stats"], "keras": k,
                           "twins_agree": t_train == k["trainable"] and t_train + roles["stats"] == k["total"]}
    if plan.opts == dict(net.opts):
        res = counts.check_params(net, kmodel)
        out["catalogue"] = {"status": res.status, "summary": res.summary, "published": res.data["published"]}
    else:
        out["catalogue"] = {"status": "skip", "summary": f"options {plan.opts} are not the catalogue's "
                            f"{dict(net.opts)}: the published figures are of the catalogue's variant"}
    return out


def _top1(net: Network, tmodel: Any, kmodel: Any, size: tuple[int, int], tol: Any,
          images: int | None = None) -> dict[str, Any]:
    """The twins' top-1 over every classification image of the package (the first ``images``
    if given); a disagreement is a failure unless torch's top two logits are within the parity
    tolerance of each other there (a tie float32 may break either way)."""
    from conformance.lib import inputs, parity
    files = inputs.image_files("classification")[:images]
    agree, ties, disagree = 0, [], []
    for start in range(0, len(files), 10):
        x = inputs.load_images(net, size, count=min(10, len(files) - start), offset=start)
        lt, lk = _first(parity.run_torch(tmodel, x)), _first(parity.run_keras(kmodel, x))
        lt, lk = lt.reshape(len(x), -1), lk.reshape(len(x), -1)
        for i in range(len(x)):
            name = files[start + i].name
            if lt[i].argmax() == lk[i].argmax():
                agree += 1
                continue
            top2 = np.sort(lt[i])[-2:]
            gap = float(top2[1] - top2[0])
            line = tol.atol + tol.rtol * float(np.abs(lt[i]).max())
            (ties if gap <= line else disagree).append({"image": name, "torch": int(lt[i].argmax()),
                                                        "keras": int(lk[i].argmax()), "torch_top2_gap": gap})
    return {"images": len(files), "size": list(size), "agree": agree, "near_ties": ties, "disagree": disagree,
            "status": "pass" if not disagree else "fail"}


def _reference(net: Network, plan: Plan, kmodel: Any, tmodel: Any, seed: int,
               source: Source | None = None) -> dict[str, Any]:
    """The AI Benchmark graph loaded with the ported weights against both twins, when the network
    has a graph and the file is for the graph's variant."""
    from conformance.lib import graphs as ref
    from conformance.lib import parity, twins
    spec = ref.GRAPHS.get(net.name)
    if spec is None:
        return {"status": "skip", "summary": f"AI Benchmark has no graph of {net.name}"}
    if plan.opts != dict(net.opts):
        return {"status": "skip", "summary": f"the file is for options {plan.opts}, the graph for {dict(net.opts)}"}
    try:
        ref.graph_path(spec)
    except ref.ReferenceUnavailable as exc:
        return {"status": "skip", "summary": str(exc)}
    size = spec.input_size or tuple(net.parity_sizes[0])
    x = twins.sample_inputs(net, size, seed)[1]
    k_at = keras_at(net, plan, kmodel, size)
    if source is not None and source.format == "tf-checkpoint":
        # a checkpoint in the graph's own names (a graph's network reads its graph's dialect): the
        # graph restores it by name, through none of our rules, so a rule that put a tensor in the
        # wrong place cannot hide on both sides
        by_base = {p["source"].removesuffix(EMA_SUFFIX): source.tensors[p["source"]] for p in plan.placements}
        loaded, how = by_base, "the checkpoint's own values by the graph's names (no mapping rule)"
    else:
        loaded, how = None, "the Keras twin's weights through the graph's mapping rules"
    mapping, graph_out = ref.run_graph(spec, k_at, x, loaded)
    if graph_out is None:
        return {"status": "fail", "summary": "the graph's variables do not map onto the twin",
                "problems": mapping.graph_leftovers + mapping.keras_leftovers + mapping.shape_mismatches}
    vs_k = parity.compare(graph_out, _first(parity.run_keras(k_at, x)), net.tolerance)
    vs_t = parity.compare(graph_out, _first(parity.run_torch(tmodel, x)), net.tolerance)
    ok = vs_k.passed and vs_t.passed
    return {"status": "pass" if ok else "fail", "graph": f"ai_benchmark/models/{spec.meta}",
            "loaded": how,
            "summary": f"{len(mapping.pairs)} graph variables loaded ({how}); graph vs Keras rel "
                       f"{vs_k.max_rel:.1e}, vs torch rel {vs_t.max_rel:.1e} at {size[0]}x{size[1]}",
            "vs_keras": vs_k.as_dict(), "vs_torch": vs_t.as_dict()}


def keras_at(net: Network, plan: Plan, kmodel: Any, size: tuple[int, int]) -> Any:
    """The Keras twin at another input size, holding ``kmodel``'s weights."""
    import keras_models
    if tuple(kmodel.input_shape[1:3]) == tuple(size):
        return kmodel
    other = keras_models.build(net.name, input_size=size, **plan.opts)
    other.set_weights(kmodel.get_weights())
    return other


def certify(net: Network, plan: Plan, tmodel: Any, kmodel: Any, size: tuple[int, int], seed: int,
            source: Source | None = None, images: int | None = None) -> dict[str, Any]:
    """Parity at the network's parity size (where its tolerance was placed), the reference graph
    at the graph's size, top-1 at ``size``."""
    from conformance.lib import parity, twins
    tol = net.tolerance
    per_input = []
    psize = tuple(kmodel.input_shape[1:3])
    for kind, x, desc in twins.parity_inputs(net, psize, seed):
        err = parity.compare(parity.run_torch(tmodel, x), parity.run_keras(kmodel, x), tol)
        per_input.append({"kind": kind, "source": desc, "batch": int(x.shape[0]), **err.as_dict()})
    par_ok = all(p["passed"] for p in per_input)
    cert: dict[str, Any] = {
        "params": _param_counts(net, plan, tmodel, kmodel),
        "parity": {"status": "pass" if par_ok else "fail", "size": list(psize),
                   "tolerance": {"atol": tol.atol, "rtol": tol.rtol, "why": tol.why},
                   "max_rel": max(p["max_rel"] for p in per_input), "inputs": per_input},
        "reference": _reference(net, plan, kmodel, tmodel, seed, source),
    }
    if net.task == "classification":
        cert["top1"] = _top1(net, tmodel, keras_at(net, plan, kmodel, size), size, tol, images)
    judged = [cert["parity"]["status"], cert["reference"]["status"], cert.get("top1", {}).get("status", "pass"),
              "pass" if cert["params"]["twins_agree"] else "fail", cert["params"]["catalogue"]["status"]]
    cert["passed"] = all(s in ("pass", "skip") for s in judged)
    return cert


# ------------------------------------------------------------------------------------------
# the command
# ------------------------------------------------------------------------------------------
def port(model: str, src: str | Path, out: str | Path, fmt: str = "auto", ema: str = "auto",
         size: tuple[int, int] | None = None, seed: int = 0, images: int | None = None) -> dict[str, Any]:
    """Read ``src``, fill both twins of ``model``, certify them, write ``out``. Raises PortError
    (nothing written) when the file does not fit; returns the certificate (``passed`` says
    whether the weight files were written)."""
    import keras

    net = catalogue.get(model)
    if ema not in EMA_MODES:
        raise PortError(f"unknown --ema {ema!r}; known: {', '.join(EMA_MODES)}")
    out = Path(out).expanduser()
    if net.fixed_size and size is not None and tuple(size) != tuple(net.input_size):
        raise PortError(f"{net.name} runs at {net.input_size[0]}x{net.input_size[1]} only (--size {size[0]}x{size[1]})")
    size = tuple(size or net.input_size)
    keras.backend.clear_session()
    source = read_source(src, fmt)
    psize = tuple(net.input_size if net.fixed_size else net.parity_sizes[0])
    if source.format == "tf-checkpoint":
        import keras_models
        plan = plan_tf_checkpoint(net, source, keras_models.build(net.name, input_size=psize), ema)
    else:
        plan = PLANNERS[source.format](net, source)
    conversions = refuse_placed(source, plan)
    tmodel, kmodel = twins_from_plan(net, plan, psize)
    cert = {
        "tool": "twinzoo conformance port", "network": net.name, "options": plan.opts,
        "source": {"path": str(source.path), "format": source.format, "dialect": plan.dialect,
                   "files": source.files, "meta": {k: v for k, v in source.meta.items() if k != "shapes"},
                   "conversions": conversions},
        "tensors": {"in_file": len(source.tensors), "placed": len({p["source"] for p in plan.placements}), "ignored": len(plan.ignored),
                    "filled": len(plan.filled), "placements": plan.placements, "ignored_tensors": plan.ignored,
                    "filled_weights": plan.filled},
        **certify(net, plan, tmodel, kmodel, size, seed, source, images),
        "seed": seed,
    }
    return write_port(net, plan, cert, tmodel, kmodel, out)


def write_port(net: Network, plan: Plan, cert: dict[str, Any], tmodel: Any, kmodel: Any, out: Path) -> dict[str, Any]:
    """The weight files (when certified) and the certificate sealed over them, staged in ``out``
    and moved in together; then re-read through ``certificate.open_port`` as every user of the
    port reads it. A failed write (a full disk) is a PortError and leaves nothing."""
    from conformance.lib import certificate, weights
    try:
        with files.staging(out, ".port-") as stage:
            bindings = []
            if cert["passed"]:
                for framework, model_ in (("torch", tmodel), ("keras", kmodel)):
                    path = stage / certificate.weight_file(net.name, framework)
                    weights.save(model_, net.name, path, framework, plan.opts)
                    bindings.append(certificate.bind(path).as_dict())
            cert["written"] = bindings
            cert["certificates"] = [certificate.certificate_file(net.name), f"{net.name}.certificate.md"]
            cert = certificate.seal(cert)
            files.atomic_write(stage / cert["certificates"][0], certificate.dumps(cert))
            files.atomic_write(stage / cert["certificates"][1], markdown(cert))
            # the weight files first, the certificate that binds them last: a reader never finds a
            # certificate naming files that are not in place yet
            for f in sorted(stage.iterdir(), key=lambda f: f.name.endswith(".json")):
                os.replace(f, out / f.name)
    except (weights.WeightFileError, files.WriteFailed) as exc:
        raise PortError(str(exc)) from None
    except OSError as exc:
        raise PortError(f"cannot write the port into {out}: {files.why(exc)}") from None
    if cert["passed"]:
        try:
            certificate.open_port(out, net.name, keep=False)
        except certificate.CertificateError as exc:
            raise PortError(f"the port just written does not read back: {exc}") from None
    return cert


def _json(v: Any) -> Any:
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def markdown(cert: dict[str, Any]) -> str:
    src, t, p = cert["source"], cert["tensors"], cert["params"]
    verdict = "**CERTIFIED**" if cert["passed"] else "**NOT CERTIFIED** (no weight files written)"
    lines = [f"# twinzoo port certificate: {cert['network']}", "", verdict, "",
             f"- source: `{src['path']}` ({src['format']}; dialect: {src['dialect']})"]
    lines += [f"  - `{f['path']}`: {f['bytes']:,} bytes, sha256 `{f['sha256']}`" for f in src["files"]]
    lines += [f"  - converted to float32: `{c['tensor']}` ({c['from']})" for c in src.get("conversions", [])]
    lines += [f"- vouches for `{b['name']}`: {b['bytes']:,} bytes, sha256 `{b['sha256']}`" for b in cert["written"]]
    lines += [f"- sealed: digest `{cert['digest']}` (sha256 of the JSON certificate's content)"] if "digest" in cert else []
    lines += [f"- options: `{json.dumps(cert['options'], sort_keys=True)}`",
              f"- tensors: {t['in_file']} in the file; {t['placed']} placed, {t['ignored']} ignored by rule, "
              f"{t['filled']} weights filled by rule; none left over, none missing",
              f"- params: torch {p['torch_trainable']:,} trainable (+{p['torch_stats']:,} BN statistics), Keras "
              f"{p['keras']['trainable']:,} trainable / {p['keras']['total']:,} total; twins "
              + ("agree" if p["twins_agree"] else "DISAGREE") + f"; catalogue: {p['catalogue']['status']} "
              f"({p['catalogue']['summary']})",
              f"- parity ({cert['parity']['status']}): max rel {cert['parity']['max_rel']:.2e} at "
              f"{cert['parity']['size'][0]}x{cert['parity']['size'][1]} over "
              + ", ".join(f"{i['kind']} x{i['batch']}" for i in cert["parity"]["inputs"])
              + f" (tolerance {cert['parity']['tolerance']['atol']:g} + {cert['parity']['tolerance']['rtol']:g}*scale)",
              f"- reference graph ({cert['reference']['status']}): {cert['reference']['summary']}"]
    if "top1" in cert:
        t1 = cert["top1"]
        lines.append(f"- top-1 ({t1['status']}): the twins agree on {t1['agree']}/{t1['images']} package images at "
                     f"{t1['size'][0]}x{t1['size'][1]}; near ties {len(t1['near_ties'])}, disagreements "
                     f"{len(t1['disagree'])}")
    lines += ["", "## Where every tensor went", "", "| source | shape | target | how |", "|---|---|---|---|"]
    lines += [f"| `{x['source']}` | {x['shape']} | `{x['target']}` | {x['how']} |" for x in t["placements"]]
    if t["ignored_tensors"]:
        lines += ["", "## Ignored by rule", "", "| source | shape | reason |", "|---|---|---|"]
        lines += [f"| `{x['source']}` | {x['shape']} | {x['reason']} |" for x in t["ignored_tensors"]]
    if t["filled_weights"]:
        lines += ["", "## Filled by rule", "", "| target | value | reason |", "|---|---|---|"]
        lines += [f"| `{x['target']}` | {x['value']} | {x['reason']} |" for x in t["filled_weights"]]
    return "\n".join(lines) + "\n"
