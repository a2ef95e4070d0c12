"""Pixel-RNN as AI Benchmark's pixel_rnn.meta runs it (test 17; ai_benchmark/models.py ``PixelRNN``
after carpedm20/pixel-rnn-tensorflow): a masked 7x7 conv, seven Diagonal BiLSTMs, two masked 1x1
convs with ReLU, a masked 1x1 conv to RGB and a sigmoid. The twin takes pixels in [0, 1] and gives
the sigmoid; the graph's ``/ 255`` and ``* 255`` are the reference mapping's scales.

Block names are the graph's scopes (``LSTM3.output_state_bw.i_to_s``; the state-to-state conv
``s_to_s`` is the recurrence ``DiagonalLSTMScan``). The package's cell differs from the paper's:
see ``twinzoo.zoo.pixel_rnn`` (PIXEL_RNN_*)."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from twinzoo.zoo import pixel_rnn as spec
from torch_models.layers import Add, DiagonalLSTMScan, FlipWidth, MaskedConv2d, Skew, Unskew, ZeroLastRow


class DiagonalLSTM(nn.Sequential):
    """One direction (model_utils ``diagonal_lstm``): skew, the input-to-state 1x1 conv (mask "b"),
    the column recurrence, unskew."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__(OrderedDict(
            skew=Skew(),
            i_to_s=MaskedConv2d(channels, 4 * hidden, 1, "b"),
            s_to_s=DiagonalLSTMScan(hidden, spec.PIXEL_RNN_STATE_KERNEL),
            unskew=Unskew(),
        ))


class DiagonalBiLSTM(nn.Module):
    """model_utils ``diagonal_bilstm``: the forward direction plus the backward one run on the
    mirrored image and mirrored back, with its last row zeroed."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.output_state_fw = DiagonalLSTM(channels, hidden)
        self.flip_in = FlipWidth()
        self.output_state_bw = DiagonalLSTM(channels, hidden)
        self.flip_out = FlipWidth()
        self.zero_last_row = ZeroLastRow()
        self.add = Add()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fw = self.output_state_fw(x)
        bw = self.zero_last_row(self.flip_out(self.output_state_bw(self.flip_in(x))))
        return self.add(fw, bw)


class PixelRNN(nn.Sequential):
    def __init__(self) -> None:
        k, width, mask = spec.PIXEL_RNN_INPUT_CONV
        hidden = spec.PIXEL_RNN_HIDDEN
        blocks: OrderedDict[str, nn.Module] = OrderedDict(conv_inputs=MaskedConv2d(3, width, k, mask))
        for i in range(spec.PIXEL_RNN_LAYERS):
            blocks[f"LSTM{i}"] = DiagonalBiLSTM(width, hidden)
        cin = hidden
        for i, filters in enumerate(spec.PIXEL_RNN_OUT_CONVS):
            blocks[f"CONV_OUT{i}"] = MaskedConv2d(cin, filters, 1, "b")
            blocks[f"relu{i}"] = nn.ReLU()
            cin = filters
        blocks["conv2d_out_logits"] = MaskedConv2d(cin, spec.PIXEL_RNN_OUT_CHANNELS, 1, "b")
        blocks["sigmoid"] = nn.Sigmoid()
        super().__init__(blocks)


def pixel_rnn(input_size: tuple[int, int] = spec.PIXEL_RNN_SIZE) -> PixelRNN:
    """Pixel-RNN on square RGB images in [0, 1] (the package's unskew takes the width equal to
    the height)."""
    if input_size[0] != input_size[1]:
        raise ValueError(f"Pixel-RNN runs on square images (unskew reads width = height), got {tuple(input_size)}")
    return PixelRNN()
