"""ICNet (Zhao et al. 2018, "ICNet for Real-Time Semantic Segmentation on High-Resolution Images",
arXiv:1704.08545) as AI Benchmark runs it: ``ai_benchmark/models/icnet.meta`` (ai-benchmark 0.1.2),
a TF port of the official Caffe model (hszhao/ICNet ``evaluation/prototxt/icnet_cityscapes.prototxt``,
BN merged into the conv biases) plus a 1x1 conv 19 -> 3 with tanh that AI Benchmark adds so it can
train the network with an MSE loss on a 3-channel target (config.py: training output [1024, 1536, 3]).

Layer names are the graph's variable scopes: a graph scope ``<s>`` (``conv1_1_3x3_s2``,
``conv5_4_k1``, ``conv_sub4``, ``conv3_1_sub2_proj``, ``conv1_sub1``, ``conv6_cls``, ``final`` ...)
is our block ``<s>`` with children ``conv`` (+ ``bn`` in the unfolded form) (+ ``act``); a bottleneck
``conv<i>_<j>`` has children ``reduce`` / ``conv3x3`` / ``increase`` / ``proj`` for the graph's
``conv<i>_<j>_{1x1_reduce,3x3,1x1_increase,1x1_proj}`` and ``add`` / ``relu`` for its AddN
``conv<i>_<j>`` and ``conv<i>_<j>/relu``. Resizes, pools and sums carry the graph's op names.

===========================================  =======================================================
icnet.meta (placeholder [-1,1024,1536,3])    twin
===========================================  =======================================================
sub = input - [103.939, 116.779, 123.68]     not in the twin: it takes that difference as input
data_sub2: ResizeBilinear -> [512, 768]      ``data_sub2`` Resize(0.5), align_corners=True
conv1_1_3x3_s2 (3x3/2 SAME), conv1_2_3x3,    ConvUnit 32, 32, 64 + ReLU
conv1_3_3x3
pool1_3x3_s2: MaxPool 3x3/2 VALID            ``pool1_3x3_s2`` (256x384 -> 127x191)
conv2_1..conv2_3 (32-32-128)                 Bottleneck, ``proj`` on conv2_1
conv3_1 (64-64-256, 1x1 reduce/proj /2)      Bottleneck, stride 2 on the 1x1 convs (VALID)
conv3_1_sub4: ResizeBilinear -> [32, 48]     ``conv3_1_sub4`` Resize(0.5)
conv3_2..conv3_4, conv4_1..4_6 (d2),         Bottlenecks; the 3x3 is Pad(d) + VALID dilated conv in
conv5_1..5_3 (d4)                            the graph = a stride-1 'same' conv with dilation d
conv5_3_pool{1,2,3,6}: AvgPool VALID         ``conv5_3_pool{b}`` BinAvgPool: kernel = stride =
  k=s=(32,48),(16,24),(10,16),(8,12)         floor(map / {1,2,3,4}) (see BinAvgPool)
conv5_3_pool{b}_interp -> [32, 48]           ``conv5_3_pool{b}_interp`` ResizeLike(conv5_3)
conv5_3_sum: AddN(conv5_3, p6, p3, p2, p1)   ``conv5_3_sum`` Sum (summed, not concatenated)
conv5_4_k1 (1x1 256 + ReLU)                  ConvUnit
conv5_4_interp -> [64, 96]                   ResizeLike(conv3_1): the CFF's x2 upsampling
conv_sub4 (3x3 d2, 128, no ReLU)             ConvUnit
conv3_1_sub2_proj (1x1 128, no ReLU)         ConvUnit
sub24_sum: AddN + relu                       ``sub24_sum.add``, ``sub24_sum.relu``
conv1_sub1..conv3_sub1 (3x3/2 SAME)          ConvUnit 32, 32, 64 + ReLU on the full-size input
sub24_sum_interp -> [128, 192]               ResizeLike(conv3_sub1)
conv_sub2 (3x3 d2), conv3_sub1_proj (1x1)    ConvUnit 128, no ReLU
sub12_sum: AddN + relu                       ``sub12_sum.add``, ``sub12_sum.relu``
sub12_sum_interp -> [256, 384]               Resize(2.0)
conv6_cls (1x1 -> 19, bias)                  ``conv6_cls.conv`` (never has BN)
ResizeBilinear -> [1024, 1536]               ``conv6_interp`` ResizeLike(input): x4 = the input size
final (1x1 19 -> 3 SAME + bias), Tanh        ``final.conv``, ``final.act`` (``aib_head``)
===========================================  =======================================================

Every ResizeBilinear of the graph has align_corners=True, half_pixel_centers=False: exactly
torch's ``F.interpolate(mode="bilinear", align_corners=True)`` (source = dst * (in-1)/(out-1)).
The graph's resize sizes are constants for 1024x1536; the twin computes them from the maps: a
shrink is ``int(size * 0.5)`` (the graph's 1024 -> 512, 64 -> 32), each CFF upsampling targets
the size of the branch it is added to and the last resize targets the input size. At every
input size where the graph's own x2 / x4 constants fit (e.g. multiples of 32) these are the
same sizes; elsewhere (odd sizes) the twin still runs where the graph's constants would not.

Where the graph (and so the twin) differs from the official Caffe net: ``pool1_3x3_s2`` is an
unpadded floor-mode pool (Caffe: pad 1, ceil mode: 129 rows instead of 127 at 1024 input); the
shrinks / zooms are int(x/2) / exact x2 (Caffe Interp: (x-1)/2+1 and 2x-1); the pyramid kernels
are floor(map / {1,2,3,4}) with stride = kernel (Caffe at 1025x2049: 33x65/33x65, 17x33/16x32,
13x25/10x20, 8x15/5x10, i.e. 1, 2, 3 and 6 overlapping bins). Conv MACs (convs only) at
1024x1536: 21,842,617,344 = the graph's own Conv2D shapes summed (21,752,964,096 without the
head); at 1025x2049 without the head 29,085,604,192 where the official prototxt has 29,811,584,064.

Graph variables -> twin weights: ``conv{2..5}_<j>_{1x1_reduce,3x3,1x1_increase,1x1_proj}/
{weights,biases}`` -> ``conv<i>_<j>.{reduce,conv3x3,increase,proj}.conv`` kernel / bias; any other
``<scope>/{weights,biases,kernel,bias}`` -> ``<scope>.conv`` kernel / bias (130 variables).

Folded (``folded=True``, the graph): every conv has a bias, no BN: 6,685,775 parameters
(official merged 6,685,715 + the head's 60). Unfolded (``folded=False``, the official
``icnet_cityscapes_bnnomerge.prototxt``): each conv except ``conv6_cls`` and ``final`` has no
bias and is followed by BN with gamma and beta (the prototxt's ``BN`` layers, eps 1e-5: the
yjxiong/PSPNet Caffe BNParameter default; the prototxt sets none): 6,700,047 trainable with the
head, 6,699,987 without (``aib_head=False``, the official count). ``fold_batch_norm`` turns the
unfolded twin into the folded one.

Input: the graph's ``sub`` output, i.e. [0, 255] pixels minus the per-channel means above (the
graph subtracts them from its input as given, no channel swap). Output: tanh in [-1, 1]
(``output:0`` = ``final/Tanh``; no scaling after it), or the 19 class logits at the input size
with ``aib_head=False``.

Constants and tables (channels, BN epsilon, input mean, bottleneck stages, pyramid bins) live once
in ``twinzoo.zoo.icnet`` (``ICNET_*``); both twins read them from there.
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from torch_models.layers import Add, Conv2dSame, activation
from twinzoo.zoo import icnet as spec

# short local names for the twinzoo.zoo.icnet entries used throughout
BN_EPS = spec.ICNET_BN_EPS
NUM_CLASSES = spec.ICNET_NUM_CLASSES


# ------------------------------------------------------------------------------------------
# parameter-free blocks (each mirrors the Keras layer of the same class name)
# ------------------------------------------------------------------------------------------
def _resize(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """TF1 ``ResizeBilinear(align_corners=True, half_pixel_centers=False)``."""
    return F.interpolate(x, size=[h, w], mode="bilinear", align_corners=True)


class Resize(nn.Module):
    """Bilinear resize (align_corners=True) to ``int(size * factor)``: the graph's ``data_sub2``
    and ``conv3_1_sub4`` (x0.5) and ``sub12_sum_interp`` (x2)."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _resize(x, int(x.shape[-2] * self.factor), int(x.shape[-1] * self.factor))

    def extra_repr(self) -> str:
        return f"factor={self.factor}, align_corners=True"


