"""The conformance checks on the whole zoo, and proof that they catch real porting bugs."""

import types

import pytest
import torch
import torch.nn.functional as F

import keras

import keras_models
from twinzoo import catalogue
from conformance import checks
from conformance.checks import counts, numeric
from conformance.lib import transfer
from conformance.lib.twins import prepare_twins

ALL = catalogue.names()


@pytest.mark.sweep
@pytest.mark.parametrize("name", ALL)
def test_network_conforms(name):
    # the reference-graph and witness checks have their own test files
    report = checks.check_network(name, checks=("params", "macs", "parity", "fold"))
    bad = {k: r.summary for k, r in report.results.items() if not r.ok}
    assert not bad, bad
    parity = report.results["parity"].data
    kinds = {p["kind"] for p in parity["inputs"]}
    net = catalogue.get(name)
    real = {"images"} if net.image_set else {"sentence"} if net.layout == "tokens" else set()
    assert kinds == real | {"random"}
    assert parity["roundtrip_exact"]
    # the canonical size, where users run it, and the second size where the network takes one
    assert {tuple(p["size"]) for p in parity["inputs"]} == set(net.numeric_sizes)
    assert tuple(net.input_size) in net.numeric_sizes and len(net.numeric_sizes) == (1 if net.fixed_size else 2)


@pytest.mark.parametrize("net", [n for n in catalogue.networks() if n.layout == "image" and not n.fixed_size],
                         ids=lambda n: n.name)
