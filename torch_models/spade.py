"""Nvidia SPADE (Park et al. 2019, "Semantic Image Synthesis with Spatially-Adaptive
Normalization", arXiv:1903.07291): the generator as AI Benchmark runs it,
``ai_benchmark/models/spade.meta`` (taki0112/SPADE-Tensorflow's layout; AI Benchmark feeds a
128x128 RGB image as the "segmentation map").

Facts read from the graph (what only looks odd, and is mirrored):

- **The 73 MatMuls**: one is ``linear_x`` (a dense layer on the latent z), the other 72 are the
  spectral normalisation of the 18 resblock convs, recomputed at every run: one power iteration
  from the stored ``u`` gives sigma and the conv uses kernel / sigma (``layers.SNConv2d``; the
  graph also assigns the new u back, so a second run of the graph sees another u: the twin never
  updates u and equals the graph's run on the weights it is given);
- **z**: the graph draws z ~ N(0, 1) [1, 256] with ``RandomStandardNormal`` at every run, so its
  output is not a function of its input alone. The twins use one fixed draw
  (``spec.spade_latent``, seed 0) and the reference check feeds that same z to the graph's
  ``generator/random_normal`` tensor. ``linear_x`` maps z to [1, 2, 2, 1024] (reshaped in (H, W,
  C) order), which then broadcasts over the batch of segmentation maps;
- **the 36 Means / Sqrt**: SPADE's parameter-free instance norm, moments over H and W,
  ``(x - mean) / sqrt(var + 1e-5)`` (``norm``), in 18 SPADE layers (``spade_1``, ``spade_2`` and
  ``spade_shortcut`` of the resblocks);
- each SPADE layer resizes the segmentation map to x's size with TF1 nearest neighbour
  (align_corners=False, half_pixel_centers=False: source floor(dst * in / out), torch's
  ``mode="nearest"``), then ``conv_128`` (5x5, zero pad 2, bias) + ReLU, ``conv_gamma`` and
  ``conv_beta`` (5x5), and modulates ``x * (1 + gamma) + beta`` (``Modulate``);
- resblocks: spade_1, leaky ReLU 0.2 (``max(x, 0.2 x)``), ``conv_1`` (3x3 SN, bias, min(in, out)
  channels), spade_2, leaky ReLU, ``conv_2`` (3x3 SN, bias), plus, when the width changes, a
  shortcut ``spade_shortcut`` + ``conv_shortcut`` (1x1 SN, no bias), and ``add``;
- between blocks, x2 upsampling by TF1 ``ResizeBilinear`` with align_corners=False and
  half_pixel_centers=False (source dst / 2: TF's legacy "asymmetric" bilinear, which torch's
  ``interpolate`` cannot express: ``ResizeBilinearTF1``), names ``ResizeBilinear`` ..
  ``ResizeBilinear_5`` as in the graph;
- head: leaky ReLU, ``logit`` (3x3, bias, no SN), tanh; the graph then outputs
  ``(tanh + 1) * 27.5`` (27.5, not 127.5: AI Benchmark's constant) and takes ``x / 127.5 - 1``: the
  twin takes the [-1, 1] map and returns the tanh.

The input must be 128x128: the latent starts at 2x2 and six x2 upsamplings give 128x128, and the
graph's down-sampling of the map divides by its size (``fixed_size`` in the catalogue).
Module names: the graph's scopes under ``generator/`` (``conv2d`` sub-scopes dropped):
``linear_x.dense``, ``spade_resblock_0.spade_shortcut.conv_gamma``, ``spade_resblock_0.conv_1``,
``logit``. Tables: ``twinzoo.zoo.spade.SPADE_*``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from torch_models.layers import Add, Conv2dSame, SNConv2d
from twinzoo.zoo import spade as spec


class Latent(nn.Module):
    """``linear_x`` on the fixed z: dense 256 -> 2*2*1024, reshaped (H, W, C) -> NCHW [1, C, H, W]."""

    def __init__(self, z_seed: int = spec.SPADE_Z_SEED) -> None:
        super().__init__()
        h, w, c = spec.SPADE_LATENT
        self.shape = (h, w, c)
        self.register_buffer("z", torch.tensor(spec.spade_latent(z_seed)), persistent=False)
        self.dense = nn.Linear(spec.SPADE_Z_DIM, h * w * c)

    def forward(self) -> torch.Tensor:
        h, w, c = self.shape
        return self.dense(self.z).reshape(1, h, w, c).permute(0, 3, 1, 2)


class ResizeNearestLike(nn.Module):
    """TF1 ``ResizeNearestNeighbor`` (align_corners=False, half_pixel_centers=False) of ``x`` to
    the spatial size of ``like``: torch's ``mode="nearest"`` (source floor(dst * in / out)). A
    downsampling by whole factors s is that same sampling written as a strided slice (source
    dst * s, the same values bit for bit): litert-torch 0.10 lowers a nearest *downsampling*
    ``interpolate`` to other source pixels (rel error 0.97 on a 16 -> 8 map, upsampling exact),
    which would make SPADE's torch -> TFLite artifact unfaithful."""

    def forward(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        h, w = like.shape[-2], like.shape[-1]
        if x.shape[-2] % h == 0 and x.shape[-1] % w == 0 and x.shape[-2] >= h and x.shape[-1] >= w:
            return x[:, :, ::x.shape[-2] // h, ::x.shape[-1] // w]
        return F.interpolate(x, size=[h, w], mode="nearest")


def _lerp_axis(x: torch.Tensor, out: int, dim: int) -> torch.Tensor:
    """TF1 legacy bilinear along one axis: source s = dst * in / out, i0 = floor(s), i1 = min(i0 + 1,
    in - 1), x[i0] + (x[i1] - x[i0]) * (s - i0)."""
    n = x.shape[dim]
    src = torch.arange(out, dtype=torch.float32, device=x.device) * (float(n) / float(out))
    i0 = torch.floor(src).to(torch.long).clamp(max=n - 1)
    i1 = (i0 + 1).clamp(max=n - 1)
    frac = (src - i0.to(torch.float32)).to(x.dtype)
    a, b = x.index_select(dim, i0), x.index_select(dim, i1)
    shape = [1] * x.dim()
    shape[dim] = out
    return a + (b - a) * frac.reshape(shape)


class ResizeBilinearTF1(nn.Module):
    """TF1 ``ResizeBilinear`` by ``factor`` with align_corners=False, half_pixel_centers=False (the
    legacy "asymmetric" sampling: source = dst / factor), interpolating along W, then H, as TF's
    kernel does. torch's ``interpolate(align_corners=False)`` samples at half-pixel centres."""

    def __init__(self, factor: int = 2) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _lerp_axis(x, x.shape[-1] * self.factor, 3)
        return _lerp_axis(x, x.shape[-2] * self.factor, 2)

    def extra_repr(self) -> str:
        return f"factor={self.factor}, align_corners=False, half_pixel_centers=False"


class Modulate(nn.Module):
    """SPADE's modulation ``x * (1 + gamma) + beta``."""

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        return x * (1.0 + gamma) + beta


class Spade(nn.Module):
    """One SPADE layer: param-free instance norm of x, modulated by gamma/beta convs of the map."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        k, hidden = spec.SPADE_KERNEL, spec.SPADE_HIDDEN
        self.norm = nn.InstanceNorm2d(channels, eps=spec.SPADE_NORM_EPS, affine=False)
        self.resize = ResizeNearestLike()
        self.conv_128 = Conv2dSame(3, hidden, k, bias=True)
        self.relu = nn.ReLU()
        self.conv_gamma = Conv2dSame(hidden, channels, k, bias=True)
        self.conv_beta = Conv2dSame(hidden, channels, k, bias=True)
        self.modulate = Modulate()

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        a = self.relu(self.conv_128(self.resize(segmap, x)))
        return self.modulate(self.norm(x), self.conv_gamma(a), self.conv_beta(a))


class SpadeResBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        middle, slope, eps = min(in_channels, out_channels), spec.SPADE_LRELU, spec.SPADE_SN_EPS
        self.spade_1 = Spade(in_channels)
        self.lrelu_1 = nn.LeakyReLU(slope)
        self.conv_1 = SNConv2d(in_channels, middle, 3, padding=1, bias=True, eps=eps)
        self.spade_2 = Spade(middle)
        self.lrelu_2 = nn.LeakyReLU(slope)
        self.conv_2 = SNConv2d(middle, out_channels, 3, padding=1, bias=True, eps=eps)
        self.spade_shortcut: Spade | None = None
        self.conv_shortcut: SNConv2d | None = None
        if in_channels != out_channels:
            self.spade_shortcut = Spade(in_channels)
            self.conv_shortcut = SNConv2d(in_channels, out_channels, 1, bias=False, eps=eps)
        self.add = Add()

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        dx = self.conv_1(self.lrelu_1(self.spade_1(x, segmap)))
        dx = self.conv_2(self.lrelu_2(self.spade_2(dx, segmap)))
        shortcut = x
        if self.spade_shortcut is not None and self.conv_shortcut is not None:
            shortcut = self.conv_shortcut(self.spade_shortcut(x, segmap))
        return self.add(dx, shortcut)


class SpadeGenerator(nn.Module):
    def __init__(self, z_seed: int = spec.SPADE_Z_SEED, out_channels: int = 3) -> None:
        super().__init__()
        blocks = spec.SPADE_BLOCKS
        if [b[2] for b in blocks] != [True] * 6 + [False]:
            raise AssertionError("forward() is written for spade.meta's 7 blocks and 6 upsamplings")
        self.linear_x = Latent(z_seed)
        c, ups = spec.SPADE_LATENT[2], 0
        for scope, out, up in blocks:
            self.add_module(scope, SpadeResBlock(c, out))
            if up:
                self.add_module("ResizeBilinear" + (f"_{ups}" if ups else ""), ResizeBilinearTF1(2))
                ups += 1
            c = out
        self.lrelu = nn.LeakyReLU(spec.SPADE_LRELU)
        self.logit = Conv2dSame(c, out_channels, 3, bias=True)
        self.Tanh = nn.Tanh()

    def forward(self, segmap: torch.Tensor) -> torch.Tensor:
        x = self.linear_x()
        x = self.ResizeBilinear(self.spade_resblock_fix_0(x, segmap))
        x = self.ResizeBilinear_1(self.spade_resblock_fix_1(x, segmap))
        x = self.ResizeBilinear_2(self.spade_resblock_fix_2(x, segmap))
        x = self.ResizeBilinear_3(self.spade_resblock_0(x, segmap))
        x = self.ResizeBilinear_4(self.spade_resblock_1(x, segmap))
        x = self.ResizeBilinear_5(self.spade_resblock_2(x, segmap))
        x = self.spade_resblock_3(x, segmap)
        return self.Tanh(self.logit(self.lrelu(x)))


def spade(z_seed: int = spec.SPADE_Z_SEED, input_size: tuple[int, int] = (128, 128)) -> SpadeGenerator:
    """SPADE's generator as AI Benchmark's spade.meta: a [-1, 1] 128x128 RGB map -> tanh RGB
    128x128, with the fixed latent draw ``z_seed``; 138,029,827 weights with the SN ``u`` vectors."""
    if tuple(input_size) != (128, 128):
        raise ValueError(f"SPADE's generator takes 128x128 maps (2x2 latent, six x2 upsamplings), got {tuple(input_size)}")
    return SpadeGenerator(z_seed)
