"""gnmt."""

from __future__ import annotations

import re

from twinzoo import tables
from twinzoo.graphs import GraphSpec, Rule, tf1_lstm_rules
from twinzoo.network import AIB_DESKTOP, Family, Figure, Network

FAMILY = Family(order=200)
register = FAMILY.register


def _gnmt_rules() -> tuple[Rule, ...]:
    """tensorflow/nmt's GNMT scopes onto the twin's layers (docs/gnmt_graph.md, section 1): every
    BasicLSTMCell by ``tf1_lstm_rules``, the rest kernels and embeddings as they are."""
    enc, dec = "dynamic_seq2seq/encoder", "dynamic_seq2seq/decoder"
    att = f"{dec}/multi_rnn_cell/cell_0_attention/attention"
    cells = [*tf1_lstm_rules(f"{enc}/bidirectional_rnn/fw/basic_lstm_cell", "encoder_bi_fw"),
             *tf1_lstm_rules(f"{enc}/bidirectional_rnn/bw/basic_lstm_cell", "encoder_bi_bw"),
             *tf1_lstm_rules(f"{att}/basic_lstm_cell", "decoder_cells.0")]
    for k in range(tables.GNMT_ENCODER_UNI_LAYERS):
        cells += tf1_lstm_rules(f"{enc}/rnn/multi_rnn_cell/cell_{k}/basic_lstm_cell", f"encoder_uni.{k}")
    for k in range(1, tables.GNMT_DECODER_LAYERS):
        cells += tf1_lstm_rules(f"{dec}/multi_rnn_cell/cell_{k}/basic_lstm_cell", f"decoder_cells.{k}")
    return (
        *cells,
        (r"embeddings/(?P<side>encoder|decoder)/embedding_(?P=side)", lambda m: (f"embedding_{m['side']}", "embeddings")),
        (rf"{re.escape(att)}/bahdanau_attention/query_layer/kernel", lambda m: ("query_layer", "kernel")),
        (rf"{re.escape(att)}/bahdanau_attention/(?P<w>attention_[vgb])", lambda m: ("attention", m["w"])),
        (rf"{dec}/(?P<layer>memory_layer|output_projection)/kernel", lambda m: (m["layer"], "kernel")),
    )

# GNMT's MACs per translated sentence: the encoder's cells once per source token, the decoder's
# cells, query layer, attention context (alignments [1, T] x memory [T, 1024]) and output
# projection once per decoding step (round(2 T) steps: greedy decoding never stops early at random
# weights); the memory layer once per source token. Embedding lookups and the attention score's
# elementwise tanh / weighted sum are not MACs here.
register(Network(
    name="gnmt", family="gnmt", builder="gnmt", task="nlp",
    input_size=(tables.GNMT_SOURCE_LENGTH, tables.GNMT_VOCAB), layout="tokens",
    input_size_source=AIB_DESKTOP + " (test 19: GNMT-Translation on [1, 20], the 20 tokens of its one sentence; "
                      "gnmt.meta's input:0 is that sentence as a string)",
    # the benchmark sentence's length and a short one; decoding runs 40 and 14 steps
    parity_sizes=((tables.GNMT_SOURCE_LENGTH, tables.GNMT_VOCAB), (7, tables.GNMT_VOCAB)),
    second_size=(7, tables.GNMT_VOCAB),
    image_set=None, fixed_size=False,
    figures=(
        Figure("params", 281_798_657, AIB_DESKTOP + " (gnmt.meta: its 42 trainable variables; the graph's 43 "
               "variables hold 281,798,658 values with nmt's int32 global step)", "W+b", 0.0),
        Figure("macs", 7_007_764_480, AIB_DESKTOP + ": gnmt.meta's own MatMul / BatchMatMul shapes for a "
               "20-token sentence, encoder loops x 20 steps and the decoder loop x 40 "
               "(conformance.lib.graphs.graph_macs)", "conv+fc", 0.0, (tables.GNMT_SOURCE_LENGTH, tables.GNMT_VOCAB)),
    ),
    description="GNMT as AI Benchmark's gnmt.meta (tensorflow/nmt, infer mode): bidirectional + 7 LSTM(1024) "
                "encoder, 8-layer decoder with normalised Bahdanau attention (gnmt_v2), greedy decoding, "
                "32,316-token vocabulary",
    graph=GraphSpec("gnmt.meta", _gnmt_rules(), output="output:0",
                    macs_input="ExpandDims:0", macs_input_dtype="int32",
                    loop_steps=lambda shape, scope: (tables.gnmt_decoding_steps(shape[1]) if scope.startswith(
                        "dynamic_seq2seq/decoder/") else shape[1]),
                    dynamic_dim=lambda shape: shape[1],
                    note="input:0 is a sentence (scalar string), output:0 its translation [steps, 1] (strings); the "
                         "twins take the graph's ids (conformance.lib.text, the graph's own vocabulary file) and are "
                         "compared on the ids and, replaying the graph's ids, on every step's logits; nmt's int32 global "
                         "step (Variable) is not a weight"),
))
