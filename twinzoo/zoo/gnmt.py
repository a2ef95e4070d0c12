"""gnmt."""

from __future__ import annotations

import re

from twinzoo.graphs import GraphSpec, Rule, tf1_lstm_rules
from twinzoo.network import AIB_DESKTOP, BenchPlan, Family, Figure, Network

FAMILY = Family(order=200)
register = FAMILY.register

# GNMT-Translation — AI Benchmark test 19 (gnmt.meta; ai_benchmark/models.py builds no GNMT):
# tensorflow/nmt's GNMTModel in infer mode (Wu et al. 2016, "Google's Neural Machine Translation
# System", arXiv:1609.08144; Luong, Brevdo & Zhao 2017, tensorflow/nmt). Every fact below is read
# off the graph (docs/gnmt_graph.md): 1 bidirectional + 7 unidirectional encoder layers, an
# 8-layer decoder whose bottom cell carries normalised Bahdanau attention (gnmt_v2), greedy
# decoding, all LSTMs TF1 BasicLSTMCells (TF1_LSTM_GATES, TF1_FORGET_BIAS).
GNMT_VOCAB = 32316              # embeddings [32316, 1024], output_projection/kernel [1024, 32316]
GNMT_UNITS = 1024               # every cell's num_units, the embedding and attention depth
GNMT_ENCODER_UNI_LAYERS = 7     # encoder/rnn/multi_rnn_cell/cell_0..6 (after the bidirectional layer)
GNMT_ENCODER_RESIDUAL_FROM = 1  # uni layers 1..6 add their input (ResidualWrapper; cell_0 takes [fw, bw])
GNMT_DECODER_LAYERS = 8         # decoder cell_0_attention + cell_1..7
GNMT_DECODER_RESIDUAL_FROM = 2  # decoder cells 2..7 add their input (gnmt_residual_fn), cell 1 does not
GNMT_UNK, GNMT_SOS, GNMT_EOS = 0, 1, 2      # vocab lines <unk>, <s>, </s>; unknown words -> 0
GNMT_DECODING_FACTOR = 2.0      # maximum_iterations = round(2.0 * source length)
GNMT_SOURCE_LENGTH = 20         # the benchmark sentence's tokens (ai_benchmark config.py: [1, 20])
# The sentence AI Benchmark translates (ai_benchmark/utils.py loadData("nlp-text")): 20 tokens on
# single spaces, three of them ("Baggins", "adventure,", "unexpected.") not in the vocabulary.
GNMT_SENTENCE = ("This is a story of how a Baggins had an adventure, and found himself doing and saying "
                 "things altogether unexpected.")
GNMT_VOCAB_FILE = "data/nlp/vocab.bpe.32000.en"   # in the ai_benchmark package; the graph's tables read it


def gnmt_decoding_steps(source_length: int) -> int:
    """The graph's maximum_iterations: round(2.0 * source length) (TF's Round: half to even, as
    Python's round)."""
    return int(round(GNMT_DECODING_FACTOR * source_length))


def _gnmt_rules() -> tuple[Rule, ...]:
    """tensorflow/nmt's GNMT scopes onto the twin's layers (docs/gnmt_graph.md, section 1): every
    BasicLSTMCell by ``tf1_lstm_rules``, the rest kernels and embeddings as they are."""
    enc, dec = "dynamic_seq2seq/encoder", "dynamic_seq2seq/decoder"
    att = f"{dec}/multi_rnn_cell/cell_0_attention/attention"
    cells = [*tf1_lstm_rules(f"{enc}/bidirectional_rnn/fw/basic_lstm_cell", "encoder_bi_fw"),
             *tf1_lstm_rules(f"{enc}/bidirectional_rnn/bw/basic_lstm_cell", "encoder_bi_bw"),
             *tf1_lstm_rules(f"{att}/basic_lstm_cell", "decoder_cells.0")]
    for k in range(GNMT_ENCODER_UNI_LAYERS):
        cells += tf1_lstm_rules(f"{enc}/rnn/multi_rnn_cell/cell_{k}/basic_lstm_cell", f"encoder_uni.{k}")
    for k in range(1, GNMT_DECODER_LAYERS):
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
    input_size=(GNMT_SOURCE_LENGTH, GNMT_VOCAB), layout="tokens",
    input_size_source=AIB_DESKTOP + " (test 19: GNMT-Translation on [1, 20], the 20 tokens of its one sentence; "
                      "gnmt.meta's input:0 is that sentence as a string)",
    # the benchmark sentence's length and a short one; decoding runs 40 and 14 steps
    parity_sizes=((GNMT_SOURCE_LENGTH, GNMT_VOCAB), (7, GNMT_VOCAB)),
    second_size=(7, GNMT_VOCAB),
    image_set=None, fixed_size=False,
    figures=(
        Figure("params", 281_798_657, AIB_DESKTOP + " (gnmt.meta: its 42 trainable variables; the graph's 43 "
               "variables hold 281,798,658 values with nmt's int32 global step)", "W+b", 0.0),
        Figure("macs", 7_007_764_480, AIB_DESKTOP + ": gnmt.meta's own MatMul / BatchMatMul shapes for a "
               "20-token sentence, encoder loops x 20 steps and the decoder loop x 40 "
               "(conformance.lib.graphs.graph_macs)", "conv+fc", 0.0, (GNMT_SOURCE_LENGTH, GNMT_VOCAB)),
    ),
    description="GNMT as AI Benchmark's gnmt.meta (tensorflow/nmt, infer mode): bidirectional + 7 LSTM(1024) "
                "encoder, 8-layer decoder with normalised Bahdanau attention (gnmt_v2), greedy decoding, "
                "32,316-token vocabulary",
    graph=GraphSpec("gnmt.meta", _gnmt_rules(), output="output:0",
                    macs_input="ExpandDims:0", macs_input_dtype="int32",
                    loop_steps=lambda shape, scope: (gnmt_decoding_steps(shape[1]) if scope.startswith(
                        "dynamic_seq2seq/decoder/") else shape[1]),
                    dynamic_dim=lambda shape: shape[1],
                    note="input:0 is a sentence (scalar string), output:0 its translation [steps, 1] (strings); the "
                         "twins take the graph's ids (conformance.lib.text, the graph's own vocabulary file) and are "
                         "compared on the ids and, replaying the graph's ids, on every step's logits; nmt's int32 global "
                         "step (Variable) is not a weight"),
    # AI Benchmark's own size in the main job (20 tokens: 7.0 GMAC); --quick a 7-token sentence (14 decoding steps)
    bench=BenchPlan(order=210, quick=(7, 32316), export_rank=1,
                    quick_skip="282M parameters to build, randomise and transfer in both twins before a first call",
                    export_peak_gib=23.8,
                    export_peak_from="at least: the kernel OOM-killed its one-process export job at 23.8 GiB, "
                                     "in Keras -> ONNX after onnx_torch had passed"),
))
