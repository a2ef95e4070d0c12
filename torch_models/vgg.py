"""VGG-16 (Simonyan & Zisserman 2015, arXiv:1409.1556, configuration D) in TF-slim's layout, as
AI Benchmark's ``ai_benchmark/models/vgg_16.meta`` (slim ``nets/vgg.py``, ``vgg_16``).

Facts read from the graph:

- thirteen 3x3 'SAME' convs with bias and ReLU in five repeat scopes ``conv1`` .. ``conv5``
  (``conv1/conv1_1`` ...), each stage closed by a 2x2/2 'VALID' max pool ``pool1`` .. ``pool5``;
  no batch norm;
- the classifier is slim's fully-connected-as-convolution head: ``fc6`` a 7x7 'VALID' conv
  (4096) over pool5's 7x7 map, ``fc7`` a 1x1 conv (4096), both with ReLU, ``dropout6/7``
  (identity at inference, omitted), ``fc8`` a 1x1 conv with bias and no activation (1000
  classes: slim's VGG has no background class), then ``fc8/squeezed`` (``tf.squeeze([1, 2])``).
  The squeeze refuses a map that is not 1x1, so, as the graph, the twin takes 224..255 pixels
  per side (pool5 map 7); ``fixed_size`` in the catalogue;
- the graph's ``output:0`` is ``fc8/squeezed`` (logits, no softmax); input ``(x / 255 - 0.5) * 2``,
  i.e. the twin takes [-1, 1] images.

Module names are the graph's scopes joined with '.': ``conv1.conv1_1.conv`` / ``.act``,
``pool1``, ``fc6.conv`` / ``fc6.act``, ``fc8.conv``, ``fc8.squeezed``. Architecture table:
``twinzoo.zoo.vgg.VGG16_STAGES`` / ``VGG16_FC``.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from torch_models.layers import ConvAct, SpatialSqueeze, WholeMapConv2d
from twinzoo.zoo import vgg as spec


class FCConv(nn.Sequential):
    """slim's ``conv2d`` standing for a fully connected layer: a 'VALID' conv with bias over the
    whole map (kernel = the map size), ReLU; children ``conv``, ``act``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__(OrderedDict(conv=WholeMapConv2d(in_channels, out_channels, kernel_size, bias=True),
                                     act=nn.ReLU(inplace=True)))


class VGG16(nn.Sequential):
    """conv1 .. conv5 with their pools, fc6, fc7, fc8 (+ squeeze); returns the logits (N, classes)."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3) -> None:
        mods: OrderedDict[str, nn.Module] = OrderedDict()
        c = in_channels
        for i, (scope, n, filters) in enumerate(spec.VGG16_STAGES, 1):
            stage: OrderedDict[str, nn.Module] = OrderedDict()
            for j in range(1, n + 1):
                stage[f"{scope}_{j}"] = ConvAct(c, filters, 3, "relu")
                c = filters
            mods[scope] = nn.Sequential(stage)
            mods[f"pool{i}"] = nn.MaxPool2d(2, 2)
        for scope, filters, kernel in spec.VGG16_FC:
            mods[scope] = FCConv(c, filters, kernel)
            c = filters
        mods["fc8"] = nn.Sequential(OrderedDict(conv=WholeMapConv2d(c, num_classes, 1, bias=True),
                                                squeezed=SpatialSqueeze()))
        super().__init__(mods)


def vgg_16(num_classes: int = 1000, input_size: tuple[int, int] = (224, 224)) -> VGG16:
    """VGG-16 as AI Benchmark's vgg_16.meta (TF-slim, 1000 classes, FC layers as convs), for
    inputs of ``input_size`` (224..255 per side)."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be positive, got {num_classes}")
    spec.vgg16_check_input_size(input_size)
    return VGG16(num_classes)
