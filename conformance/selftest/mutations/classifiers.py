"""Planted bugs of the classifiers: MobileNet v1 and v2, Inception-ResNet-v1, VGG-16, ResNet-v2, the Inceptions."""

from __future__ import annotations

import types
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import keras
import tensorflow as tf

from twinzoo.zoo import inception_v3 as inception_v3_spec
from conformance.selftest.mutations.base import (Patches, edit_torch, edit_keras, edit_transfer, swap_kh_kw,
                                                 swap_gamma_beta, replace_module, override_call, Converted, mutation,
                                                 EVAL_ONLY, SAME_STRUCTURE, COUNTS)


# ------------------------------------------------------------------------------------------
# MobileNet v1 (0.25 / 128: the smallest of the family)
# ------------------------------------------------------------------------------------------
MV1 = "mobilenet_v1_0.25_128"


@mutation("bn_epsilon_torch_default", MV1, "keras", "body.Conv2d_5_pointwise.bn",
          "Keras BN epsilon 1e-5 instead of slim's 1e-3",
          "torch's BatchNorm2d default eps=1e-5 leaking into a TF port whose graph uses 1e-3 "
          "(a classic of pytorch2keras / onnx2keras ports; TF-slim batch_norm_epsilon=0.001)",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(k: keras.Model) -> None:
        k.get_layer("body.Conv2d_5_pointwise.bn").epsilon = 1e-5
    edit_keras(p, MV1, edit)


@mutation("strided_same_padding_symmetric", MV1, "torch", "body.Conv2d_4_depthwise.conv",
          "stride-2 depthwise conv padded symmetrically (padding=1) instead of TF 'SAME'",
          "TF 'SAME' puts the odd pixel at the bottom/right on strided convs; torch's padding=1 "
          "pads both sides (onnx2pytorch / tf2onnx 'auto_pad SAME_UPPER' issues; torchvision's "
          "MobileNet v2 deviation)", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        conv = t.get_submodule("body.Conv2d_4_depthwise.conv")
        conv.static_same, conv.padding = True, (1, 1)
    edit_torch(p, MV1, edit)


@mutation("relu6_as_relu", MV1, "torch", "body.Conv2d_3_pointwise.act",
          "ReLU6 ported as plain ReLU",
          "an ONNX Clip(0, 6) / tf.nn.relu6 lowered without its upper bound (converters that map "
          "Clip to Relu when max is a graph input, e.g. onnx2keras/onnx-tf issues)", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_torch(p, MV1, lambda t: replace_module(t, "body.Conv2d_3_pointwise.act", nn.ReLU()))


@mutation("depthwise_kernel_hw_transposed", MV1, "transfer", "body.Conv2d_2_depthwise.conv",
          "depthwise kernel transferred with kh and kw swapped",
          "a wrong axis permutation for depthwise kernels ([C,1,kh,kw] -> [kw,kh,C,1] instead of "
          "[kh,kw,C,1]): converters' depthwise layout bugs (MMdnn, onnx2keras DepthwiseConv2D)",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "body.Conv2d_2_depthwise.conv", swap_kh_kw, swap_kh_kw)


@mutation("bn_gamma_beta_swapped", MV1, "transfer", "body.Conv2d_1_depthwise.bn",
          "BN gamma and beta assigned to each other",
          "positional weight assignment (Keras set_weights order gamma, beta, mean, var; with "
          "scale=False the list starts at beta) shifting BN parameters", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "body.Conv2d_1_depthwise.bn", swap_gamma_beta, swap_gamma_beta)


@mutation("bn_variance_as_std", MV1, "transfer", "body.Conv2d_6_pointwise.bn",
          "BN moving variance transferred as its square root (a std)",
          "frameworks storing BN spread differently (Caffe's scale-factor blob, std vs var in "
          "hand-written converters)", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "body.Conv2d_6_pointwise.bn",
                  lambda w, k: {**w, "moving_variance": np.sqrt(w["moving_variance"])},
                  lambda w, k: {**w, "moving_variance": np.square(w["moving_variance"])})


@mutation("global_pool_max", MV1, "torch", "logits.pool",
          "global average pool ported as global max pool",
          "a reduce op mapped to the wrong reduction (ReduceMean vs ReduceMax/GlobalMaxPool) by a "
          "converter", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_torch(p, MV1, lambda t: replace_module(t, "logits.pool", nn.AdaptiveMaxPool2d(1)))


@mutation("global_pool_fixed_window", MV1, "torch", "logits.pool",
          "the global average pool ported as a fixed 4x4 average pool (AvgPool2d(4)): the whole "
          "final map at the canonical 128x128, the top-left 4x4 of the 5x6 map at the second size "
          "139x163 (same output shape: nothing downstream changes size)",
          "a pool window sized for the one input a port was written at: the widely copied PyTorch "
          "MobileNet (conv_dw blocks, the ImageNet checkpoint mobilenet_sgd_68.848.pth.tar) ends in "
          "nn.AvgPool2d(7), the 7x7 map of a 224 input; torchvision's early Inception3 and the code "
          "copied from it pool with F.avg_pool2d(x, kernel_size=8) after the '8 x 8 x 2048' map; "
          "slim's _reduced_kernel_size_for_small_input fixes the window from the static size. Only "
          "parity at the second size can see it: the twins agree at 128x128, where the MAC count "
          "and every published figure of this variant are taken and the train check runs",
          ("parity",),
          {"macs": "counted at 128x128 (the canonical size and every published figure's), where the "
                   "window is the whole 4x4 map: same shapes, same MACs",
           "train": "runs at the parity size 128x128, where the window is the whole map",
           "params": "pooling has no weights: same parameters"})
def _(p: Patches) -> None:
    edit_torch(p, MV1, lambda t: replace_module(t, "logits.pool", nn.AvgPool2d(4)))


@mutation("bn_left_in_training_mode", MV1, "torch", "body.Conv2d_7_pointwise.bn",
          "one torch BN left in training mode at inference (batch statistics)",
          "forgetting model.eval() (or a submodule re-set to train()) before export: the most "
          "common PyTorch inference bug (torch.onnx warns about training-mode BN)", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        bn = t.get_submodule("body.Conv2d_7_pointwise.bn")
        bn.training = True
        bn.train = lambda mode=True: bn           # eval() no longer reaches it
    edit_torch(p, MV1, edit)


@mutation("bn_momentum_keras_default", MV1, "keras", "body.Conv2d_0.bn",
          "Keras BN momentum 0.99 (Keras' default) where torch's momentum 0.1 means 0.9",
          "torch's momentum is the weight of the new batch, Keras' of the old average "
          "(torch BatchNorm2d docs: 'different from one used in optimizer classes'); ports copy "
          "0.1 or keep Keras' 0.99", ("train",),
          {"parity": EVAL_ONLY + ": momentum only moves the moving statistics in training", **COUNTS})
def _(p: Patches) -> None:
    def edit(k: keras.Model) -> None:
        for layer in k.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = 0.99
    edit_keras(p, MV1, edit)


# ------------------------------------------------------------------------------------------
# MobileNet v2 (0.35 / 224)
# ------------------------------------------------------------------------------------------
MV2 = "mobilenet_v2_0.35_224"


@mutation("stride_on_wrong_conv", MV2, "torch", "expanded_conv_1.expand.conv",
          "block stride moved from the 3x3 depthwise to the 1x1 expansion",
          "the stride placed on the 1x1 instead of the 3x3 conv (ResNet v1 vs v1.5; early "
          "MobileNet-v2 re-implementations): same shapes, different numbers and cost",
          ("macs", "parity"), {"params": SAME_STRUCTURE})
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        expand = t.get_submodule("expanded_conv_1.expand.conv")
        dw = t.get_submodule("expanded_conv_1.depthwise.conv")
        expand.stride, expand.static_same = (2, 2), False
        dw.stride, dw.static_same, dw.padding = (1, 1), True, (1, 1)
    edit_torch(p, MV2, edit)


@mutation("project_gets_relu6", MV2, "torch", "expanded_conv_2.add",
          "the linear bottleneck given a ReLU6 (an op only torch has: the first point both twins "
          "share after it is the block's residual add)",
          "MobileNet v2's linear projection (paper §3.2) ported with the activation every other "
          "conv-BN has", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        t.get_submodule("expanded_conv_2.project").add_module("act", nn.ReLU6())
    edit_torch(p, MV2, edit)


# ------------------------------------------------------------------------------------------
# Inception-ResNet-v1 (FaceNet, 512-d variant at 160x160)
# ------------------------------------------------------------------------------------------
IRV1 = "inception_resnet_v1_512"


@mutation("residual_scale_missing", IRV1, "keras", "Repeat.block35_1.scale",
          "Block35 residual scale 0.17 dropped (scale 1)",
          "Inception-ResNet's residual scaling (Szegedy et al. 2016 §3.3: 0.1-0.3) forgotten in a "
          "port", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(k: keras.Model) -> None:
        k.get_layer("Repeat.block35_1.scale").scale = 1.0
    edit_keras(p, IRV1, edit)


@mutation("concat_branch_order", IRV1, "torch", "Repeat.block35_2.concat",
          "Block35 branches concatenated in reverse order",
          "branch order lost when a converter rebuilds a multi-input Concat (the equal widths "
          "hide it from shape checks)", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        concat = t.get_submodule("Repeat.block35_2.concat")
        concat.forward = lambda xs: torch.cat(list(reversed(xs)), concat.dim)
    edit_torch(p, IRV1, edit)


@mutation("l2_normalize_axis", IRV1, "keras", "embeddings",
          "L2 normalisation over the batch axis (0) instead of the features",
          "tf.nn.l2_normalize(x, 0) vs dim 1 (facenet uses axis 1; axis/dim argument confusions)",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(k: keras.Model) -> None:
        layer = k.get_layer("embeddings")
        override_call(layer, lambda inputs: tf.nn.l2_normalize(inputs, axis=0, epsilon=layer.epsilon))
    edit_keras(p, IRV1, edit)


@mutation("bn_with_gamma", IRV1, "torch", "Conv2d_2a_3x3.bn",
          "a BN given a learned gamma where slim's has none (scale=False)",
          "torch BN is affine by default; slim's batch_norm has scale=False (Inception, FaceNet "
          "checkpoints have no gamma)", ("params", "parity"), {"macs": "BN is not counted in MACs"})
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        replace_module(t, "Conv2d_2a_3x3.bn", nn.BatchNorm2d(32, eps=1e-3))
    edit_torch(p, IRV1, edit)


# ------------------------------------------------------------------------------------------
# VGG-16 (TF-slim: fc6/fc7/fc8 as convolutions; fixed 224x224)
# ------------------------------------------------------------------------------------------
def fc_kernel_rows_chw_as_hwc(w: Converted, layer: Any) -> Converted:
    """A converter that takes an FC-as-conv kernel for a dense layer over a flattened map: it
    flattens torch's [O, C, H, W] kernel into [O, C*H*W] rows in torch's (C, H, W) order and
    reshapes them into Keras' [H, W, C, O] kernel as if they were in Keras' (H, W, C) order. On
    the correct Keras kernel K[h, w, c, o]: the (C, H, W)-ordered rows re-read in (H, W, C) order."""
    k = w["kernel"]
    return {**w, "kernel": np.ascontiguousarray(k.transpose(2, 0, 1, 3).reshape(k.shape))}


def fc_kernel_rows_hwc_as_chw(w: Converted, layer: Any) -> Converted:
    """The same converter in the Keras -> torch direction: Keras' kernel flattened in its
    (H, W, C) order, the rows written into torch's [O, C, H, W] as if in (C, H, W) order (on
    Keras-layout weights; the exact inverse of ``fc_kernel_rows_chw_as_hwc``)."""
    k = w["kernel"]
    h, wd, c, o = k.shape
    return {**w, "kernel": np.ascontiguousarray(k.reshape(c, h, wd, o).transpose(1, 2, 0, 3))}


@mutation("fc_conv_flatten_order", "vgg_16", "transfer", "fc6.conv",
          "fc6 (a 7x7 'VALID' conv over pool5's 7x7x512 map) transferred as a dense layer over a "
          "flattened map: torch's kernel rows in (C, H, W) order written as Keras' (H, W, C) rows",
          "the flatten-order permutation of a Dense after Flatten, on slim's FC-as-conv head: VGG's "
          "fc6 is a 25088 -> 4096 FC layer in Caffe/torchvision (Linear over a (C, H, W) flatten) "
          "and a [7, 7, 512, 4096] conv in slim; converters moving it between the two must "
          "permute the rows (shekkizh/fcn.tensorflow#47 'The order of the fc layers': fc6 "
          "[7, 7, 512, 4096]; Keras Flatten(data_format) exists 'to preserve weight ordering when "
          "switching a model from one data format to another'; Arm Compute Library's "
          "ConvertFullyConnectedWeights NCHW <-> NHWC)", ("parity",),
          COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "fc6.conv", fc_kernel_rows_chw_as_hwc, fc_kernel_rows_hwc_as_chw)


def _relu_then_dropout(act: nn.Module) -> None:
    """``act`` (a ReLU) followed by dropout 0.5, as one module: it keeps its name, so the train
    check's training-mode localisation can name it, and acts as the ReLU alone in eval mode (a
    bound method: a deepcopy, e.g. the meta-device copy MACs are counted on, reads its own mode)."""
    act.forward = types.MethodType(lambda self, x: F.dropout(F.relu(x), 0.5, self.training), act)


@mutation("vgg_fc_dropout_in_torch", "vgg_16", "torch", "fc6.act",
          "the torch twin's fc6 and fc7 followed by dropout 0.5 (torchvision's VGG classifier), the "
          "Keras twin's not (keras.applications' VGG16, slim's inference graph): identical at "
          "inference, different in every training step",
          "torchvision.models.vgg's classifier is Linear, ReLU, Dropout(), Linear, ReLU, Dropout(), "
          "Linear, while keras.applications.VGG16 has no dropout layer and slim's vgg_16 applies "
          "dropout6/7 only when is_training; a port assembled from both lets one twin train with "
          "dropout and the other without. VGG-16 has no BN, so before the train check judged its "
          "training-mode outputs, every check passed this", ("train",),
          {"parity": EVAL_ONLY + ": dropout is the identity at inference", **COUNTS})
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        for path in ("fc6.act", "fc7.act"):
            _relu_then_dropout(t.get_submodule(path))
    edit_torch(p, "vgg_16", edit)


# ------------------------------------------------------------------------------------------
# ResNet-v2-50 (TF-slim pre-activation units; parity at 96x96)
# ------------------------------------------------------------------------------------------
RV2 = "resnet_v2_50"


def _unit_forward(unit: nn.Module, forward: Callable[[nn.Module, torch.Tensor], torch.Tensor]) -> None:
    """Replace one torch ResNet-v2 unit's forward (a bound method in the instance: only this
    unit changes, and a deepcopy, e.g. the meta-device copy MACs are counted on, rebinds it to
    the copied unit)."""
    unit.forward = types.MethodType(forward, unit)


@mutation("resnet_v2_shortcut_raw_input", RV2, "torch", "block2.unit_1.shortcut.conv",
          "the projection shortcut of block2/unit_1 fed the raw unit input instead of the "
          "pre-activated (BN + ReLU) one",
          "a ResNet v1 habit, and fb.resnet.torch's pre-activation ResNet (models/preresnet.lua "
          "puts the BN + ReLU inside the residual branch, so its 1x1 projection shortcuts read the "
          "raw input), ported onto slim's resnet_v2, whose bottleneck computes "
          "shortcut = conv2d(preact, ...) when the depth changes and subsample(inputs) otherwise "
          "(research/slim/nets/resnet_v2.py; keras.applications' ResNetV2 likewise)",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    def forward(u: nn.Module, x: torch.Tensor) -> torch.Tensor:
        pre = u.preact(x)
        return u.add(u.shortcut(x), u.conv3(u.conv2(u.conv1(pre))))

    edit_torch(p, RV2, lambda t: _unit_forward(t.get_submodule("block2.unit_1"), forward))


@mutation("resnet_v2_post_activation_unit", RV2, "torch", "block2.unit_2.conv1.conv",
          "block2/unit_2 (identity shortcut) built post-activation style: its BN + ReLU applied "
          "after the residual add instead of before conv1 (the first point the twins differ is "
          "conv1, which now reads the un-normalised input)",
          "ResNet v1's unit order (slim resnet_v1's bottleneck ends in relu(shortcut + residual)) "
          "kept in a v2 port, or unit k+1's pre-activation folded into unit k's output: the "
          "residual branch then reads the raw input and the identity path carries an activated "
          "sum, the 'BN after addition' / original layouts of He et al. 2016 (arXiv:1603.05027, "
          "Fig. 4) that v2 replaces; slim's resnet_v2 notes 'the pre-activation variant does not "
          "have batch normalization or activation functions in the residual unit output'",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    def forward(u: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return u.preact(u.add(x, u.conv3(u.conv2(u.conv1(x)))))

    def edit(t: nn.Module) -> None:
        unit = t.get_submodule("block2.unit_2")
        assert unit.shortcut is None          # identity unit: the preact BN fits after the add
        _unit_forward(unit, forward)
    edit_torch(p, RV2, edit)


@mutation("resnet_v2_preact_relu_dropped", RV2, "keras", "block3.unit_2.preact.act",
          "block3/unit_2's pre-activation without its ReLU (BN only)",
          "slim's pre-activation is one call, slim.batch_norm(inputs, activation_fn=tf.nn.relu, "
          "scope='preact') (research/slim/nets/resnet_v2.py): the ReLU has no variables and no "
          "layer of its own, so a port that rebuilds the network from the checkpoint's variables "
          "(preact/gamma, beta, moving_mean, moving_variance) gets a BN and no activation",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(k: keras.Model) -> None:
        override_call(k.get_layer("block3.unit_2.preact.act"), lambda inputs: inputs)
    edit_keras(p, RV2, edit)


# ------------------------------------------------------------------------------------------
# Inception-v3 (AI Benchmark's inception_v3.meta: main and aux heads)
# ------------------------------------------------------------------------------------------
@mutation("inception_v3_aux_head_one_block_early", "inception_v3", "both", None,
          "the aux head reads Mixed_6d, the block before the last 17x17 one, instead of Mixed_6e, in "
          "the table both twins walk (inception_v3_spec.INCEPTION_V3_AUX_AFTER): the main logits are untouched, "
          "the aux logits come from another block",
          "the paper places the aux head 'on top of the last 17x17 layer' (Szegedy et al. 2016, "
          "arXiv:1512.00567, section 4) and its Table 1 lists 5 Inception modules at 17x17, where "
          "slim's graph has the grid reduction Mixed_6a and four modules Mixed_6b..6e (as "
          "torchvision's Inception3): a port counting blocks lands one early or late, and a table "
          "both twins share carries the slip into both. The twins agree with each other (parity, "
          "train, counts); only the graph's aux logits, which its output:0 does not reach, can show "
          "it", ("reference",),
          {"parity": "both twins carry the bug: they agree with each other",
           "train": "both twins carry the bug: their training-mode outputs and statistics agree",
           "macs": "the aux head reads a map of the same shape (17x17x768): same MACs",
           "params": "the same layers: same parameters"})
def _(p: Patches) -> None:
    p.setattr(inception_v3_spec, "INCEPTION_V3_AUX_AFTER", "Mixed_6d")


# ------------------------------------------------------------------------------------------
# Inception-v4, Inception-ResNet-v2, ResNet-v2-152 (TF-slim; each network's clean twins then run
# over the self-test's seeds too)
# ------------------------------------------------------------------------------------------
@mutation("avg_pool_counts_padding", "inception_v4", "torch", "Mixed_5b.Branch_3.AvgPool_0a_3x3",
          "Mixed_5b's 3x3/1 'SAME' average pool ported with torch's default count_include_pad=True",
          "TF's 'SAME' average pool divides by the window's real pixels only; torch's AvgPool2d(3, 1, 1) "
          "divides by 9 everywhere unless count_include_pad=False (torch.nn.AvgPool2d docs), the "
          "convention torchvision's Inception3 keeps (our Inception-v3 torchvision style): the border "
          "pixels of every Branch_3 come out smaller", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        t.get_submodule("Mixed_5b.Branch_3.AvgPool_0a_3x3").count_include_pad = True
    edit_torch(p, "inception_v4", edit)


@mutation("residual_scale_of_another_block", "inception_resnet_v2", "keras", "Repeat_1.block17_1.scale",
          "block17_1 scaled by block35's 0.17 instead of block17's 0.10",
          "Inception-ResNet-v2's three residual scales (0.17, 0.10, 0.20 in slim's inception_resnet_v2.py; "
          "Szegedy et al. 2016 §3.3: 'between 0.1 and 0.3') are bare constants at the call sites, "
          "easy to copy from the block above in a port", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(k: keras.Model) -> None:
        k.get_layer("Repeat_1.block17_1.scale").scale = 0.17
    edit_keras(p, "inception_resnet_v2", edit)


@mutation("resnet_v2_subsample_on_preact", "resnet_v2_152", "torch", "block2.unit_8.shortcut",
          "block2's strided last unit subsamples the pre-activated input for its shortcut instead of "
          "the raw one",
          "slim's bottleneck_v2 takes shortcut = subsample(inputs) when the depth is unchanged but "
          "conv2d(preact) when it projects (research/slim/nets/resnet_v2.py): a port that feeds preact "
          "to both (one variable for the shortcut's input) adds BN + ReLU to the identity path of "
          "every strided unit", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def forward(u: nn.Module, x: torch.Tensor) -> torch.Tensor:
        pre = u.preact(x)
        return u.add(u.shortcut(pre), u.conv3(u.conv2(u.conv1(pre))))

    def edit(t: nn.Module) -> None:
        unit = t.get_submodule("block2.unit_8")
        assert not unit.project and unit.shortcut is not None       # the strided identity unit
        _unit_forward(unit, forward)
    edit_torch(p, "resnet_v2_152", edit)
