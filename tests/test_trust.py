"""What twinzoo certifies is bound to its bytes: a port changed after the fact is refused by every
reader of it, one dtype policy holds for every weight reader, and empty or out-of-range
selections are refused before any work."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import torch_models
from conformance.lib.ports import ported_twins
from conformance.lib import certificate, weights
from conformance import cli, port
from conformance.port import sources
from twinzoo import catalogue


def run_port(*args: str) -> int:
    return cli.main(["port", *args])


def _srcnn_port(tmp_path: Path, name: str, seed: int) -> Path:
    torch.manual_seed(seed)
    t = torch_models.build("srcnn")
    src = tmp_path / f"{name}.pt"
    torch.save(t.state_dict(), src)
    out = tmp_path / name
    assert run_port("--model", "srcnn", "--from", str(src), "--out", str(out), "--size", "32x32") == 0
    return out


@pytest.fixture(scope="module")
def ports(tmp_path_factory) -> tuple[Path, Path]:
    """Two certified ports of srcnn from two different checkpoints."""
    base = tmp_path_factory.mktemp("ports")
    return _srcnn_port(base, "a", 0), _srcnn_port(base, "b", 1)


def _flip_byte(path: Path, offset: int = -1) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _edit_certificate(path: Path) -> None:
    cert = json.loads(path.read_text())
    cert["parity"]["max_rel"] = 0.0                     # a prettier figure, the seal left as it was
    path.write_text(json.dumps(cert, indent=2))


def _resealed_other_binding(path: Path) -> None:
    """An attacker who edits the binding and recomputes the seal is not stopped by the seal: the
    sha256 of the certificate in the manifest is what tells (see test_..._records_the_certificate)."""
    cert = json.loads(path.read_text())
    cert["written"][0]["bytes"] += 1
    path.write_bytes(certificate.dumps(certificate.seal(cert)))


TAMPERING = {
    "a flipped byte in the torch weights": (lambda d, other: _flip_byte(d / "srcnn.torch.safetensors"),
                                            "srcnn.torch.safetensors: its sha256 is not the one"),
    "a flipped byte in the Keras weights": (lambda d, other: _flip_byte(d / "srcnn.keras.safetensors", 200),
                                            "srcnn.keras.safetensors: its sha256 is not the one"),
    "the certificate's JSON edited": (lambda d, other: _edit_certificate(d / "srcnn.certificate.json"),
                                      "srcnn.certificate.json: the certificate was changed after it was written"),
    "another port's file swapped in": (
        lambda d, other: shutil.copy(other / "srcnn.torch.safetensors", d / "srcnn.torch.safetensors"),
        "srcnn.torch.safetensors: its sha256 is not the one"),
    "a truncated weight file": (
        lambda d, other: (d / "srcnn.keras.safetensors").write_bytes((d / "srcnn.keras.safetensors").read_bytes()[:-8]),
        r"srcnn.keras.safetensors: [\d,]+ bytes, the certificate binds"),
    "a binding edited and the seal recomputed": (lambda d, other: _resealed_other_binding(d / "srcnn.certificate.json"),
                                                 r"srcnn.torch.safetensors: [\d,]+ bytes, the certificate binds"),
    "a weight file removed": (lambda d, other: (d / "srcnn.torch.safetensors").unlink(),
                              "srcnn.torch.safetensors: cannot read a file the certificate binds"),
    "a certificate that is not JSON": (lambda d, other: (d / "srcnn.certificate.json").write_text("{\"passed\": true"),
                                       "srcnn.certificate.json: not a certificate"),
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_a_certified_port_changed_after_the_fact_is_refused_by_export_naming_the_file(ports, tmp_path, how, capsys):
    from export import cli as export_cli
    d = tmp_path / "port"
    shutil.copytree(ports[0], d)
    tamper, message = TAMPERING[how]
    tamper(d, ports[1])
    out = tmp_path / "artifacts"
    assert export_cli.main(["--model", "srcnn", "--format", "onnx_torch", "--weights", str(d), "--out", str(out),
                            "--no-cache"]) == 2
    err = capsys.readouterr().err.replace("\n", "")
    assert __import__("re").search(message, err), err
    assert not (out / "srcnn").exists()                 # refused before any work
    with pytest.raises(port.PortError, match=message):
        ported_twins(catalogue.get("srcnn"), d, (32, 32))


def test_benchmark_refuses_a_changed_port_before_any_work(ports, tmp_path, capsys):
    from benchmark import cli as bench_cli
    d = tmp_path / "port"
    shutil.copytree(ports[0], d)
    _flip_byte(d / "srcnn.torch.safetensors")
    rc = bench_cli.main(["--quick", "--model", "srcnn", "--runtime", "torch_eager", "--weights", str(d),
                         "--no-witnesses", "--jobs", "0", "--out", str(tmp_path / "bench"), "--no-cache"])
    assert rc == 2
    assert "srcnn.torch.safetensors: its sha256 is not the one" in capsys.readouterr().err.replace("\n", "")
    assert not (tmp_path / "bench" / "benchmark.json").exists()


def test_an_intact_port_loads_and_records_the_certificate_it_was_checked_against(ports):
    d = ports[0]
    cert = json.loads((d / "srcnn.certificate.json").read_text())
    assert {b["name"] for b in cert["written"]} == {"srcnn.torch.safetensors", "srcnn.keras.safetensors"}
    for b in cert["written"]:
        data = (d / b["name"]).read_bytes()
        assert b["bytes"] == len(data) and b["sha256"] == hashlib.sha256(data).hexdigest()
    _, _, info = ported_twins(catalogue.get("srcnn"), d, (32, 32))
    assert info["certified"] is True
    assert info["certificate_sha256"] == hashlib.sha256((d / "srcnn.certificate.json").read_bytes()).hexdigest()
    assert "sha256 `" in (d / "srcnn.certificate.md").read_text()


def test_port_reads_back_what_it_wrote_and_refuses_a_write_that_does_not(tmp_path, monkeypatch, capsys):
    """``port``'s re-read goes through the same check: a weight file corrupted on its way to the
    disk (here: after it was bound, before the move) fails the port with exit 2."""
    real = certificate.seal

    def seal_then_corrupt(cert):
        sealed = real(cert)
        for f in tmp_path.glob("out/.port-*/srcnn.torch.safetensors"):
            _flip_byte(f)
        return sealed
    monkeypatch.setattr(certificate, "seal", seal_then_corrupt)
    torch.save(torch_models.build("srcnn").state_dict(), tmp_path / "s.pt")
    assert run_port("--model", "srcnn", "--from", str(tmp_path / "s.pt"), "--out", str(tmp_path / "out"),
                    "--size", "32x32") == 2
    assert "does not read back" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------
# one dtype policy
# ------------------------------------------------------------------------------------------
def _state_dict_with(tmp_path: Path, key: str, dtype: torch.dtype) -> Path:
    state = torch_models.build("srcnn").state_dict()
    state[key] = state[key].to(dtype)
    path = tmp_path / f"s-{str(dtype).removeprefix('torch.')}.pt"
    torch.save(state, path)
    return path


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_half_bfloat_and_double_weights_are_converted_and_recorded(tmp_path, dtype):
    src = _state_dict_with(tmp_path, "conv1.weight", dtype)
    assert run_port("--model", "srcnn", "--from", str(src), "--out", str(tmp_path / "o"), "--size", "32x32") == 0
    cert = json.loads((tmp_path / "o" / "srcnn.certificate.json").read_text())
    name = str(dtype).removeprefix("torch.")
    assert cert["source"]["conversions"] == [{"tensor": "conv1.weight", "from": name, "to": "float32"}]
    assert f"`conv1.weight` ({name})" in (tmp_path / "o" / "srcnn.certificate.md").read_text()


@pytest.mark.parametrize("dtype, why", [(torch.complex64, "imaginary part"), (torch.int8, "integer and bool"),
                                        (torch.int32, "integer and bool"), (torch.bool, "integer and bool")])
def test_complex_integer_and_bool_weights_are_refused_naming_the_tensor(tmp_path, dtype, why, capsys):
    src = _state_dict_with(tmp_path, "conv2.bias", dtype)
    out = tmp_path / "o"
    assert run_port("--model", "srcnn", "--from", str(src), "--out", str(out), "--size", "32x32") == 2
    err = capsys.readouterr().err.replace("\n", "")
    assert "'conv2.bias'" in err and why in err
    assert not out.exists() or not any(out.iterdir())


def _legacy_h5(path: Path, data, dtype=None) -> Path:
    import h5py
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [b"conv1"]
        g = f.create_group("conv1")
        g.attrs["weight_names"] = [b"conv1/kernel:0"]
        g.create_dataset("conv1/kernel:0", data=data, dtype=dtype)
    return path


@pytest.mark.parametrize("kind", ["string", "compound"])
def test_h5_datasets_that_are_not_real_numbers_are_refused_naming_them(tmp_path, kind, capsys):
    import h5py
    data = {"string": (np.array([b"abc", b"de"], dtype=object), h5py.string_dtype()),
            "compound": (np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]), None)}[kind]
    path = _legacy_h5(tmp_path / f"{kind}.h5", *data)
    assert run_port("--model", "mobilenet_v2_0.35_224", "--from", str(path), "--out", str(tmp_path / "o")) == 2
    err = capsys.readouterr().err.replace("\n", "")
    assert "conv1/conv1/kernel:0" in err or "conv1/kernel:0" in err, err
    assert "Traceback" not in err


DATA = Path(__file__).parent / "data"


# a fuzzed legacy h5 (tests/test_fuzz.py) whose layer_names, variable-length strings as Keras 3
# writes them, point into a damaged global heap: h5py's read of them spun in native code for good
@pytest.mark.timeout(120)
def test_h5_name_lists_that_hang_the_reader_are_refused_in_time(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sources, "H5_NAMES_SECONDS", 5.0)
    path = DATA / "legacy_h5_vlen_names_damaged_heap.h5"
    assert run_port("--model", "mobilenet_v2_0.35_224", "--from", str(path), "--out", str(tmp_path / "o")) == 2
    err = capsys.readouterr().err.replace("\n", "")
    assert "'layer_names'" in err and "did not finish in 5 s" in err and path.name in err, err


def test_h5_name_lists_fixed_or_variable_length_are_read(tmp_path):
    """Keras 2 wrote fixed-length byte strings, Keras 3's legacy format variable-length ones."""
    import h5py
    for kind, as_written in (("fixed", np.array), ("variable", list)):
        path = tmp_path / f"{kind}.h5"
        with h5py.File(path, "w") as f:
            f.attrs["layer_names"] = as_written([b"conv1"])
            f.create_group("conv1").create_dataset("k", data=np.ones(2, np.float32))
            f["conv1"].attrs["weight_names"] = as_written([b"k"])
        assert h5py.File(path).attrs.get_id("layer_names").get_type().is_variable_str() == (kind == "variable")
        assert list(sources.read_keras_h5(path).tensors) == ["conv1/k"]


