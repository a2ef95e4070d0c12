"""The mutation self-test, on a fast subset (the full run: ``python -m conformance selftest``)."""

import json

import pytest
import torch

import torch_models
from conformance import cli, selftest
from conformance.selftest import mutations
from conformance.lib import transfer
from conformance.lib.counting import build_torch_meta
from twinzoo import catalogue


def test_the_catalogue_is_well_formed():
    muts = mutations.MUTATIONS
    assert len(muts) >= 25
    assert len({m.name for m in muts}) == len(muts)
    assert len({m.network for m in muts}) >= 8
    for m in muts:
        catalogue.get(m.network)
        assert m.twin in ("torch", "keras", "transfer", "both"), m.name
        assert m.expect and set(m.expect) <= set(selftest.SELFTEST_CHECKS + (selftest.REFERENCE,)), m.name
        # a bug both twins share can only be seen against AI Benchmark's graph
        assert (m.twin == "both") == (m.expect == ("reference",)), m.name
        assert not set(m.expect) & set(m.invisible), m.name     # expected to catch, yet invisible?
        assert m.models and m.description, m.name


def test_every_expected_layer_exists_in_the_twins():
    """The twins share names, so the torch module tree (built on the meta device: no memory)
    must hold each layer a mutation expects to be named."""
    by_net: dict[str, set[str]] = {}
    for m in mutations.MUTATIONS:
        if m.layer is None:
            continue
        if m.network not in by_net:
            by_net[m.network] = {n for n, _ in build_torch_meta(m.network).named_modules()}
        assert m.layer in by_net[m.network], (m.name, m.layer)


def test_mutations_leave_no_trace():
    real = (torch_models.build, torch_models.fold_batch_norm, transfer.rule_for, transfer.flatten_order)
    for name in ("tanh_as_sigmoid", "kernel_numpy_T", "flatten_order_nchw"):
        with mutations.by_name(name).applied():
            changed = (torch_models.build, torch_models.fold_batch_norm, transfer.rule_for, transfer.flatten_order)
            assert changed != real
        assert (torch_models.build, torch_models.fold_batch_norm, transfer.rule_for, transfer.flatten_order) == real
    assert isinstance(torch_models.build("srcnn").tanh, torch.nn.Tanh)


@pytest.mark.parametrize("name, flagged, layer", [
    # SRCNN has no BN: its training-mode outputs are its inference outputs, so the train check,
    # which judges them, sees every output bug parity sees
    ("tanh_as_sigmoid", {"parity", "train"}, "tanh"),
    ("kernel_numpy_T", {"parity", "train"}, "conv1"),
    ("missing_bias", {"params", "parity", "train"}, "conv2"),
    ("conv_padded_and_cropped", {"macs"}, None),
])
def test_srcnn_mutations_caught_by_the_right_checks(name, flagged, layer):
    r = selftest.run_mutation(name)
    assert set(r.flagged_by) == flagged, r.summaries
    assert r.localised == layer
    assert r.ok


@pytest.mark.parametrize("name, flagged, layer", [
    # VGG-16 has no BN: the train check sees the converter bug in its training-mode outputs
    ("fc_conv_flatten_order", {"parity", "train"}, "fc6.conv"),
    # ResNet-v2: a BN downstream of each wiring change moves its batch statistics, so train sees
    # them too; parity names the first layer whose activation differs
    ("resnet_v2_shortcut_raw_input", {"parity", "train"}, "block2.unit_1.shortcut.conv"),
    ("resnet_v2_post_activation_unit", {"parity", "train"}, "block2.unit_2.conv1.conv"),
    ("resnet_v2_preact_relu_dropped", {"parity", "train"}, "block3.unit_2.preact.act"),
])
def test_vgg_and_resnet_v2_mutations_caught_and_localised(name, flagged, layer):
    r = selftest.run_mutation(name)
    assert set(r.flagged_by) == flagged, r.summaries
    assert r.localised == layer
    assert r.statuses["roundtrip"] == "pass"        # converter bug planted in both directions
    assert r.parity_ratio > 100 and r.ok


