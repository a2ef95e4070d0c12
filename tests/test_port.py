"""``python -m conformance port``: files of every kind, built here offline, ported into both twins
and certified; hostile and misfit files refused with exit 2 and nothing written."""

from __future__ import annotations

import json
import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from conformance import cli, port
from conformance.port import plans
from twinzoo.files import sha256
from conformance.lib import graphs as ref
from twinzoo.graphs import Dialect
from twinzoo import catalogue


def _perturbed(name: str, value: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Values unlike any initialiser's (biases and BN shifts non-zero, scales and variances not
    one), so a tensor put in the wrong place shows in the outputs."""
    noise = rng.standard_normal(value.shape).astype(np.float32)
    if re.search(r"(variance|moving_var)", name):
        return (0.5 + np.abs(noise)).astype(np.float32)
    if value.ndim <= 1:
        return (value + 0.1 * noise).astype(np.float32)
    return value.astype(np.float32) * (1 + 0.1 * noise)


def graph_checkpoint(name: str, directory: Path, seed: int = 0, v1: bool = False) -> Path:
    """A TF1 checkpoint saved from AI Benchmark's own graph of ``name``: its variables under the
    graph's names, initialised by the graph's initialisers and then perturbed; ``v1``: the old
    single-file format of TF-slim's 2016 releases."""
    import tensorflow as tf
    spec = ref.GRAPHS[name]
    rng = np.random.default_rng(seed)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.train.import_meta_graph(str(ref.graph_path(spec)), clear_devices=True)
        variables = ref._model_variables(graph)
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.variables_initializer(variables))
            initial = sess.run(variables)
            perturbed = {v.op.name: _perturbed(v.op.name, x, rng) for v, x in zip(variables, initial)}
            ref._load(sess, variables, perturbed.__getitem__)
            directory.mkdir(parents=True, exist_ok=True)
            version = tf.compat.v1.train.SaverDef.V1 if v1 else tf.compat.v1.train.SaverDef.V2
            saver = tf.compat.v1.train.Saver(variables, write_version=version)
            return Path(saver.save(sess, str(directory / "model.ckpt"), write_meta_graph=False))


def save_checkpoint(tensors: dict[str, np.ndarray], prefix: Path) -> Path:
    """A name-based TF1 checkpoint holding exactly ``tensors`` (as tf.compat.v1.train.Saver
    writes them), for dialects the package has no graph of."""
    import tensorflow as tf
    graph = tf.Graph()
    with graph.as_default():
        vs = {n: tf.compat.v1.Variable(v, name=n.replace(":", "_")) for n, v in tensors.items()}
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            return Path(tf.compat.v1.train.Saver(vs).save(sess, str(prefix), write_meta_graph=False))


def run_port(*args: str) -> int:
    return cli.main(["port", *args])


def _cert(out: Path) -> dict:
    (path,) = out.glob("*.certificate.json")
    return json.loads(path.read_text())


# ------------------------------------------------------------------------------------------
# TF checkpoints saved from every AI Benchmark graph
# ------------------------------------------------------------------------------------------
# the top-1 comparison at a small size (the Inceptions' fixed 8x8 pools and 5x5 aux convs need 299)
# and over the first 10 images where a network is costly; the rest at the package's 100
SMALL = {"mobilenet_v2": ["--size", "96x96"], "inception_v3": ["--size", "299x299", "--images", "10"],
         "inception_v4": ["--size", "299x299", "--images", "10"],
         "inception_resnet_v2": ["--size", "299x299", "--images", "10"], "resnet_v2_50": ["--size", "64x64"],
         "resnet_v2_152": ["--size", "64x64"], "vgg_16": ["--images", "10"]}


# GNMT's port is not built yet: its checkpoint holds nmt's int32 global step (``Variable``, no
# dialect rule ignores it) and the certificate's graph run feeds an image where gnmt.meta takes a
# sentence; `port` refuses it, naming that variable
NOT_PORTED = {"gnmt": "checkpoint porting of GNMT is not built yet (nmt's global step has no dialect rule; "
                      "the certificate's graph run needs a sentence, not an image)"}


@pytest.mark.sweep
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.skip(reason=NOT_PORTED[n])) if n in NOT_PORTED
                                  else n for n in ref.graph_networks()])
