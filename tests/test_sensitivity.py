"""Trained-like random weights and the sensitivity of parity: the epsilon and variance sweeps,
the detection floor (the full runs: ``python -m conformance selftest``)."""

import numpy as np
import pytest
import torch

from conformance import checks, parity, selftest, sensitivity
from twinzoo import catalogue


def _randomized(name: str, stats: parity.NormStatistics = parity.TRAINED_LIKE, seed: int = 0):
    net = catalogue.get(name)
    size = net.parity_sizes[0]
    x = np.concatenate([b for _, b, _ in checks.parity_inputs(net, size, seed)])
    report: dict = {}
    model = checks.torch_models.build(name)
    parity.randomize(model, seed, torch.from_numpy(x.transpose(0, 3, 1, 2)), stats, report)
    return model, x, report


def test_bn_statistics_spread_over_orders_of_magnitude_down_to_epsilon():
    model, _, report = _randomized("mobilenet_v1_0.25_128")
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert report["unscalable"] == [] and len(report["scaled"]) == len(bns) == 27
    var = torch.cat([bn.running_var for bn in bns]).numpy()
    live = var[var > 0]             # 0: a dead channel (its input is a ReLU that never fires)
    assert np.log10(live.max() / live.min()) > 6           # orders of magnitude apart
    assert 0.05 < np.mean(live < 1e-2) < 0.3               # the near-dead tail, 1/8 of the channels
    for bn in bns:                  # every layer: a live channel where epsilon moves the output
        v = bn.running_var.numpy()
        assert ((v > 0) & (v < 10 * bn.eps)).any(), bn
        assert np.median(v) > 10 * bn.eps


def test_scaled_weights_reproduce_the_calibrated_statistics():
    """The calibration pass scales each BN's input in the tensor and in the producing conv's
    weights; a fresh calibration of the randomised weights must find the same variances (up to
    the documented [0.7, 1.4] perturbation). A scaling applied to the tensor only would be off by
    the squared scale, orders of magnitude."""
    model, x, _ = _randomized("mobilenet_v1_0.25_128")
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    stored = [bn.running_var.clone() for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    with torch.no_grad():
        model(torch.from_numpy(x.transpose(0, 3, 1, 2)))
    old, new = torch.cat(stored), torch.cat([bn.running_var for bn in bns])
    assert torch.equal(old == 0, new == 0)                 # the same dead channels
    ratios = old[new > 0] / new[new > 0]
    assert ratios.min() > 0.69 and ratios.max() < 1.41


def test_instance_norm_inputs_are_scaled_through_leaky_relu():
    _, _, report = _randomized("dped_discriminator")       # conv -> LeakyReLU -> instance norm
    assert len(report["scaled"]) == 4 and report["unscalable"] == []


def test_sample_indices_take_first_middle_last():
    idx = sensitivity.sample_indices(96)
    assert len(idx) >= 12 and {0, 47, 95} <= set(idx) and idx == sorted(set(idx))
    assert sensitivity.sample_indices(7) == list(range(7))


def test_epsilon_sweep_catches_every_layer_with_margin():
    ps = sensitivity.epsilon_sweep("srgan_discriminator")
    assert len(ps) == 7
    for p in ps:
        assert p.caught and p.ratio >= sensitivity.MARGIN_GOAL and p.layer_ok, p


def test_without_near_epsilon_channels_an_epsilon_mismatch_can_hide(monkeypatch):
    """The planted bug the trained-like statistics exist for: with every BN input variance far
    above epsilon (no near-dead channels), the same sweep misses the mismatch in some layer."""
    monkeypatch.setattr(parity, "TRAINED_LIKE", parity.NormStatistics(layer_median=(1.0, 2.0), tail_fraction=0.0))
    monkeypatch.setattr(checks.parity.randomize, "__defaults__", (None, parity.TRAINED_LIKE, None))
    ps = sensitivity.epsilon_sweep("srgan_discriminator")
    assert min(p.ratio for p in ps) < 1.0


def test_variance_sweep_dped():
    ps = sensitivity.variance_sweep("dped")
    assert len(ps) == 8
    assert all(p.caught and p.ratio >= sensitivity.MARGIN_GOAL and p.layer_ok for p in ps), ps


def test_detection_floor_srcnn():
    f = sensitivity.detection_floor("srcnn")
    assert [x["layer"] for x in f["layers"]] == ["conv1", "conv2", "conv3"]
    assert 1e-7 < f["floor"] <= sensitivity.FLOOR_GOAL and f["meets_goal"]


@pytest.mark.parametrize("name", ["kernel_numpy_T", "rgb_bgr_first_conv"])
def test_converter_bugs_round_trip_exactly_and_parity_catches_them(name):
    r = selftest.run_mutation(name)
    assert r.statuses["roundtrip"] == "pass" and r.flagged_by == ["parity"], r.summaries
