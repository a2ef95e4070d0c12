"""ResNet v2 (He et al. 2016, "Identity Mappings in Deep Residual Networks", arXiv:1603.05027) in
TF-slim's layout, as AI Benchmark's ``ai_benchmark/models/resnet_v2_50.meta`` and
``resnet_v2_152.meta`` (slim ``nets/resnet_v2.py``).

Facts read from the graphs (both alike; 152 has 3/8/36/3 units where 50 has 3/4/6/3):

- ``conv1``: slim's ``conv2d_same`` 7x7/2, i.e. an explicit 3-pixel zero pad then a 'VALID'
  conv, *with* bias and no BN or activation (the first unit's pre-activation normalises it);
  ``pool1``: 3x3/2 'SAME' max pool (TF pads with -inf, the odd pixel at the bottom/right:
  ``MaxPool2dSame``);
- each unit (``block<b>/unit_<u>/bottleneck_v2``) is pre-activation: ``preact`` = BN (with
  gamma, epsilon 1.001e-5: slim's 1e-5 raised to the fused kernel's minimum) + ReLU; the
  ``shortcut`` is a 1x1 conv with bias (stride s) on the *pre-activated* input when the width
  changes (the first unit of each block), otherwise the raw input, subsampled by a 1x1/s max
  pool when the unit strides; ``conv1`` 1x1 + BN + ReLU, ``conv2`` 3x3/s + BN + ReLU (stride 1:
  'SAME'; stride 2: slim's ``conv2d_same``, a symmetric 1-pixel pad then 'VALID'), ``conv3``
  1x1 with bias and nothing after it; ``add`` = shortcut + residual;
- slim v2 puts each block's stride on its *last* unit (blocks 1-3 stride 2, block 4 stride 1);
- ``postnorm`` (BN + ReLU) after the last unit, ``pool5`` a global mean (``reduce_mean``,
  keepdims), ``logits`` a 1x1 conv with bias (1001 classes), ``SpatialSqueeze``; ``output:0``
  is the softmax of those logits, the logits are compared.

Input: the graphs feed ``(x / 255 - 0.5) * 2``: the twin takes [-1, 1] images.

keras.applications' ``ResNet50V2`` / ``ResNet152V2`` are the same network with one numeric
difference, offered as ``stem_pool_zero_pad``: its ``pool1`` is ``ZeroPadding2D(1)`` and a
'VALID' max pool, so a padded position holds 0 (not -inf) and wins where the un-normalised
conv1 output is negative; and for even map sides the windows shift (SAME pads 0/1, it pads 1/1).

Module names are the graph's scopes joined with '.', ``bottleneck_v2`` left out of each unit:
``conv1.conv``, ``pool1``, ``block1.unit_1.preact.bn``, ``block1.unit_1.shortcut.conv``,
``block1.unit_1.conv2.conv``, ``block1.unit_3.shortcut`` (the pool), ``block1.unit_1.add``,
``postnorm.bn``, ``pool5``, ``logits.conv``, ``SpatialSqueeze``. Architecture table:
``twinzoo.zoo.resnet_v2.resnet_v2_blocks``.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from torch_models.layers import Add, ConvBNAct, MaxPool2dSame, SpatialSqueeze
from twinzoo.zoo import resnet_v2 as spec

BN_EPS = 1.001e-5     # resnet_v2_*.meta FusedBatchNorm epsilon (slim 1e-5, clamped to cuDNN's 1.001e-5)

class PreAct(nn.Sequential):
    """slim's pre-activation ``preact`` (and ``postnorm``): BN with gamma -> ReLU; ``bn``, ``act``."""

    def __init__(self, channels: int) -> None:
        super().__init__(OrderedDict(bn=nn.BatchNorm2d(channels, eps=BN_EPS), act=nn.ReLU(inplace=True)))


