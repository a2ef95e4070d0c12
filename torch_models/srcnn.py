"""SRCNN 9-5-5 (Dong et al. 2016, TPAMI) as AI Benchmark's srcnn.meta runs it: RGB in and out,
'SAME' padding, a single shared bias ``b3`` (shape [1]) on the last conv and a
``tanh(x) * 0.58 + 0.5`` output. Kernels and widths come from ``twinzoo.zoo.srcnn.SRCNN_LAYERS``."""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from twinzoo.zoo import srcnn as spec
from torch_models.layers import Affine, Conv2dSame, ScalarBias

OUT_SCALE, OUT_SHIFT = 0.58, 0.5  # srcnn.meta: generator/mul (0.58) and generator/add_3 (0.5)


class SRCNN(nn.Sequential):
    """conv1 + ReLU, conv2 + ReLU, conv3 (no per-channel bias) + bias3, tanh, out (affine)."""

    def __init__(self, channels: int = 3) -> None:
        (k1, f1), (k2, f2), (k3, _) = spec.SRCNN_LAYERS
        super().__init__(OrderedDict(
            conv1=Conv2dSame(channels, f1, k1),
            relu1=nn.ReLU(inplace=True),
            conv2=Conv2dSame(f1, f2, k2),
            relu2=nn.ReLU(inplace=True),
            conv3=Conv2dSame(f2, channels, k3, bias=False),
            bias3=ScalarBias(),
            tanh=nn.Tanh(),
            out=Affine(OUT_SCALE, OUT_SHIFT),
        ))


def srcnn(channels: int = 3) -> SRCNN:
    """SRCNN 9-5-5 on ``channels``-channel images in [0, 1]; fully convolutional."""
    if channels < 1:
        raise ValueError(f"channels must be positive, got {channels}")
    return SRCNN(channels)