def _safetensors(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


META = {"format": "twinzoo-weights/1", "network": "srcnn", "family": "srcnn", "options": "{}", "framework": "torch"}
MALFORMED = {
    "offsets that are strings": (_safetensors({"a": {"dtype": "F32", "shape": [1], "data_offsets": ["0", "4"]}},
                                              b"\0" * 4), "data_offsets"),
    "offsets missing": (_safetensors({"a": {"dtype": "F32", "shape": [1]}}, b"\0" * 4), "data_offsets"),
    "an entry that is a list": (_safetensors({"a": [1, 2]}, b""), "its entry is a list"),
    "options that are not JSON": (_safetensors({"__metadata__": {**META, "options": "{not json"},
                                                "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}},
                                               b"\0" * 4), "'options' is not JSON"),
    "metadata that is not strings": (_safetensors({"__metadata__": {"format": 1}}, b""), "__metadata__"),
    "a bfloat16 tensor of no twinzoo file": (_safetensors({"a": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}},
                                                          b"\0" * 4), "without twinzoo metadata"),
    "a complex tensor": (_safetensors({"__metadata__": META, "a": {"dtype": "C64", "shape": [1],
                                                                   "data_offsets": [0, 8]}}, b"\0" * 8), "imaginary"),
    "an int8 tensor": (_safetensors({"__metadata__": META, "a": {"dtype": "I8", "shape": [4],
                                                                 "data_offsets": [0, 4]}}, b"\0" * 4), "integer"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_safetensors_headers_are_refused_by_every_reader(tmp_path, case, capsys):
    data, message = MALFORMED[case]
    path = tmp_path / "w.safetensors"
    path.write_bytes(data)
    with pytest.raises(weights.WeightFileError, match=message if "twinzoo" not in message else "not a twinzoo"):
        weights.load_torch(torch_models.build("srcnn"), "srcnn", path)
    assert run_port("--model", "srcnn", "--from", str(path), "--out", str(tmp_path / "o")) == 2
    err = capsys.readouterr().err.replace("\n", "")
    assert message in err and "Traceback" not in err, err


@pytest.mark.parametrize("zipped", [True, False])
def test_a_torch_pickle_named_safetensors_is_refused_unread(tmp_path, zipped, capsys):
    path = tmp_path / "w.safetensors"
    torch.save(torch_models.build("srcnn").state_dict(), path, _use_new_zipfile_serialization=zipped)
    with pytest.raises(weights.WeightFileError, match="looks like a pickle"):
        weights.load_torch(torch_models.build("srcnn"), "srcnn", path)
    assert run_port("--model", "srcnn", "--from", str(path), "--format", "twinzoo", "--out", str(tmp_path / "o")) == 2
    assert "looks like a pickle" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------
# selections and seeds
# ------------------------------------------------------------------------------------------
def test_empty_selections_and_bad_seeds_are_refused_before_any_work(tmp_path, capsys):
    from benchmark import cli as bench_cli
    from export import cli as export_cli
    out = str(tmp_path / "o")
    cases = [
        (cli.main, ["check", "--model", "srcnn", "--checks", ","], "--checks: selects nothing"),
        (cli.main, ["check", "--model", ",", "--checks", "params"], "--model: selects nothing"),
        (cli.main, ["check", "--model", "srcnn", "--seed", "-1"], "--seed -1"),
        (cli.main, ["port", "--model", "srcnn", "--from", out, "--out", out, "--seed", str(2 ** 32)], "--seed"),
        (export_cli.main, ["--model", "srcnn", "--format", ",", "--out", out], "--format: selects nothing"),
        (export_cli.main, ["--model", "srcnn", "--seed", "-3", "--out", out], "--seed -3"),
        (export_cli.main, ["--model", "srcnn", "--jobs", "-1", "--out", out], "--jobs -1"),
        (export_cli.main, ["--model", "srcnn", "--route-budget", "nan", "--out", out], "--route-budget nan"),
        (bench_cli.main, ["--quick", "--model", "srcnn", "--runtime", ",", "--out", out], "--runtime: selects nothing"),
        (bench_cli.main, ["--quick", "--model", "srcnn", "--conformance", "params,parrity", "--out", out],
         "unknown check(s) ['parrity']"),
        (bench_cli.main, ["--quick", "--model", "srcnn", "--seed", str(2 ** 40), "--out", out], "--seed"),
    ]
    for main, argv, message in cases:
        assert main(argv) == 2, argv
        assert message in capsys.readouterr().err, argv


def test_tf_checkpoint_tensors_follow_the_same_dtype_policy(tmp_path, capsys):
    import tensorflow as tf
    from test_port import graph_checkpoint, save_checkpoint
    ckpt = graph_checkpoint("srcnn", tmp_path / "s")
    reader = tf.train.load_checkpoint(str(ckpt))
    tensors = {n: reader.get_tensor(n) for n in reader.get_variable_to_shape_map()}
    weight = next(n for n in sorted(tensors) if tensors[n].ndim == 4)
    bias = next(n for n in sorted(tensors) if tensors[n].ndim == 1)
    wide = save_checkpoint({**tensors, weight: tensors[weight].astype(np.float64),
                            bias: tensors[bias].astype(np.float16)}, tmp_path / "wide" / "m")
    assert run_port("--model", "srcnn", "--from", str(wide), "--out", str(tmp_path / "o"), "--size", "32x32") == 0
    cert = json.loads((tmp_path / "o" / "srcnn.certificate.json").read_text())
    assert sorted((c["tensor"], c["from"]) for c in cert["source"]["conversions"]) == \
        sorted([(weight, "float64"), (bias, "float16")])
    ints = save_checkpoint({**tensors, bias: tensors[bias].astype(np.int32)}, tmp_path / "ints" / "m")
    assert run_port("--model", "srcnn", "--from", str(ints), "--out", str(tmp_path / "o2"), "--size", "32x32") == 2
    assert f"'{bias}' is int32" in capsys.readouterr().err.replace("\n", "")