class ResizeLike(nn.Module):
    """Bilinear resize (align_corners=True) of ``x`` to the spatial size of ``like``."""

    def forward(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return _resize(x, like.shape[-2], like.shape[-1])


class BinAvgPool(nn.Module):
    """Average pool with kernel = stride = floor(map size / divisor), no padding (TF 'VALID'):
    the graph's ``conv5_3_pool{1,2,3,6}``, whose constants are this rule at a 32x48 map. At the
    parity size 256x384 (8x12 map) it gives 1x1, 2x2, 4x3 and 4x4 bins."""

    def __init__(self, divisor: int) -> None:
        super().__init__()
        self.divisor = divisor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kh = max(x.shape[-2] // self.divisor, 1)
        kw = max(x.shape[-1] // self.divisor, 1)
        return F.avg_pool2d(x, [kh, kw], [kh, kw])

    def extra_repr(self) -> str:
        return f"divisor={self.divisor}"


class Sum(nn.Module):
    """Sum of a list of tensors in order (the graph's n-ary AddN; Keras ``layers.Add``)."""

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        out = xs[0]
        for t in xs[1:]:
            out = out + t
        return out


class AddReLU(nn.Module):
    """A CFF's sum and ReLU (the graph's ``sub24_sum`` AddN and ``sub24_sum/relu``)."""

    def __init__(self) -> None:
        super().__init__()
        self.add = Add()
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.relu(self.add(x, y))


# ------------------------------------------------------------------------------------------
# conv blocks
# ------------------------------------------------------------------------------------------
class ConvUnit(nn.Sequential):
    """One graph conv scope: ``conv`` (+ ``bn`` when unfolded) (+ ``act``).

    ``padding="same"`` is TF 'SAME' (Conv2dSame: asymmetric on the 3x3/2 convs; for the
    stride-1 dilated 3x3 convs it equals the graph's explicit Pad(d) + VALID conv);
    ``"valid"`` is a plain unpadded conv (the graph's 1x1 convs, some with stride 2).
    ``norm=False`` keeps a biased conv in both forms (``conv6_cls``, ``final``)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 dilation: int = 1, act: str | None = None, folded: bool = True, norm: bool = True,
                 padding: str = "same", bn_eps: float = BN_EPS) -> None:
        bias = folded or not norm
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        if padding == "same":
            layers["conv"] = Conv2dSame(in_channels, out_channels, kernel_size, stride, dilation, bias=bias)
        elif padding == "valid":
            layers["conv"] = nn.Conv2d(in_channels, out_channels, kernel_size, stride, 0, dilation, bias=bias)
        else:
            raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
        if norm and not folded:
            layers["bn"] = nn.BatchNorm2d(out_channels, eps=bn_eps)
        if act is not None:
            layers["act"] = activation(act)
        super().__init__(layers)


class Bottleneck(nn.Module):
    """PSPNet bottleneck ``conv<i>_<j>``: 1x1 reduce (stride on the 1x1, as the prototxt) + ReLU,
    3x3 (dilated) + ReLU, 1x1 increase; plus the input or a 1x1 ``proj``; ReLU."""

    def __init__(self, in_channels: int, mid: int, out_channels: int, stride: int, dilation: int,
                 folded: bool, bn_eps: float = BN_EPS) -> None:
        super().__init__()
        kw = {"folded": folded, "bn_eps": bn_eps}
        self.proj = (ConvUnit(in_channels, out_channels, 1, stride, padding="valid", **kw)
                     if stride != 1 or in_channels != out_channels else None)
        self.reduce = ConvUnit(in_channels, mid, 1, stride, act="relu", padding="valid", **kw)
        self.conv3x3 = ConvUnit(mid, mid, 3, dilation=dilation, act="relu", **kw)
        self.increase = ConvUnit(mid, out_channels, 1, padding="valid", **kw)
        self.add = Add()
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        if self.proj is not None:
            shortcut = self.proj(x)
        return self.relu(self.add(shortcut, self.increase(self.conv3x3(self.reduce(x)))))


# ------------------------------------------------------------------------------------------
# the network
# ------------------------------------------------------------------------------------------
class ICNet(nn.Module):
    def __init__(self, num_classes: int = NUM_CLASSES, folded: bool = True, aib_head: bool = True) -> None:
        super().__init__()
        self.num_classes, self.folded, self.aib_head = num_classes, folded, aib_head
        f = {"folded": folded}
        # sub2: the input shrunk x2
        self.data_sub2 = Resize(0.5)
        self.conv1_1_3x3_s2 = ConvUnit(spec.ICNET_IMAGE_CHANNELS, 32, 3, 2, act="relu", **f)
        self.conv1_2_3x3 = ConvUnit(32, 32, 3, act="relu", **f)
        self.conv1_3_3x3 = ConvUnit(32, 64, 3, act="relu", **f)
        self.pool1_3x3_s2 = nn.MaxPool2d(3, 2)
        cin = 64
        for stage, blocks, mid, cout, dilation, stride in spec.ICNET_STAGES:
            for j in range(1, blocks + 1):
                if (stage, j) == (3, 2):
                    self.conv3_1_sub4 = Resize(0.5)          # sub4: conv3_1 shrunk x2
                block = Bottleneck(cin, mid, cout, stride if j == 1 else 1, dilation, folded)
                self.add_module(f"conv{stage}_{j}", block)
                cin = cout
        for name, divisor in spec.ICNET_PYRAMID:
            self.add_module(f"conv5_3_pool{name}", BinAvgPool(divisor))
            self.add_module(f"conv5_3_pool{name}_interp", ResizeLike())
        self.conv5_3_sum = Sum()
        self.conv5_4_k1 = ConvUnit(1024, 256, 1, act="relu", padding="valid", **f)
        # CFF sub4 -> sub2
        self.conv5_4_interp = ResizeLike()
        self.conv_sub4 = ConvUnit(256, 128, 3, dilation=2, **f)
        self.conv3_1_sub2_proj = ConvUnit(256, 128, 1, padding="valid", **f)
        self.sub24_sum = AddReLU()
        # sub1: the full-size input
        self.conv1_sub1 = ConvUnit(spec.ICNET_IMAGE_CHANNELS, 32, 3, 2, act="relu", **f)
        self.conv2_sub1 = ConvUnit(32, 32, 3, 2, act="relu", **f)
        self.conv3_sub1 = ConvUnit(32, 64, 3, 2, act="relu", **f)
        # CFF sub2 -> sub1
        self.sub24_sum_interp = ResizeLike()
        self.conv_sub2 = ConvUnit(128, 128, 3, dilation=2, **f)
        self.conv3_sub1_proj = ConvUnit(64, 128, 1, padding="valid", **f)
        self.sub12_sum = AddReLU()
        self.sub12_sum_interp = Resize(2.0)
        self.conv6_cls = ConvUnit(128, num_classes, 1, norm=False, padding="valid")
        self.conv6_interp = ResizeLike()
        self.final = ConvUnit(num_classes, spec.ICNET_HEAD_CHANNELS, 1, act="tanh", norm=False) if aib_head else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.data_sub2(x)
        y = self.conv1_3_3x3(self.conv1_2_3x3(self.conv1_1_3x3_s2(y)))
        y = self.pool1_3x3_s2(y)
        y = self.conv2_3(self.conv2_2(self.conv2_1(y)))
        sub2 = self.conv3_1(y)
        y = self.conv3_1_sub4(sub2)
        y = self.conv3_4(self.conv3_3(self.conv3_2(y)))
        y = self.conv4_3(self.conv4_2(self.conv4_1(y)))
        y = self.conv4_6(self.conv4_5(self.conv4_4(y)))
        y = self.conv5_3(self.conv5_2(self.conv5_1(y)))
        p1 = self.conv5_3_pool1_interp(self.conv5_3_pool1(y), y)
        p2 = self.conv5_3_pool2_interp(self.conv5_3_pool2(y), y)
        p3 = self.conv5_3_pool3_interp(self.conv5_3_pool3(y), y)
        p6 = self.conv5_3_pool6_interp(self.conv5_3_pool6(y), y)
        y = self.conv5_4_k1(self.conv5_3_sum([y, p6, p3, p2, p1]))      # the graph's AddN order
        y = self.conv5_4_interp(y, sub2)
        sub24 = self.sub24_sum(self.conv_sub4(y), self.conv3_1_sub2_proj(sub2))
        sub1 = self.conv3_sub1(self.conv2_sub1(self.conv1_sub1(x)))
        y = self.sub24_sum_interp(sub24, sub1)
        y = self.sub12_sum(self.conv_sub2(y), self.conv3_sub1_proj(sub1))
        y = self.conv6_cls(self.sub12_sum_interp(y))
        y = self.conv6_interp(y, x)
        if self.final is not None:
            y = self.final(y)
        return y


def icnet(num_classes: int = NUM_CLASSES, folded: bool = True, aib_head: bool = True) -> ICNet:
    """AI Benchmark's ICNet (``icnet.meta``). ``folded=True``: BN merged into conv biases as in
    the graph, 6,685,775 parameters; ``folded=False``: the training form, conv (no bias) + BN
    (gamma, beta, eps 1e-5), 6,700,047 trainable + 14,272 x 2 BN stats. ``aib_head=False`` drops
    AI Benchmark's 1x1 conv 19 -> 3 + tanh and returns the official net's class logits at the
    input size (6,685,715 folded / 6,699,987 unfolded). Input: the graph's mean-subtracted
    [0, 255] pixels (see the module docstring); runs at any size from 32x32 up."""
    return ICNet(num_classes, folded, aib_head)


# ------------------------------------------------------------------------------------------
# BN folding
# ------------------------------------------------------------------------------------------
@torch.no_grad()
def fold_batch_norm(model: ICNet) -> ICNet:
    """The folded twin (``folded=True``) of an unfolded ICNet, with the same outputs in eval mode.

    For each ``<block>.conv`` followed by ``<block>.bn`` (same names in both forms), with
    s = gamma / sqrt(running_var + eps): W' = W * s (per output channel) and
    b' = beta + (b - running_mean) * s, b = 0 for the bias-free convs. Computed in float64,
    stored in the model's dtype. Every other weight is copied by name; a folded model is
    returned as a copy."""
    if model.folded:
        return copy.deepcopy(model)
    like = next(model.parameters())
    folded = ICNet(model.num_classes, folded=True, aib_head=model.aib_head).to(like.device, like.dtype)
    source = dict(model.named_modules())
    for name, module in folded.named_modules():
        if not isinstance(module, nn.Conv2d):
            continue
        conv = source[name]
        block = name.rsplit(".", 1)[0]
        bn = source.get(f"{block}.bn")
        w = conv.weight.double()
        b = conv.bias.double() if conv.bias is not None else torch.zeros(w.shape[0], dtype=torch.float64,
                                                                           device=w.device)
        if isinstance(bn, nn.BatchNorm2d):
            scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
            w = w * scale.reshape(-1, 1, 1, 1)
            b = bn.bias.double() + (b - bn.running_mean.double()) * scale
        module.weight.copy_(w.to(module.weight.dtype))
        module.bias.copy_(b.to(module.bias.dtype))
    return folded.train(model.training)
