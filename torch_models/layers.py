"""Building blocks shared by the torch twins. Each has a Keras counterpart of the same name in
``keras_models/layers.py``; the weight-transfer rules in ``conformance.lib.transfer`` are keyed by them."""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn


def _same_pad(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow 'SAME' padding for one axis: output ceil(size/stride), the odd pixel at the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


class Conv2dSame(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow's 'SAME' padding, as Keras ``padding="same"`` and the AI
    Benchmark graphs use it. Stride 1 with odd kernels pads symmetrically (static padding); a
    strided conv pads more at the bottom/right, which torch's symmetric ``padding=`` cannot say,
    so those pad in ``forward`` from the actual input size."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int = 1, dilation: int = 1, groups: int = 1, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=0,
                         dilation=dilation, groups=groups, bias=bias)
        k, d, s = self.kernel_size, self.dilation, self.stride
        self.static_same = all(si == 1 and (ki - 1) * di % 2 == 0 for ki, di, si in zip(k, d, s))
        if self.static_same:
            self.padding = tuple((ki - 1) * di // 2 for ki, di in zip(k, d))

    def same_conv(self, x: torch.Tensor) -> torch.Tensor:
        if not self.static_same:
            top, bottom = _same_pad(x.shape[-2], self.kernel_size[0], self.stride[0], self.dilation[0])
            left, right = _same_pad(x.shape[-1], self.kernel_size[1], self.stride[1], self.dilation[1])
            if top or bottom or left or right:
                x = F.pad(x, (left, right, top, bottom))
        # _conv_forward, not super().forward(): TorchScript (lite interpreter export) has no super()
        return self._conv_forward(x, self.weight, self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.same_conv(x)


class WholeMapConv2d(nn.Conv2d):
    """A 'VALID' conv standing for a fully connected layer (slim's FC heads, 1x1 logits convs):
    where its kernel covers the whole input map it runs as ``F.linear`` over the (C, H, W)-
    flattened map, the conv's weight read as a matrix (the same products and sums, in another
    order: equal up to float32 rounding); any other input size is an ordinary conv. Why: oneDNN
    re-lays out a conv's weight on every eager call, which for VGG-16's fc6 (103M weights) cost
    more than the rest of the network (ours/torchvision 1.77 as a conv)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] == self.kernel_size[0] and x.shape[-1] == self.kernel_size[1]:
            w = self.weight
            if w.is_contiguous():
                y = F.linear(x.flatten(1), w.flatten(1), self.bias)
            else:   # a channels_last weight: read both in (H, W, C) order, a view of it, not a copy per call
                y = F.linear(x.permute(0, 2, 3, 1).flatten(1), w.permute(0, 2, 3, 1).flatten(1), self.bias)
            return y[:, :, None, None]
        return self._conv_forward(x, self.weight, self.bias)


class MaxPool2dSame(nn.MaxPool2d):
    """``nn.MaxPool2d`` with TensorFlow's 'SAME' padding (Keras ``MaxPooling2D(padding="same")``):
    ceil(size/stride) outputs, the odd padding pixel at the bottom/right, and padded positions
    never win (TF pads with -inf). torch's symmetric ``padding=`` cannot say the asymmetric case,
    so it pads in ``forward`` from the actual input size."""

    def __init__(self, kernel_size: int, stride: int) -> None:
        super().__init__(kernel_size, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel_size, self.stride
        k, s = (k if isinstance(k, int) else k[0]), (s if isinstance(s, int) else s[0])
        top, bottom = _same_pad(x.shape[-2], k, s, 1)
        left, right = _same_pad(x.shape[-1], k, s, 1)
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom), value=float("-inf"))
        return F.max_pool2d(x, k, s)


PADDINGS = ("same", "symmetric")


def conv2d(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, groups: int = 1,
           bias: bool = True, padding: str = "same") -> nn.Conv2d:
    """A conv with TensorFlow 'SAME' padding (``"same"``, the AI Benchmark graphs') or torch's
    usual symmetric ``(k - 1) // 2`` (``"symmetric"``, torchvision's): the two differ on strided
    convs, where SAME puts the odd pixel at the bottom/right only."""
    if padding == "same":
        return Conv2dSame(in_channels, out_channels, kernel_size, stride, groups=groups, bias=bias)
    if padding == "symmetric":
        return nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=(kernel_size - 1) // 2,
                         groups=groups, bias=bias)
    raise ValueError(f"unknown padding {padding!r}; known: {', '.join(PADDINGS)}")


class SubPixelConv2d(Conv2dSame):
    """A 'SAME' conv followed by a pixel shuffle of factor ``upscale`` (ESPCN / SRGAN upsampling).

    torch's ``pixel_shuffle`` reads channel ``c*r*r + i*r + j`` into position (i, j) of channel
    c; TensorFlow's ``depth_to_space`` reads channel ``(i*r + j)*C + c``. The twins keep each
    framework's native op (both map to a single op in ONNX/TFLite) and the weight transfer
    permutes this conv's output channels (``conformance.lib.transfer``)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, upscale: int,
                 bias: bool = True) -> None:
        super().__init__(in_channels, out_channels * upscale * upscale, kernel_size, bias=bias)
        self.upscale = upscale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(self.same_conv(x), self.upscale)


class SNConv2d(nn.Conv2d):
    """A convolution with spectral normalisation as TF-GAN code computes it at every call (Miyato
    et al. 2018; taki0112's ``spectral_norm``): the kernel as a matrix W [kh*kw*in, out] (TF's
    layout; the row order does not change sigma), one power iteration from the stored ``u``
    [1, out]: v = l2n(u W^T), u' = l2n(v W), sigma = v W u'^T, and the conv runs with W / sigma.
    ``u`` is a persistent buffer (the graph's non-trainable ``u`` variable); unlike the TF code
    (which assigns u' back to u on every run) the twin never updates it, so inference is a pure
    function of the weights, equal to the graph's first run on them. The power iteration is
    written with elementwise products and sums, not matmuls: weight preprocessing is not part of
    the network's conv + FC MACs (the graph counter skips it too: it depends on no input).
    Padding: ``padding`` as nn.Conv2d (the graph pads explicitly with zeros and convolves 'VALID')."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, padding: int = 0,
                 bias: bool = True, eps: float = 1e-12) -> None:
        super().__init__(in_channels, out_channels, kernel_size, padding=padding, bias=bias)
        self.eps = eps
        self.register_buffer("u", torch.randn(1, out_channels))

    def normalized_weight(self) -> torch.Tensor:
        w = self.weight.reshape(self.out_channels, -1)           # [out, K] = TF's W transposed
        v = (self.u.reshape(-1, 1) * w).sum(0)                   # u W^T          [K]
        v = v * torch.rsqrt(torch.clamp((v * v).sum(), min=self.eps))
        u = (w * v.reshape(1, -1)).sum(1)                        # v W            [out]
        u_hat = u * torch.rsqrt(torch.clamp((u * u).sum(), min=self.eps))
        sigma = (u * u_hat).sum()                                # v W u'^T
        return self.weight / sigma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.normalized_weight(), self.bias)


class ScalarBias(nn.Module):
    """One bias shared by all channels (AI Benchmark's srcnn.meta adds a shape-[1] ``b3``)."""

    def __init__(self) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bias


class Affine(nn.Module):
    """y = x * scale + shift with fixed constants (e.g. DPED's ``tanh(x) * 0.58 + 0.5``)."""

    def __init__(self, scale: float, shift: float) -> None:
        super().__init__()
        self.scale, self.shift = scale, shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.shift

    def extra_repr(self) -> str:
        return f"scale={self.scale}, shift={self.shift}"


class Add(nn.Module):
    """Residual add as a module, so the add is a named point both twins can compare."""

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x + y


class Concat(nn.Module):
    """``tf.concat(axis=3)`` of branch outputs (Keras ``layers.Concatenate(axis=-1)``)."""

    def __init__(self, dim: int = 1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(xs, self.dim)


class SpatialSqueeze(nn.Module):
    """slim's ``tf.squeeze(net, [1, 2], name='SpatialSqueeze')``: (N, C, 1, 1) -> (N, C). Like
    the TF op it refuses a map that is not 1x1 (Keras twin: ``Reshape((C,))``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[2] != 1 or x.shape[3] != 1:
            raise ValueError("SpatialSqueeze: the pooled map is not 1x1 (input size outside the "
                             "range the graph's fixed pooling windows allow)")
        return x.flatten(1)


class BatchNorm2dNoScale(nn.BatchNorm2d):
    """Batch norm with a learned shift only, as TF-slim's ``batch_norm(scale=False)`` and Keras'
    ``BatchNormalization(scale=False)`` (Inception-v3, FaceNet): gamma is a fixed 1, kept as a
    non-persistent buffer so it is neither a parameter nor a weight to transfer."""

    def __init__(self, num_features: int, eps: float = 1e-3) -> None:
        super().__init__(num_features, eps=eps, affine=True)
        del self.weight
        self.register_buffer("weight", torch.ones(num_features), persistent=False)


def batch_norm(channels: int, eps: float, scale: bool = True) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=eps) if scale else BatchNorm2dNoScale(channels, eps)


class ConvBNAct(nn.Sequential):
    """conv -> BN -> activation, children named ``conv``, ``bn``, ``act`` (Keras: ``<name>.conv`` ...)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 depthwise: bool = False, act: str | None = "relu6", bn_eps: float = 1e-3,
                 bias: bool = False, bn_scale: bool = True, padding: str = "same") -> None:
        groups = in_channels if depthwise else 1
        if depthwise and out_channels != in_channels:
            raise ValueError("a depthwise ConvBNAct keeps the channel count (multiplier 1)")
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["conv"] = conv2d(in_channels, out_channels, kernel_size, stride, groups=groups, bias=bias,
                                padding=padding)
        layers["bn"] = batch_norm(out_channels, bn_eps, bn_scale)
        if act is not None:
            layers["act"] = activation(act, inplace=True)
        super().__init__(layers)


class ConvAct(nn.Sequential):
    """'SAME' conv with bias -> activation (no norm); children ``conv``, ``act``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, act: str,
                 stride: int = 1) -> None:
        super().__init__(OrderedDict(
            conv=Conv2dSame(in_channels, out_channels, kernel_size, stride, bias=True),
            act=activation(act, inplace=True),
        ))


class Logits(nn.Sequential):
    """Global average pool -> 1x1 conv with bias (slim's ``Logits/Conv2d_1c_1x1``) -> flatten."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__(OrderedDict(
            pool=nn.AdaptiveAvgPool2d(1),
            conv=WholeMapConv2d(in_channels, num_classes, 1, bias=True),
            flatten=nn.Flatten(),
        ))


def activation(kind: str, inplace: bool = False) -> nn.Module:
    """The activation module ``kind``. ``inplace``: ReLU, ReLU6 and leaky ReLU overwrite their
    input (same values; no new tensor per call, as torchvision's units do), for an activation
    that directly follows the conv or norm producing its input, which nothing else reads."""
    kinds = {
        "relu": lambda: nn.ReLU(inplace), "relu6": lambda: nn.ReLU6(inplace), "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid, "lrelu0.2": lambda: nn.LeakyReLU(0.2, inplace), "prelu": nn.PReLU,
    }
    try:
        return kinds[kind]()
    except KeyError:
        raise ValueError(f"unknown activation {kind!r}; known: {', '.join(kinds)}") from None


# ------------------------------------------------------------------------------------------
# Pixel-RNN (carpedm20's layers as ai_benchmark/model_utils.py has them)
# ------------------------------------------------------------------------------------------
class MaskedConv2d(nn.Conv2d):
    """A conv whose stored kernel is multiplied at every call by a fixed spatial mask
    (``pixel_rnn_spec.pixel_rnn_mask``: "a" or "b"), 'SAME' padding (odd kernels: symmetric), stride 1.
    The weight is stored whole, as the graph stores it; the mask is a constant, not a weight."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, mask_type: str) -> None:
        from twinzoo.zoo import pixel_rnn as pixel_rnn_spec
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.mask_type = mask_type
        mask = torch.tensor(pixel_rnn_spec.pixel_rnn_mask(kernel_size, mask_type))
        self.register_buffer("mask", mask.view(1, 1, kernel_size, kernel_size), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)


class DiagonalLSTMScan(nn.Conv2d):
    """The recurrence of a Diagonal LSTM over the columns of a skewed map (model_utils'
    ``DiagonalLSTMCell`` run by ``dynamic_rnn``). Its weight is the state-to-state conv ``s_to_s``
    (k x 1 over the column, 'SAME': k - 1 rows of zeros below); input: the input-to-state map
    [N, 4h, H, W'], output: the hidden states [N, h, H, W'].

    Per column t, with the column's input-to-state and state-to-state maps flattened in (row,
    channel) order as the graph reshapes them: gates = sigmoid(s_to_s(h) + i_to_s[t]), split into
    four consecutive quarters (i, g, f, o) of that flat vector; c = f * c + i * g; h = o * tanh(c),
    read back as [H, h] for the next step's conv. Zero initial state."""

    def __init__(self, hidden: int, kernel: int) -> None:
        super().__init__(hidden, 4 * hidden, (kernel, 1))
        self.hidden = hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c4, height, width = x.shape
        hid = self.hidden
        below = self.kernel_size[0] - 1
        columns = x.permute(0, 3, 2, 1).reshape(n, width, height * c4)
        state = x.new_zeros(n, hid, height, 1)
        cell = x.new_zeros(n, height * hid)
        outs = []
        for t in range(width):
            s = self._conv_forward(F.pad(state, (0, 0, 0, below)), self.weight, self.bias)
            gates = torch.sigmoid(s.permute(0, 2, 3, 1).reshape(n, height * c4) + columns[:, t])
            h, cell = self.step(gates, cell)
            outs.append(h)
            state = h.view(n, height, 1, hid).permute(0, 3, 1, 2)
        return torch.stack(outs, 1).view(n, width, height, hid).permute(0, 3, 2, 1)

    def step(self, gates: torch.Tensor, cell: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step of the cell from its gates (sigmoids, quarters i, g, f, o): (h, c)."""
        i, g, f, o = gates.chunk(4, dim=1)
        cell = f * cell + i * g
        return o * torch.tanh(cell), cell


class Skew(nn.Module):
    """[N, C, H, W] -> [N, C, H, W + H - 1]: row i shifted right by i, zeros around."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height = x.shape[2]
        return torch.stack([F.pad(x[:, :, i], (i, height - 1 - i)) for i in range(height)], 2)


class Unskew(nn.Module):
    """The inverse of ``Skew`` as model_utils' ``unskew`` reads it: row i keeps columns
    i .. i + H - 1 (the width taken equal to the height)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height = x.shape[2]
        return torch.stack([x[:, :, i, i:i + height] for i in range(height)], 2)


class FlipWidth(nn.Module):
    """The image mirrored left-right (``tf.reverse(x, [2])`` in NHWC)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flip(x, [3])


class ZeroLastRow(nn.Module):
    """The last row replaced by zeros (model_utils' ``diagonal_bilstm`` on the backward output)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x[:, :, :-1], (0, 0, 0, 1))


class LastStep(nn.Module):
    """A sequence's last step: [N, T, C] -> [N, C] (the graph's gather of the last time step)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, -1]


class NormedBahdanauAttention(nn.Module):
    """tensorflow/nmt's normalised Bahdanau attention (Salimans & Kingma's weight norm on v):
    score_j = sum_k (g v_k / ||v||) tanh(keys_jk + query_k + b_k), softmax over the source
    positions, the context = alignments @ memory. ``query`` comes already through the query layer
    (a bias-free Linear of the twin), ``keys`` through the memory layer. Weights as the graph's
    ``bahdanau_attention/attention_{v,g,b}``: g starts at sqrt(1 / units), b at zero."""

    def __init__(self, units: int) -> None:
        super().__init__()
        self.attention_v = nn.Parameter(torch.empty(units).uniform_(-0.1, 0.1))
        self.attention_g = nn.Parameter(torch.tensor((1.0 / units) ** 0.5))
        self.attention_b = nn.Parameter(torch.zeros(units))

    def forward(self, query: torch.Tensor, keys: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        v = self.attention_g * self.attention_v * torch.rsqrt(torch.sum(self.attention_v ** 2))
        score = torch.sum(v * torch.tanh(keys + query[:, None, :] + self.attention_b), dim=-1)   # [N, T]
        alignments = torch.softmax(score, dim=-1)
        return torch.matmul(alignments[:, None, :], memory)[:, 0, :]                             # [N, units]


class GreedyToken(nn.Module):
    """A decoding step's greedy choice: argmax over the vocabulary (the graph's ArgMax)."""

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.argmax(logits, dim=-1)
