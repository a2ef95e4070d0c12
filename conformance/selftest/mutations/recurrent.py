"""Planted bugs of the recurrent networks: LSTM-Sentiment, Pixel-RNN, GNMT."""

from __future__ import annotations

import types
from typing import Any, Callable

import numpy as np
import torch
from torch import nn


from twinzoo.graphs import reorder_gates, shift_forget_bias
from twinzoo import tables
from twinzoo.zoo import gnmt as gnmt_spec
from twinzoo.zoo import pixel_rnn as pixel_rnn_spec
from conformance.selftest.mutations.base import (Patches, edit_torch, edit_transfer, replace_module, Converted,
                                                 mutation, COUNTS)


# ------------------------------------------------------------------------------------------
# The recurrent networks: LSTM-Sentiment (a stock LSTM in both twins) and Pixel-RNN (carpedm20's
# Diagonal BiLSTM, written out in both twins). No BN: their training-mode outputs are their
# inference outputs, so the train check sees what parity sees (at the first parity size).
# ------------------------------------------------------------------------------------------
def lstm_f_g_swapped(w: Converted, layer: Any) -> Converted:
    """Keras' (i, f, c, o) blocks filled in TF1's (i, j, f, o) order: f and c trade places (its own inverse)."""
    return {n: np.ascontiguousarray(reorder_gates(a, tables.STOCK_LSTM_GATES, tables.TF1_LSTM_GATES))
            for n, a in w.items()}


def _forget_bias_shift(delta: float) -> Callable[[Converted, Any], Converted]:
    def shift(w: Converted, layer: Any) -> Converted:
        return {**w, "bias": shift_forget_bias(w["bias"], delta)}
    return shift


@mutation("lstm_gate_order_tf1", "lstm_sentiment", "transfer", "rnn",
          "LSTM kernels and bias transferred in TF1's gate order (i, j, f, o) into Keras' (i, f, c, o)",
          "TF1's BasicLSTMCell/LSTMCell split their gates (i, j, f, o) (rnn_cell_impl.py), cuDNN and "
          "torch (i, f, g, o), Keras (i, f, c, o): a converter that copies the blocks without "
          "reordering them swaps the forget gate and the candidate (tf2onnx/onnx LSTM gate-order "
          "issues: ONNX's own order is (i, o, f, c))", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "rnn", lstm_f_g_swapped, lstm_f_g_swapped)


@mutation("lstm_forget_bias_counted_twice", "lstm_sentiment", "transfer", "rnn",
          "TF1's run-time forget bias 1.0 added to a bias that already holds it",
          "TF1's BasicLSTMCell adds forget_bias=1.0 at run time and stores none of it; a port that "
          "folds it in once more (or reads a Keras/torch bias as TF1's and adds it) gives the forget "
          "gate +2 (tf.compat.v1 LSTMCell docs: 'must set to 0.0 manually when restoring from "
          "CudnnLSTM-trained checkpoints')", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "rnn", _forget_bias_shift(1.0), _forget_bias_shift(-1.0))


@mutation("lstm_forget_bias_dropped", "lstm_sentiment", "transfer", "rnn",
          "TF1's run-time forget bias 1.0 never folded into the stored bias",
          "copying a BasicLSTMCell's bias into nn.LSTM / keras LSTM as it is: the forget_bias the TF1 "
          "cell adds at run time is lost (the same CudnnLSTM/LSTMCell note, the other way)",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "rnn", _forget_bias_shift(-1.0), _forget_bias_shift(1.0))


