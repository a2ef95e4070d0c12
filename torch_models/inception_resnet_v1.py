"""Inception-ResNet-v1 as FaceNet builds it (davidsandberg/facenet ``src/models/inception_resnet_v1.py``,
the version with the ``Bottleneck`` layer; Szegedy et al. 2016, arXiv:1602.07261, Figs. 10-16).

AI Benchmark ships no graph for this network: the reference is facenet's TF-slim code, whose
facts this twin follows:

- every ``slim.conv2d`` has no bias and is followed by ``slim.batch_norm`` without gamma (slim's
  default ``scale=False``; facenet's ``batch_norm_params``: decay 0.995, epsilon 0.001) and ReLU;
- padding exactly as the code: the arg_scope default is 'SAME'; the stem convs 1a, 2a, 3b, 4a, 4b,
  the stem max pool and every stride-2 conv / max pool of Mixed_6a and Mixed_7a are 'VALID';
- each residual block (``block35`` / ``block17`` / ``block8``) ends in an "up" 1x1 conv
  (``Conv2d_1x1``) *with* a bias and without BN or activation, then ``net += scale * up`` and a
  ReLU. Scales: 0.17 (5x Block35), 0.10 (10x Block17), 0.20 (5x Block8); the last ``Block8`` uses
  the default scale 1.0 and no activation. The scaled add is two named modules, ``scale``
  (``Affine`` <-> Keras ``Rescaling``) and ``add`` (``Add`` <-> ``layers.Add``);
- ``Logits``: ``slim.avg_pool2d`` with the kernel = the whole map, 'VALID' (a global mean),
  ``slim.flatten``, ``slim.dropout`` (identity at inference, omitted here);
- ``Bottleneck``: ``slim.fully_connected`` without bias (slim drops the bias when a normalizer is
  set) followed by ``slim.batch_norm`` (no gamma, epsilon 0.001), no activation;
- the training/validation scripts then take ``tf.nn.l2_normalize(prelogits, 1, 1e-10,
  name='embeddings')`` (``L2Normalize``).

Module names are facenet's variable scopes joined with '.': ``Conv2d_1a_3x3``,
``Repeat.block35_1`` .. ``Repeat.block35_5`` (slim.repeat's scopes), ``Mixed_6a``,
``Repeat_1.block17_<i>``, ``Mixed_7a``, ``Repeat_2.block8_<i>``, ``Block8``, ``Logits``,
``Bottleneck``, ``embeddings``; a slim conv scope ``X`` is ``X.conv`` / ``X.bn`` / ``X.act``.

Input: facenet feeds prewhitened or (x - 127.5) / 128 images, i.e. about [-1, 1]; the twin
takes the input as is. Feature maps at 160x160: 17x17 (Block35), 8x8 (Block17), 3x3 (Block8).

The layout (stem, block branches, repeats and scales, reductions) lives once in
``twinzoo.zoo.inception_resnet_v1`` (``INCEPTION_RESNET_V1_*``); both twins walk those tables.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from torch_models.layers import Add, Affine, BatchNorm2dNoScale, Concat, Conv2dSame
from twinzoo.zoo import inception_resnet_v1 as spec

# short local names for the twinzoo.zoo.inception_resnet_v1 entries used throughout
BN_EPS = spec.INCEPTION_RESNET_V1_BN_EPS
L2_EPS = spec.INCEPTION_RESNET_V1_L2_EPS
Op = spec.InceptionResnetV1Op
Branches = spec.InceptionResnetV1Branches


class BatchNorm1dNoScale(nn.BatchNorm1d):
    """``slim.batch_norm(scale=False)`` on a (N, C) tensor: shift only, gamma a fixed 1 kept as a
    non-persistent buffer (the 1-d sibling of ``layers.BatchNorm2dNoScale``)."""

    def __init__(self, num_features: int, eps: float = BN_EPS) -> None:
        super().__init__(num_features, eps=eps, affine=True)
        del self.weight
        self.register_buffer("weight", torch.ones(num_features), persistent=False)


class SlimConv(nn.Sequential):
    """``slim.conv2d`` under facenet's arg_scope: conv without bias ('SAME' -> Conv2dSame, 'VALID'
    -> unpadded nn.Conv2d), BN without gamma (eps 1e-3), ReLU; children ``conv``, ``bn``, ``act``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int = 1, padding: str = "SAME") -> None:
        if padding == "SAME":
            conv: nn.Conv2d = Conv2dSame(in_channels, out_channels, kernel_size, stride, bias=False)
        elif padding == "VALID":
            conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=0, bias=False)
        else:
            raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
        super().__init__(OrderedDict(conv=conv, bn=BatchNorm2dNoScale(out_channels, BN_EPS), act=nn.ReLU(inplace=True)))


class L2Normalize(nn.Module):
    """``tf.nn.l2_normalize(x, 1, eps)``: x * rsqrt(max(sum(x^2), eps)) over the features."""

    def __init__(self, eps: float = L2_EPS) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(torch.clamp((x * x).sum(dim=1, keepdim=True), min=self.eps))


