"""Trained-like random weights and the sensitivity of parity: the epsilon and variance sweeps,
the detection floor (the full runs: ``python -m conformance selftest``)."""

import numpy as np
import pytest
import torch

import torch_models
from torch_models.layers import Add

from conformance import selftest
from conformance.lib import trained_like, twins
from conformance.selftest import sensitivity
from twinzoo import catalogue


def _randomized(name: str, stats: trained_like.NormStatistics = trained_like.TRAINED_LIKE, seed: int = 0):
    net = catalogue.get(name)
    size = net.parity_sizes[0]
    x = np.concatenate([b for _, b, _ in twins.parity_inputs(net, size, seed)])
    report: dict = {}
    model = torch_models.build(name)
    trained_like.randomize(model, seed, torch.from_numpy(x.transpose(0, 3, 1, 2)), stats, report)
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


def test_preactivation_norms_fed_by_residual_streams_get_the_near_dead_tail():
    """ResNet v2: every unit's pre-activation BN (and ``postnorm``) reads a residual sum, not one
    conv. The stream's draw, made at its projection unit's Add, must reach them all, and a
    near-dead channel stays near-dead along the stream (one draw per stream)."""
    model, _, report = _randomized("resnet_v2_50")
    bns = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.BatchNorm2d)}
    fed = [n for n in bns if ".preact." in n or n.startswith("postnorm.")]
    assert len(bns) == 49 and len(fed) == 17
    assert report["unscalable"] == [] and len(report["scaled"]) == 49
    assert sorted(report["stream"]) == sorted(n for n in fed if n != "block1.unit_1.preact.bn")  # that one: pool1 <- conv1
    for n in fed:
        v = bns[n].running_var
        assert ((v > 0) & (v < 1e-2)).any(), n
        assert v.median() > 10 * bns[n].eps, n
    # block 4's stream (units 1-3, then postnorm): the channels dead at unit 2 are dead at the end
    dead = bns["block4.unit_2.preact.bn"].running_var < 1e-3
    assert dead.sum() > 100 and (bns["postnorm.bn"].running_var[dead] < 1e-2).all()


class _Unit(torch.nn.Module):
    """A conv shortcut plus conv (-> BN), then a ReLU function (not a module: no norm is fed by
    the Add, as in ResNet v1, though without the BN the Add sums two convs as a stream would)."""

    def __init__(self, c: int, bn: bool) -> None:
        super().__init__()
        self.short, self.conv = torch.nn.Conv2d(c, c, 1), torch.nn.Conv2d(c, c, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(c) if bn else torch.nn.Identity()
        self.add = Add()

    def forward(self, x):
        return torch.relu(self.add(self.short(x), self.bn(self.conv(x))))


def test_stream_logic_never_triggers_without_a_norm_fed_by_an_add(monkeypatch):
    """Networks without an Add must be randomised exactly as before the stream logic: no probe
    pass and no Add hook; with Adds that feed no norm, the probe finds no stream and the weights
    are those the norm-only calibration gives."""
    x = torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    seq = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                              torch.nn.Conv2d(8, 8, 3), torch.nn.BatchNorm2d(8))

    def forbidden(*args, **kwargs):
        raise AssertionError("stream logic ran")
    with monkeypatch.context() as m:
        m.setattr(trained_like, "_StreamProbe", forbidden)
        m.setattr(trained_like._InputScaler, "add_pre_hook", forbidden)
        report: dict = {}
        trained_like.randomize(seq, 0, x, report=report)
    assert report["stream"] == [] and report["unscalable"] == [] and len(report["scaled"]) == 2

    def build():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), _Unit(8, False), torch.nn.BatchNorm2d(8), _Unit(8, True))
    net = build()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    rng = torch.get_rng_state()
    assert trained_like._stream_origins(net, x) == {}                 # the probe: no stream, no trace
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    report = {}
    trained_like.randomize(net, 0, x, report=report)
    with monkeypatch.context() as m:                            # the calibration without streams
        m.setattr(trained_like, "_stream_origins", lambda model, calibration: {})
        plain = trained_like.randomize(build(), 0, x)
    assert report["stream"] == [] and report["unscalable"] == ["2"]   # BN after a ReLU'd sum
    assert all(torch.equal(v, plain.state_dict()[k]) for k, v in net.state_dict().items())


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
    monkeypatch.setattr(trained_like, "TRAINED_LIKE", trained_like.NormStatistics(layer_median=(1.0, 2.0), tail_fraction=0.0))
    monkeypatch.setattr(trained_like.randomize, "__defaults__", (None, trained_like.TRAINED_LIKE, None))
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
    # SRCNN has no BN: the train check sees the bug in its training-mode outputs too
    assert r.statuses["roundtrip"] == "pass" and r.flagged_by == ["parity", "train"], r.summaries