# The segmentation / synthesis networks. Each case runs the full mutation check of one network
# (unet 7-16 s, deeplab 7-70 s on 2 cores). Not run here, too slow for the suite:
# spade (~2 min a run: 74 GMACs at its fixed 128x128) and pspnet (parity at 480x480 only, 3+ min);
# `python -m conformance selftest --mutation NAME` runs them (spade's: caught by parity, 1.7e4x,
# the modulate layer named; deeplab's parity at 224x224 costs about 3x a run at 128x128).
SLOW = pytest.mark.skip(reason="too slow for the suite: run `python -m conformance selftest --mutation NAME`")


@pytest.mark.parametrize("name, flagged, layer", [
    # U-Net has no BN: train sees a numeric bug in its training-mode outputs, as parity does; the
    # converter bugs are planted both ways
    ("unet_skip_concat_order", {"parity", "train"}, "concat_8"),
    ("conv_transpose_kernel_flipped", {"parity", "train"}, "upsample_7"),
    # every U-Net upsampling halves the width: the swapped channel axes are refused by shape, in
    # every check that transfers weights, naming the layer
    ("conv_transpose_in_out_axes", {"parity", "train"}, "upsample_6"),
    # a wrong atrous rate keeps every shape: only the numbers (and the BN statistics after it) show it
    ("atrous_first_unit_previous_rate", {"parity", "train"}, "res5a.conv3x3.conv"),
    # padding 1 on a rate-2 conv shrinks the map: the forward fails wherever it runs; no layer named
    ("atrous_padding_one", {"macs", "parity", "train"}, None),
    pytest.param("spade_modulation_without_one", {"parity", "train"}, "spade_resblock_1.spade_2.modulate",
                 marks=SLOW),
    # invisible at 480x480 (a 60x60 map, where 60/30/20/10 = 60/{1,2,3,6}), where the train check
    # runs: the MAC count at the canonical 720x720 and parity at 720x720 and 487x499 see them
    pytest.param("psp_adaptive_bins", {"macs", "parity"}, None, marks=SLOW),
])
def test_segmentation_mutations_caught_and_localised(name, flagged, layer):
    r = selftest.run_mutation(name)
    assert set(r.flagged_by) == flagged, r.summaries
    assert r.localised == layer, r.summaries
    if "parity" in flagged and r.statuses["parity"] == "fail":
        assert r.statuses["roundtrip"] == "pass"        # converter bugs are planted in both directions
        assert r.parity_ratio > 100
    assert r.ok


def test_a_pool_window_sized_for_one_input_is_caught_at_the_second_size_only():
    """The fixed 4x4 pool is the global mean at 128x128, where the MACs are counted and the
    train check runs: only parity, at 139x163, sees it."""
    r = selftest.run_mutation("global_pool_fixed_window")
    assert r.flagged_by == ["parity"], r.summaries
    assert r.parity_failed_sizes == [[139, 163]] and r.localised == "logits.pool" and r.ok
    assert r.parity_ratio > 100


@pytest.mark.parametrize("name, flagged, layer", [
    # a training-only layer in one twin of a network without BN: only the train check's
    # training-mode outputs show it (measured: 0.88 rel, 176x the line, fc6.act named)
    ("vgg_fc_dropout_in_torch", ["train"], "fc6.act"),
    # a bug both twins share, in the aux head: only the graph's aux logits show it (measured:
    # graph vs twins 0.87 rel at both sizes, 8.6e3x the line)
    ("inception_v3_aux_head_one_block_early", ["reference"], None),
])
def test_a_bug_each_new_judgement_exists_for_is_caught_by_it_alone(name, flagged, layer):
    r = selftest.run_mutation(name)
    assert r.flagged_by == flagged and r.localised == layer and r.ok, r.summaries


def test_the_reference_check_runs_where_a_mutation_expects_it_and_in_the_clean_part():
    work = selftest.plan(["inception_v3_aux_head_one_block_early", "tanh_as_sigmoid"], (0, 1))
    clean = {(args[0], args[1]): args[2] for kind, args in work if kind == "clean"}
    assert "reference" in clean[("inception_v3", 0)] and "reference" in clean[("inception_v3", 1)]
    assert "reference" not in clean[("srcnn", 0)]           # its mutation does not expect it
    whole = selftest.plan([], (0,), ("clean",))
    networks = {args[0] for kind, args in whole if kind == "clean"}
    assert networks == set(catalogue.names())
    with_graph = {args[0] for kind, args in whole if kind == "clean" and "reference" in args[2]}
    from conformance.lib.graphs import graph_networks
    assert with_graph == set(graph_networks())
    named = selftest.plan([], (0, 1, 2), ("clean",), ["srcnn", "vgg_16"])
    assert sorted((args[0], args[1]) for _, args in named) == [(n, s) for n in ("srcnn", "vgg_16") for s in (0, 1, 2)]


