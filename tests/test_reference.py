"""Reference-graph conformance: our twins against AI Benchmark's own TF graphs."""

import dataclasses

import pytest

from twinzoo import catalogue
from conformance import reference


@pytest.mark.sweep
@pytest.mark.parametrize("name", reference.graph_networks())
def test_graph_maps_and_matches(name):
    res = reference.check_reference(catalogue.get(name))
    assert res.status == "pass", res.summary
    assert res.data["mapped"] == res.data["variables"] > 0
    assert not (res.data["graph_leftovers"] or res.data["keras_leftovers"] or res.data["shape_mismatches"])
    net = catalogue.get(name)
    # real images where the network takes images, AI Benchmark's sentence for GNMT; seeded random
    # sequences otherwise (the package has none)
    real = "ai_benchmark/data/" if net.image_set else "AI Benchmark's sentence" if net.layout == "tokens" else "seed"
    assert res.data["inputs"] and all(real in f for f in res.data["inputs"])
    if net.layout == "tokens":
        # beyond the logits: the graph's tokenisation is ours, and both twins' greedy translation
        # of the sentence is the graph's, id for id and string for string
        assert res.data["source_ids_equal"] and res.data["strings_equal"], res.summary
        assert res.data["ids_equal"] == {"keras": True, "torch": True}
        assert res.data["steps"] == 40 and len(res.data["graph_output"].split(" ")) == 40
    # the graph's own conv/FC shapes give our MAC count exactly
    assert res.data["macs"]["graph"] == res.data["macs"]["torch"] > 0


def test_every_graph_the_issue_names_is_covered():
    want = {"mobilenet_v2", "inception_v3", "srcnn", "vdsr", "srgan", "dped", "icnet",
            "inception_v4", "inception_resnet_v2", "resnet_v2_50", "resnet_v2_152", "vgg_16", "unet", "pspnet", "deeplab", "spade",
            "lstm_sentiment", "pixel_rnn", "gnmt"}
    assert want <= set(reference.graph_networks())


def test_swapped_instance_norm_variables_are_caught(monkeypatch):
    """DPED's graph creates (shift, scale) per norm; reading them as (scale, shift) maps every
    shape correctly and must still fail on the numbers."""
    spec = reference.GRAPHS["dped"]
    conv_rule, norm_rule = spec.rules

    def swapped(m):
        layer, weight = reference._dped_norm(m)
        return layer, {"beta": "gamma", "gamma": "beta"}[weight]
    monkeypatch.setitem(reference.GRAPHS, "dped",
                        dataclasses.replace(spec, rules=(conv_rule, (norm_rule[0], swapped))))
    res = reference.check_reference(catalogue.get("dped"))
    assert res.status == "fail"
    assert res.data["mapped"] == res.data["variables"]          # the mapping itself looked fine
    assert not res.data["vs_keras"]["passed"]


def test_unmapped_variable_is_reported_and_nothing_runs(monkeypatch):
    spec = reference.GRAPHS["vdsr"]
    only_weights = ((r"conv_(?P<i>\d\d)_w", lambda m: (f"body.conv_{m['i']}", "kernel")),)
    monkeypatch.setitem(reference.GRAPHS, "vdsr", dataclasses.replace(spec, rules=only_weights))
    res = reference.check_reference(catalogue.get("vdsr"))
    assert res.status == "fail"
    assert "conv_00_b [64] (no rule)" in res.data["graph_leftovers"]
    assert "body.conv_00/bias [64]" in res.data["keras_leftovers"]
    assert "vs_keras" not in res.data


def test_network_without_graph_is_skipped_with_reason():
    res = reference.check_reference(catalogue.get("srgan_srresnet"))
    assert res.status == "skip" and "no AI Benchmark graph" in res.summary


def test_missing_package_skips_with_reason(monkeypatch):
    from conformance import inputs

    def missing():
        raise inputs.MissingImagesError("the ai-benchmark package is not installed")
    monkeypatch.setattr(inputs, "ai_benchmark_data_dir", missing)
    res = reference.check_reference(catalogue.get("srcnn"))
    assert res.status == "skip" and "not installed" in res.summary


def test_graph_macs_see_a_width_change():
    """The graph counter reads the graph, not our twin: at another size it scales with the area."""
    spec = reference.GRAPHS["srcnn"]
    small, big = reference.graph_macs(spec, (32, 32)), reference.graph_macs(spec, (64, 64))
    assert big == 4 * small > 0


def test_tf1_lstm_rule_reorders_gates_and_folds_the_forget_bias():
    """The graph's BasicLSTMCell (i, j, f, o; forget bias 1.0 added at run time) onto Keras'
    LSTM (i, f, c, o; the forget bias stored): each gate block lands where Keras reads it, and the
    way back gives the graph's arrays again."""
    import numpy as np
    kernel_rule, bias_rule = reference.tf1_lstm_rules("rnn/basic_lstm_cell", "rnn")
    units, features = 3, 2
    kernel = np.arange((features + units) * 4 * units, dtype=np.float32).reshape(features + units, 4 * units)
    bias = np.repeat(np.arange(4, dtype=np.float32), units)                 # block k holds k: i=0, j=1, f=2, o=3
    ksplit = kernel_rule[1](None)
    k, r = ksplit.to_keras(kernel)
    assert k.shape == (features, 4 * units) and r.shape == (units, 4 * units)
    assert np.array_equal(k[:, units:2 * units], kernel[:features, 2 * units:3 * units])     # Keras f = TF1 f
    assert np.array_equal(r[:, 2 * units:3 * units], kernel[features:, units:2 * units])     # Keras c = TF1 j
    assert np.array_equal(ksplit.to_graph((k, r)), kernel)
    bsplit = bias_rule[1](None)
    (b,) = bsplit.to_keras(bias)
    assert b.tolist() == [0.0] * units + [3.0] * units + [1.0] * units + [3.0] * units      # i, f + 1, j, o
    assert np.array_equal(bsplit.to_graph((b,)), bias)