def test_a_checkpoint_saved_from_the_graph_is_ported_and_certified(name, tmp_path):
    ckpt = graph_checkpoint(name, tmp_path)
    out = tmp_path / "out"
    assert run_port("--model", name, "--from", str(ckpt), "--out", str(out), *SMALL.get(name, [])) == 0
    cert = _cert(out)
    assert cert["passed"], cert
    t = cert["tensors"]
    assert t["placed"] == t["in_file"] > 0 and t["ignored"] == t["filled"] == 0
    # the graph restored the checkpoint by its own names, no rule of ours in between
    assert cert["reference"]["status"] == "pass" and "no mapping rule" in cert["reference"]["loaded"]
    assert cert["params"]["catalogue"]["status"] == "pass"
    assert sorted(p.name for p in out.iterdir()) == [f"{name}.certificate.json", f"{name}.certificate.md",
                                                      f"{name}.keras.safetensors", f"{name}.torch.safetensors"]
    assert cert["source"]["files"][0]["sha256"] == sha256(Path(cert["source"]["files"][0]["path"]))
    if cert["network"] in ("mobilenet_v2", "resnet_v2_50", "resnet_v2_152"):
        assert cert["top1"]["images"] == 100 and cert["top1"]["status"] == "pass"


def test_a_rule_that_swaps_two_tensors_is_caught_by_the_graph_not_by_parity(tmp_path, monkeypatch):
    """DPED's instance norms store (shift, scale) as Variable_{2k}, Variable_{2k+1}: a dialect
    that reads them the other way round fills both twins alike (parity passes) and only the
    graph, restoring the checkpoint by name, sees it."""
    ckpt = graph_checkpoint("dped", tmp_path)
    spec = ref.GRAPHS["dped"]
    conv_rule, norm_rule = spec.rules

    def swapped(m):
        layer, weight = norm_rule[1](m)
        return layer, {"beta": "gamma", "gamma": "beta"}[weight]
    wrong = Dialect("dped.meta with the norms' scale and shift read the other way", (conv_rule, (norm_rule[0], swapped)))
    monkeypatch.setattr(plans, "tf_dialect", lambda net: wrong)
    out = tmp_path / "out"
    assert run_port("--model", "dped", "--from", str(ckpt), "--out", str(out)) == 1
    cert = _cert(out)
    assert cert["parity"]["status"] == "pass"
    assert cert["reference"]["status"] == "fail"
    assert sorted(p.name for p in out.iterdir()) == ["dped.certificate.json", "dped.certificate.md"]   # no weights


def test_a_v1_single_file_checkpoint_is_read(tmp_path):
    ckpt = graph_checkpoint("dped", tmp_path, v1=True)
    assert ckpt.is_file() and not list(tmp_path.glob("*.index"))
    out = tmp_path / "out"
    assert run_port("--model", "dped", "--from", str(ckpt), "--out", str(out)) == 0
    cert = _cert(out)
    assert cert["passed"] and [f["path"] for f in cert["source"]["files"]] == [str(ckpt)]


