"""Hostile and broken input: every case gets a clear error naming the problem, and nothing
half-written is left behind."""

import errno
import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

import keras
import torch

import keras_models
import torch_models
from conformance import cli
from conformance.lib import weights
from conformance.lib.weights import WeightFileError
from twinzoo import catalogue
from twinzoo.validate import InputError


# ------------------------------------------------------------------------------------------
# names
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("build", [catalogue.get, torch_models.build, keras_models.build])
def test_unknown_model_names_the_close_ones(build):
    with pytest.raises(catalogue.UnknownModelError) as info:
        build("mobilenet_v1_0.3_128")
    msg = str(info.value)
    assert "'mobilenet_v1_0.3_128'" in msg and "Did you mean" in msg and "mobilenet_v1_0.25_128" in msg


def test_unknown_variant_option_is_named():
    with pytest.raises(TypeError, match="'aplha'.*options: alpha"):
        torch_models.build("mobilenet_v1", aplha=0.5)
    with pytest.raises(TypeError, match="'aplha'"):
        keras_models.build("mobilenet_v1", aplha=0.5)


def test_cli_unknown_names_exit_2(capsys):
    assert cli.main(["check", "--model", "srcnnn"]) == 2
    assert "srcnnn" in capsys.readouterr().err
    assert cli.main(["selftest", "--mutation", "no_such_bug"]) == 2
    assert "no_such_bug" in capsys.readouterr().err
    assert cli.main(["check", "--model", "srcnn", "--checks", "params,bogus"]) == 2
    assert re.search("unknown check.*bogus", capsys.readouterr().err)


# ------------------------------------------------------------------------------------------
# inputs
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def srcnn_twins():
    return torch_models.build("srcnn"), keras_models.build("srcnn", input_size=(None, None))


def _x(shape, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, shape).astype(np.float32)


@pytest.mark.parametrize("x, pattern", [
    (_x((16, 16, 3)), r"rank 3 .*without the batch axis: pass x\[None\]"),
    (_x((1, 1, 16, 16, 3)), "rank 5"),
    (_x((1, 3, 16, 16)), r"looks like NCHW .*transpose\(0, 2, 3, 1\)"),
    (_x((1, 16, 16, 4)), "4 channels on the NHWC channel axis; the network takes 3"),
    ((_x((1, 16, 16, 3)) * 255).astype(np.uint8), "dtype is uint8; expected floating point"),
    (_x((1, 16, 16, 3)).astype(np.int64), "dtype is int64"),
    (_x((0, 16, 16, 3)), "is empty"),
])
def test_keras_twin_refuses_bad_input(srcnn_twins, x, pattern):
    with pytest.raises(InputError, match=pattern):
        keras_models.predict("srcnn", srcnn_twins[1], x)


def test_torch_twin_refuses_channels_last(srcnn_twins):
    with pytest.raises(InputError, match=r"looks like NHWC .*transpose\(0, 3, 1, 2\)"):
        torch_models.predict("srcnn", srcnn_twins[0], torch.from_numpy(_x((1, 16, 16, 3))))


@pytest.mark.parametrize("bad, counts", [(np.nan, "2 NaN and 0 Inf"), (np.inf, "0 NaN and 2 Inf")])
def test_non_finite_input_is_counted_and_located(srcnn_twins, bad, counts):
    x = _x((2, 8, 8, 3))
    x[0, 3, 5, 1] = bad
    x[1, 0, 0, 0] = -bad if bad == np.inf else bad
    with pytest.raises(InputError, match=rf"{counts} value\(s\) of 384; first at index \(0, 3, 5, 1\)"):
        keras_models.predict("srcnn", srcnn_twins[1], x)
    with pytest.raises(InputError, match=r"first at index \(0, 1, 3, 5\)"):
        torch_models.predict("srcnn", srcnn_twins[0], x.transpose(0, 3, 1, 2))


def test_fixed_size_network_names_its_size():
    k = keras_models.build("dped_discriminator")
    with pytest.raises(InputError, match="64x64; its fully connected head is sized for 100x100"):
        keras_models.predict("dped_discriminator", k, _x((1, 64, 64, 1)))


def test_good_input_runs_both_twins_the_same(srcnn_twins):
    x = _x((1, 12, 12, 3))
    yk = np.asarray(keras_models.predict("srcnn", srcnn_twins[1], x))
    yt = torch_models.predict("srcnn", srcnn_twins[0], x.transpose(0, 3, 1, 2)).numpy()
    assert yk.shape == (1, 12, 12, 3) and yt.shape == (1, 3, 12, 12)


# ------------------------------------------------------------------------------------------
# weight files
# ------------------------------------------------------------------------------------------
MV1 = "mobilenet_v1_0.25_128"


@pytest.fixture(scope="module")
def mv1_file(tmp_path_factory):
    model = torch_models.build(MV1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.5)                                   # not the init values
    path = tmp_path_factory.mktemp("w") / "mv1.safetensors"
    weights.save_torch(model, MV1, path)
    return path, model


