"""Reference-graph conformance: our twins against AI Benchmark's own TF graphs."""

import dataclasses

import pytest

from twinzoo import catalogue
from conformance.selftest import mutations
from conformance.checks import reference as check
from conformance.lib import graphs as reference
from twinzoo.graphs import tf1_lstm_rules
from twinzoo.zoo import dped


@pytest.mark.sweep
@pytest.mark.graphs
@pytest.mark.parametrize("name", reference.graph_networks())
def test_graph_maps_and_matches(name):
    res = check.check_reference(catalogue.get(name))
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
        # and its first words at the second length, as parity runs it
        assert [r["tokens"] for r in res.data["sentences"]] == [size[0] for size in net.numeric_sizes] == [7, 20]
    # the graph's own conv/FC shapes give our MAC count exactly
    assert res.data["macs"]["graph"] == res.data["macs"]["torch"] > 0
    if net.layout == "tokens":
        return
    # every head of the graph compared (the Inceptions' aux logits beside their output), nothing left
    assert res.data["uncompared_heads"] == []
    assert len(res.data["heads"]) == (2 if net.opts.get("aux_logits") else 1)
    # at the graph's fixed size, or at the canonical and the second size where it takes any
    placeholder = res.data["placeholder"]
    fixed = placeholder is not None and None not in placeholder
    assert res.data["sizes"] == ([placeholder] if fixed else [list(s) for s in net.numeric_sizes])
    assert [c["size"] for c in res.data["comparisons"]] == res.data["sizes"]
    assert all(c["passed"] and len(c["heads"]) == len(res.data["heads"]) for c in res.data["comparisons"])


def test_every_graph_the_issue_names_is_covered():
    want = {"mobilenet_v2", "inception_v3", "srcnn", "vdsr", "srgan", "dped", "icnet",
            "inception_v4", "inception_resnet_v2", "resnet_v2_50", "resnet_v2_152", "vgg_16", "unet", "pspnet", "deeplab", "spade",
            "lstm_sentiment", "pixel_rnn", "gnmt"}
    assert want <= set(reference.graph_networks())


def test_the_graph_runs_where_its_placeholder_lets_it():
    srcnn = catalogue.get("srcnn")
    assert check.reference_sizes(srcnn, (None, None)) == srcnn.numeric_sizes == ((61, 67), (300, 300))
    assert check.reference_sizes(catalogue.get("mobilenet_v2"), (224, 224)) == ((224, 224),)


def test_a_bug_confined_to_the_aux_head_is_caught(monkeypatch):
    """Both twins read their aux head off Mixed_6d (a slip in the table they share): they agree
    with each other and their main logits with the graph's; only the graph's aux logits, which
    its output:0 does not reach, show it. Run at the canonical size only, to keep the test short."""
    net = catalogue.get("inception_v3")
    monkeypatch.setattr(check, "reference_sizes", lambda net, hw: (tuple(net.input_size),))
    with mutations.by_name("inception_v3_aux_head_one_block_early").applied():
        res = check.check_reference(net)
    assert res.status == "fail", res.summary
    (compared,) = res.data["comparisons"]
    main, aux = compared["heads"]
    assert main["passed"] and main["head"] == "InceptionV3/Logits/SpatialSqueeze:0"
    assert not aux["passed"] and aux["head"] == "InceptionV3/AuxLogits/SpatialSqueeze:0"


def test_a_graph_head_no_comparison_covers_fails_the_check(monkeypatch):
    """The aux head left out of Inception-v3's spec: the twins return two outputs, the spec
    compares one, and the graph keeps a head nothing covers; both fail the check."""
    spec = reference.GRAPHS["inception_v3"]
    monkeypatch.setitem(reference.GRAPHS, "inception_v3", dataclasses.replace(spec, heads=()))
    monkeypatch.setattr(check, "reference_sizes", lambda net, hw: (tuple(net.input_size),))
    res = check.check_reference(catalogue.get("inception_v3"))
    assert res.status == "fail"
    assert res.data["uncompared_heads"] == ["InceptionV3/AuxLogits/SpatialSqueeze"]
    assert "outputs" in res.data["comparisons"][0]["heads_missing"]


def test_swapped_instance_norm_variables_are_caught(monkeypatch):
    """DPED's graph creates (shift, scale) per norm; reading them as (scale, shift) maps every
    shape correctly and must still fail on the numbers."""
    spec = reference.GRAPHS["dped"]
    conv_rule, norm_rule = spec.rules

    def swapped(m):
        layer, weight = dped._dped_norm(m)
        return layer, {"beta": "gamma", "gamma": "beta"}[weight]
    monkeypatch.setitem(reference.GRAPHS, "dped",
                        dataclasses.replace(spec, rules=(conv_rule, (norm_rule[0], swapped))))
    res = check.check_reference(catalogue.get("dped"))
    assert res.status == "fail"
    assert res.data["mapped"] == res.data["variables"]          # the mapping itself looked fine
    assert not res.data["vs_keras"]["passed"]


def test_unmapped_variable_is_reported_and_nothing_runs(monkeypatch):
    spec = reference.GRAPHS["vdsr"]
    only_weights = ((r"conv_(?P<i>\d\d)_w", lambda m: (f"body.conv_{m['i']}", "kernel")),)
    monkeypatch.setitem(reference.GRAPHS, "vdsr", dataclasses.replace(spec, rules=only_weights))
    res = check.check_reference(catalogue.get("vdsr"))
    assert res.status == "fail"
    assert "conv_00_b [64] (no rule)" in res.data["graph_leftovers"]
    assert "body.conv_00/bias [64]" in res.data["keras_leftovers"]
    assert "vs_keras" not in res.data


def test_network_without_graph_is_skipped_with_reason():
    res = check.check_reference(catalogue.get("srgan_srresnet"))
    assert res.status == "skip" and "no AI Benchmark graph" in res.summary


def test_missing_package_skips_with_reason(monkeypatch):
    from conformance.lib import inputs

    def missing():
        raise inputs.MissingImagesError("the ai-benchmark package is not installed")
    monkeypatch.setattr(inputs, "ai_benchmark_data_dir", missing)
    res = check.check_reference(catalogue.get("srcnn"))
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
    kernel_rule, bias_rule = tf1_lstm_rules("rnn/basic_lstm_cell", "rnn")
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

