"""Planted bugs of the segmentation and synthesis networks: ICNet, DeepLab, U-Net, SPADE, PSPNet."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import keras
import tensorflow as tf

from conformance.selftest.mutations.base import (Patches, edit_torch, edit_keras, edit_transfer, rotate_180,
                                                 replace_module, override_call, Converted, mutation, COUNTS)


# ------------------------------------------------------------------------------------------
# ICNet
# ------------------------------------------------------------------------------------------
def _resize_half_pixel(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=list(like.shape[-2:]), mode="bilinear", align_corners=False)


@mutation("resize_align_corners_false", "icnet", "torch", "conv5_4_interp",
          "bilinear resize with align_corners=False (half-pixel centres) instead of TF1's "
          "align_corners=True", "TF1 ResizeBilinear(align_corners=True) vs torch/TF2 half-pixel "
          "defaults (tf2onnx / onnx2tf 'Resize coordinate_transformation_mode' issues)",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        t.get_submodule("conv5_4_interp").forward = _resize_half_pixel
    edit_torch(p, "icnet", edit)


@mutation("resize_legacy_asymmetric", "icnet", "keras", "sub24_sum_interp",
          "bilinear resize with align_corners=False, half_pixel_centers=False (TF1's legacy default)",
          "the third bilinear convention: TF1's default 'asymmetric' mapping (src = dst * in/out), "
          "which matches neither torch setting", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(k: keras.Model) -> None:
        layer = k.get_layer("sub24_sum_interp")

        def call(inputs):
            x, like = inputs
            return tf.raw_ops.ResizeBilinear(images=x, size=tf.shape(like)[1:3], align_corners=False,
                                             half_pixel_centers=False)
        override_call(layer, call)
    edit_keras(p, "icnet", edit)


@mutation("fold_forgets_running_mean", "icnet_train", "torch", None,
          "BN folding that drops the running mean from the folded bias",
          "conv-BN folding bugs (bias = beta instead of beta - gamma*mean/sqrt(var+eps)); see "
          "fold utilities in converters and quantisation toolkits", ("fold",),
          {"parity": "the unfolded twins are both correct; only the folded form is wrong",
           **COUNTS})
def _(p: Patches) -> None:
    from torch_models import icnet
    real = icnet.fold_batch_norm

    def forgetful(model: nn.Module) -> nn.Module:
        with torch.no_grad():
            bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
            saved = [bn.running_mean.clone() for bn in bns]
            for bn in bns:
                bn.running_mean.zero_()
            try:
                return real(model)
            finally:
                for bn, mean in zip(bns, saved):
                    bn.running_mean.copy_(mean)
    p.setattr(icnet, "fold_batch_norm", forgetful)


# ------------------------------------------------------------------------------------------
# DeepLab v2 (ASPP on Caffe ResNet-101; parity at 128x128: a 16x16 map from res4 on)
# ------------------------------------------------------------------------------------------
def _set_dilation(conv: nn.Conv2d, dilation: int, padding: int) -> None:
    """A stride-1 3x3 torch conv given another dilation and a static symmetric padding."""
    conv.dilation, conv.padding = (dilation, dilation), (padding, padding)
    conv.static_same = True


@mutation("atrous_first_unit_previous_rate", "deeplab", "torch", "res5a.conv3x3.conv",
          "res5a's 3x3 conv dilated by 2 (res4's rate) where the graph's atrous_conv2d has rate 4 "
          "(padding 2, the 'SAME' padding of the wrong rate: every shape unchanged)",
          "torchvision's dilated ResNet (resnet.py _make_layer with replace_stride_with_dilation, "
          "the backbone of its DeepLab v3 and of many DeepLab ports) builds the first block of a "
          "dilated stage with previous_dilation and only the later blocks with the stage's own: at "
          "output stride 8 layer4's first block has rate 2 and layer3's rate 1, where deeplab.meta "
          "(the TF port of DeepLab v2's Caffe model) dilates every res4 unit by 2 and every res5 "
          "unit by 4 (atrous_conv2d: SpaceToBatchND -> Conv2D -> BatchToSpaceND, block size = the "
          "rate); a stride-1 'SAME' "
          "atrous conv keeps the map size at any rate, so the shapes cannot show a wrong one",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_torch(p, "deeplab", lambda t: _set_dilation(t.get_submodule("res5a.conv3x3.conv"), 2, 2))


@mutation("atrous_padding_one", "deeplab", "torch", None,
          "res4a's dilated 3x3 conv (rate 2) padded by 1, the (k - 1) / 2 of an undilated 3x3, "
          "instead of the rate: its output is 2 pixels smaller per side and the unit's residual add "
          "cannot take it (torch's own error names no layer)",
          "'SAME' padding of a k x k kernel dilated by d is d (k - 1) / 2 (torch Conv2d docs: "
          "H_out = floor((H + 2 p - d (k - 1) - 1) / s + 1)); torchvision's conv3x3 helper passes "
          "padding=dilation for this reason, and a port writing padding=1 beside dilation=2 (as for "
          "every other 3x3 conv of a ResNet) shrinks the map. Recorded to show the suite fails loudly "
          "on a shape-changing padding: the forward raises in the MAC count, parity and train",
          ("macs", "parity", "train"),
          {"params": "the padding has no weights: same parameters",
           "roundtrip": "the transfer pairs weights by name and shape; it never runs the network"})
def _(p: Patches) -> None:
    edit_torch(p, "deeplab", lambda t: _set_dilation(t.get_submodule("res4a.conv3x3.conv"), 2, 1))


# ------------------------------------------------------------------------------------------
# U-Net (AI Benchmark's unet.meta: 'SAME' convs, 2x2/2 transposed convs; parity at 64x96)
# ------------------------------------------------------------------------------------------
@mutation("unet_skip_concat_order", "unet", "torch", "concat_8",
          "concat_8 as [encoder skip, upsampled] instead of the graph's [upsampled, skip]",
          "both orders are common and a weight file carries no trace of which one its first decoder "
          "conv was trained on: milesial/Pytorch-UNet's Up.forward does torch.cat([x2, x1], dim=1) "
          "(the skip x2 first) and zhixuhao/unet's Keras model concatenate([drop4, up6]) (skip "
          "first), where unet.meta concatenates the upsampled map first; with equal widths (512 + "
          "512 into layer6 ...) no shape check can tell", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        concat = t.get_submodule("concat_8")
        concat.forward = lambda xs: torch.cat(list(reversed(xs)), concat.dim)
    edit_torch(p, "unet", edit)


@mutation("conv_transpose_kernel_flipped", "unet", "transfer", "upsample_7",
          "upsample_7 (2x2/2 transposed conv) transferred with its kernel rotated 180 degrees",
          "a transposed conv is the adjoint (input gradient) of a conv (torch ConvTranspose2d docs: "
          "'can be seen as the gradient of Conv2d with respect to its input'), and is emulated by "
          "a direct conv on the zero-inserted input (Dumoulin & Visin, arXiv:1603.07285, section "
          "4) whose kernel is the transposed conv's rotated 180 degrees: a converter that "
          "lowers one form to the other and flips the kernel once too often (or not at all) writes "
          "it rotated. At 2x2/2 each input pixel paints one 2x2 output block, so the flip mirrors "
          "every block", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "upsample_7", rotate_180, rotate_180)


def _convt_as_conv_layout(w: Converted, layer: Any) -> Converted:
    """A transposed conv's Keras kernel written in Conv2D's [kh, kw, in, out] order instead of
    Conv2DTranspose's [kh, kw, out, in] (its own inverse)."""
    return {**w, "kernel": np.ascontiguousarray(w["kernel"].transpose(0, 1, 3, 2))}


