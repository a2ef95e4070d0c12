"""pixel_rnn."""

from __future__ import annotations

from twinzoo.graphs import LEAF, GraphSpec
from twinzoo.network import AIB_DESKTOP, BenchPlan, Family, Figure, Network, Tolerance

FAMILY = Family(order=190)
register = FAMILY.register

# Pixel-RNN — AI Benchmark test 17 (ai_benchmark/models.py PixelRNN + model_utils.py;
# pixel_rnn.meta), after carpedm20/pixel-rnn-tensorflow; van den Oord et al. 2016, "Pixel
# Recurrent Neural Networks" (arXiv:1601.06759), Diagonal BiLSTM
PIXEL_RNN_SIZE = (64, 64)       # input placeholder [None, 64, 64, 3], pixels in [0, 255]
PIXEL_RNN_INPUT_CONV = (7, 16, "a")     # conv_inputs: 7x7, 16 filters, mask "a" (centre excluded)
PIXEL_RNN_LAYERS = 7                    # LSTM0..LSTM6: Diagonal BiLSTMs, 16 channels in and out
PIXEL_RNN_HIDDEN = 16                   # DiagonalLSTMCell(16, height, channel)
PIXEL_RNN_STATE_KERNEL = 2              # s_to_s: a 2x1 conv over the column, 'SAME' (pads one row below)
PIXEL_RNN_OUT_CONVS = (32, 32)          # CONV_OUT0, CONV_OUT1: 1x1, mask "b", ReLU
PIXEL_RNN_OUT_CHANNELS = 3              # conv2d_out_logits: 1x1, mask "b", then sigmoid (* 255 in the graph)
# The package's cell differs from the paper's and from a stock LSTM, and the twins follow it:
# every gate, the candidate g included, is a sigmoid of (s_to_s + i_to_s); the four gates are
# consecutive quarters of the column's flattened (row, channel) vector, not per-position
# channel groups; the cell's forget_bias (1.0) is declared and never used; the backward
# direction's last row is zeroed (not shifted down a row); unskew reads width = height.
PIXEL_RNN_GATES = ("i", "g", "f", "o")


def pixel_rnn_mask(kernel: int, mask_type: str):
    """carpedm20's spatial mask [k, k] (1 = kept) of a masked conv: the rows below the centre and
    the centre row right of the centre are zero; mask "a" also zeroes the centre. Colour
    channels are not masked (the package's conv2d masks space only)."""
    import numpy as np
    if mask_type not in ("a", "b"):
        raise ValueError(f"mask type must be 'a' or 'b', got {mask_type!r}")
    mask = np.ones((kernel, kernel), dtype=np.float32)
    c = kernel // 2
    mask[c, c + 1:] = 0.0
    mask[c + 1:, :] = 0.0
    if mask_type == "a":
        mask[c, c] = 0.0
    return mask


# Placed by the self-test (seeds 0-9, two real images and two random inputs each): Pixel-RNN's
# output is a sigmoid (scale <= 1) of a signal that seven Diagonal BiLSTMs whose every gate is a
# sigmoid (the package's cell, PIXEL_RNN_GATES) carry only weakly at random weights: each layer's
# hidden state sits near a constant, so a planted bug moves the output by little against its scale.
# Correct twins: <= 4.4e-7 abs (0.004 of the default line).
# Planted bugs (selftest --mutation): unskew off by one 2.3e-5, the cell's gate quarters in stock
# order 7.4e-5, the input conv's mask "b" for "a" 1.3e-4, the backward direction not mirrored
# 2.1e-4: under the default line (1.1e-4 at this scale) the first two pass and the next two sit at
# 1.2x and 1.9x. atol 1e-7 + rtol 2e-6 puts the correct twins at <= 0.21 of the line and the
# smallest bug at 11x.
PIXEL_RNN_TOLERANCE = Tolerance(atol=1e-7, rtol=2e-6, why="sigmoid output of a weak recurrent signal: correct "
                                "twins <= 4.4e-7 abs (10 seeds), smallest planted bug 2.3e-5")
register(Network(
    name="pixel_rnn", family="pixel_rnn", builder="pixel_rnn", task="enhancement",
    input_size=PIXEL_RNN_SIZE,
    input_size_source=AIB_DESKTOP + " (test 17: Pixel-RNN at 64x64; pixel_rnn.meta placeholder [None, 64, 64, 3])",
    parity_sizes=(PIXEL_RNN_SIZE,), image_set="enhancement", tolerance=PIXEL_RNN_TOLERANCE,
    # unskew reads the image width as its height (model_utils.unskew): the package's network runs
    # on square images only, and its graph at 64x64
    fixed_size=True,
    figures=(
        Figure("params", 48_867, AIB_DESKTOP + " (pixel_rnn.meta: its 64 model variables; the graph's 192 "
               "variables and 146,601 values add two RMSProp slots per variable, 3 x 48,867)", "W+b", 0.0),
        Figure("macs", 365_887_488, AIB_DESKTOP + ": pixel_rnn.meta's own Conv2D shapes at 64x64, the "
               "recurrent s_to_s conv once per step x 127 skewed columns (conformance.lib.graphs.graph_macs)",
               "conv+fc", 0.0, PIXEL_RNN_SIZE),
    ),
    description="Pixel-RNN as AI Benchmark's pixel_rnn.meta (carpedm20): masked 7x7 conv, 7 Diagonal BiLSTMs "
                "(16 units), two masked 1x1 convs, sigmoid output",
    graph=GraphSpec("pixel_rnn.meta",
                    ((r"(?P<path>.+)/(?P<leaf>weights|biases)",     # the cell's scope (rnn/DiagonalBiLSTMCell) left out
                      lambda m: (m["path"].replace("/rnn/DiagonalBiLSTMCell/", "/").replace("/", "."), LEAF[m["leaf"]])),),
                    in_scale=255.0, out_scale=1 / 255.0,  # graph: x / 255 ... sigmoid * 255
                    input_size=PIXEL_RNN_SIZE,
                    # each direction's skewed map split into its 127 columns, each squeezed, a list no op
                    # reads (its dynamic_rnn takes the whole map), dynamic_rnn's copy-through zeros, and the
                    # training loss (Mean of the sigmoid cross-entropy against the input, scope loss/)
                    dead_ends=r"LSTM\d/output_state_(fw|bw)/(Squeeze(_\d+)?|rnn/zeros)|Mean",
                    note="output:0 is sigmoid(conv2d_out_logits) * 255; the recurrent cell's s_to_s conv is our "
                         "<direction>.s_to_s (DiagonalLSTMScan)"),
    bench=BenchPlan(order=200, export_rank=20,
                    quick_skip="its fixed 64x64 image is 64 sequential column steps of seven Diagonal BiLSTMs"),
))
