"""LSTM-Sentiment as AI Benchmark's lstm.meta runs it (test 18): one LSTM of 1024 units over 1024
steps of 300-d word vectors, batch-major, and a fully connected layer on the last step's output.

The graph's TF1 ``BasicLSTMCell`` is Keras' stock ``LSTM`` (sigmoid gates, tanh cell, zero
initial state): the gate reorder (i, j, f, o) -> (i, f, c, o) and the run-time forget bias (1.0)
folded into the stored bias are rules of the graph mapping (``conformance.lib.graphs``), not of
this twin. Sizes: ``twinzoo.zoo.lstm_sentiment``."""

from __future__ import annotations

import keras
from keras import layers

from twinzoo.zoo import lstm_sentiment as spec
from keras_models.layers import LastStep


def lstm_sentiment(input_shape=(spec.LSTM_SENTIMENT_STEPS, spec.LSTM_SENTIMENT_FEATURES),
                   features: int = spec.LSTM_SENTIMENT_FEATURES, units: int = spec.LSTM_SENTIMENT_UNITS,
                   num_classes: int = spec.LSTM_SENTIMENT_CLASSES) -> keras.Model:
    """LSTM-Sentiment on (N, steps, ``features``) float batches; ``input_shape`` = (steps, features),
    steps may be None."""
    if input_shape[-1] != features:
        raise ValueError(f"input_shape {tuple(input_shape)} does not have features={features}")
    inputs = keras.Input(input_shape, name="input")
    x = layers.LSTM(units, return_sequences=True, name="rnn")(inputs)
    x = LastStep(name="last_step")(x)
    x = layers.Dense(num_classes, name="fc")(x)
    return keras.Model(inputs, x, name="lstm_sentiment")
