"""Every reader of outside data, fuzzed (hypothesis): valid files mutated byte by byte, truncated,
grown, and their JSON parts given wrong types or missing fields. A reader either reads the file
or refuses it with its own error naming the file; nothing else escapes. The cases are derived
from a fixed seed (``derandomize``), so a run is repeatable; ``TWINZOO_FUZZ_EXAMPLES`` sets the
count per reader (default 200; a quarter of it for ``merge``, which renders a whole report)."""

from __future__ import annotations

import json
import os
import shutil
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import torch_models
from conformance.lib import certificate, weights
from conformance import cli, port
from twinzoo import catalogue

EXAMPLES = int(os.environ.get("TWINZOO_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


# ------------------------------------------------------------------------------------------
# mutations
# ------------------------------------------------------------------------------------------
def _xor(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for at, bits in flips:
        out[at] ^= bits
    return bytes(out)


def mutated(data: bytes, hot: int | None = None) -> st.SearchStrategy[bytes]:
    """``data`` with bytes flipped (half of them in the first ``hot`` bytes, where a format keeps
    its header), cut short, or with bytes inserted."""
    n = len(data)
    where = st.integers(0, n - 1)
    if hot:
        where = st.one_of(st.integers(0, min(hot, n) - 1), where)
    flips = st.lists(st.tuples(where, st.integers(1, 255)), min_size=1, max_size=8).map(lambda f: _xor(data, f))
    cuts = st.integers(0, n - 1).map(lambda k: data[:k])
    grown = st.tuples(where, st.binary(min_size=1, max_size=64)).map(lambda t: data[:t[0]] + t[1] + data[t[0]:])
    return st.one_of(flips, cuts, grown)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


def _apply(obj: Any, path: tuple, op: str, value: Any) -> Any:
    if not path:
        return value
    obj = json.loads(json.dumps(obj))
    parent = obj
    for k in path[:-1]:
        parent = parent[k]
    if op == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return obj


def json_mutated(obj: Any) -> st.SearchStrategy[Any]:
    """``obj`` with one field (or the whole) replaced by another JSON value, or deleted."""
    return st.tuples(st.sampled_from(_paths(obj)), st.sampled_from(["replace", "delete"]), JSON_VALUES).map(
        lambda t: _apply(obj, *t))


def _refused_naming(exc: BaseException, path: Path) -> None:
    assert path.name in str(exc), f"the message does not name {path.name}: {exc}"


# ------------------------------------------------------------------------------------------
# weight files
# ------------------------------------------------------------------------------------------
SRCNN = catalogue.get("srcnn")


@pytest.fixture(scope="module")
def srcnn_file(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("w") / "srcnn.safetensors"
    weights.save_torch(torch_models.build("srcnn"), "srcnn", path)
    return path.read_bytes()


def _header_mutated(data: bytes) -> st.SearchStrategy[bytes]:
    (n,) = struct.unpack("<Q", data[:8])
    header, body = json.loads(data[8:8 + n]), data[8 + n:]

    def rebuild(h: Any) -> bytes:
        raw = json.dumps(h).encode()
        return struct.pack("<Q", len(raw)) + raw + body
    return json_mutated(header).map(rebuild)


@FUZZ
@given(data=st.data())
def test_safetensors_weight_files(srcnn_file, tmp_path_factory, data):
    blob = data.draw(st.one_of(mutated(srcnn_file, hot=2048), _header_mutated(srcnn_file)))
    path = tmp_path_factory.mktemp("f") / "srcnn.torch.safetensors"
    path.write_bytes(blob)
    try:
        weights.load_torch(torch_models.build("srcnn"), "srcnn", path)
    except weights.WeightFileError as exc:
        _refused_naming(exc, path)
    try:
        port.read_source(path, "twinzoo")
    except port.PortError as exc:
        _refused_naming(exc, path)


@pytest.fixture(scope="module")
def torch_file(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("t") / "s.pt"
    torch.save(torch_models.build("srcnn").state_dict(), path)
    return path.read_bytes()


@FUZZ
@given(data=st.data())
def test_torch_state_dicts(torch_file, tmp_path_factory, data):
    path = tmp_path_factory.mktemp("f") / "s.pt"
    path.write_bytes(data.draw(mutated(torch_file, hot=512)))
    for fmt in ("torch-state-dict", "auto"):
        try:
            port.read_source(path, fmt)
        except port.PortError as exc:
            _refused_naming(exc, path)


@pytest.fixture(scope="module")
def h5_files(tmp_path_factory) -> dict[str, bytes]:
    """A legacy Keras h5 and a Keras 3 .weights.h5, small."""
    import h5py
    d = tmp_path_factory.mktemp("h5")
    with h5py.File(d / "legacy.h5", "w") as f:
        f.attrs["layer_names"] = [b"conv1", b"bn"]
        for layer, names in (("conv1", ["kernel:0", "bias:0"]), ("bn", ["gamma:0", "beta:0"])):
            g = f.create_group(layer)
            g.attrs["weight_names"] = [f"{layer}/{n}".encode() for n in names]
            for n in names:
                g.create_dataset(f"{layer}/{n}", data=np.ones((3, 3, 3, 4) if n == "kernel:0" else (4,), np.float32))
    with h5py.File(d / "k3.weights.h5", "w") as f:
        g = f.create_group("layers").create_group("conv1").create_group("vars")
        g.create_dataset("0", data=np.ones((3, 3, 3, 4), np.float32))
        g.create_dataset("1", data=np.zeros((4,), np.float32))
    return {p.name: p.read_bytes() for p in d.iterdir()}


# a native hang in a reader fails this test alone, in minutes (pytest-timeout)
@pytest.mark.timeout(600)
@FUZZ
@given(data=st.data())
def test_keras_h5_files(h5_files, tmp_path_factory, data):
    name = data.draw(st.sampled_from(sorted(h5_files)))
    path = tmp_path_factory.mktemp("f") / name
    path.write_bytes(data.draw(mutated(h5_files[name], hot=4096)))
    try:
        port.read_source(path, "keras-h5")
    except port.PortError as exc:
        _refused_naming(exc, path)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> dict[str, bytes]:
    import tensorflow as tf
    d = tmp_path_factory.mktemp("ckpt")
    graph = tf.Graph()
    with graph.as_default():
        vs = [tf.compat.v1.Variable(np.ones((9, 9, 3, 64), np.float32), name="generator/w1"),
              tf.compat.v1.Variable(np.zeros((64,), np.float32), name="generator/b1"),
              tf.compat.v1.Variable(np.int64(7), name="global_step")]
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            tf.compat.v1.train.Saver(vs).save(sess, str(d / "m"), write_meta_graph=False)
    return {p.name: p.read_bytes() for p in d.iterdir() if p.name.startswith("m.")}


@FUZZ
@given(data=st.data())
def test_tf_checkpoints(checkpoint, tmp_path_factory, data):
    d = tmp_path_factory.mktemp("f")
    for name, blob in checkpoint.items():
        (d / name).write_bytes(blob)
    victim = data.draw(st.sampled_from(sorted(checkpoint)))
    (d / victim).write_bytes(data.draw(mutated(checkpoint[victim], hot=256)))
    try:
        port.read_source(d / "m", "tf-checkpoint")
    except port.PortError as exc:
        _refused_naming(exc, d / "m")


# ------------------------------------------------------------------------------------------
# certificates
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def a_port(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("port")
    torch.save(torch_models.build("srcnn").state_dict(), d / "s.pt")
    assert cli.main(["port", "--model", "srcnn", "--from", str(d / "s.pt"), "--out", str(d / "out"),
                     "--size", "32x32"]) == 0
    return d / "out"


@FUZZ
@given(data=st.data())
def test_port_certificates(a_port, tmp_path_factory, data):
    d = tmp_path_factory.mktemp("f")
    shutil.copytree(a_port, d, dirs_exist_ok=True)
    cpath = d / "srcnn.certificate.json"
    cert = json.loads(cpath.read_text())
    how = data.draw(st.sampled_from(["bytes", "json", "json resealed", "a weight file"]))
    if how == "bytes":
        cpath.write_bytes(data.draw(mutated(cpath.read_bytes(), hot=4096)))
    elif how == "a weight file":
        w = d / data.draw(st.sampled_from(["srcnn.torch.safetensors", "srcnn.keras.safetensors"]))
        w.write_bytes(data.draw(mutated(w.read_bytes(), hot=2048)))
    else:
        changed = data.draw(json_mutated(cert))
        if how == "json resealed" and isinstance(changed, dict):
            changed = certificate.seal(changed)
        cpath.write_text(json.dumps(changed))
    try:
        opened = certificate.open_port(d, "srcnn")
    except certificate.CertificateError as exc:
        assert any(p.name in str(exc) for p in d.iterdir()), exc
        return
    # what opens is what was certified: the bound files are the port's own bytes
    for fw in certificate.FRAMEWORKS:
        assert opened.data[fw] == (a_port / certificate.weight_file("srcnn", fw)).read_bytes()


# ------------------------------------------------------------------------------------------
# benchmark reports (merge, --resume) and the manifest beside them
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def a_report(tmp_path_factory) -> Path:
    from benchmark import cli as bench_cli
    out = tmp_path_factory.mktemp("bench")
    assert bench_cli.main(["--quick", "--model", "srcnn", "--runtime", "torch_eager", "onnx_torch", "--no-witnesses",
                           "--jobs", "0", "--no-cache", "--out", str(out)]) == 0
    return out


@settings(FUZZ, max_examples=max(EXAMPLES // 4, 10))
@given(data=st.data())
def test_benchmark_reports_merged(a_report, tmp_path_factory, capsys, data):
    from benchmark import cli as bench_cli
    d = tmp_path_factory.mktemp("f")
    path = d / "benchmark.json"
    raw = (a_report / "benchmark.json").read_bytes()
    if data.draw(st.booleans()):
        path.write_bytes(data.draw(mutated(raw, hot=4096)))
    else:
        path.write_text(json.dumps(data.draw(json_mutated(json.loads(raw)))))
    rc = bench_cli.main(["merge", str(path), "--out", str(d / "merged")])
    err = capsys.readouterr().err
    assert rc in (0, 1, 2)
    if rc == 2:
        assert path.name in err.replace("\n", ""), err


def test_benchmark_reports_missing_any_one_field(a_report, tmp_path_factory, capsys):
    """Every field of a report deleted in turn, exhaustively: random mutation can miss a key the
    renderer reads but the schema does not require; this sweep leaves no such key."""
    from benchmark import cli as bench_cli
    report = json.loads((a_report / "benchmark.json").read_text())
    crashed = []
    for where in _paths(report):
        if not where:
            continue
        d = tmp_path_factory.mktemp("f")
        (d / "benchmark.json").write_text(json.dumps(_apply(report, where, "delete", None)))
        try:
            rc = bench_cli.main(["merge", str(d / "benchmark.json"), "--out", str(d / "merged")])
        except Exception as exc:   # noqa: BLE001 - collected so one run names every such field
            crashed.append(f"{'/'.join(map(str, where))}: {exc!r}")
            continue
        finally:
            capsys.readouterr()
        assert rc in (0, 1, 2), where
    assert not crashed, crashed


@FUZZ
@given(data=st.data())
def test_benchmark_reports_resumed(a_report, tmp_path_factory, data):
    from benchmark import cli as bench_cli
    from benchmark import report_io
    d = tmp_path_factory.mktemp("f")
    shutil.copytree(a_report, d, dirs_exist_ok=True)
    which = data.draw(st.sampled_from(["benchmark.json", "artifacts/manifest.json"]))
    path = d / which
    raw = path.read_bytes()
    if data.draw(st.booleans()):
        path.write_bytes(data.draw(mutated(raw, hot=4096)))
    else:
        path.write_text(json.dumps(data.draw(json_mutated(json.loads(raw)))))
    request = json.loads((a_report / "benchmark.json").read_text())["settings"]["request"]
    try:
        kept, records = report_io.resume_from(d, request)
    except bench_cli.ArgumentError as exc:
        assert which == "benchmark.json"            # a damaged manifest is re-exported, never an error
        _refused_naming(exc, path)
        return
    assert set(kept) <= set(request["sizes"]) and all(r["network"] in kept for r in records)


# ------------------------------------------------------------------------------------------
# the artifact cache
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def a_cache(tmp_path_factory) -> tuple[Path, str]:
    from export import formats
    from export.cache import ArtifactCache
    from export.pipeline import export_network
    root = tmp_path_factory.mktemp("cache")
    (rec,) = export_network(SRCNN, [formats.get("onnx_torch")], (32, 32), 0, root / "out",
                            cache=ArtifactCache(root / "cache"))
    return root / "cache", rec["cache"]["key"]


@FUZZ
@given(data=st.data())
def test_cache_records(a_cache, tmp_path_factory, data):
    from export import formats, pipeline
    from export.cache import RECORD, ArtifactCache
    d = tmp_path_factory.mktemp("f")
    shutil.copytree(a_cache[0], d / "cache")
    cache = ArtifactCache(d / "cache")
    entry = cache.entry(a_cache[1])
    files = sorted(p for p in entry.rglob("*") if p.is_file())
    victim = data.draw(st.sampled_from(files))
    raw = victim.read_bytes()
    if victim.name == RECORD and data.draw(st.booleans()):
        victim.write_text(json.dumps(data.draw(json_mutated(json.loads(raw)))))
    else:
        victim.write_bytes(data.draw(mutated(raw, hot=4096)))
    hits, _ = pipeline.cached_records(SRCNN, [formats.get("onnx_torch")], (32, 32), "", 0, d / "out", cache)
    if hits:                                   # a hit only when what was changed is not what it checks
        (rec,) = hits.values()
        assert rec["outcome"] == "pass" and (d / "out" / rec["path"]).read_bytes() == \
            (a_cache[0] / a_cache[1][:2] / a_cache[1] / "files" / rec["path"]).read_bytes()


@FUZZ
@given(data=st.data())
def test_benchmark_reports_planned_from(a_report, tmp_path_factory, data):
    """What ``plan --from`` reads of a report: validated, then its measured costs taken."""
    from benchmark import plan, schema
    path = tmp_path_factory.mktemp("f") / "benchmark.json"
    raw = (a_report / "benchmark.json").read_bytes()
    if data.draw(st.booleans()):
        path.write_bytes(data.draw(mutated(raw, hot=4096)))
    else:
        path.write_text(json.dumps(data.draw(json_mutated(json.loads(raw)))))
    try:
        report = schema.read(path, schema.COSTS)
    except schema.ReportError as exc:
        _refused_naming(exc, path)
        return
    bench, conf = plan.measured_costs(report)
    assert all(isinstance(c, (int, float)) for c, _ in bench.values())
    assert all(isinstance(c, (int, float)) for c in conf.values())
