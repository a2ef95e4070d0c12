"""VDSR (Kim et al. 2016) as AI Benchmark's "VGG-19 Super-Res" (vgg19.meta): 19 x (3x3 conv of
64 + ReLU), a 3x3 conv back to the image channels, and a global residual (output = conv + input).
Names follow the graph's variables ``conv_00`` ... ``conv_18``, ``conv_20`` (it skips 19)."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from twinzoo.zoo import vdsr as spec
from torch_models.layers import Add, Conv2dSame


class VDSR(nn.Module):
    """``body``: conv_00, relu_00, ... conv_18, relu_18, conv_20; then ``residual`` adds the input."""

    def __init__(self, channels: int = 3) -> None:
        super().__init__()
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        cin = channels
        for i in range(spec.VDSR_DEPTH - 1):
            layers[f"conv_{i:02d}"] = Conv2dSame(cin, spec.VDSR_WIDTH, 3)
            layers[f"relu_{i:02d}"] = nn.ReLU(inplace=True)
            cin = spec.VDSR_WIDTH
        layers["conv_20"] = Conv2dSame(cin, channels, 3)
        self.body = nn.Sequential(layers)
        self.residual = Add()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(self.body(x), x)


def vdsr(channels: int = 3) -> VDSR:
    """VDSR on ``channels``-channel images (3: AI Benchmark's RGB graph, 1: the paper's Y
    channel); fully convolutional, output the size of the input."""
    if channels < 1:
        raise ValueError(f"channels must be positive, got {channels}")
    return VDSR(channels)
