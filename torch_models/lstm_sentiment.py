"""LSTM-Sentiment as AI Benchmark's lstm.meta runs it (test 18): one LSTM of 1024 units over 1024
steps of 300-d word vectors, batch-major, and a fully connected layer on the last step's output.

The graph's TF1 ``BasicLSTMCell`` is torch's stock ``nn.LSTM``: the gate reorder (i, j, f, o) ->
(i, f, g, o) and the run-time forget bias (1.0) folded into the stored bias are rules of the
graph mapping (``conformance.lib.graphs``), not of this twin. Sizes: ``twinzoo.zoo.lstm_sentiment``."""

from __future__ import annotations

import torch
from torch import nn

from twinzoo.zoo import lstm_sentiment as spec
from torch_models.layers import LastStep


class LSTMSentiment(nn.Module):
    """rnn (LSTM, batch-major, every step's output), last_step, fc (Linear)."""

    def __init__(self, features: int, units: int, num_classes: int) -> None:
        super().__init__()
        self.rnn = nn.LSTM(features, units, batch_first=True)
        self.last_step = LastStep()
        self.fc = nn.Linear(units, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)              # [N, T, units], zero initial state as dynamic_rnn's
        return self.fc(self.last_step(out))


def lstm_sentiment(features: int = spec.LSTM_SENTIMENT_FEATURES, units: int = spec.LSTM_SENTIMENT_UNITS,
                   num_classes: int = spec.LSTM_SENTIMENT_CLASSES) -> LSTMSentiment:
    """LSTM-Sentiment on (N, steps, ``features``) float batches, any number of steps."""
    for name, value in (("features", features), ("units", units), ("num_classes", num_classes)):
        if value < 1:
            raise ValueError(f"{name} must be positive, got {value}")
    return LSTMSentiment(features, units, num_classes)