# ------------------------------------------------------------------------------------------
# released checkpoints' dialects: TF-slim's names for the MobileNets and Inception-v3
# ------------------------------------------------------------------------------------------
def test_slim_mobilenet_v1_checkpoint_with_ema_and_training_state(tmp_path):
    """TF-slim's MobileNet v1 scopes (research/slim/nets/mobilenet_v1.py: ``MobilenetV1/Conv2d_<i>``,
    ``_depthwise``/``_pointwise``, ``depthwise_weights``, ``BatchNorm``, the logits in
    ``Logits/Conv2d_1c_1x1``), with ``global_step``, a Momentum slot per variable and
    ExponentialMovingAverage shadows, as a training run's checkpoint holds them."""
    import keras_models
    net = "mobilenet_v1_0.25_128"
    k = keras_models.build(net)
    rng = np.random.default_rng(1)
    tensors, ours = {}, {}
    for layer in k.layers:
        for v in layer.weights:
            leaf = v.path.rsplit("/", 1)[-1]
            block = layer.name.removeprefix("body.").rsplit(".", 1)[0]
            scope = "Logits/Conv2d_1c_1x1" if block == "logits" else block
            slim_leaf = {"kernel": "depthwise_weights" if "depthwise" in layer.name else "weights",
                         "bias": "biases"}.get(leaf, leaf)
            name = f"MobilenetV1/{scope}/{'BatchNorm/' if layer.name.endswith('.bn') else ''}{slim_leaf}"
            value = _perturbed(name, np.asarray(v.numpy()), rng)
            tensors[name] = value
            tensors[name + "/ExponentialMovingAverage"] = value * 0.5 + 0.25 if "variance" in name else value * 0.9
            if "moving" not in name:
                tensors[name + "/Momentum"] = value * 0
            ours[f"{layer.name}/{leaf}"] = name
    tensors["global_step"] = np.array(1000, dtype=np.int64)
    ckpt = save_checkpoint(tensors, tmp_path / "mobilenet_v1.ckpt")
    out = tmp_path / "out"
    assert run_port("--model", net, "--from", str(ckpt), "--out", str(out)) == 0
    cert = _cert(out)
    assert cert["passed"] and cert["tensors"]["placed"] == len(ours)
    reasons = {x["source"]: x["reason"] for x in cert["tensors"]["ignored_tensors"]}
    assert reasons["global_step"] == "the training step counter"
    assert all("optimiser slot" in r for s, r in reasons.items() if s.endswith("/Momentum"))
    assert len(reasons) == 1 + sum(n.endswith("/Momentum") for n in tensors) + len(ours)   # raw values of EMA'd
    # the shadows are what went in (TF-slim evaluates with them)
    from conformance.lib import weights
    from safetensors.numpy import load_file
    got = load_file(str(out / f"{net}.keras.safetensors"))
    for key, name in ours.items():
        np.testing.assert_array_equal(got[key], tensors[name + "/ExponentialMovingAverage"])
    assert weights.read_header(out / f"{net}.torch.safetensors")["__metadata__"]["network"] == net
    # --ema ignore: the raw values instead
    out2 = tmp_path / "raw"
    assert run_port("--model", net, "--from", str(ckpt), "--out", str(out2), "--ema", "ignore") == 0
    raw = load_file(str(out2 / f"{net}.keras.safetensors"))
    for key, name in ours.items():
        np.testing.assert_array_equal(raw[key], tensors[name])


@pytest.mark.parametrize("name", ["mobilenet_v2", "inception_v3"])
def test_slim_released_naming_of_graph_networks_is_the_graphs(name, tmp_path):
    """AI Benchmark built these graphs from TF-slim's nets, so slim's released checkpoints use
    the graphs' names; one saved with an EMA shadow beside each variable and a global_step reads
    the same way, shadows used."""
    import tensorflow as tf
    ckpt = graph_checkpoint(name, tmp_path / "g")
    reader = tf.train.load_checkpoint(str(ckpt))
    tensors = {n: reader.get_tensor(n) for n in reader.get_variable_to_shape_map()}
    tensors.update({f"{n}/ExponentialMovingAverage": v for n, v in list(tensors.items())})
    tensors["global_step"] = np.array(7, dtype=np.int64)
    prefix = save_checkpoint(tensors, tmp_path / "slim" / "model.ckpt")
    out = tmp_path / "out"
    assert run_port("--model", name, "--from", str(prefix), "--out", str(out), *SMALL[name]) == 0
    cert = _cert(out)
    assert cert["passed"] and cert["reference"]["status"] == "pass"
    assert all(p["source"].endswith("/ExponentialMovingAverage") for p in cert["tensors"]["placements"])


def test_facenet_checkpoint_with_its_identity_classifier(tmp_path):
    """FaceNet's names (davidsandberg/facenet src/models/inception_resnet_v1.py: slim scopes under
    ``InceptionResnetV1``, BN without gamma, the residual blocks' up-projection ``Conv2d_1x1`` with
    biases and no BN, the embedding ``Bottleneck`` FC without bias and its BatchNorm), plus the
    top-level ``Logits`` classifier over the training identities that train_softmax.py saves."""
    import keras_models
    net = "inception_resnet_v1"
    k = keras_models.build(net, input_size=(160, 160))
    rng = np.random.default_rng(5)
    tensors = {}
    for layer in k.layers:
        for v in layer.weights:
            leaf = v.path.rsplit("/", 1)[-1]
            path, _, kind = layer.name.rpartition(".")
            if layer.name == "Bottleneck.fc":
                name = "InceptionResnetV1/Bottleneck/weights"
            elif kind == "bn":
                name = f"InceptionResnetV1/{path.replace('.', '/')}/BatchNorm/{leaf}"
            else:
                scope = layer.name if kind == "Conv2d_1x1" else path          # the bare residual up-conv
                name = f"InceptionResnetV1/{scope.replace('.', '/')}/{ {'kernel': 'weights', 'bias': 'biases'}[leaf]}"
            tensors[name] = _perturbed(name, np.asarray(v.numpy()), rng)
    tensors["Logits/weights"] = rng.standard_normal((128, 8631)).astype(np.float32)
    tensors["Logits/biases"] = np.zeros(8631, np.float32)
    ckpt = save_checkpoint(tensors, tmp_path / "facenet" / "model-20180402-114759.ckpt-275")
    out = tmp_path / "out"
    assert run_port("--model", net, "--from", str(ckpt.parent), "--out", str(out), "--size", "160x160") == 0
    cert = _cert(out)
    assert cert["passed"] and cert["tensors"]["placed"] == len(tensors) - 2
    assert {x["source"] for x in cert["tensors"]["ignored_tensors"]} == {"Logits/weights", "Logits/biases"}
    assert "identity classifier" in cert["tensors"]["ignored_tensors"][0]["reason"]
    assert cert["reference"]["status"] == "skip" and "top1" not in cert


