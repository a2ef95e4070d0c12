"""The catalogue: one way to name, list and build every network."""

import re

import pytest

import keras_models
import torch_models
from twinzoo import catalogue
from twinzoo.catalogue import PARAM_CONVENTIONS, UnknownModelError

PLAIN = ["mobilenet_v1", "mobilenet_v2", "srcnn", "vdsr", "dped", "dped_discriminator", "srgan",
         "srgan_srresnet", "srgan_discriminator"]


def test_every_issue_network_is_catalogued():
    names = catalogue.names()
    for n in PLAIN:
        assert n in names
    v1 = [n for n in names if re.fullmatch(r"mobilenet_v1_(1\.0|0\.75|0\.5|0\.25)_(224|192|160|128)", n)]
    assert len(v1) == 16
    assert "mobilenet_v1_0.75_160" in v1
    assert {"mobilenet_v1_conv", "mobilenet_v1_shallow"} <= set(names)


@pytest.mark.parametrize("builder", [torch_models.build, keras_models.build, catalogue.get])
def test_unknown_model_names_the_known_ones(builder):
    with pytest.raises(UnknownModelError) as exc:
        builder("mobilenet_v3")
    msg = str(exc.value)
    assert "unknown model 'mobilenet_v3'" in msg
    assert "mobilenet_v2" in msg and "srcnn" in msg          # lists the known names


def test_near_miss_gets_a_suggestion():
    with pytest.raises(UnknownModelError, match="Did you mean mobilenet_v1_0.75_160"):
        catalogue.get("mobilenet_v1_0.75_16")


def test_every_figure_cites_source_and_convention():
    for net in catalogue.networks():
        assert net.figures, f"{net.name} has no published figure"
        assert net.input_size_source
        for fig in net.figures:
            assert fig.source and len(fig.source) > 10
            if fig.quantity == "params":
                assert fig.convention in PARAM_CONVENTIONS
            else:
                assert fig.convention == "conv+fc" and fig.input_size


def test_bad_figure_is_rejected():
    with pytest.raises(ValueError, match="convention"):
        catalogue.Figure("params", 1.0, "somewhere", "weights-ish")
    with pytest.raises(ValueError, match="input_size"):
        catalogue.Figure("macs", 1.0, "somewhere", "conv+fc")


def test_fixed_size_network_refuses_other_sizes():
    with pytest.raises(ValueError, match="fully connected head"):
        keras_models.build("srgan_discriminator", input_size=(128, 128))


@pytest.mark.parametrize("name", PLAIN)
def test_torch_twins_are_scriptable(name):
    """The lite-interpreter export path needs TorchScript: every block must script."""
    import torch
    torch.jit.script(torch_models.build(name))


@pytest.mark.parametrize("builder", [torch_models.build, keras_models.build])
def test_unknown_option_is_named(builder):
    with pytest.raises(TypeError, match=r"srcnn: unknown option\(s\) 'width'; options: channels"):
        builder("srcnn", width=2)


def test_each_spec_module_registers_its_own_family():
    """A family's spec lives beside its twins: ``twinzoo/zoo/<family>.py`` registers exactly the
    networks whose ``family`` (the twins' file name) it is, and both twins have that file."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    families = catalogue.families()
    for module, fam in families.items():
        assert fam.networks, f"twinzoo/zoo/{module}.py registers no network"
        assert {n.family for n in fam.networks} == {module}, module
        for twins in ("torch_models", "keras_models"):
            assert (root / twins / f"{module}.py").is_file(), f"{twins}/{module}.py missing"
    assert [n.name for fam in families.values() for n in fam.networks] == catalogue.names()


def test_the_catalogue_loads_no_framework():
    """Listing the zoo (and every CLI's argument checks) must not wait for torch or TensorFlow."""
    import subprocess
    import sys
    code = ("import sys; from twinzoo import catalogue; catalogue.names(); "
            "print([m for m in ('torch', 'tensorflow', 'keras', 'numpy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_family_orders_are_unique(monkeypatch):
    from twinzoo.zoo import srcnn, vdsr
    monkeypatch.setattr(vdsr.FAMILY, "order", srcnn.FAMILY.order)
    with pytest.raises(ValueError, match="share FAMILY.order"):
        catalogue.families()


def test_every_spec_is_complete():
    """What each part of the suite reads from a spec is there; one failure lists every gap."""
    import importlib
    import importlib.util
    from pathlib import Path
    gaps = []
    for net in catalogue.networks():
        for twins in ("torch_models", "keras_models"):
            module = importlib.import_module(f"{twins}.{net.family}")
            if not callable(getattr(module, net.builder, None)):
                gaps.append(f"{net.name}: {twins}/{net.family}.py has no builder {net.builder}()")
        if not net.figures:
            gaps.append(f"{net.name}: no published or computed figure to hold the counts to")
        if not net.input_size_source:
            gaps.append(f"{net.name}: the canonical input size cites no source")
        if net.graph is not None and not net.graph.rules:
            gaps.append(f"{net.name}: a graph without rules to map its variables")
        if net.bench is not None and net.bench.size is not None and tuple(net.bench.size) != tuple(net.input_size) \
                and not net.bench.why:
            gaps.append(f"{net.name}: benchmarked below its canonical size without saying why")
    orders = [n.bench.order for n in catalogue.networks() if n.bench is not None]
    if len(orders) != len(set(orders)):
        gaps.append(f"two benchmarked networks share a BenchPlan.order: {sorted(orders)}")
    # every graph AI Benchmark ships is some network's reference, once
    models = Path(importlib.util.find_spec("ai_benchmark").origin).parent / "models"
    metas = sorted(p.name for p in models.glob("*.meta"))
    claimed = [n.graph.meta for n in catalogue.networks() if n.graph is not None]
    for meta in metas:
        if claimed.count(meta) != 1:
            gaps.append(f"ai_benchmark/models/{meta}: the graph of {claimed.count(meta)} networks (expected 1)")
    assert metas and not gaps, "\n".join(gaps)