class Bottleneck(nn.Module):
    """slim ``bottleneck_v2``: preact, shortcut, conv1 (1x1), conv2 (3x3/stride), conv3 (1x1, bias),
    add. The shortcut reads the pre-activated input when it projects, the raw input otherwise."""

    __constants__ = ["project"]

    def __init__(self, in_channels: int, depth: int, base: int, stride: int) -> None:
        super().__init__()
        self.preact = PreAct(in_channels)
        self.shortcut: nn.Module | None = None
        self.project = depth != in_channels         # a 1x1 conv on the pre-activated input
        if self.project:
            self.shortcut = nn.Sequential(OrderedDict(conv=nn.Conv2d(in_channels, depth, 1, stride, bias=True)))
        elif stride > 1:                            # the raw input, subsampled
            self.shortcut = nn.MaxPool2d(1, stride)
        self.conv1 = ConvBNAct(in_channels, base, 1, act="relu", bn_eps=BN_EPS)
        self.conv2 = ConvBNAct(base, base, 3, stride, act="relu", bn_eps=BN_EPS,
                               padding="same" if stride == 1 else "symmetric")
        self.conv3 = nn.Sequential(OrderedDict(conv=nn.Conv2d(base, depth, 1, bias=True)))
        self.add = Add()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.preact(x)
        shortcut = x
        if self.shortcut is not None:
            shortcut = self.shortcut(pre if self.project else x)
        return self.add(shortcut, self.conv3(self.conv2(self.conv1(pre))))


class ResNetV2(nn.Sequential):
    def __init__(self, depth: int, num_classes: int = 1001, stem_pool_zero_pad: bool = False,
                 in_channels: int = 3) -> None:
        filters, kernel, stride = spec.RESNET_V2_STEM
        mods: OrderedDict[str, nn.Module] = OrderedDict()
        mods["conv1"] = nn.Sequential(OrderedDict(
            conv=nn.Conv2d(in_channels, filters, kernel, stride, padding=(kernel - 1) // 2, bias=True)))
        if stem_pool_zero_pad:
            mods["pool1"] = nn.Sequential(OrderedDict(pad=nn.ZeroPad2d(1), pool=nn.MaxPool2d(3, 2)))
        else:
            mods["pool1"] = MaxPool2dSame(3, 2)
        c = filters
        for block in spec.resnet_v2_blocks(depth):
            units: OrderedDict[str, nn.Module] = OrderedDict()
            for u in range(block.units):
                last = u == block.units - 1
                units[f"unit_{u + 1}"] = Bottleneck(c, block.depth, block.base, block.stride if last else 1)
                c = block.depth
            mods[block.scope] = nn.Sequential(units)
        mods["postnorm"] = PreAct(c)
        mods["pool5"] = nn.AdaptiveAvgPool2d(1)
        mods["logits"] = nn.Sequential(OrderedDict(conv=nn.Conv2d(c, num_classes, 1, bias=True)))
        mods["SpatialSqueeze"] = SpatialSqueeze()
        super().__init__(mods)


def _check(num_classes: int) -> None:
    if num_classes < 1:
        raise ValueError(f"num_classes must be positive, got {num_classes}")


def resnet_v2_50(num_classes: int = 1001, stem_pool_zero_pad: bool = False) -> ResNetV2:
    """ResNet-v2-50 as AI Benchmark's resnet_v2_50.meta (TF-slim, 1001 classes); any input size.
    ``num_classes=1000, stem_pool_zero_pad=True`` is keras.applications.ResNet50V2."""
    _check(num_classes)
    return ResNetV2(50, num_classes, stem_pool_zero_pad)


def resnet_v2_152(num_classes: int = 1001, stem_pool_zero_pad: bool = False) -> ResNetV2:
    """ResNet-v2-152 as AI Benchmark's resnet_v2_152.meta (TF-slim, 1001 classes); any input size.
    ``num_classes=1000, stem_pool_zero_pad=True`` is keras.applications.ResNet152V2."""
    _check(num_classes)
    return ResNetV2(152, num_classes, stem_pool_zero_pad)
