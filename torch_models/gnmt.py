"""GNMT-Translation as AI Benchmark's gnmt.meta runs it (test 19): tensorflow/nmt's GNMT in infer
mode (docs/gnmt_graph.md), on token ids (``conformance.lib.text`` maps strings as the graph's tables).

Encoder: embedding; a bidirectional layer (``encoder_bi_fw`` over the sentence, ``encoder_bi_bw``
over it reversed, its outputs reversed back, outputs concatenated [fw, bw]); 7 stock LSTMs, layers
1-6 residual. Decoder (gnmt_v2): 8 stock LSTM cells; cell 0 takes [embedding, previous step's
attention], then normalised Bahdanau attention on its new h; cells 1-7 take [layer input, this
step's attention], cells 2-7 residual; initial states: cell 0 the backward layer's final state,
cell k the final state of encoder layer k-1. Greedy decoding from ``<s>`` for round(2 x source
length) steps; the forward pass returns every step's logits [N, steps, vocab] (the graph stops
after ``</s>``: ``conformance.lib.text.truncate_at_eos`` cuts the ids there, the steps computed after it
change nothing before it). ``decoder_input`` [N, steps] feeds given ids instead of the argmax
(teacher forcing: the reference check replays the graph's own ids).

The graph's TF1 ``BasicLSTMCell``s are torch's stock ``nn.LSTM`` / ``nn.LSTMCell``: gate reorder
and the run-time forget bias are rules of the graph mapping (``conformance.lib.graphs``). The
sentences of a batch are taken at full length (no padding: AI Benchmark translates one sentence).
Sizes: ``twinzoo.zoo.gnmt``."""

from __future__ import annotations

import torch
from torch import nn

from twinzoo.zoo import gnmt as spec
from torch_models.layers import GreedyToken, NormedBahdanauAttention


class GNMT(nn.Module):
    def __init__(self, vocab: int, units: int, encoder_layers: int, decoder_layers: int) -> None:
        super().__init__()
        self.embedding_encoder = nn.Embedding(vocab, units)
        self.encoder_bi_fw = nn.LSTM(units, units, batch_first=True)
        self.encoder_bi_bw = nn.LSTM(units, units, batch_first=True)
        self.encoder_uni = nn.ModuleList(nn.LSTM(2 * units if k == 0 else units, units, batch_first=True)
                                         for k in range(encoder_layers))
        self.memory_layer = nn.Linear(units, units, bias=False)
        self.embedding_decoder = nn.Embedding(vocab, units)
        self.decoder_cells = nn.ModuleList(nn.LSTMCell(2 * units, units) for _ in range(decoder_layers))
        self.query_layer = nn.Linear(units, units, bias=False)
        self.attention = NormedBahdanauAttention(units)
        self.output_projection = nn.Linear(units, vocab, bias=False)
        self.greedy_token = GreedyToken()

    def encode(self, src: torch.Tensor):
        """Encoder outputs [N, T, units] and the decoder's initial (h, c) per layer."""
        x = self.embedding_encoder(src)
        fw, _ = self.encoder_bi_fw(x)
        bw, (bw_h, bw_c) = self.encoder_bi_bw(torch.flip(x, [1]))
        h = torch.cat([fw, torch.flip(bw, [1])], dim=-1)
        states = [(bw_h[0], bw_c[0])]
        for k, lstm in enumerate(self.encoder_uni):
            y, (hk, ck) = lstm(h)
            h = y + h if k >= spec.GNMT_ENCODER_RESIDUAL_FROM else y
            states.append((hk[0], ck[0]))
        return h, states[: len(self.decoder_cells)]

    def forward(self, src: torch.Tensor, decoder_input: torch.Tensor | None = None) -> torch.Tensor:
        memory, states = self.encode(src)
        keys = self.memory_layer(memory)
        steps = decoder_input.shape[1] if decoder_input is not None else spec.gnmt_decoding_steps(int(src.shape[1]))
        token = torch.full_like(src[:, 0], spec.GNMT_SOS)
        attention = torch.zeros_like(memory[:, 0, :])
        logits = []
        for t in range(steps):
            inp = decoder_input[:, t] if decoder_input is not None else token
            h, c = self.decoder_cells[0](torch.cat([self.embedding_decoder(inp), attention], dim=-1), states[0])
            states[0] = (h, c)
            attention = self.attention(self.query_layer(h), keys, memory)
            out = h
            for k in range(1, len(self.decoder_cells)):
                h, c = self.decoder_cells[k](torch.cat([out, attention], dim=-1), states[k])
                states[k] = (h, c)
                out = h + out if k >= spec.GNMT_DECODER_RESIDUAL_FROM else h
            step_logits = self.output_projection(out)
            logits.append(step_logits)
            token = self.greedy_token(step_logits)
        return torch.stack(logits, dim=1)


def gnmt(vocab: int = spec.GNMT_VOCAB, units: int = spec.GNMT_UNITS,
         encoder_layers: int = spec.GNMT_ENCODER_UNI_LAYERS, decoder_layers: int = spec.GNMT_DECODER_LAYERS) -> GNMT:
    """GNMT on (N, T) int token ids, any T >= 1; logits [N, round(2 T), vocab]."""
    for name, value in (("vocab", vocab), ("units", units), ("encoder_layers", encoder_layers),
                        ("decoder_layers", decoder_layers)):
        if value < 1:
            raise ValueError(f"{name} must be positive, got {value}")
    if decoder_layers > encoder_layers + 1:
        raise ValueError(f"decoder_layers ({decoder_layers}) takes its initial states from the backward layer and "
                         f"encoder_layers ({encoder_layers}): at most {encoder_layers + 1}")
    return GNMT(vocab, units, encoder_layers, decoder_layers)
