"""lstm_sentiment."""

from __future__ import annotations

from twinzoo.graphs import GraphSpec, tf1_lstm_rules
from twinzoo.network import AIB_DESKTOP, BenchPlan, Family, Figure, Network

FAMILY = Family(order=180)
register = FAMILY.register

# LSTM-Sentiment — AI Benchmark test 18 (ai_benchmark/models.py LSTM_Sentiment; lstm.meta):
# one TF1 BasicLSTMCell(1024) run by dynamic_rnn over 1024 steps of 300-d word vectors, then a
# fully connected layer on the last step's output. Reference paper: Hochreiter & Schmidhuber
# 1997, "Long Short-Term Memory"
LSTM_SENTIMENT_STEPS = 1024     # input placeholder [None, 1024, 300]
LSTM_SENTIMENT_FEATURES = 300
LSTM_SENTIMENT_UNITS = 1024     # rnn/basic_lstm_cell/kernel [300 + 1024, 4 * 1024]
LSTM_SENTIMENT_CLASSES = 2      # Variable [1024, 2], Variable_1 [2]


register(Network(
    name="lstm_sentiment", family="lstm_sentiment", builder="lstm_sentiment", task="nlp",
    input_size=(LSTM_SENTIMENT_STEPS, LSTM_SENTIMENT_FEATURES), layout="sequence",
    input_size_source=AIB_DESKTOP + " (test 18: LSTM-Sentiment on [1024, 300]; lstm.meta placeholder [None, 1024, 300])",
    # 1024 steps, as the graph runs: float32 rounding carried through the whole recurrence is what
    # the parity line must hold; 32 steps beside them for a short sequence
    parity_sizes=((LSTM_SENTIMENT_STEPS, LSTM_SENTIMENT_FEATURES), (32, LSTM_SENTIMENT_FEATURES)),
    second_size=(32, LSTM_SENTIMENT_FEATURES),
    # word vectors (the package ships none: AI Benchmark feeds random [1024, 300] batches); GloVe's
    # 300-d vectors lie mostly within [-1, 1]
    input_range=(-1.0, 1.0), image_set=None,
    figures=(
        Figure("params", 5_429_250, AIB_DESKTOP + " (lstm.meta: rnn/basic_lstm_cell/kernel [1324, 4096] + bias "
               "[4096], Variable [1024, 2] + Variable_1 [2])", "W+b", 0.0),
        Figure("macs", 5_553_260_544, AIB_DESKTOP + ": lstm.meta's own MatMul shapes, the cell's [1, 1324] x "
               "[1324, 4096] once per step x 1024 steps + the FC's 1024 x 2 (conformance.lib.graphs.graph_macs)",
               "conv+fc", 0.0, (LSTM_SENTIMENT_STEPS, LSTM_SENTIMENT_FEATURES)),
    ),
    description="LSTM-Sentiment as AI Benchmark's lstm.meta: one LSTM(1024) over 1024 steps of 300-d vectors, "
                "FC on the last step (2 classes)",
    graph=GraphSpec("lstm.meta",
                    (*tf1_lstm_rules("rnn/basic_lstm_cell", "rnn"),
                     (r"Variable(?P<b>_1)?", lambda m: ("fc", "bias" if m["b"] else "kernel"))),
                    input_size=(LSTM_SENTIMENT_STEPS, LSTM_SENTIMENT_FEATURES),   # its transpose fixes 1024
                    # dynamic_rnn's zeros for copying finished sequences through: read only with a
                    # sequence_length, which the graph does not pass
                    dead_ends=r"rnn/zeros",
                    note="output:0 is the FC on the last step's output (2 logits); Variable / Variable_1 are its "
                         "kernel and bias (ai_benchmark/models.py W_fc, b_fc)"),
    # AI Benchmark's own size in the main job (1024 steps: 5.6 GMAC); --quick at 64 steps
    bench=BenchPlan(order=190, quick=(64, 300), export_rank=17,
                    export_peak_gib=21.6,
                    export_peak_from="at least: the memory guard stopped its ExecuTorch lowering (1024 "
                                     "unrolled steps) at 21.6 GiB"),
))