def branch_op(in_channels: int, op: Op) -> tuple[nn.Module, int]:
    """One table op: a slim conv, a 'VALID' max pool (filters None) or a stride-1 'SAME' average
    pool (filters "avg": TF averages the window's real pixels only, ``count_include_pad=False``;
    Inception-ResNet-v2's Mixed_5b)."""
    _, filters, kernel, stride, padding = op
    if filters is None:
        if padding != "VALID":
            raise ValueError("only VALID max pools occur in the Inception-ResNet tables")
        return nn.MaxPool2d(kernel, stride), in_channels
    if filters == "avg":
        if padding != "SAME" or stride != 1 or kernel % 2 == 0:
            raise ValueError("only stride-1 'SAME' average pools with odd kernels occur in the Inception-ResNet tables")
        return nn.AvgPool2d(kernel, 1, kernel // 2, count_include_pad=False), in_channels
    return SlimConv(in_channels, filters, kernel, stride, padding), filters


def _branch(in_channels: int, ops: Sequence[Op]) -> tuple[nn.Sequential, int]:
    mods: OrderedDict[str, nn.Module] = OrderedDict()
    c = in_channels
    for op in ops:
        mods[op[0]], c = branch_op(c, op)
    return nn.Sequential(mods), c


class Mixed(nn.Module):
    """Parallel branches ``Branch_0`` .. ``Branch_3`` (2 to 4 of them) and their ``concat``:
    the body of facenet's reduction_a / reduction_b (``Mixed_6a``, ``Mixed_7a``)."""

    def __init__(self, in_channels: int, branches: Branches) -> None:
        super().__init__()
        if not 2 <= len(branches) <= 4 or [n for n, _ in branches] != [f"Branch_{i}" for i in range(len(branches))]:
            raise ValueError("branches must be Branch_0 .. Branch_<k>, 2 <= k+1 <= 4")
        self.Branch_2: nn.Module | None = None
        self.Branch_3: nn.Module | None = None
        self.out_channels = 0
        for name, ops in branches:
            branch, c = _branch(in_channels, ops)
            setattr(self, name, branch)
            self.out_channels += c
        self.concat = Concat(1)

    def mixed(self, x: torch.Tensor) -> torch.Tensor:
        outs = [self.Branch_0(x), self.Branch_1(x)]
        if self.Branch_2 is not None:
            outs.append(self.Branch_2(x))
        if self.Branch_3 is not None:
            outs.append(self.Branch_3(x))
        return self.concat(outs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mixed(x)


class Block(Mixed):
    """facenet's block35 / block17 / block8: branches, concat, ``Conv2d_1x1`` back to the input
    width (bias, no BN, no activation), ``scale`` (x residual scale), ``add`` to the input, ReLU
    ``act`` (absent when ``relu`` is False: the final ``Block8``)."""

    def __init__(self, channels: int, branches: Branches, scale: float, relu: bool = True) -> None:
        super().__init__(channels, branches)
        self.Conv2d_1x1 = nn.Conv2d(self.out_channels, channels, 1, bias=True)
        self.scale = Affine(scale, 0.0)
        self.add = Add()
        self.act = nn.ReLU() if relu else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        up = self.scale(self.Conv2d_1x1(self.mixed(x)))
        y = self.add(x, up)
        if self.act is not None:
            y = self.act(y)
        return y


class Bottleneck(nn.Sequential):
    """``slim.fully_connected(net, size, activation_fn=None, scope='Bottleneck')`` under facenet's
    arg_scope: FC without bias (``fc``) -> BN without gamma (``bn``)."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(OrderedDict(fc=nn.Linear(in_features, out_features, bias=False),
                                     bn=BatchNorm1dNoScale(out_features, BN_EPS)))


class InceptionResnetV1(nn.Sequential):
    def __init__(self, embedding_size: int = 128, in_channels: int = 3) -> None:
        mods: OrderedDict[str, nn.Module] = OrderedDict()
        c = in_channels
        for op in spec.INCEPTION_RESNET_V1_STEM:
            mods[op[0]], c = branch_op(c, op)
        for (repeat, prefix, branches, n, scale), reduction in zip(
                spec.INCEPTION_RESNET_V1_REPEATS, spec.INCEPTION_RESNET_V1_REDUCTIONS):
            mods[repeat] = nn.Sequential(OrderedDict(
                (f"{prefix}_{i + 1}", Block(c, branches, scale)) for i in range(n)))
            if reduction is not None:
                mixed = Mixed(c, reduction[1])
                mods[reduction[0]], c = mixed, mixed.out_channels
        mods["Block8"] = Block(c, spec.INCEPTION_RESNET_V1_BLOCK8, 1.0, relu=False)
        mods["Logits"] = nn.Sequential(OrderedDict(
            AvgPool_1a_8x8=nn.AdaptiveAvgPool2d(1),    # avg_pool2d(kernel = map size, 'VALID')
            Flatten=nn.Flatten(),                      # (dropout: identity at inference)
        ))
        mods["Bottleneck"] = Bottleneck(c, embedding_size)
        mods["embeddings"] = L2Normalize(L2_EPS)
        super().__init__(mods)


def inception_resnet_v1(embedding_size: int = 128) -> InceptionResnetV1:
    """FaceNet's Inception-ResNet-v1 with an L2-normalised ``embedding_size``-d embedding (128 in
    the 2017 models and AI Benchmark's face test, 512 in the 20180402/20180408 models). Any input
    size from 75x75 up (the three 'VALID' reductions need a 3x3 map or larger at each)."""
    if embedding_size <= 0:
        raise ValueError(f"embedding_size must be positive, got {embedding_size}")
    return InceptionResnetV1(embedding_size)