def test_a_replaced_unit_forward_is_undone():
    with mutations.by_name("resnet_v2_post_activation_unit").applied():
        assert "forward" in vars(torch_models.build("resnet_v2_50").get_submodule("block2.unit_2"))
    assert "forward" not in vars(torch_models.build("resnet_v2_50").get_submodule("block2.unit_2"))


def test_a_harmless_mutation_is_reported_missed(monkeypatch):
    """The self-test can fail: a 'bug' that changes nothing is not caught, and says so."""
    noop = mutations.Mutation("noop", "srcnn", "torch", "conv1", "nothing", "nothing", ("parity",),
                              lambda p: None)
    monkeypatch.setattr(mutations, "MUTATIONS", [*mutations.MUTATIONS, noop])
    r = selftest.run_mutation("noop")
    assert not r.caught and not r.ok and r.flagged_by == []
    assert selftest.totals([r], [])["passed"] is False


def test_cli_selftest_subset_reports_and_writes(tmp_path):
    js, md = tmp_path / "s.json", tmp_path / "s.md"
    assert cli.main(["selftest", "--mutation", "tanh_as_sigmoid", "rgb_bgr_first_conv", "--seeds", "2",
                     "--json", str(js), "--markdown", str(md)]) == 0
    report = json.loads(js.read_text())
    t = report["totals"]
    assert t["mutations"] == t["caught"] == 2 and t["false_alarms"] == 0 and t["passed"]
    assert t["clean_runs"] == 2 and report["seeds"] == [0, 1]
    (row,) = report["tolerances"]
    # 2 seeds x 2 sizes (300x300, 61x67) x 2 batches (real images, random inputs)
    assert row["network"] == "srcnn" and row["samples"] == 8
    # the tolerance sits between the correct twins' errors and the smallest planted bug's
    assert row["correct_max"] < 1.0 < row["smallest_bug"]
    text = md.read_text()
    assert "2/2 mutations caught" in text and "False alarms: 0" in text and "| tanh_as_sigmoid |" in text


@pytest.mark.parametrize("name, flagged, layer", [
    # the smallest of Pixel-RNN's planted bugs (2.3e-5 abs): caught only because the network's
    # tolerance was placed on its measured floor (twinzoo.zoo.pixel_rnn.PIXEL_RNN_TOLERANCE); the train
    # check's output line, the looser of that and twinzoo.network.TRAIN_OUTPUT_TOLERANCE, is above it
    ("pixel_rnn_unskew_off_by_one", {"parity"}, "LSTM0.output_state_fw.unskew"),
    # the shapes still fit: only the numbers show the recurrence ran over the batch axis (no BN:
    # the training-mode outputs are the inference outputs, so the train check sees it too)
    ("lstm_time_major_as_batch_major", {"parity", "train"}, "rnn"),
])
def test_recurrent_mutations_caught_and_localised(name, flagged, layer):
    r = selftest.run_mutation(name)
    assert set(r.flagged_by) == flagged, r.summaries
    assert r.localised == layer, r.summaries
    assert r.parity_ratio > 5 and r.ok


# GNMT's planted bugs: each run builds and compares the 282M-parameter twins at two sentence
# lengths (2-5 min a mutation on 2 cores), so they run by `python -m conformance selftest
# --mutation NAME`, not here. Measured: attention not normalised 130x the line,
# decoder started from the forward state caught by parity, the sum merge refused by shape at
# encoder_uni.0 (params and MACs differ too); the decoder's layers run once per step and are not
# localised.
@pytest.mark.parametrize("name, flagged, layer", [
    pytest.param("gnmt_attention_not_normalised", {"parity", "train"}, None, marks=SLOW),
    pytest.param("gnmt_decoder_init_from_forward_state", {"parity", "train"}, None, marks=SLOW),
    pytest.param("gnmt_bidirectional_sum_merge", {"params", "macs", "parity", "train"}, "encoder_uni.0", marks=SLOW),
])
def test_gnmt_mutations_caught(name, flagged, layer):
    r = selftest.run_mutation(name)
    assert set(r.flagged_by) == flagged, r.summaries
    assert r.localised == layer and r.ok, r.summaries