# ------------------------------------------------------------------------------------------
# keras.applications weight files
# ------------------------------------------------------------------------------------------
def _keras_app(name: str):
    from conformance.lib import keras_witness as witnesses
    w = port.keras_app_for(catalogue.get(name))
    app = witnesses.build_keras_witness(w)
    rng = np.random.default_rng(3)
    for layer in app.layers:
        for v in layer.weights:
            v.assign(_perturbed(v.name, np.asarray(v.numpy()), rng))
    return app


@pytest.mark.parametrize("name, kind", [("mobilenet_v2_0.35_224", "legacy.h5"), ("mobilenet_v2_0.35_224", "model.h5"),
                                        ("mobilenet_v2_0.35_224", ".weights.h5"), ("resnet_v2_50", ".weights.h5")])
def test_keras_applications_weight_files(name, kind, tmp_path):
    import h5py
    from keras.src.legacy.saving import legacy_h5_format
    app = _keras_app(name)
    path = tmp_path / ("m.weights.h5" if kind == ".weights.h5" else "m.h5")
    if kind == "legacy.h5":            # the layout of keras.applications' released weight files
        with h5py.File(path, "w") as f:
            legacy_h5_format.save_weights_to_hdf5_group(f, app)
    elif kind == "model.h5":
        app.save(path)
    else:
        app.save_weights(path)
    out = tmp_path / "out"
    size = ["--size", "64x64"] if name == "resnet_v2_50" else []
    assert run_port("--model", name, "--from", str(path), "--out", str(out), *size) == 0
    cert = _cert(out)
    assert cert["passed"] and cert["options"]["num_classes"] == 1000
    assert cert["tensors"]["placed"] == cert["tensors"]["in_file"] == sum(len(la.weights) for la in app.layers)
    assert cert["top1"]["agree"] == 100
    # the twins compute what keras.applications computes with the file's weights
    import keras_models
    from conformance.lib import parity, twins, weights
    net = catalogue.get(name)
    k = keras_models.build(name, input_size=tuple(app.input_shape[1:3]), **cert["options"])
    weights.load_keras(k, name, out / f"{name}.keras.safetensors", cert["options"])
    x = twins.parity_inputs(net, tuple(app.input_shape[1:3]), 0, images=2, randoms=0)[0][1]
    assert parity.compare(np.asarray(app(x, training=False)), parity.run_keras(k, x), net.tolerance).passed


def test_an_include_top_false_file_is_refused_naming_the_missing_head(tmp_path):
    import keras
    app = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(224, 224, 3), alpha=0.35)
    path = tmp_path / "notop.weights.h5"
    app.save_weights(path)
    out = tmp_path / "out"
    assert run_port("--model", "mobilenet_v2_0.35_224", "--from", str(path), "--out", str(out)) == 2
    assert not any(out.iterdir()) if out.exists() else True


# ------------------------------------------------------------------------------------------
# torch state dicts
# ------------------------------------------------------------------------------------------
def test_our_torch_names_and_a_wrapped_state_dict(tmp_path):
    import torch

    import torch_models
    t = torch_models.build("dped_discriminator")
    path = tmp_path / "d.pt"
    torch.save({"state_dict": t.state_dict()}, path)
    out = tmp_path / "out"
    assert run_port("--model", "dped_discriminator", "--from", str(path), "--out", str(out)) == 0
    cert = _cert(out)
    assert cert["source"]["meta"] == {"wrapped_in": "state_dict"}
    assert cert["source"]["dialect"] == "twinzoo torch names"


