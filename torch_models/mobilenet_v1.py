"""MobileNet v1 (Howard et al. 2017), TF-slim layout. The body walks ``twinzoo.zoo.mobilenet_v1``' Table 1."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from twinzoo.zoo import mobilenet_v1 as mobilenet_v1_spec
from torch_models.layers import ConvBNAct, Logits

BN_EPS = 1e-3  # TF-slim mobilenet_v1_arg_scope: batch_norm_epsilon=0.001


def _block(spec: mobilenet_v1_spec.Conv | mobilenet_v1_spec.DepSep, cin: int, alpha: float,
           index: int) -> tuple[list[tuple[str, nn.Module]], int]:
    cout = mobilenet_v1_spec.mobilenet_v1_depth(spec.filters, alpha)
    if isinstance(spec, mobilenet_v1_spec.Conv):
        return [(f"Conv2d_{index}", ConvBNAct(cin, cout, spec.kernel, spec.stride, bn_eps=BN_EPS))], cout
    return [
        (f"Conv2d_{index}_depthwise", ConvBNAct(cin, cin, spec.kernel, spec.stride, depthwise=True, bn_eps=BN_EPS)),
        (f"Conv2d_{index}_pointwise", ConvBNAct(cin, cout, 1, bn_eps=BN_EPS)),
    ], cout


class MobileNetV1(nn.Module):
    def __init__(self, alpha: float = 1.0, num_classes: int = 1001, body: str = "standard",
                 in_channels: int = 3) -> None:
        super().__init__()
        blocks: list[tuple[str, nn.Module]] = []
        cin = in_channels
        for i, spec in enumerate(mobilenet_v1_spec.mobilenet_v1_body(body)):
            mods, cin = _block(spec, cin, alpha, i)
            blocks += mods
        self.body = nn.Sequential(OrderedDict(blocks))
        self.logits = Logits(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(self.body(x))


def mobilenet_v1(alpha: float = 1.0, num_classes: int = 1001, body: str = "standard") -> MobileNetV1:
    """MobileNet v1 with width multiplier ``alpha``; ``body`` "conv" or "shallow" gives the
    paper's Conv MobileNet (Table 4) or Shallow MobileNet (Table 10). Input size is free
    (the resolution multiplier is the input size)."""
    if alpha <= 0:
        raise ValueError(f"alpha must be positive, got {alpha}")
    return MobileNetV1(alpha, num_classes, body)


class MobileNetV1Layer(nn.Sequential):
    """One 512-output layer of the paper's Table 3 (14x14x512 input) in the given form."""


def mobilenet_v1_layer(kind: str, alpha: float = 1.0, filters: int = 512) -> nn.Module:
    spec = {"conv": mobilenet_v1_spec.Conv(1, filters), "depsep": mobilenet_v1_spec.DepSep(1, filters)}.get(kind)
    if spec is None:
        raise ValueError(f"unknown Table 3 layer kind {kind!r}; known: conv, depsep")
    cin = mobilenet_v1_spec.mobilenet_v1_depth(filters, alpha)
    mods, _ = _block(spec, cin, alpha, 0)
    return MobileNetV1Layer(OrderedDict(mods))