def test_second_sizes_are_off_every_stride_and_pool(net):
    """The second size's sides are primes, or for a network whose sides must be multiples of
    ``size_multiple`` that multiple times an odd prime: no stride or pool window of the network
    divides them. And they are unequal (a height/width mix-up shows) and not the canonical size."""
    def prime(n):
        return n > 2 and all(n % d for d in range(2, int(n ** 0.5) + 1))
    h, w = net.second_size
    m = net.size_multiple
    assert h != w and (h, w) != tuple(net.input_size)
    assert all(side % m == 0 and prime(side // m) for side in (h, w)), (net.name, net.second_size)


def test_mobilenet_v1_matches_the_published_table():
    """All 16 width x resolution variants land on the slim table (the 0.25/192 erratum aside)."""
    for alpha in (1.0, 0.75, 0.5, 0.25):
        for res in (224, 192, 160, 128):
            net = catalogue.get(f"mobilenet_v1_{alpha}_{res}")
            res_ = counts.check_macs(net)
            slim = [p for p in res_.data["published"] if "mobilenet_v1.md" in p["source"]]
            assert len(slim) == 1
            assert slim[0]["matches"] or slim[0].get("erratum"), (net.name, slim[0])
            assert res_.data["twins_agree"]


# ------------------------------------------------------------------------------------------
# planted bugs: each must fail parity and be localised to the layer it was planted in
# ------------------------------------------------------------------------------------------
def _planted(mutate):
    def twins(net, size, seed, calibration, keras_model=None):
        tmodel, kmodel = prepare_twins(net, size, seed, calibration, keras_model)
        mutate(tmodel, kmodel)
        return tmodel, kmodel
    return twins


def test_parity_runs_at_the_canonical_and_the_second_size():
    """A pool window sized for one input: MobileNet v1 0.25/128's global mean ported as a fixed
    4x4 average pool is the global mean at its canonical 128x128 (a 4x4 final map) and the
    top-left 4x4 of the 5x6 map at the second size 139x163. A check at one size passes it."""
    net = catalogue.get("mobilenet_v1_0.25_128")
    assert net.numeric_sizes == ((128, 128), (139, 163))

    def mutate(tmodel, kmodel):
        tmodel.logits.pool = torch.nn.AvgPool2d(4)
    res = numeric.check_parity(net, twins=_planted(mutate))
    assert res.status == "fail"
    assert res.data["failed_sizes"] == [[139, 163]]            # the twins agree at 128x128
    assert res.data["first_divergence"]["layer"] == "logits.pool"
    assert res.data["first_divergence"]["size"] == [139, 163]
    # the same check at the canonical size alone passes it
    assert numeric.check_parity(net, twins=_planted(mutate), sizes=((128, 128),)).status == "pass"


def test_train_judges_the_training_mode_outputs(monkeypatch):
    """SRCNN has no BN, so before its training-mode outputs were judged the train check had
    nothing to look at: a dropout in one twin, the identity at inference (parity passes), is
    seen in training mode only, and the train check names the layer."""
    net = catalogue.get("srcnn")
    assert numeric.check_train(net).status == "pass"                    # the correct twins
    real = prepare_twins

    def twins(*args, **kwargs):
        tmodel, kmodel = real(*args, **kwargs)
        relu = tmodel.relu1
        relu.forward = types.MethodType(lambda self, x: F.dropout(F.relu(x), 0.5, self.training), relu)
        return tmodel, kmodel
    monkeypatch.setattr(numeric, "prepare_twins", twins)
    res = numeric.check_train(net)
    assert res.status == "fail", res.summary
    assert res.data["first_divergence"] == {"layer": "relu1", "statistic": None}
    assert res.data["bn_layers"] == 0
    assert numeric.check_parity(net, twins=twins).status == "pass"      # invisible at inference


def test_wrong_bn_epsilon_is_caught_and_localised():
    layer = "body.Conv2d_5_pointwise.bn"

    def mutate(tmodel, kmodel):
        kmodel.get_layer(layer).epsilon = 1e-5          # the torch default leaks into the port
    res = numeric.check_parity(catalogue.get("mobilenet_v1_0.25_128"), twins=_planted(mutate))
    assert res.status == "fail"
    assert res.data["first_divergence"]["layer"] == layer


def test_symmetric_padding_on_a_strided_conv_is_caught_and_localised():
    layer = "body.Conv2d_4_depthwise.conv"

    def mutate(tmodel, kmodel):
        conv = tmodel.get_submodule(layer)
        assert conv.stride == (2, 2)
        conv.static_same, conv.padding = True, (1, 1)    # the classic torch port: padding=1
    res = numeric.check_parity(catalogue.get("mobilenet_v1_0.25_128"), twins=_planted(mutate))
    assert res.status == "fail"
    assert res.data["first_divergence"]["layer"] == layer


@pytest.mark.parametrize("name", ["srgan_discriminator", "dped_discriminator"])
def test_wrong_flatten_order_is_caught_and_localised(name, monkeypatch):
    net = catalogue.get(name)
    keras.backend.clear_session()
    first_dense = next(layer.name for layer in keras_models.build(name).layers
                       if isinstance(layer, keras.layers.Dense))

    def twins(net, size, seed, calibration, keras_model=None):
        with monkeypatch.context() as m:
            m.setattr(transfer, "flatten_order", lambda layer: None)   # dense rows left in torch order
            return prepare_twins(net, size, seed, calibration, keras_model)
    res = numeric.check_parity(net, twins=twins)
    assert res.status == "fail"
    assert res.data["first_divergence"]["layer"] == first_dense


def test_a_parity_failure_is_recorded_not_raised():
    def boom(net, size, seed, calibration, keras_model=None):
        raise RuntimeError("converter exploded")
    report = checks._guard("parity", lambda: numeric.check_parity(catalogue.get("srcnn"), twins=boom))
    assert report.status == "error" and "converter exploded" in report.summary


def test_icnet_fold_is_checked_and_passes():
    res = numeric.check_fold(catalogue.get("icnet_train"))
    assert res.status == "pass", res.summary
    assert res.data["bn_folded"] > 0
    assert {p["form"] for p in res.data["inputs"]} == {"torch folded", "Keras folded"}
    assert numeric.check_fold(catalogue.get("icnet")).status == "skip"      # already folded


def test_a_fold_that_forgets_the_running_mean_is_caught(monkeypatch):
    import torch
    from torch_models import icnet

    real = icnet.fold_batch_norm

    def forgetful(model):
        with torch.no_grad():
            saved = {n: m.running_mean.clone() for n, m in model.named_modules()
                     if isinstance(m, torch.nn.BatchNorm2d)}
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.zero_()
            try:
                return real(model)
            finally:
                for n, m in model.named_modules():
                    if n in saved:
                        m.running_mean.copy_(saved[n])
    monkeypatch.setattr(icnet, "fold_batch_norm", forgetful)
    res = numeric.check_fold(catalogue.get("icnet_train"))
    assert res.status == "fail", res.summary
