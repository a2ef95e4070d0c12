"""PSPNet (Zhao et al. 2017, "Pyramid Scene Parsing Network", arXiv:1612.01105), PSPNet-50 as AI
Benchmark runs it: ``ai_benchmark/models/pspnet.meta``, a TF port of hszhao/PSPNet's Caffe model
with the scope names of ICNet's graph (whose half-width sub-network is this backbone), unmerged BN,
and AI Benchmark's 3-channel 1x1 head in place of the class scores.

Facts read from the graph:

- the input is mean-subtracted by the graph (``sub``: [0, 255] pixels minus [103.939, 116.779,
  123.68], no channel swap); the twin takes that difference, as ICNet's;
- every conv has no bias and is followed by BN with gamma (``<scope>_bn``, epsilon 1.001e-5), and
  ReLU unless it ends a bottleneck; ``conv1_1_3x3_s2`` (64, 3x3/2 'SAME'), ``conv1_2_3x3`` (64),
  ``conv1_3_3x3`` (128), ``pool1_3x3_s2`` (3x3/2 'SAME' max pool, ``MaxPool2dSame``; ICNet's is
  'VALID');
- bottlenecks ``conv2_1`` .. ``conv5_3`` (3, 4, 6, 3 units; ``ICNet``'s ``Bottleneck`` at full
  width): 1x1 ``reduce`` (stride 2 in conv3_1) + ReLU, 3x3 + ReLU, 1x1 ``increase``, a 1x1
  ``proj`` on the first unit of each stage, AddN, ReLU; the 3x3 convs are an explicit Pad(d) and
  a 'VALID' conv, with dilation d = 2 in conv4 and 4 in conv5 written as SpaceToBatchND ->
  Conv2D -> BatchToSpaceND (TF1's ``atrous_conv2d``): exactly a stride-1 conv with padding d and
  dilation d, which the twins use;
- pyramid pooling ``conv5_3_pool{1,2,3,6}``: 'VALID' average pools with *fixed* kernels = strides
  60, 30, 20, 10 (the graph was built for a 60x60 map; see ``spec.PSPNET_PYRAMID``), each
  followed by ``conv5_3_pool<b>_conv`` (1x1 512, BN, ReLU) and ``conv5_3_pool<b>_interp`` (TF1
  bilinear resize, align_corners=True, to the conv5_3 map size); ``conv5_3_concat`` = [conv5_3,
  pool6, pool3, pool2, pool1] in that order;
- ``conv5_4`` (3x3 'SAME' 512, BN, ReLU) and ``conv6`` (1x1 with bias, 3 channels): ``output:0``
  is conv6 at 1/8 of the input size (AI Benchmark's 720x720 -> 90x90x3), no upsampling.

Module names: the graph's scopes; a bottleneck ``conv<i>_<j>`` has children ``reduce``,
``conv3x3``, ``increase``, ``proj``, ``add``, ``relu`` (as in ``torch_models/icnet.py``); another
scope ``<s>`` is ``<s>.conv`` / ``<s>.bn`` / ``<s>.act``. Tables: ``twinzoo.zoo.pspnet.PSPNET_*``.
"""

from __future__ import annotations

import torch
from torch import nn

from torch_models.icnet import Bottleneck, ConvUnit, ResizeLike
from torch_models.layers import Concat, MaxPool2dSame
from twinzoo.zoo import pspnet as spec

BN_EPS = spec.PSPNET_BN_EPS


class PSPNet(nn.Module):
    def __init__(self, in_channels: int = 3) -> None:
        super().__init__()
        f = {"folded": False, "bn_eps": BN_EPS}
        c = in_channels
        for name, (filters, stride) in zip(("conv1_1_3x3_s2", "conv1_2_3x3", "conv1_3_3x3"), spec.PSPNET_STEM):
            self.add_module(name, ConvUnit(c, filters, 3, stride, act="relu", **f))
            c = filters
        self.pool1_3x3_s2 = MaxPool2dSame(3, 2)
        if [b[1] for b in spec.PSPNET_STAGES] != [3, 4, 6, 3]:
            raise AssertionError("forward() is written for PSPNet-50's 3/4/6/3 bottlenecks (pspnet.meta)")
        for stage, blocks, mid, cout, dilation, stride in spec.PSPNET_STAGES:
            for j in range(1, blocks + 1):
                self.add_module(f"conv{stage}_{j}", Bottleneck(c, mid, cout, stride if j == 1 else 1, dilation, **f))
                c = cout
        width = spec.PSPNET_PYRAMID_WIDTH
        for name, kernel in spec.PSPNET_PYRAMID:
            self.add_module(f"conv5_3_pool{name}", nn.AvgPool2d(kernel, kernel))
            self.add_module(f"conv5_3_pool{name}_conv", ConvUnit(c, width, 1, act="relu", padding="valid", **f))
            self.add_module(f"conv5_3_pool{name}_interp", ResizeLike())
        self.conv5_3_concat = Concat()
        head, out = spec.PSPNET_HEAD
        self.conv5_4 = ConvUnit(c + width * len(spec.PSPNET_PYRAMID), head, 3, act="relu", **f)
        self.conv6 = ConvUnit(head, out, 1, norm=False, padding="valid")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1_3_3x3(self.conv1_2_3x3(self.conv1_1_3x3_s2(x)))
        x = self.pool1_3x3_s2(x)
        x = self.conv2_3(self.conv2_2(self.conv2_1(x)))
        x = self.conv3_4(self.conv3_3(self.conv3_2(self.conv3_1(x))))
        x = self.conv4_3(self.conv4_2(self.conv4_1(x)))
        x = self.conv4_6(self.conv4_5(self.conv4_4(x)))
        x = self.conv5_3(self.conv5_2(self.conv5_1(x)))
        p1 = self.conv5_3_pool1_interp(self.conv5_3_pool1_conv(self.conv5_3_pool1(x)), x)
        p2 = self.conv5_3_pool2_interp(self.conv5_3_pool2_conv(self.conv5_3_pool2(x)), x)
        p3 = self.conv5_3_pool3_interp(self.conv5_3_pool3_conv(self.conv5_3_pool3(x)), x)
        p6 = self.conv5_3_pool6_interp(self.conv5_3_pool6_conv(self.conv5_3_pool6(x)), x)
        x = self.conv5_3_concat([x, p6, p3, p2, p1])        # the graph's concat order
        return self.conv6(self.conv5_4(x))


def pspnet() -> PSPNet:
    """PSPNet-50 as AI Benchmark's pspnet.meta: mean-subtracted [0, 255] pixels (see the module
    docstring) -> 3 channels at 1/8 of the input size; inputs from 473 pixels per side (the
    pyramid's fixed 60x60 pool needs a 60x60 conv5_3 map); 46,765,763 parameters with BN stats."""
    return PSPNet()
