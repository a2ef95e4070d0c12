"""Twins ready to compare: the inputs every numeric check runs (real images or AI Benchmark's
sentence, and seeded random ones), a randomised torch twin and a Keras twin holding the same
weights, the Keras twin at another size, and the exact round trip of weight transfer."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import keras

import keras_models
import torch_models
from conformance.lib import inputs, text, trained_like, transfer
from twinzoo.catalogue import Network


def parity_inputs(net: Network, size: tuple[int, int], seed: int, images: int = 2,
                  randoms: int = 2) -> list[tuple[str, np.ndarray, list[str]]]:
    """(kind, NHWC batch, description) for the real images (AI Benchmark's sentence for a network
    on token ids) and the seeded random inputs."""
    sets: list[tuple[str, np.ndarray, list[str]]] = []
    if net.layout == "tokens" and images:
        sets.append(("sentence", text.load_sentence(net, size),
                     [f"AI Benchmark's sentence (ai_benchmark/utils.py loadData('nlp-text')), first {size[0]} tokens"]))
    if net.image_set is not None and images:
        files = inputs.image_files(net.image_set)[:images]
        sets.append(("images", inputs.load_images(net, size, images),
                     [f"ai_benchmark/data/{net.image_set}/{f.name}" for f in files]))
    if randoms:
        sets.append(("random", inputs.random_inputs(net, size, randoms, seed + 1),
                     [f"uniform{list(net.input_range)} seed {seed + 1}"]))
    return sets


def input_count(net: Network, size: tuple[int, int]) -> int:
    """How many real and how many random inputs the numeric checks run at ``size``: two of each
    at a parity size (where the tolerance was placed and the sweeps run) and at the second size;
    one of each at a canonical size that is no parity size (U-Net's and DeepLab's 512x512, PSPNet's
    720x720, ICNet's 1024x1536), which is there to show what only that size shows, and where every
    pass costs time and memory up to 30x one at the second size."""
    light = tuple(size) == tuple(net.input_size) and tuple(size) not in {tuple(s) for s in net.parity_sizes}
    return 1 if light else 2


def sample_inputs(net: Network, size: tuple[int, int], seed: int, count: int = 2) -> tuple[str, np.ndarray, list[str]]:
    """One batch of ``count`` inputs (kind, batch, description): real images where the network
    takes images, AI Benchmark's sentence where it takes token ids (one: the package has no
    other), seeded random inputs otherwise (the package ships no sequences)."""
    if net.image_set is not None or net.layout == "tokens":
        return parity_inputs(net, size, seed, images=count, randoms=0)[0]
    return parity_inputs(net, size, seed, images=0, randoms=count)[0]


def random_torch_twin(net: Network, seed: int, calibration: np.ndarray) -> torch.nn.Module:
    """The torch twin with seeded random, non-trivial weights (BN statistics calibrated on
    ``calibration``, NHWC).

    A twin whose BN is folded into its convs (``folded=True`` in the catalogue options) gets its
    weights by folding a randomised, calibrated unfolded twin: random weights put straight into
    a network without BN let activations grow layer after layer far beyond a trained network's,
    and parity would then measure float32 rounding at absurd scales rather than the port."""
    torch.manual_seed(seed)
    cal = torch.from_numpy(inputs.nhwc_to_nchw(calibration))
    if net.opts.get("folded"):
        unfolded = torch_models.build(net.name, folded=False)
        trained_like.randomize(unfolded, seed, cal)
        return torch_models.fold_batch_norm(net.name, unfolded)
    tmodel = torch_models.build(net.name)
    trained_like.randomize(tmodel, seed, cal)
    return tmodel


def prepare_twins(net: Network, size: tuple[int, int], seed: int,
                  calibration: np.ndarray, keras_model: keras.Model | None = None):
    """A randomised torch twin and a Keras twin holding the same weights (torch -> Keras)."""
    tmodel = random_torch_twin(net, seed, calibration)
    kmodel = keras_model or keras_models.build(net.name, input_size=size)
    transfer.torch_to_keras(tmodel, kmodel)
    return tmodel, kmodel


def keras_twin_at(net: Network, kmodel: keras.Model, size: tuple[int, int], prebuilt: keras.Model | None = None,
                  **opts: Any) -> keras.Model:
    """A Keras twin of ``net`` for inputs of ``size`` (``prebuilt``, else built) holding
    ``kmodel``'s weights, copied layer by layer (the same layers at every size; GNMT's decoder,
    unrolled for a fixed length, shares its cells' layers over the steps)."""
    other = prebuilt if prebuilt is not None else keras_models.build(net.name, input_size=size, **opts)
    for layer in kmodel.layers:
        if layer.weights:
            other.get_layer(layer.name).set_weights(layer.get_weights())
    return other


def roundtrip_exact(net: Network, tmodel: torch.nn.Module, kmodel: keras.Model) -> bool:
    """Keras -> torch into a fresh twin gives back the torch weights bit for bit, as the Keras
    twin holds them (one layout rule is not one-to-one: torch's LSTM holds two biases that only
    act as their sum, Keras' one, so the sums are compared; every other rule is a bijection)."""
    fresh = torch_models.build(net.name)
    transfer.keras_to_torch(kmodel, fresh)
    _, ref = transfer.keras_values(tmodel, kmodel)
    _, back = transfer.keras_values(fresh, kmodel)
    return all(np.array_equal(a, b) for (_, a), (_, b) in zip(ref, back))