@mutation("lstm_cell_state_as_output", "lstm_sentiment", "torch", "last_step",
          "the classifier fed the final cell state c instead of the last output h",
          "TF1's LSTMStateTuple is (c, h), torch returns (h_n, c_n), Keras [h, c]: taking state[0] "
          "across frameworks swaps h and c (a classic of hand-written ports)", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        def forward(x: torch.Tensor) -> torch.Tensor:
            _, (h, c) = t.rnn(x)
            return t.fc(t.last_step(c.transpose(0, 1)))
        t.forward = forward
    edit_torch(p, "lstm_sentiment", edit)


@mutation("lstm_time_major_as_batch_major", "lstm_sentiment", "torch", "rnn",
          "the batch-major input [N, T, F] read by a time-major LSTM (batch_first=False)",
          "nn.LSTM defaults to batch_first=False, dynamic_rnn to time_major=False: a port that keeps "
          "torch's default runs the recurrence over the batch axis (shapes still fit)",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        rnn, real = t.rnn, t.rnn.forward

        def forward(x: torch.Tensor, hx: Any = None) -> Any:
            rnn.batch_first = False
            try:
                return real(x, hx)
            finally:
                rnn.batch_first = True
        rnn.forward = forward
    edit_torch(p, "lstm_sentiment", edit)


@mutation("pixel_rnn_mask_b_for_a", "pixel_rnn", "torch", "conv_inputs",
          "the input conv masked with mask 'b' (centre pixel kept) instead of 'a'",
          "PixelRNN's first layer must not see the pixel it predicts (van den Oord et al. 2016 §3.4: "
          "mask A for the first layer only, mask B after); ports that use one masked-conv class "
          "with the default type get it wrong", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        conv = t.get_submodule("conv_inputs")
        k = conv.kernel_size[0]
        conv.mask = torch.tensor(pixel_rnn_spec.pixel_rnn_mask(k, "b")).view(1, 1, k, k).to(conv.mask.device)
    edit_torch(p, "pixel_rnn", edit)


def _edit_scan(p: Patches, path: str, step: Callable[[torch.Tensor, torch.Tensor], tuple]) -> None:
    """Pixel-RNN's torch twin with the Diagonal LSTM at ``path`` stepping by ``step(gates, c) -> (h, c)``."""
    def edit(t: nn.Module) -> None:
        t.get_submodule(path).step = step
    edit_torch(p, "pixel_rnn", edit)


@mutation("pixel_rnn_cell_stock_gate_order", "pixel_rnn", "torch", "LSTM0.output_state_fw.s_to_s",
          "the Diagonal LSTM cell's quarters read in a stock LSTM's order (i, f, g, o) instead of the "
          "package's (i, g, f, o)",
          "model_utils.DiagonalLSTMCell splits i, g, f, o; torch's LSTM order is i, f, g, o: a port "
          "written against nn.LSTM's docs trades the forget gate and the candidate", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def step(gates: torch.Tensor, cell: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        i, f, g, o = gates.chunk(4, dim=1)
        cell = f * cell + i * g
        return o * torch.tanh(cell), cell
    _edit_scan(p, "LSTM0.output_state_fw.s_to_s", step)


@mutation("pixel_rnn_h_c_swapped", "pixel_rnn", "torch", "LSTM2.output_state_bw.s_to_s",
          "the Diagonal LSTM's state handed on as (c, h) where the next step reads (h, c)",
          "TF1's LSTMStateTuple is (c, h) and model_utils packs its state as [c, h]; torch and Keras "
          "return (h, c): a port that unpacks one framework's state in the other's order swaps them",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    def step(gates: torch.Tensor, cell: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        i, g, f, o = gates.chunk(4, dim=1)
        cell = f * cell + i * g
        return cell, o * torch.tanh(cell)
    _edit_scan(p, "LSTM2.output_state_bw.s_to_s", step)


@mutation("pixel_rnn_backward_not_reversed", "pixel_rnn", "torch", "LSTM1.flip_in",
          "the backward Diagonal LSTM run on the image as it is, not mirrored",
          "model_utils.diagonal_bilstm reverses the width before and after the backward direction; a "
          "port that drops the first reverse runs both directions left to right", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_torch(p, "pixel_rnn", lambda t: replace_module(t, "LSTM1.flip_in", nn.Identity()))


@mutation("pixel_rnn_backward_output_not_rereversed", "pixel_rnn", "torch", "LSTM3.flip_out",
          "the backward Diagonal LSTM's output left mirrored (not reversed back before the sum)",
          "a bidirectional layer's backward outputs must be re-reversed to line up with the forward "
          "ones (tf.reverse_sequence after the backward dynamic_rnn; a known pitfall of hand-written "
          "bidirectional RNNs)", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_torch(p, "pixel_rnn", lambda t: replace_module(t, "LSTM3.flip_out", nn.Identity()))


@mutation("pixel_rnn_unskew_off_by_one", "pixel_rnn", "torch", "LSTM0.output_state_fw.unskew",
          "unskew reads row i from column i - 1 (one column early) for every row below the first",
          "the skew's per-row offset (row i shifted by i) undone with an index off by one: the "
          "diagonal of the previous step is read back", ("parity",), COUNTS)
def _(p: Patches) -> None:
    class UnskewEarly(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = x.shape[2]
            return torch.stack([x[:, :, i, max(i - 1, 0):max(i - 1, 0) + h] for i in range(h)], 2)
    edit_torch(p, "pixel_rnn", lambda t: replace_module(t, "LSTM0.output_state_fw.unskew", UnskewEarly()))


# ------------------------------------------------------------------------------------------
# GNMT (gnmt.meta, tensorflow/nmt's GNMT in infer mode). The decoder's layers run once per step,
# so parity cannot compare their activations one by one: a bug there is caught by the outputs
# (every step's logits and greedy ids), not localised.
# ------------------------------------------------------------------------------------------
def _gnmt_encode(merge: str = "concat", init: str = "backward"):
    """The torch twin's ``encode`` with the bidirectional merge and the decoder's bottom state
    as given (the twin's own: ``concat`` and ``backward``)."""
    def encode(self, src):
        x = self.embedding_encoder(src)
        fw, (fw_h, fw_c) = self.encoder_bi_fw(x)
        bw, (bw_h, bw_c) = self.encoder_bi_bw(torch.flip(x, [1]))
        bw = torch.flip(bw, [1])
        h = torch.cat([fw, bw], dim=-1) if merge == "concat" else fw + bw
        states = [(bw_h[0], bw_c[0]) if init == "backward" else (fw_h[0], fw_c[0])]
        for k, lstm in enumerate(self.encoder_uni):
            y, (hk, ck) = lstm(h)
            h = y + h if k >= gnmt_spec.GNMT_ENCODER_RESIDUAL_FROM else y
            states.append((hk[0], ck[0]))
        return h, states[: len(self.decoder_cells)]
    return encode


@mutation("gnmt_bidirectional_sum_merge", "gnmt", "torch", "encoder_uni.0",
          "the bidirectional encoder layer's directions summed (1024) instead of concatenated (2048)",
          "tf.nn.bidirectional_dynamic_rnn returns the two directions apart and nmt concatenates them "
          "(tf.concat(bi_outputs, -1)); Keras' Bidirectional merges by concat, but merge_mode='sum' and "
          "hand-written ports that add the directions exist: the next layer then takes half the inputs",
          ("parity",))
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        units = t.encoder_bi_fw.hidden_size
        replace_module(t, "encoder_uni.0", nn.LSTM(units, units, batch_first=True))
        t.encode = types.MethodType(_gnmt_encode(merge="sum"), t)
    edit_torch(p, "gnmt", edit)


@mutation("gnmt_decoder_init_from_forward_state", "gnmt", "torch", None,
          "the decoder's bottom cell starts from the forward direction's final state, not the backward's",
          "nmt's GNMT passes (bi_encoder_state[1],) + uni states: the backward direction's final state, "
          "which has read the whole sentence from its first word last; a port that takes the 'last' "
          "state of the bidirectional layer takes the forward one", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_torch(p, "gnmt", lambda t: setattr(t, "encode", types.MethodType(_gnmt_encode(init="forward"), t)))


@mutation("gnmt_attention_not_normalised", "gnmt", "torch", None,
          "Bahdanau attention scored with v as it is, not weight-normalised (g v / ||v||)",
          "nmt's attention='normed_bahdanau' (BahdanauAttention(normalize=True)) scales v to the "
          "learned norm g; a port to plain Bahdanau attention drops g and the division, and g's own "
          "weight is left unused", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def forward(self, query, keys, memory):
        score = torch.sum(self.attention_v * torch.tanh(keys + query[:, None, :] + self.attention_b), dim=-1)
        return torch.matmul(torch.softmax(score, dim=-1)[:, None, :], memory)[:, 0, :]
    edit_torch(p, "gnmt", lambda t: setattr(t.attention, "forward", types.MethodType(forward, t.attention)))