def test_a_torchvision_state_dict(tmp_path):
    """torchvision's mobilenet_v2 state dict (built with torchvision where it imports, as the
    torchvision environment does), paired by position; its numerics options recorded."""
    import torch

    from conformance.lib.torchvision_witness import torchvision_or_reason
    tv, why = torchvision_or_reason()
    if tv is None:
        assert os.environ.get("TWINZOO_REQUIRE_TORCHVISION") != "1", why
        pytest.skip(why)
    from conformance.lib import trained_like
    m = tv.models.mobilenet_v2(weights=None).eval()
    trained_like.randomize(m, 0, torch.rand(2, 3, 96, 96) * 2 - 1)      # trained-like weights, calibrated BN
    path = tmp_path / "mobilenet_v2-tv.pth"
    torch.save(m.state_dict(), path)
    out = tmp_path / "out"
    assert run_port("--model", "mobilenet_v2", "--from", str(path), "--out", str(out), "--size", "96x96") == 0
    cert = _cert(out)
    assert cert["options"]["bn_eps"] == 1e-5 and cert["options"]["padding"] == "symmetric"
    assert cert["reference"]["status"] == "skip"           # the graph's numerics are not torchvision's
    x = torch.rand(2, 3, 96, 96) * 2 - 1
    import torch_models
    from conformance.lib import weights
    ours = weights.load_torch(torch_models.build("mobilenet_v2", **cert["options"]), "mobilenet_v2",
                              out / "mobilenet_v2.torch.safetensors", cert["options"])
    with torch.no_grad():
        np.testing.assert_allclose(ours(x).reshape(2, -1).numpy(), m.eval()(x).numpy(), rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------------------------------
# hostile and misfit files: exit 2, nothing written, the problem named
# ------------------------------------------------------------------------------------------
class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/twinzoo-pwned",))


def _refused(tmp_path: Path, model: str, path: Path, capsys, *extra: str) -> str:
    out = tmp_path / "out"
    assert run_port("--model", model, "--from", str(path), "--out", str(out), *extra) == 2
    assert not out.exists() or not any(out.iterdir())
    return capsys.readouterr().err


def test_a_pickle_with_code_is_refused_unrun(tmp_path, capsys):
    import torch
    path = tmp_path / "evil.pth"
    torch.save({"conv.weight": torch.zeros(1), "x": _Evil()}, path)
    err = _refused(tmp_path, "srcnn", path, capsys)
    assert "weights_only" in err and not Path("/tmp/twinzoo-pwned").exists()
    raw = tmp_path / "evil.pkl"
    raw.write_bytes(pickle.dumps(_Evil()))
    assert "weights_only" in _refused(tmp_path, "srcnn", raw, capsys)
    assert not Path("/tmp/twinzoo-pwned").exists()


def test_another_networks_checkpoint_a_truncated_one_and_a_non_file(tmp_path, capsys):
    ckpt = graph_checkpoint("srcnn", tmp_path / "s")
    err = _refused(tmp_path, "vdsr", ckpt, capsys)
    assert "does not fit vdsr" in err and "generator/w1" in err
    data = next(ckpt.parent.glob("model.ckpt.data-*"))
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    assert "truncated or corrupt" in _refused(tmp_path, "srcnn", ckpt, capsys)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not weights at all")
    assert "cannot tell its format" in _refused(tmp_path, "srcnn", junk, capsys)
    assert "no such file" in _refused(tmp_path, "srcnn", tmp_path / "missing.ckpt", capsys)


def test_a_checkpoint_with_an_unknown_variable_or_a_wrong_shape_is_refused_naming_it(tmp_path, capsys):
    import tensorflow as tf
    ckpt = graph_checkpoint("srcnn", tmp_path / "s")
    reader = tf.train.load_checkpoint(str(ckpt))
    tensors = {n: reader.get_tensor(n) for n in reader.get_variable_to_shape_map()}
    extra = save_checkpoint({**tensors, "generator/w4": np.zeros((3, 3, 3, 3), np.float32)}, tmp_path / "x" / "m")
    assert "generator/w4" in _refused(tmp_path, "srcnn", extra, capsys)
    bad = save_checkpoint({**tensors, "generator/w2": np.zeros((5, 5, 64, 16), np.float32)}, tmp_path / "y" / "m")
    assert "generator/w2 [5, 5, 64, 16]" in _refused(tmp_path, "srcnn", bad, capsys)


def test_twinzoo_files_of_another_network_or_variant_are_refused(tmp_path, capsys):
    import torch_models
    from conformance.lib import weights
    path = weights.save_torch(torch_models.build("mobilenet_v1_0.25_128"), "mobilenet_v1_0.25_128",
                              tmp_path / "w.safetensors")
    assert "not 'mobilenet_v1_0.5_160'" in _refused(tmp_path, "mobilenet_v1_0.5_160", path, capsys)
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(path.read_bytes()[:-100])
    assert "truncated" in _refused(tmp_path, "mobilenet_v1_0.25_128", cut, capsys)


def test_an_unwritable_output_directory_is_refused_before_any_work(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user that can write anywhere")
        assert run_port("--model", "srcnn", "--from", str(tmp_path / "x"), "--out", str(ro)) == 2
        assert "not writable" in capsys.readouterr().err
    finally:
        ro.chmod(0o700)


# ------------------------------------------------------------------------------------------
# export --weights: the artifacts of ported weights
# ------------------------------------------------------------------------------------------
def test_export_uses_ported_weights_and_judges_int8_top1_on_100_images(tmp_path):
    import torch

    import torch_models
    from conformance.lib import trained_like
    from export import cli as export_cli
    net = "mobilenet_v1_0.25_128"
    t = torch_models.build(net)
    trained_like.randomize(t, 0, torch.rand(4, 3, 128, 128) * 2 - 1)      # trained-like, calibrated BN
    torch.save(t.state_dict(), tmp_path / "m.pt")
    ported = tmp_path / "ported"
    assert run_port("--model", net, "--from", str(tmp_path / "m.pt"), "--out", str(ported), "--images", "10") == 0
    out = tmp_path / "artifacts"
    rc = export_cli.main(["--model", net, "srcnn", "--format", "tflite_fp32", "tflite_int8", "--weights", str(ported),
                          "--out", str(out)])
    assert rc in (0, 1, 3)
    manifest = json.loads((out / "manifest.json").read_text())
    assert "ported weights from" in manifest["weights"]
    recs = {(r["network"], r["format"]): r for r in manifest["artifacts"]}
    fp32 = recs[(net, "tflite_fp32")]
    assert fp32["outcome"] == "pass" and fp32["weights"]["files"]["keras"]["sha256"] == \
        sha256(ported / f"{net}.keras.safetensors")
    int8 = recs[(net, "tflite_int8")]["verification"]
    assert int8["top1_images"]["images"] == 100 and int8["top1_images"]["bar"] == 0.85
    assert int8["passed"] == (int8["top1_images"]["passed"] and int8["snr_db"] >= 8.0)
    # srcnn has no port in that directory: recorded as that network's error, the other went on
    assert recs[("srcnn", "tflite_fp32")]["outcome"] == "export failed"
    assert "no certified port of srcnn" in recs[("srcnn", "tflite_fp32")]["error"]
    assert export_cli.main(["--model", net, "--weights", str(tmp_path / "nowhere"), "--out", str(out)]) == 2


def test_benchmark_times_ported_weights(tmp_path):
    import torch

    import torch_models
    from benchmark import cli as bench_cli
    t = torch_models.build("srcnn")
    torch.save(t.state_dict(), tmp_path / "s.pt")
    ported = tmp_path / "ported"
    assert run_port("--model", "srcnn", "--from", str(tmp_path / "s.pt"), "--out", str(ported), "--size", "32x32") == 0
    out = tmp_path / "bench"
    rc = bench_cli.main(["--quick", "--model", "srcnn", "--runtime", "torch_eager", "keras_tf", "--weights", str(ported),
                         "--no-witnesses", "--jobs", "0", "--out", str(out)])
    assert rc == 0
    report = json.loads((out / "benchmark.json").read_text())
    assert "ported weights from" in report["settings"]["weights"]
    (rec,) = report["networks"]
    assert rec["weights"]["files"]["torch"]["sha256"] == sha256(ported / "srcnn.torch.safetensors")
    assert all(r["status"] == "ok" for r in rec["runtimes"].values()), rec["runtimes"]
