"""Each framework's own counters against hand-computed counts."""

import keras
from keras import layers
from torch import nn

from conformance.lib import counting
from torch_models.layers import Conv2dSame, SubPixelConv2d
from keras_models.layers import SubPixelConv2D


def test_macs_by_hand():
    # conv 3x3/2 3->8 on 32x32 -> 16x16: 16*16*8*27 = 55,296
    # dw 3x3 on 16x16x8: 16*16*8*9 = 18,432
    # subpixel 3x3 8->4*4 at 16x16: 16*16*16*72 = 294,912
    # dense 4*32*32 -> 10: 40,960
    expected = 55_296 + 18_432 + 294_912 + 40_960
    tm = nn.Sequential(Conv2dSame(3, 8, 3, 2), nn.Conv2d(8, 8, 3, padding=1, groups=8),
                       SubPixelConv2d(8, 4, 3, 2), nn.Flatten(), nn.Linear(4 * 32 * 32, 10))
    assert counting.torch_macs(tm, (1, 3, 32, 32)) == expected
    inp = keras.Input((32, 32, 3))
    x = layers.Conv2D(8, 3, 2, padding="same")(inp)
    x = layers.DepthwiseConv2D(3, padding="same")(x)
    x = SubPixelConv2D(4, 3, 2)(x)
    x = layers.Dense(10)(layers.Flatten()(x))
    assert counting.keras_macs(keras.Model(inp, x)) == expected


def test_param_roles():
    tm = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8), nn.PReLU(), nn.Linear(8, 2))
    roles = counting.torch_param_roles(tm)
    assert roles == {"W": 216 + 16, "b": 2, "b2": 0, "gamma": 8, "beta": 8, "alpha": 1, "stats": 16}
    assert counting.count_convention(roles, "W+b+beta+stats") == 232 + 2 + 8 + 16


def test_lstm_second_bias_is_its_own_role():
    # nn.LSTM stores bias_ih and bias_hh; the TF1 cell (and Keras) one bias: the second is role b2, which no
    # convention counts, so the torch twin's W+b equals the graph's
    roles = counting.torch_param_roles(nn.LSTM(3, 5, batch_first=True))
    assert roles["W"] == 4 * 5 * (3 + 5) and roles["b"] == 4 * 5 and roles["b2"] == 4 * 5
    assert counting.count_convention(roles, "W+b") == 4 * 5 * (3 + 5) + 4 * 5


def test_unknown_weighted_module_is_refused():
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(nn.init.zeros_(nn.Linear(1, 1).weight))
    try:
        counting.torch_param_roles(Odd())
    except TypeError as exc:
        assert "no parameter-role rule for Odd" in str(exc)
    else:
        raise AssertionError("an unknown weighted module must not be silently counted")


def test_a_layer_called_at_every_step_counts_every_call():
    # GNMT's unrolled decoder calls its cells and projection once per step: the Keras walk
    # counts each call, as torch's counter sees each
    inp = keras.Input((6,))
    dense, cell = layers.Dense(6, name="shared"), layers.LSTMCell(4, name="cell")
    h = [keras.ops.zeros_like(inp[:, :4]), keras.ops.zeros_like(inp[:, :4])]
    x = inp
    for _ in range(3):
        x = dense(x)
        y, h = cell(x, h)
    model = keras.Model(inp, [x, y])
    assert counting.keras_macs(model) == 3 * 6 * 6 + 3 * (6 + 4) * 4 * 4
