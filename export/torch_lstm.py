"""torch ``nn.LSTM`` as a loop for ExecuTorch.

``torch.export`` keeps ``nn.LSTM`` as one ``aten.lstm`` node, but ExecuTorch's edge lowering
decomposes it step by step: the program grows with the sequence (LSTM-Sentiment's 1024 steps
took the lowering past 23 GB). ``ScanLSTM`` computes the same recurrence with torch's ``scan``
higher-order op, which ExecuTorch keeps as one loop: the input projection of every step is one
matrix product before the loop, each step a product with the recurrent weights. ``scan_lstms``
swaps them in for export only; the twin itself keeps its stock layer.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


class ScanLSTM(nn.Module):
    """A one-layer, one-direction ``nn.LSTM`` (no projection, zero initial state) as a ``scan``."""

    def __init__(self, lstm: nn.LSTM) -> None:
        super().__init__()
        self.batch_first = lstm.batch_first
        with torch.no_grad():
            self.w_ih = nn.Parameter(lstm.weight_ih_l0.detach().clone(), requires_grad=False)
            # transposed once here, not at every step
            self.w_hh_t = nn.Parameter(lstm.weight_hh_l0.detach().t().contiguous(), requires_grad=False)
            bias = torch.zeros(4 * lstm.hidden_size)
            if lstm.bias:
                bias = lstm.bias_ih_l0.detach() + lstm.bias_hh_l0.detach()
            self.bias = nn.Parameter(bias, requires_grad=False)
        self.hidden_size = lstm.hidden_size

    def forward(self, x: torch.Tensor, hx: Any = None) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        from torch._higher_order_ops.scan import scan

        if hx is not None:
            raise ValueError("ScanLSTM takes no initial state (the zoo's LSTMs start from zeros)")
        xs = x.transpose(0, 1) if self.batch_first else x                 # (steps, N, features)
        projected = nn.functional.linear(xs, self.w_ih, self.bias)       # every step's input term at once
        h0 = projected.new_zeros(projected.shape[1], self.hidden_size)
        c0 = projected.new_zeros(projected.shape[1], self.hidden_size)     # not h0 again: scan refuses aliases
        w_hh_t = self.w_hh_t

        def step(carry, x_t):
            h, c = carry
            i, f, g, o = (x_t + h @ w_hh_t).chunk(4, 1)                  # torch's gate order
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            return (h, c.clone()), h.clone()

        (h, c), hs = scan(step, (h0, c0), projected)
        out = hs.transpose(0, 1) if self.batch_first else hs
        return out, (h.unsqueeze(0), c.unsqueeze(0))


def scannable(lstm: nn.Module) -> str | None:
    """Why ``lstm`` cannot be a ``ScanLSTM`` (None: it can)."""
    if type(lstm) is not nn.LSTM:
        return "not a stock nn.LSTM"
    why = [k for k, bad in {"num_layers > 1": lstm.num_layers != 1, "bidirectional": lstm.bidirectional,
                            "proj_size": lstm.proj_size > 0}.items() if bad]
    return ", ".join(why) or None


def scan_lstms(model: nn.Module) -> tuple[nn.Module, list[str]]:
    """A copy of ``model`` with each stock ``nn.LSTM`` that can be one replaced by a ``ScanLSTM``,
    and the names of those it replaced (``model`` itself unchanged; itself if none)."""
    names = [n for n, m in model.named_modules() if scannable(m) is None]
    if not names:
        return model, []
    model = copy.deepcopy(model)
    for name in names:
        parent_name, _, attr = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, attr, ScanLSTM(getattr(parent, attr)))
    return model, names
