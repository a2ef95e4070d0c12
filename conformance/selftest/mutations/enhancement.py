"""Planted bugs of the image enhancement networks: SRCNN, VDSR, DPED, SRGAN."""

from __future__ import annotations


import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import keras

from conformance.lib import transfer
from conformance.selftest.mutations.base import (Patches, edit_torch, edit_keras, edit_transfer, swap_kh_kw,
                                                 rotate_180, reverse_input_channels, replace_module, mutation,
                                                 SAME_STRUCTURE, SAME_OUTPUT, COUNTS)


# ------------------------------------------------------------------------------------------
# SRCNN
# ------------------------------------------------------------------------------------------
@mutation("kernel_numpy_T", "srcnn", "transfer", "conv1",
          "conv kernel converted with numpy .T ([O,I,kh,kw] -> [kw,kh,I,O])",
          "np.transpose without axes reverses all four: the kernel comes out spatially transposed "
          "(a frequent hand-written converter bug; square kernels hide the shape error)",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "conv1", swap_kh_kw, swap_kh_kw)


@mutation("kernel_flipped", "srcnn", "transfer", "conv2",
          "conv kernel rotated 180 degrees (true convolution vs cross-correlation)",
          "Theano/old Caffe-style kernels need flipping for TF (Keras 2 shipped "
          "conv_utils.convert_kernel for it); a flip applied or missed", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "conv2", rotate_180, rotate_180)


@mutation("rgb_bgr_first_conv", "srcnn", "transfer", "conv1",
          "first conv's input channels reversed (RGB vs BGR)",
          "Caffe models take BGR; ports of Caffe weights to RGB pipelines forget to reverse the "
          "first conv's input channels (ICNet/VGG Caffe -> TF ports)", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "conv1", reverse_input_channels, reverse_input_channels)


