"""MobileNet v2 (Sandler et al. 2018), TF-slim layout as in AI Benchmark's mobilenet_v2.meta.

Module names follow slim's variable scopes (``Conv``, ``expanded_conv_<i>/{expand,depthwise,
project}``, ``Conv_1``, ``Logits``); the body walks ``twinzoo.zoo.mobilenet_v2``' Table 2 rows."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from twinzoo.zoo import mobilenet_v2 as spec
from torch_models.layers import Add, ConvBNAct, Logits

BN_EPS = 1e-3  # mobilenet_v2.meta FusedBatchNorm epsilon (slim.batch_norm default 0.001)


class ExpandedConv(nn.Module):
    """Inverted residual (paper Table 1): 1x1 expansion + BN + ReLU6 (only for t > 1), 3x3
    depthwise with the block's stride + BN + ReLU6, linear 1x1 projection + BN, and a residual
    ``add`` when the stride is 1 and the channel count is kept."""

    def __init__(self, in_channels: int, out_channels: int, expansion: int, stride: int,
                 conv: dict) -> None:
        super().__init__()
        hidden = in_channels
        if expansion > 1:
            hidden = spec.make_divisible(in_channels * expansion)
            self.expand = ConvBNAct(in_channels, hidden, 1, **conv)
        else:
            self.expand = None
        self.depthwise = ConvBNAct(hidden, hidden, 3, stride, depthwise=True, **conv)
        self.project = ConvBNAct(hidden, out_channels, 1, act=None, **conv)
        self.add = Add() if stride == 1 and in_channels == out_channels else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x if self.expand is None else self.expand(x)
        y = self.project(self.depthwise(y))
        return y if self.add is None else self.add(x, y)


class MobileNetV2(nn.Sequential):
    def __init__(self, alpha: float = 1.0, num_classes: int = 1001, in_channels: int = 3,
                 bn_eps: float = BN_EPS, padding: str = "same") -> None:
        conv = {"bn_eps": bn_eps, "padding": padding}
        cin = spec.make_divisible(spec.MOBILENET_V2_STEM * alpha)
        blocks: OrderedDict[str, nn.Module] = OrderedDict(
            Conv=ConvBNAct(in_channels, cin, 3, 2, **conv))
        for name, expansion, cout, stride in spec.mobilenet_v2_blocks(alpha):
            blocks[name] = ExpandedConv(cin, cout, expansion, stride, conv)
            cin = cout
        blocks["Conv_1"] = ConvBNAct(cin, spec.mobilenet_v2_head(alpha), 1, **conv)
        blocks["logits"] = Logits(spec.mobilenet_v2_head(alpha), num_classes)
        super().__init__(blocks)


def mobilenet_v2(alpha: float = 1.0, num_classes: int = 1001, bn_eps: float = BN_EPS,
                 padding: str = "same") -> MobileNetV2:
    """MobileNet v2 with width multiplier ``alpha`` (slim's ``depth_multiplier``); the input size
    is free (the slim README's resolutions are input sizes). ``bn_eps=1e-5, padding="symmetric"``
    gives torchvision's numerics (its BN default and its symmetric padding of strided convs)."""
    if alpha <= 0:
        raise ValueError(f"alpha must be positive, got {alpha}")
    return MobileNetV2(alpha, num_classes, bn_eps=bn_eps, padding=padding)
