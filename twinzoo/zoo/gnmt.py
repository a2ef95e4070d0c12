"""gnmt."""

from __future__ import annotations

from twinzoo import tables
from twinzoo.network import AIB_DESKTOP, Family, Figure, Network

FAMILY = Family(order=200)
register = FAMILY.register

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
))
