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
