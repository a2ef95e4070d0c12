"""Pixel-RNN as AI Benchmark's pixel_rnn.meta runs it (test 17; ai_benchmark/models.py ``PixelRNN``
after carpedm20/pixel-rnn-tensorflow): a masked 7x7 conv, seven Diagonal BiLSTMs, two masked 1x1
convs with ReLU, a masked 1x1 conv to RGB and a sigmoid. The twin takes pixels in [0, 1] and gives
the sigmoid; the graph's ``/ 255`` and ``* 255`` are the reference mapping's scales.

Layer names are the graph's scopes, as in the torch twin (torch_models/pixel_rnn.py)."""

from __future__ import annotations

import keras
from keras import layers

from twinzoo.zoo import pixel_rnn as spec
from keras_models.layers import DiagonalLSTMScan, FlipWidth, MaskedConv2D, Skew, Unskew, ZeroLastRow, activation


def diagonal_lstm(x, hidden: int, name: str):
    """One direction: skew, the input-to-state 1x1 conv (mask "b"), the column recurrence, unskew."""
    x = Skew(name=f"{name}.skew")(x)
    x = MaskedConv2D(4 * hidden, 1, "b", name=f"{name}.i_to_s")(x)
    x = DiagonalLSTMScan(hidden, spec.PIXEL_RNN_STATE_KERNEL, name=f"{name}.s_to_s")(x)
    return Unskew(name=f"{name}.unskew")(x)


def diagonal_bilstm(x, hidden: int, name: str):
    """The forward direction plus the backward one on the mirrored image, mirrored back, last row zeroed."""
    fw = diagonal_lstm(x, hidden, f"{name}.output_state_fw")
    bw = diagonal_lstm(FlipWidth(name=f"{name}.flip_in")(x), hidden, f"{name}.output_state_bw")
    bw = ZeroLastRow(name=f"{name}.zero_last_row")(FlipWidth(name=f"{name}.flip_out")(bw))
    return layers.Add(name=f"{name}.add")([fw, bw])


def pixel_rnn(input_shape=(*spec.PIXEL_RNN_SIZE, 3), input_size: tuple[int, int] = spec.PIXEL_RNN_SIZE) -> keras.Model:
    """Pixel-RNN on square RGB images in [0, 1]."""
    if input_size[0] != input_size[1]:
        raise ValueError(f"Pixel-RNN runs on square images (unskew reads width = height), got {tuple(input_size)}")
    k, width, mask = spec.PIXEL_RNN_INPUT_CONV
    hidden = spec.PIXEL_RNN_HIDDEN
    inputs = keras.Input(input_shape, name="input")
    x = MaskedConv2D(width, k, mask, name="conv_inputs")(inputs)
    for i in range(spec.PIXEL_RNN_LAYERS):
        x = diagonal_bilstm(x, hidden, f"LSTM{i}")
    for i, filters in enumerate(spec.PIXEL_RNN_OUT_CONVS):
        x = MaskedConv2D(filters, 1, "b", name=f"CONV_OUT{i}")(x)
        x = activation("relu", f"relu{i}")(x)
    x = MaskedConv2D(spec.PIXEL_RNN_OUT_CHANNELS, 1, "b", name="conv2d_out_logits")(x)
    x = activation("sigmoid", "sigmoid")(x)
    return keras.Model(inputs, x, name="pixel_rnn")
