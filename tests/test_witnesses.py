"""Independent definitions as witnesses: keras.applications, and torchvision where it imports."""

import os

import pytest

import keras_models
from twinzoo import catalogue
from conformance.lib import keras_witness as witnesses
from conformance.checks.witnesses import check_keras_witness, check_torchvision_witness
from conformance.lib.torchvision_witness import TORCHVISION_WITNESSES, torchvision_or_reason

# set by the tox environment that installs torchvision: there a skip would hide a missing check
REQUIRE_TORCHVISION = os.environ.get("TWINZOO_REQUIRE_TORCHVISION") == "1"


@pytest.mark.parametrize("name", witnesses.witness_networks())
def test_keras_applications_weights_load_into_both_twins(name):
    res = check_keras_witness(catalogue.get(name))
    assert res.status == "pass", res.summary
    w = witnesses.KERAS_WITNESSES[name]
    ours = keras_models.build(name, input_size=w.size, **w.opts)
    assert res.data["layers"] == len([layer for layer in ours.layers if layer.weights]) >= 16


def test_position_mismatch_is_named():
    w = witnesses.KERAS_WITNESSES["mobilenet_v1"]
    theirs = witnesses.build_keras_witness(w)
    ours = keras_models.build("mobilenet_v1_0.5_224", num_classes=1000)
    with pytest.raises(witnesses.WitnessMismatch, match=r"conv1/kernel \(3, 3, 3, 32\) vs body.Conv2d_0.conv/kernel \(3, 3, 3, 16\)"):
        witnesses.copy_by_position(theirs, ours)


@pytest.mark.parametrize("name", sorted(TORCHVISION_WITNESSES))
def test_torchvision_weights_load_into_both_twins(name):
    tv, reason = torchvision_or_reason()
    if tv is None:
        assert not REQUIRE_TORCHVISION, reason
        res = check_torchvision_witness(catalogue.get(name))
        assert res.status == "skip" and "torchvision does not import" in res.summary
        pytest.skip(reason)
    res = check_torchvision_witness(catalogue.get(name))
    assert res.status == "pass", res.summary


def test_torchvision_inception_conventions_matter(monkeypatch):
    """The witness is not blind: without torchvision's padding-counting average pools our twins
    (same weights) must disagree with torchvision's Inception3."""
    tv, reason = torchvision_or_reason()
    if tv is None:
        assert not REQUIRE_TORCHVISION, reason
        pytest.skip(reason)
    import dataclasses
    from conformance.lib import torchvision_witness
    w = TORCHVISION_WITNESSES["inception_v3_keras"]
    wrong = dataclasses.replace(w, opts={**w.opts, "avg_pool_counts_padding": False})
    monkeypatch.setitem(torchvision_witness.TORCHVISION_WITNESSES, "inception_v3_keras", wrong)
    res = check_torchvision_witness(catalogue.get("inception_v3_keras"))
    assert res.status == "fail", res.summary
