"""The LSTM gate conventions more than one family uses (LSTM-Sentiment, GNMT) and the graph rules
that map TF1 cells (``twinzoo.graphs.tf1_lstm_rules``) read. Each family's own architecture table
is in its spec, ``twinzoo/zoo/<family>.py``, which both twins walk."""

from __future__ import annotations

# TF1 BasicLSTMCell: gates = [x, h] @ kernel + bias, split in the order (i, j, f, o); c' = c *
# sigmoid(f + forget_bias) + sigmoid(i) * tanh(j); h' = tanh(c') * sigmoid(o). forget_bias (1.0,
# the cell's default) is added at run time and not stored: torch's nn.LSTM (i, f, g, o; two
# biases) and Keras' LSTM (i, f, c, o; one bias) store it in their bias (conformance.lib.transfer).
TF1_LSTM_GATES = ("i", "j", "f", "o")
STOCK_LSTM_GATES = ("i", "f", "j", "o")      # torch (i, f, g, o) and Keras (i, f, c, o): j = g = c
TF1_FORGET_BIAS = 1.0