@mutation("tanh_as_sigmoid", "srcnn", "torch", "tanh",
          "tanh output ported as sigmoid", "output activation mismatch between a graph and its "
          "port (tanh*0.58+0.5 looks like a [0, 1] output)", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_torch(p, "srcnn", lambda t: replace_module(t, "tanh", nn.Sigmoid()))


@mutation("missing_bias", "srcnn", "torch", "conv2",
          "conv2 built without its bias", "bias=False copied from conv-BN code onto a conv that has "
          "no BN (the graph's bias then has nowhere to go)", ("params", "parity"),
          {"macs": "biases are not MACs under the conv+FC convention"})
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        t.get_submodule("conv2").register_parameter("bias", None)
    edit_torch(p, "srcnn", edit)


@mutation("conv_padded_and_cropped", "srcnn", "torch", None,
          "conv2 computed with 1 extra pixel of zero padding per side, then cropped",
          "converters emulating asymmetric or 'SAME' padding by padding more and slicing "
          "(onnx2keras / NNAPI-style rewrites): right numbers, wasted MACs", ("macs",),
          {"parity": SAME_OUTPUT, "params": SAME_STRUCTURE})
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        conv = t.get_submodule("conv2")
        k = conv.kernel_size[0] // 2 + 1

        def forward(x: torch.Tensor) -> torch.Tensor:
            y = F.conv2d(x, conv.weight, conv.bias, 1, k)
            return y[:, :, 1:-1, 1:-1]
        conv.forward = forward
    edit_torch(p, "srcnn", edit)


@mutation("weight_left_at_init", "srcnn", "transfer", "conv2",
          "one layer's kernel never transferred (left at Keras' Glorot init)",
          "name mismatches skipped silently: load_state_dict(strict=False), Keras "
          "load_weights(by_name=True, skip_mismatch=True)", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "conv2", lambda w, k: {**w, "kernel": np.asarray(k.kernel.numpy())})


# ------------------------------------------------------------------------------------------
# VDSR
# ------------------------------------------------------------------------------------------
@mutation("global_residual_missing", "vdsr", "torch", "residual",
          "VDSR's global residual (output = conv + input) dropped", "a skip connection lost in "
          "a port (the residual add is an easy op to drop when rewriting forward())", ("parity",), COUNTS)
def _(p: Patches) -> None:
    class First(nn.Module):
        def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return x
    edit_torch(p, "vdsr", lambda t: replace_module(t, "residual", First()))


# ------------------------------------------------------------------------------------------
# DPED generator and discriminator
# ------------------------------------------------------------------------------------------
@mutation("instance_norm_epsilon", "dped", "keras", "blocks.0.norm1",
          "instance-norm epsilon 1e-5 instead of DPED's 1e-3",
          "torch InstanceNorm2d's default eps=1e-5 vs models.py's 1e-3", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(k: keras.Model) -> None:
        k.get_layer("blocks.0.norm1").epsilon = 1e-5
    edit_keras(p, "dped", edit)


@mutation("softmax_axis", "dped_discriminator", "torch", "head.softmax",
          "softmax over the batch axis (dim 0) instead of the classes",
          "torch's implicit softmax dim (deprecated: 'Implicit dimension choice for softmax') and "
          "axis=0 vs axis=-1 confusions in converters", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_torch(p, "dped_discriminator", lambda t: replace_module(t, "head.softmax", nn.Softmax(dim=0)))


@mutation("dense_kernel_reshaped", "dped_discriminator", "transfer", "head.out",
          "dense kernel reshaped [O, I] -> [I, O] instead of transposed",
          "np.reshape used where a transpose is needed: shapes fit, values scramble (a common "
          "hand-converter bug)", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "head.out",
                  lambda w, k: {**w, "kernel": np.ascontiguousarray(w["kernel"].T.reshape(w["kernel"].shape))},
                  lambda w, k: {**w, "kernel": np.ascontiguousarray(w["kernel"].reshape(w["kernel"].shape[::-1]).T)})


@mutation("norm_before_activation", "dped_discriminator", "torch", "convs.1.norm",
          "conv -> norm -> LeakyReLU instead of the code's conv -> LeakyReLU -> norm",
          "DPED's paper and code disagree on the order; ports following the paper's usual order "
          "differ from the shipped graph", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        block = t.get_submodule("convs.1")
        act, norm = block.act, block.norm
        del block.act, block.norm
        block.add_module("norm", norm)
        block.add_module("act", act)
    edit_torch(p, "dped_discriminator", edit)


# ------------------------------------------------------------------------------------------
# SRGAN family
# ------------------------------------------------------------------------------------------
@mutation("flatten_order_nchw", "srgan_discriminator", "transfer", "head.fc",
          "dense after flatten fed in torch's (C, H, W) order, not Keras' (H, W, C)",
          "the NCHW -> NHWC flatten permutation forgotten (pytorch2keras / onnx2keras "
          "'Flatten + Dense gives wrong results' issues)", ("parity",), COUNTS)
def _(p: Patches) -> None:
    p.setattr(transfer, "flatten_order", lambda layer: None)


@mutation("leaky_relu_torch_default", "srgan_discriminator", "torch", "convs.0.act",
          "LeakyReLU slope 0.01 (torch default) instead of the paper's 0.2",
          "framework defaults differ: torch LeakyReLU 0.01, Keras 3 0.2, Keras 2 0.3",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_torch(p, "srgan_discriminator", lambda t: replace_module(t, "convs.0.act", nn.LeakyReLU()))


@mutation("bn_epsilon_keras_default", "srgan", "keras", "blocks.0.bn1",
          "Keras BN epsilon 1e-3 (Keras' default) instead of tensorlayer's 1e-5",
          "Keras' BatchNormalization default epsilon=1e-3 kept when porting a 1e-5 graph",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(k: keras.Model) -> None:
        k.get_layer("blocks.0.bn1").epsilon = 1e-3
    edit_keras(p, "srgan", edit)


@mutation("pixel_shuffle_order", "srgan_srresnet", "transfer", "upsample.0.conv",
          "sub-pixel conv transferred without the pixel_shuffle -> depth_to_space channel permutation",
          "DepthToSpace DCR vs CRD channel order (ONNX DepthToSpace 'mode'; tf2onnx / onnx-tf "
          "issues on PixelShuffle)", ("parity",), COUNTS)
def _(p: Patches) -> None:
    p.setattr(transfer, "_shuffle_perm",
              lambda m: np.arange(m.out_channels))


@mutation("prelu_per_channel", "srgan_srresnet", "torch", "blocks.0.act",
          "PReLU with one slope per channel where the paper's has one shared slope",
          "Keras PReLU defaults to one slope per element, torch to one shared slope; ports pick "
          "the other framework's default", ("params", "parity"), {"macs": "PReLU slopes are not MACs"})
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        replace_module(t, "blocks.0.act", nn.PReLU(64))
    edit_torch(p, "srgan_srresnet", edit)