@mutation("conv_transpose_in_out_axes", "unet", "transfer", "upsample_6",
          "upsample_6's kernel written in Conv2D's [kh, kw, in, out] order where Conv2DTranspose "
          "keeps [kh, kw, out, in] (1024 -> 512 channels: the shapes disagree, and the transfer "
          "refuses the layer by name)",
          "the four layouts differ: torch Conv2d weight [out, in, kh, kw] but ConvTranspose2d "
          "[in, out, kh, kw] (torch docs), tf.nn.conv2d filters [h, w, in, out] but "
          "tf.nn.conv2d_transpose [h, w, out, in] (TF docs); a converter that knows one side's "
          "exception but not the other's swaps the channel axes, silent when in == out. Every "
          "U-Net upsampling halves the width, so here the transfer's shape check must catch it "
          "(in parity and in train, which transfer the weights the same way)",
          ("parity", "train"), COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "upsample_6", _convt_as_conv_layout, _convt_as_conv_layout)


# ------------------------------------------------------------------------------------------
# SPADE (AI Benchmark's spade.meta generator; parity at its fixed 128x128)
# ------------------------------------------------------------------------------------------
@mutation("spade_modulation_without_one", "spade", "keras", "spade_resblock_1.spade_2.modulate",
          "one SPADE layer modulates x * gamma + beta instead of x * (1 + gamma) + beta",
          "the SPADE paper's Eq. (1) writes gamma * (h - mu) / sigma + beta, while NVlabs/SPADE "
          "(models/networks/normalization.py: normalized * (1 + gamma) + beta) and taki0112's "
          "SPADE-Tensorflow (ops.py spade(): x * (1 + segmap_gamma) + segmap_beta), hence "
          "spade.meta, learn gamma as an offset from 1; a port written from the paper drops the 1 "
          "(taki0112's ops.py itself keeps an unused spade_resblock_weird with "
          "segmap_gamma * x + segmap_beta)", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(k: keras.Model) -> None:
        override_call(k.get_layer("spade_resblock_1.spade_2.modulate"),
                      lambda inputs: inputs[0] * inputs[1] + inputs[2])
    edit_keras(p, "spade", edit)


# ------------------------------------------------------------------------------------------
# PSPNet-50 (AI Benchmark's pspnet.meta; its tolerance placed at 480x480, a 60x60 conv5_3 map;
# parity runs at 720x720 and 487x499)
# ------------------------------------------------------------------------------------------
@mutation("psp_adaptive_bins", "pspnet", "torch", None,
          "the pyramid pools conv5_3_pool{1,2,3,6} as AdaptiveAvgPool2d(1, 2, 3, 6 bins) instead "
          "of the graph's fixed 60/30/20/10 kernels (equal at a 60x60 map; at AI Benchmark's "
          "720x720, a 90x90 map, the fixed kernels give 1 (the top-left 60x60 only), 3x3, 4x4 and "
          "9x9 bins)",
          "hszhao/PSPNet's Caffe prototxts fix the pools' kernel_size = stride (60/30/20/10 in "
          "pspnet50_ADE20K_473.prototxt, for the 60x60 map of a 473 crop), and pspnet.meta keeps "
          "them as constants, while the usual torch port, hszhao/semseg's PPM, pools with "
          "nn.AdaptiveAvgPool2d(bin) for bins (1, 2, 3, 6), the paper's bins at any size. Caught "
          "by the MACs at the canonical 720x720 (the pool convs run on 1+4+9+36 bins instead of "
          "1+9+16+81: 59,768,832 MACs fewer, and off the graph's own count, which the reference "
          "check also compares at 720x720) and by parity at 720x720 and at 487x499 (a 61x63 map, "
          "where the fixed windows leave a remainder); at 480x480, where the train check runs, both "
          "pools agree", ("macs", "parity"),
          {"train": "runs at the parity size 480x480, where the fixed kernels 60/30/20/10 are exactly "
                    "60/{1,2,3,6} of the 60x60 map: both pools give the same bins",
           "params": "pooling has no weights: same parameters"})
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        for bins in (1, 2, 3, 6):
            replace_module(t, f"conv5_3_pool{bins}", nn.AdaptiveAvgPool2d(bins))
    edit_torch(p, "pspnet", edit)
