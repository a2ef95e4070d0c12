"""U-Net (Ronneberger et al. 2015, arXiv:1505.04597) as AI Benchmark's
``ai_benchmark/models/unet.meta``, a variant that differs from the paper in three ways, all read
from the graph:

- every 3x3 conv is 'SAME' with a bias (the paper's are unpadded and the skips cropped): the
  twin, like the graph, needs input sides divisible by 16 (four 2x2 pools) for the concats;
- every conv is followed by an instance norm (what the graph's 36 ``Mean`` ops compute: per image
  and channel, moments over H and W; ``(x - mean) / (var + 0.001) ** 0.5 * scale + shift``, the
  biased variance, DPED's ``_instance_norm``; variables ``Variable`` / ``Variable_2`` are the
  shifts and ``Variable_1`` / ``Variable_3`` the scales of a stage's two norms), then ReLU;
- the output is DPED's: ``tanh(final) * 0.58 + 0.5`` (the graph multiplies by 255 after that).

Encoder stages ``layer1`` .. ``layer5``: ``conv_1``, ``norm_1``, ``relu_1``, ``conv_2``,
``norm_2``, ``relu_2``; ``pool_1`` .. ``pool_4`` (2x2/2 'VALID' max pools; in the graph
``layer<i>/pool_<i>``). Decoder: ``upsample_6`` .. ``upsample_9`` (2x2/2 'VALID' transposed
convs with bias: ``ConvTranspose2d(k=2, s=2)`` doubles the size exactly, as the graph's
``conv2d_transpose`` with output shape 2H x 2W), ``concat_<i>`` = [upsampled, encoder skip] in
that order, stages ``layer6`` .. ``layer9``; ``final``: 1x1 conv (``conv``), ``act`` (tanh),
``scale`` (* 0.58 + 0.5). Input: the graph feeds ``x / 127.5 - 1``: the twin takes [-1, 1].
Table: ``twinzoo.zoo.unet.UNET_*``.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from torch_models.layers import Affine, Concat, Conv2dSame, activation
from twinzoo.zoo import unet as spec


class Stage(nn.Sequential):
    """Two (3x3 'SAME' conv with bias -> instance norm -> ReLU)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        mods: OrderedDict[str, nn.Module] = OrderedDict()
        for j in (1, 2):
            mods[f"conv_{j}"] = Conv2dSame(in_channels if j == 1 else out_channels, out_channels, 3, bias=True)
            mods[f"norm_{j}"] = nn.InstanceNorm2d(out_channels, eps=spec.UNET_IN_EPS, affine=True)
            mods[f"relu_{j}"] = activation("relu")
        super().__init__(mods)


class UNet(nn.Module):
    def __init__(self, in_channels: int = 3, out_channels: int = 3) -> None:
        super().__init__()
        widths = spec.UNET_WIDTHS
        depth = len(widths)
        c = in_channels
        for i, w in enumerate(widths, 1):
            self.add_module(f"layer{i}", Stage(c, w))
            if i < depth:
                self.add_module(f"pool_{i}", nn.MaxPool2d(2, 2))
            c = w
        for i, w in enumerate(reversed(widths[:-1]), depth + 1):
            self.add_module(f"upsample_{i}", nn.ConvTranspose2d(c, w, 2, 2, bias=True))
            self.add_module(f"concat_{i}", Concat())
            self.add_module(f"layer{i}", Stage(2 * w, w))
            c = w
        self.final = nn.Sequential(OrderedDict(
            conv=nn.Conv2d(c, out_channels, 1, bias=True), act=activation("tanh"),
            scale=Affine(spec.UNET_OUT_SCALE, spec.UNET_OUT_SHIFT)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer1(x)
        s1 = x
        x = self.layer2(self.pool_1(x))
        s2 = x
        x = self.layer3(self.pool_2(x))
        s3 = x
        x = self.layer4(self.pool_3(x))
        s4 = x
        x = self.layer5(self.pool_4(x))
        x = self.layer6(self.concat_6([self.upsample_6(x), s4]))
        x = self.layer7(self.concat_7([self.upsample_7(x), s3]))
        x = self.layer8(self.concat_8([self.upsample_8(x), s2]))
        x = self.layer9(self.concat_9([self.upsample_9(x), s1]))
        return self.final(x)


def unet() -> UNet:
    """U-Net as AI Benchmark's unet.meta: RGB in [-1, 1] -> RGB in about [-0.08, 1.08]; any input
    whose sides are divisible by 16; 31,043,651 parameters."""
    if len(spec.UNET_WIDTHS) != 5:
        raise AssertionError("the forward pass is written for five stages (unet.meta)")
    return UNet()
