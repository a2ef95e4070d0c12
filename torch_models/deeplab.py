"""DeepLab v2 (Chen et al. 2017, "DeepLab: Semantic Image Segmentation with Deep Convolutional
Nets, Atrous Convolution, and Fully Connected CRFs", arXiv:1606.00915): DeepLab-ASPP on ResNet-101
as AI Benchmark runs it, ``ai_benchmark/models/deeplab.meta``, a TF port of the Caffe model
(Caffe's layer names), with 3 output channels where VOC has 21 classes.

Facts read from the graph:

- the input is mean-subtracted by the graph (``sub``: [0, 255] pixels minus [103.939, 116.779,
  123.68]); the twin takes that difference, as ICNet's and PSPNet's;
- every conv of the backbone has no bias and is followed by BN with gamma (``bn<unit>_<branch>``,
  ``bn_conv1``; epsilon 0.001); ``conv1`` is 7x7/2 'SAME' + BN + ReLU, ``pool1`` a 3x3/2 'SAME'
  max pool;
- Caffe ResNet-101's bottlenecks ``res2a`` .. ``res5c`` (3, 4, 23, 3 units; ``res3b1``..,
  ``res4b1`` .. ``res4b22``): ``branch2a`` 1x1 (stride 2 in res3a) + BN + ReLU, ``branch2b`` 3x3
  + BN + ReLU, ``branch2c`` 1x1 + BN, ``branch1`` (1x1 + BN, stride 2 in res3a) on each stage's
  first unit, AddN, ReLU: ICNet's ``Bottleneck`` (``reduce``, ``conv3x3``, ``increase``,
  ``proj``), whose module names the twin keeps;
- res4's 3x3 convs are dilated by 2 and res5's by 4, written by TF1's ``atrous_conv2d`` as
  SpaceToBatchND -> 'VALID' Conv2D -> BatchToSpaceND with 'SAME' padding: exactly a stride-1 conv
  with padding d and dilation d;
- ASPP: ``fc1_voc12_c0`` .. ``c3``, 3x3 atrous convs with bias at rates 6, 12, 18, 24 on res5c,
  summed (AddN ``fc1_voc12``, the ``output:0``): 3 channels at 1/8 of the input size.

Module names: ``conv1.conv`` / ``.bn`` / ``.act``, ``pool1``, ``res4b7.conv3x3.conv`` (graph:
``res4b7_branch2b/weights``; ``branch2a`` -> ``reduce``, ``branch2b`` -> ``conv3x3``, ``branch2c``
-> ``increase``, ``branch1`` -> ``proj``; the graph's ``bn4b7_branch2b`` -> ``res4b7.conv3x3.bn``),
``fc1_voc12_c0.conv``, ``fc1_voc12``. Tables: ``twinzoo.zoo.deeplab.DEEPLAB_*``.
"""

from __future__ import annotations

import torch
from torch import nn

from torch_models.icnet import Bottleneck, ConvUnit, Sum
from torch_models.layers import MaxPool2dSame
from twinzoo.zoo import deeplab as spec

BN_EPS = spec.DEEPLAB_BN_EPS


class DeepLabV2(nn.Module):
    """conv1, pool1, res2a .. res5c, then the four ASPP convs and their sum ``fc1_voc12``."""

    __constants__ = ["n_body"]

    def __init__(self, in_channels: int = 3, num_classes: int = spec.DEEPLAB_CLASSES) -> None:
        super().__init__()
        f = {"folded": False, "bn_eps": BN_EPS}
        filters, kernel, stride = spec.DEEPLAB_STEM
        self.conv1 = ConvUnit(in_channels, filters, kernel, stride, act="relu", **f)
        self.pool1 = MaxPool2dSame(3, 2)
        c = filters
        for stage, units, mid, out, dilation, first_stride in spec.DEEPLAB_STAGES:
            for i, unit in enumerate(units):
                self.add_module(f"{stage}{unit}", Bottleneck(c, mid, out, first_stride if i == 0 else 1, dilation, **f))
                c = out
        self.n_body = len(list(self.children()))
        for i, rate in enumerate(spec.DEEPLAB_ASPP_RATES):
            self.add_module(f"fc1_voc12_c{i}", ConvUnit(c, num_classes, 3, dilation=rate, norm=False))
        self.fc1_voc12 = Sum()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs: list[torch.Tensor] = []
        for i, m in enumerate(self.children()):       # unrolled by TorchScript; the sum is last
            if i < self.n_body:
                x = m(x)
            elif i < self.n_body + len(spec.DEEPLAB_ASPP_RATES):
                outs.append(m(x))
        return self.fc1_voc12(outs)


def deeplab() -> DeepLabV2:
    """DeepLab v2 (ASPP, ResNet-101) as AI Benchmark's deeplab.meta: mean-subtracted [0, 255] pixels
    -> 3 channels at 1/8 of the input size, any input size; 42,826,700 parameters with BN stats."""
    return DeepLabV2()