def test_weights_round_trip_exactly(mv1_file):
    path, model = mv1_file
    fresh = weights.load_torch(torch_models.build(MV1), MV1, path)
    ref = model.state_dict()
    assert all(torch.equal(ref[k], v) for k, v in fresh.state_dict().items())


def _untouched(model, before):
    return all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("keep, pattern", [
    (0.5, r"truncated: the header describes .* bytes, the file has"),
    (0.001, "truncated inside its header"),
    (0.0, "too short for a safetensors file"),
])
def test_truncated_weight_file_is_named(mv1_file, tmp_path, keep, pattern):
    data = mv1_file[0].read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[: int(len(data) * keep)])
    model = torch_models.build(MV1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(WeightFileError, match=pattern):
        weights.load_torch(model, MV1, cut)
    assert _untouched(model, before)


def test_weights_of_another_network_or_variant_or_framework(mv1_file):
    path, _ = mv1_file
    with pytest.raises(WeightFileError, match="weights of 'mobilenet_v1_0.25_128', another network, not 'srcnn'"):
        weights.load_torch(torch_models.build("srcnn"), "srcnn", path)
    with pytest.raises(WeightFileError, match="another variant of mobilenet_v1.*alpha: file 0.25, model 0.5"):
        weights.load_torch(torch_models.build("mobilenet_v1_0.5_128"), "mobilenet_v1_0.5_128", path)
    with pytest.raises(WeightFileError, match="other options.*num_classes: file 1001, model 1000"):
        weights.load_torch(torch_models.build(MV1, num_classes=1000), MV1, path, opts={"num_classes": 1000})
    with pytest.raises(WeightFileError, match="holds torch weights.*this is the keras twin"):
        weights.load_keras(keras_models.build(MV1), MV1, path)


def test_keras_weights_round_trip_and_shape_mismatch_is_listed(tmp_path):
    k = keras_models.build("srcnn", input_size=(None, None))
    for v in k.weights:
        v.assign(np.full(v.shape, 0.25, np.float32))
    path = weights.save_keras(k, "srcnn", tmp_path / "k.safetensors")
    k2 = weights.load_keras(keras_models.build("srcnn"), "srcnn", path)
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(k.weights, k2.weights))
    # a file whose metadata says RGB vdsr but whose tensors are the 1-channel variant's
    liar = weights.save_keras(keras_models.build("vdsr_y", input_size=(None, None)), "vdsr",
                              tmp_path / "liar.safetensors")
    target = keras_models.build("vdsr", input_size=(None, None))
    with pytest.raises(WeightFileError, match=r"3 tensor\(s\) do not fit the model: 'body.conv_00/kernel': "
                                              r"file \(3, 3, 1, 64\), model \(3, 3, 3, 64\)"):
        weights.load_keras(target, "vdsr", liar)


