"""GNMT-Translation as AI Benchmark's gnmt.meta runs it (test 19): tensorflow/nmt's GNMT in infer
mode (docs/gnmt_graph.md), on token ids (``conformance.lib.text`` maps strings as the graph's tables).

Encoder: embedding; a bidirectional layer (``encoder_bi_fw`` over the sentence, ``encoder_bi_bw``
over it reversed, its outputs reversed back, outputs concatenated [fw, bw]); 7 stock LSTMs, layers
1-6 residual. Decoder (gnmt_v2): 8 stock LSTM cells; cell 0 takes [embedding, previous step's
attention], then normalised Bahdanau attention on its new h; cells 1-7 take [layer input, this
step's attention], cells 2-7 residual; initial states: cell 0 the backward layer's final state,
cell k the final state of encoder layer k-1. Greedy decoding from ``<s>`` for round(2 x source
length) steps, unrolled (the source length is fixed when the model is built; the cells, the
attention and the projection are shared by every step); the output is every step's logits [N,
steps, vocab]. ``teacher_forcing=True`` adds a second input ``decoder_input`` [N, steps] fed
instead of the argmax (the reference check replays the graph's own ids).

The graph's TF1 ``BasicLSTMCell``s are Keras' stock ``LSTM`` / ``LSTMCell``: gate reorder and the
run-time forget bias are rules of the graph mapping (``conformance.lib.graphs``). Sizes:
``twinzoo.zoo.gnmt``."""

from __future__ import annotations

import keras
from keras import layers, ops

from twinzoo.zoo import gnmt as spec
from keras_models.layers import GreedyToken, NormedBahdanauAttention


def gnmt(input_shape=(spec.GNMT_SOURCE_LENGTH,), vocab: int = spec.GNMT_VOCAB, units: int = spec.GNMT_UNITS,
         encoder_layers: int = spec.GNMT_ENCODER_UNI_LAYERS, decoder_layers: int = spec.GNMT_DECODER_LAYERS,
         teacher_forcing: bool = False, decoding_steps: int | None = None) -> keras.Model:
    """GNMT on (N, T) int token ids; ``input_shape`` = (T,), T fixed. ``decoding_steps`` (teacher
    forcing only) sets the decoder input's length; greedy decoding runs round(2 T) steps."""
    steps_in = input_shape[0]
    if steps_in is None or steps_in < 1:
        raise ValueError(f"GNMT's Keras twin unrolls its decoder: input_shape needs a fixed length, got {input_shape}")
    if decoder_layers > encoder_layers + 1:
        raise ValueError(f"decoder_layers ({decoder_layers}) takes its initial states from the backward layer and "
                         f"encoder_layers ({encoder_layers}): at most {encoder_layers + 1}")
    steps = decoding_steps or spec.gnmt_decoding_steps(steps_in)
    src = keras.Input((steps_in,), dtype="int32", name="input")
    inputs = [src]
    if teacher_forcing:
        inputs.append(keras.Input((steps,), dtype="int32", name="decoder_input"))

    x = layers.Embedding(vocab, units, name="embedding_encoder")(src)
    fw = layers.LSTM(units, return_sequences=True, name="encoder_bi_fw")(x)
    bw, bw_h, bw_c = layers.LSTM(units, return_sequences=True, return_state=True,
                                 name="encoder_bi_bw")(ops.flip(x, axis=1))
    h = ops.concatenate([fw, ops.flip(bw, axis=1)], axis=-1)
    states = [[bw_h, bw_c]]
    for k in range(encoder_layers):
        y, hk, ck = layers.LSTM(units, return_sequences=True, return_state=True, name=f"encoder_uni.{k}")(h)
        h = y + h if k >= spec.GNMT_ENCODER_RESIDUAL_FROM else y
        states.append([hk, ck])
    states = states[:decoder_layers]
    memory = h
    keys = layers.Dense(units, use_bias=False, name="memory_layer")(memory)

    embedding = layers.Embedding(vocab, units, name="embedding_decoder")
    cells = [layers.LSTMCell(units, name=f"decoder_cells.{k}") for k in range(decoder_layers)]
    query_layer = layers.Dense(units, use_bias=False, name="query_layer")
    attend = NormedBahdanauAttention(units, name="attention")
    projection = layers.Dense(vocab, use_bias=False, name="output_projection")
    greedy = GreedyToken(name="greedy_token")
    token = ops.full_like(src[:, 0], spec.GNMT_SOS)
    attention = ops.zeros_like(memory[:, 0, :])
    logits = []
    for t in range(steps):
        inp = inputs[1][:, t] if teacher_forcing else token
        h, states[0] = cells[0](ops.concatenate([embedding(inp), attention], axis=-1), states[0])
        attention = attend(query_layer(h), keys, memory)
        out = h
        for k in range(1, decoder_layers):
            h, states[k] = cells[k](ops.concatenate([out, attention], axis=-1), states[k])
            out = h + out if k >= spec.GNMT_DECODER_RESIDUAL_FROM else h
        step_logits = projection(out)
        logits.append(step_logits)
        token = greedy(step_logits)
    return keras.Model(inputs if teacher_forcing else src, ops.stack(logits, axis=1), name="gnmt")
