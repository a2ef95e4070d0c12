"""Weight transfer: layout rules both ways, and errors that name the layer and both shapes."""

import numpy as np
import pytest
import torch
from torch import nn

import keras
from keras import layers

import keras_models
import torch_models
from conformance.lib import parity, trained_like, transfer
from conformance.lib.transfer import TransferError
from torch_models.layers import Conv2dSame, SubPixelConv2d
from keras_models.layers import SubPixelConv2D


def _torch_tiny():
    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = Conv2dSame(3, 4, 3, stride=2)
            self.dw = nn.Conv2d(4, 8, 3, padding=1, groups=4, bias=True)       # depth multiplier 2
            self.up = nn.ConvTranspose2d(8, 6, 2, stride=2)
            self.shuffle = SubPixelConv2d(6, 5, 3, upscale=2)
            self.prelu = nn.PReLU(5)
            self.flatten = nn.Flatten()
            self.fc = nn.Linear(5 * 16 * 16, 7)

        def forward(self, x):
            x = self.up(self.dw(self.conv(x)))
            return self.fc(self.flatten(self.prelu(self.shuffle(x))))
    return Tiny().eval()


def _keras_tiny():
    inp = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, 2, padding="same", name="conv")(inp)
    x = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw")(x)
    x = layers.Conv2DTranspose(6, 2, 2, name="up")(x)
    x = SubPixelConv2D(5, 3, 2, name="shuffle")(x)
    x = layers.PReLU(shared_axes=[1, 2], name="prelu")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inp, layers.Dense(7, name="fc")(x))


def _run_both(tm, km, x):
    return parity.run_torch(tm, x), parity.run_keras(km, x)


def test_every_layout_rule_gives_parity_both_ways():
    tm, km = _torch_tiny(), _keras_tiny()
    trained_like.randomize(tm, seed=3)
    transfer.torch_to_keras(tm, km)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 3)).astype(np.float32)
    t, k = _run_both(tm, km, x)
    assert np.max(np.abs(t - k)) < 1e-5 * np.max(np.abs(t))
    fresh = _torch_tiny()
    transfer.keras_to_torch(km, fresh)
    for (n, a), (_, b) in zip(tm.state_dict().items(), fresh.state_dict().items()):
        assert torch.equal(a, b), n


def test_missing_flatten_permutation_breaks_parity(monkeypatch):
    """Guards the dense-after-flatten rule: without it the outputs differ."""
    tm, km = _torch_tiny(), _keras_tiny()
    trained_like.randomize(tm, seed=3)
    monkeypatch.setattr(transfer, "flatten_order", lambda layer: None)
    transfer.torch_to_keras(tm, km)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 3)).astype(np.float32)
    t, k = _run_both(tm, km, x)
    assert np.max(np.abs(t - k)) > 1e-2 * np.max(np.abs(t))


def test_missing_layer_is_named():
    tm = torch_models.build("srcnn")
    km = keras_models.build("vdsr", input_size=(None, None))
    with pytest.raises(TransferError) as exc:
        transfer.torch_to_keras(tm, km)
    problems = exc.value.problems
    assert "layer 'conv1' exists in the torch twin {'weight': (64, 3, 9, 9), 'bias': (64,)} " \
           "but not in the Keras twin" in problems
    assert any(p.startswith("layer 'body.conv_00' exists in the Keras twin") for p in problems)
    assert "weight-transfer problem(s)" in str(exc.value)


def test_wrong_shape_names_layer_and_both_shapes():
    tm = torch_models.build("mobilenet_v1_1.0_224")
    km = keras_models.build("mobilenet_v1_0.5_224")
    before = [w.numpy().copy() for w in km.weights]
    with pytest.raises(TransferError) as exc:
        transfer.torch_to_keras(tm, km)
    msg = str(exc.value)
    assert "layer 'body.Conv2d_0.conv' weight 'kernel': the Keras twin has shape (3, 3, 3, 16)" in msg
    assert "(3, 3, 3, 32)" in msg
    # nothing half-written: every Keras weight is untouched
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, km.weights))


def test_type_mismatch_is_named():
    class T(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(3, 3, 3, groups=3)
    inp = keras.Input((8, 8, 3))
    km = keras.Model(inp, layers.Conv2D(3, 3, name="c")(inp))
    with pytest.raises(TransferError, match="'c': torch Conv2d \\(depthwise_conv\\) pairs with Keras DepthwiseConv2D, found Keras Conv2D"):
        transfer.torch_to_keras(T(), km)


def test_bn_without_scale_transfers_shift_and_stats_only():
    from torch_models.layers import ConvBNAct
    from keras_models.layers import conv_bn_act
    tm = nn.Sequential()
    tm.add_module("b", ConvBNAct(3, 4, 3, bn_scale=False))
    tm.eval()
    assert sum(p.numel() for p in tm.parameters()) == 3 * 3 * 3 * 4 + 4       # kernel + beta
    inp = keras.Input((6, 6, 3))
    km = keras.Model(inp, conv_bn_act(inp, 4, 3, name="b", bn_scale=False))
    assert km.count_params() == 108 + 4 + 8                                   # + moving stats
    trained_like.randomize(tm, seed=1, calibration=torch.randn(2, 3, 6, 6))
    transfer.torch_to_keras(tm, km)
    x = np.random.default_rng(1).uniform(-1, 1, (2, 6, 6, 3)).astype(np.float32)
    t, k = _run_both(tm, km, x)
    assert np.max(np.abs(t - k)) <= 1e-5 * np.max(np.abs(t))