class _Payload:
    """Unpickling this creates a marker file: proof of code execution."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_loading_never_executes_code(tmp_path, writer):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.safetensors"
    if writer == "pickle":
        evil.write_bytes(pickle.dumps({"weight": _Payload(marker)}))
    else:
        torch.save({"weight": _Payload(marker)}, evil)
    with pytest.raises(WeightFileError, match="not a safetensors file.*never unpickles"):
        weights.load_torch(torch_models.build(MV1), MV1, evil)
    assert not marker.exists()


def test_keras_model_with_code_is_refused_in_safe_mode(tmp_path):
    inputs = keras.Input((4,))
    out = keras.layers.Lambda(lambda x: x * 2)(inputs)       # a pickled function inside the archive
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, out).save(path)
    with pytest.raises(WeightFileError, match="refused: the model carries code.*safe_mode=True"):
        weights.load_keras_model(path)
    with pytest.raises(WeightFileError, match="only .keras archives"):
        weights.load_keras_model(tmp_path / "model.h5")


# ------------------------------------------------------------------------------------------
# output paths: unwritable, full disk, Ctrl-C
# ------------------------------------------------------------------------------------------
def test_unwritable_report_path_fails_before_any_work(tmp_path, monkeypatch, capsys):
    from conformance import checks

    def no_work(*a, **k):
        raise AssertionError("a check ran although the output path is unusable")
    monkeypatch.setattr(checks, "check_network", no_work)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert cli.main(["check", "--model", "srcnn", "--json", str(blocker / "sub" / "r.json")]) == 2
    assert "cannot create the directory" in capsys.readouterr().err
    monkeypatch.setattr(os, "access", lambda path, mode: False)      # root ignores chmod: simulate
    assert cli.main(["selftest", "--mutation", "tanh_as_sigmoid", "--markdown", str(tmp_path / "r.md")]) == 2
    assert "not writable" in capsys.readouterr().err


def _disk_fills_after(monkeypatch, limit: int, exc: BaseException):
    """os.write writes up to ``limit`` bytes in all, then raises ``exc`` (ENOSPC / Ctrl-C)."""
    real = os.write
    state = {"left": limit}

    def write(fd, data):
        if state["left"] <= 0:
            raise exc
        n = real(fd, bytes(data[: state["left"]]))
        state["left"] -= n
        return n
    monkeypatch.setattr(os, "write", write)


def test_full_disk_while_saving_weights_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "w.safetensors"
    _disk_fills_after(monkeypatch, 4096, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(WeightFileError, match="no space left on the device"):
        weights.save_torch(torch_models.build(MV1), MV1, target)
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_saving_weights_leaves_nothing_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "w.safetensors"
    target.write_bytes(b"previous version")
    _disk_fills_after(monkeypatch, 4096, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        weights.save_torch(torch_models.build(MV1), MV1, target)
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]
    assert target.read_bytes() == b"previous version"


def test_full_disk_while_writing_a_report_leaves_nothing(tmp_path, monkeypatch):
    _disk_fills_after(monkeypatch, 4096, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(cli.ArgumentError, match=r"cannot write .*report.json: no space left on the device"):
        cli.write_atomic(tmp_path / "report.json", '{"a": 1}\n' * 1000)
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_during_export_leaves_no_artifact(tmp_path):
    from export.formats import Format
    from export.pipeline import export_network

    def interrupted(ctx, path: Path) -> dict:
        path.write_bytes(b"the first half of an artifact")
        raise KeyboardInterrupt

    fmt = Format("interrupted", "torch", "fp32", ".bin", "a converter hit by Ctrl-C", (), "none", None,
                 interrupted, None, ("torch",))
    with pytest.raises(KeyboardInterrupt):
        export_network(catalogue.get("srcnn"), [fmt], (32, 32), 0, tmp_path)
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == [], leftovers


def test_full_disk_while_writing_export_manifest_leaves_nothing(tmp_path, monkeypatch):
    from export import manifest
    from twinzoo.files import WriteFailed
    _disk_fills_after(monkeypatch, 1024, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(WriteFailed, match="manifest.json: no space left on the device"):
        manifest.write(tmp_path, {"artifacts": ["x"] * 1000})
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------
# sequences (LSTM-Sentiment takes (N, steps, features) in both twins)
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("x, pattern", [
    (np.zeros((64, 300), np.float32), r"rank 2 .* pass x\[None\]"),
    (np.zeros((1, 300, 64), np.float32), r"64-d steps; the network takes 300-d vectors .*transpose\(0, 2, 1\)"),
    (np.zeros((1, 64, 300), np.int64), r"dtype is int64"),
    (np.full((1, 64, 300), np.inf, np.float32), r"0 NaN and 19200 Inf"),
    (np.zeros((0, 64, 300), np.float32), r"is empty"),
])
def test_bad_sequence_batches_are_named(x, pattern):
    t = torch_models.build("lstm_sentiment", units=8)
    k = keras_models.build("lstm_sentiment", input_size=(64, 300), units=8)
    for predict, model in ((torch_models.predict, t), (keras_models.predict, k)):
        with pytest.raises(InputError, match=pattern):
            predict("lstm_sentiment", model, x)
    with pytest.raises(InputError, match="10 steps; the model was built for 64"):
        keras_models.predict("lstm_sentiment", k, np.zeros((1, 10, 300), np.float32))


# ------------------------------------------------------------------------------------------
# token ids (GNMT takes (N, steps) int ids in both twins)
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("x, pattern", [
    (np.zeros(5, np.int32), r"rank 1 .* pass x\[None\]"),
    (np.zeros((1, 5), np.float32), r"dtype is float32; expected integer token ids"),
    (np.array([[1, 2, 32316, 4, -1]], np.int32), r"2 token id\(s\) outside the vocabulary \[0, 32316\); first 32316"),
    (np.zeros((1, 0), np.int32), r"is empty"),
])
def test_bad_token_batches_are_named(x, pattern):
    t = torch_models.build("gnmt", units=4, encoder_layers=1, decoder_layers=2)
    k = keras_models.build("gnmt", input_size=(5, 32316), units=4, encoder_layers=1, decoder_layers=2)
    for predict, model in ((torch_models.predict, t), (keras_models.predict, k)):
        with pytest.raises(InputError, match=pattern):
            predict("gnmt", model, x)
    with pytest.raises(InputError, match="3 tokens; the model was built for 5"):
        keras_models.predict("gnmt", k, np.zeros((1, 3), np.int32))
    ids = np.array([[5, 6, 7, 8, 9]], np.int32)             # good ids run both twins the same
    from conformance.lib import transfer
    transfer.torch_to_keras(t, k)
    got, want = np.asarray(keras_models.predict("gnmt", k, ids)), torch_models.predict("gnmt", t, ids).numpy()
    assert got.shape == want.shape == (1, 10, 32316)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_a_float64_input_beyond_float32_range_is_refused_after_the_cast(srcnn_twins):
    x = _x((1, 8, 8, 3)).astype(np.float64)
    x[0, 2, 3, 0] = 1e39                     # finite in float64, Inf in the float32 the twins compute in
    with pytest.raises(InputError, match=r"0 NaN and 1 Inf .*first at index \(0, 2, 3, 0\); 1 of them finite as "
                                         r"float64 but beyond float32's range"):
        keras_models.predict("srcnn", srcnn_twins[1], x)
    with pytest.raises(InputError, match="beyond float32's range"):
        torch_models.predict("srcnn", srcnn_twins[0], x.transpose(0, 3, 1, 2))
