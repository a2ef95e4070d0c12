"""A catalogue of planted porting bugs: the mutation self-test's data.

Each ``Mutation`` is one discrepancy of a kind that really happens when a network is ported or
converted between PyTorch and Keras/TensorFlow, applied to *one* twin (or to the weight transfer)
of *one* network, in memory: ``with mutation.applied(): ...`` wraps ``torch_models.build``,
``keras_models.build`` or the transfer's layout rules so that everything built inside the block
carries the bug, and undoes every patch on exit. No file is edited.

The self-test (``conformance.selftest``) runs the full conformance check under each mutation and
records which checks flag it and which layer they name; ``expect`` is the checks that must flag
it, ``layer`` the layer a localising check must name (None: no layer to name, e.g. a MAC-only
change), ``invisible`` the checks that by nature cannot see it, with the reason. A bug in a table
both twins walk (``twinzoo/zoo/<family>.py``) is planted in both (``twin`` "both"): the twins still agree
with each other, so only AI Benchmark's graph can show it, and such a mutation expects the
reference check, which the self-test then runs too.
"""

from __future__ import annotations

import contextlib
import re
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import keras
import tensorflow as tf

import keras_models
import torch_models
from conformance.lib import transfer
from twinzoo.graphs import reorder_gates, shift_forget_bias
from twinzoo import tables
from twinzoo.zoo import gnmt as gnmt_spec
from twinzoo.zoo import inception_v3 as inception_v3_spec
from twinzoo.zoo import pixel_rnn as pixel_rnn_spec
from twinzoo.registry import Registry


# ------------------------------------------------------------------------------------------
# in-memory patching
# ------------------------------------------------------------------------------------------
class Patches:
    """Attribute patches applied in order and undone in reverse order (a tiny monkeypatch)."""

    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any]] = []

    def setattr(self, obj: Any, name: str, value: Any) -> None:
        self._undo.append((obj, name, getattr(obj, name)))
        setattr(obj, name, value)

    def undo(self) -> None:
        while self._undo:
            obj, name, old = self._undo.pop()
            setattr(obj, name, old)


def edit_torch(p: Patches, network: str, edit: Callable[[nn.Module], None]) -> None:
    """Every torch twin of ``network`` built from now on (random-weight, meta-device counting,
    fold and round-trip copies alike) gets ``edit`` applied right after construction. A folded
    twin is built by folding an unfolded one into a new module, so the folded result is edited
    too (else a bug planted in ``icnet`` would vanish in its random-weight twin)."""
    real_build, real_fold = torch_models.build, torch_models.fold_batch_norm

    def build(name: str, **opts: Any) -> nn.Module:
        model = real_build(name, **opts)
        if name == network:
            edit(model)
        return model

    def fold_batch_norm(name: str, model: nn.Module) -> nn.Module:
        folded = real_fold(name, model)
        if name == network:
            edit(folded)
        return folded
    p.setattr(torch_models, "build", build)
    p.setattr(torch_models, "fold_batch_norm", fold_batch_norm)


def edit_keras(p: Patches, network: str, edit: Callable[[keras.Model], None]) -> None:
    """Every Keras twin of ``network`` built from now on gets ``edit`` applied after construction."""
    real = keras_models.build

    def build(name: str, input_size: Any = None, **opts: Any) -> keras.Model:
        model = real(name, input_size=input_size, **opts)
        if name == network:
            edit(model)
        return model
    p.setattr(keras_models, "build", build)


Converted = dict[str, np.ndarray]


def edit_transfer(p: Patches, layer: str, edit: Callable[[Converted, Any], Converted],
                  back: Callable[[Converted, Any], Converted] | None = None) -> None:
    """A converter's wrong layout rule for layer ``layer``, in both directions as a converter
    written with it would apply it: torch -> Keras passes the converted Keras-layout weights
    through ``edit``, Keras -> torch passes the Keras weights through ``back`` (the inverse of
    ``edit``) before the layout rule. The Keras -> torch round trip then stays bit-exact, and
    only the outputs can show the bug. ``back=None`` models a converter that skips the layer in
    that direction too (the torch twin keeps the values it had)."""
    real = transfer.rule_for

    def rule_for(module: nn.Module) -> transfer.Rule:
        rule = real(module)

        def to_keras(t: Converted, m: nn.Module, klayer: Any) -> Converted:
            out = rule.to_keras(t, m, klayer)
            return edit(out, klayer) if klayer.name == layer else out

        def to_torch(k: Converted, m: nn.Module, klayer: Any) -> Converted:
            if klayer.name != layer:
                return rule.to_torch(k, m, klayer)
            if back is None:
                return {n: t.detach().cpu().numpy() for n, t in transfer.own_tensors(m).items()}
            return rule.to_torch(back(k, klayer), m, klayer)
        return transfer.Rule(rule.name, rule.keras_types, to_keras, to_torch)
    p.setattr(transfer, "rule_for", rule_for)


# Wrong layout rules of a converter, on Keras-layout weights. Each is its own inverse, so the
# converter applies the same one in both directions.
def swap_kh_kw(w: Converted, layer: Any) -> Converted:
    return {**w, "kernel": np.ascontiguousarray(w["kernel"].transpose(1, 0, 2, 3))}


def rotate_180(w: Converted, layer: Any) -> Converted:
    return {**w, "kernel": np.ascontiguousarray(w["kernel"][::-1, ::-1])}


def reverse_input_channels(w: Converted, layer: Any) -> Converted:
    return {**w, "kernel": np.ascontiguousarray(w["kernel"][:, :, ::-1, :])}


def swap_gamma_beta(w: Converted, layer: Any) -> Converted:
    return {**w, "gamma": w["beta"], "beta": w["gamma"]}


def replace_module(model: nn.Module, path: str, new: nn.Module) -> None:
    parent, _, leaf = path.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, leaf, new)


def override_call(layer: Any, call: Callable[..., Any]) -> None:
    """Replace one Keras layer's ``call`` (instance attribute: only this layer changes)."""
    object.__setattr__(layer, "call", call)


# ------------------------------------------------------------------------------------------
# the catalogue entry
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mutation:
    name: str
    network: str
    twin: str                       # "torch" | "keras" | "transfer" | "both" (a table both twins walk)
    layer: str | None               # the layer a localising check must name
    description: str                # what is planted
    models: str                     # the real-world bug it models, with a source
    expect: tuple[str, ...]         # checks that must flag it
    apply: Callable[[Patches], None] = field(repr=False)
    invisible: dict[str, str] = field(default_factory=dict)   # check -> why it cannot see this

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        p = Patches()
        try:
            self.apply(p)
            yield
        finally:
            p.undo()


MUTATIONS: list[Mutation] = []


def mutation(name: str, network: str, twin: str, layer: str | None, description: str, models: str,
             expect: tuple[str, ...], invisible: dict[str, str] | None = None):
    """Decorator registering the decorated ``apply(patches)`` as a catalogue entry."""
    def register(apply: Callable[[Patches], None]) -> Callable[[Patches], None]:
        if any(m.name == name for m in MUTATIONS):
            raise ValueError(f"mutation {name!r} registered twice")
        MUTATIONS.append(Mutation(name, network, twin, layer, description, models, expect, apply,
                                  invisible or {}))
        return apply
    return register


def by_name(name: str) -> Mutation:
    """The mutation called ``name`` (an ``UnknownNameError`` offering close names otherwise)."""
    return Registry("mutation", items=((m.name, m) for m in MUTATIONS))[name]


EVAL_ONLY = "compares inference (eval-mode) outputs only"
SAME_STRUCTURE = "same layers and shapes: counts cannot differ"
SAME_OUTPUT = "the output is unchanged (only the cost differs)"
COUNTS = {"params": SAME_STRUCTURE, "macs": SAME_STRUCTURE}

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


LAYER_IN_MESSAGE = re.compile(r"layer '([^']+)'")


def layer_in_message(message: str) -> str | None:
    """The first layer a TransferError-style message names (``layer 'x'``)."""
    m = LAYER_IN_MESSAGE.search(message)
    return m.group(1) if m else None


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


# ------------------------------------------------------------------------------------------
# The recurrent networks: LSTM-Sentiment (a stock LSTM in both twins) and Pixel-RNN (carpedm20's
# Diagonal BiLSTM, written out in both twins). No BN: their training-mode outputs are their
# inference outputs, so the train check sees what parity sees (at the first parity size).
# ------------------------------------------------------------------------------------------
def lstm_f_g_swapped(w: Converted, layer: Any) -> Converted:
    """Keras' (i, f, c, o) blocks filled in TF1's (i, j, f, o) order: f and c trade places (its own inverse)."""
    return {n: np.ascontiguousarray(reorder_gates(a, tables.STOCK_LSTM_GATES, tables.TF1_LSTM_GATES))
            for n, a in w.items()}


def _forget_bias_shift(delta: float) -> Callable[[Converted, Any], Converted]:
    def shift(w: Converted, layer: Any) -> Converted:
        return {**w, "bias": shift_forget_bias(w["bias"], delta)}
    return shift


@mutation("lstm_gate_order_tf1", "lstm_sentiment", "transfer", "rnn",
          "LSTM kernels and bias transferred in TF1's gate order (i, j, f, o) into Keras' (i, f, c, o)",
          "TF1's BasicLSTMCell/LSTMCell split their gates (i, j, f, o) (rnn_cell_impl.py), cuDNN and "
          "torch (i, f, g, o), Keras (i, f, c, o): a converter that copies the blocks without "
          "reordering them swaps the forget gate and the candidate (tf2onnx/onnx LSTM gate-order "
          "issues: ONNX's own order is (i, o, f, c))", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "rnn", lstm_f_g_swapped, lstm_f_g_swapped)


@mutation("lstm_forget_bias_counted_twice", "lstm_sentiment", "transfer", "rnn",
          "TF1's run-time forget bias 1.0 added to a bias that already holds it",
          "TF1's BasicLSTMCell adds forget_bias=1.0 at run time and stores none of it; a port that "
          "folds it in once more (or reads a Keras/torch bias as TF1's and adds it) gives the forget "
          "gate +2 (tf.compat.v1 LSTMCell docs: 'must set to 0.0 manually when restoring from "
          "CudnnLSTM-trained checkpoints')", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "rnn", _forget_bias_shift(1.0), _forget_bias_shift(-1.0))


@mutation("lstm_forget_bias_dropped", "lstm_sentiment", "transfer", "rnn",
          "TF1's run-time forget bias 1.0 never folded into the stored bias",
          "copying a BasicLSTMCell's bias into nn.LSTM / keras LSTM as it is: the forget_bias the TF1 "
          "cell adds at run time is lost (the same CudnnLSTM/LSTMCell note, the other way)",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_transfer(p, "rnn", _forget_bias_shift(-1.0), _forget_bias_shift(1.0))


@mutation("lstm_cell_state_as_output", "lstm_sentiment", "torch", "last_step",
          "the classifier fed the final cell state c instead of the last output h",
          "TF1's LSTMStateTuple is (c, h), torch returns (h_n, c_n), Keras [h, c]: taking state[0] "
          "across frameworks swaps h and c (a classic of hand-written ports)", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        def forward(x: torch.Tensor) -> torch.Tensor:
            _, (h, c) = t.rnn(x)
            return t.fc(t.last_step(c.transpose(0, 1)))
        t.forward = forward
    edit_torch(p, "lstm_sentiment", edit)


@mutation("lstm_time_major_as_batch_major", "lstm_sentiment", "torch", "rnn",
          "the batch-major input [N, T, F] read by a time-major LSTM (batch_first=False)",
          "nn.LSTM defaults to batch_first=False, dynamic_rnn to time_major=False: a port that keeps "
          "torch's default runs the recurrence over the batch axis (shapes still fit)",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        rnn, real = t.rnn, t.rnn.forward

        def forward(x: torch.Tensor, hx: Any = None) -> Any:
            rnn.batch_first = False
            try:
                return real(x, hx)
            finally:
                rnn.batch_first = True
        rnn.forward = forward
    edit_torch(p, "lstm_sentiment", edit)


@mutation("pixel_rnn_mask_b_for_a", "pixel_rnn", "torch", "conv_inputs",
          "the input conv masked with mask 'b' (centre pixel kept) instead of 'a'",
          "PixelRNN's first layer must not see the pixel it predicts (van den Oord et al. 2016 §3.4: "
          "mask A for the first layer only, mask B after); ports that use one masked-conv class "
          "with the default type get it wrong", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        conv = t.get_submodule("conv_inputs")
        k = conv.kernel_size[0]
        conv.mask = torch.tensor(pixel_rnn_spec.pixel_rnn_mask(k, "b")).view(1, 1, k, k).to(conv.mask.device)
    edit_torch(p, "pixel_rnn", edit)


def _edit_scan(p: Patches, path: str, step: Callable[[torch.Tensor, torch.Tensor], tuple]) -> None:
    """Pixel-RNN's torch twin with the Diagonal LSTM at ``path`` stepping by ``step(gates, c) -> (h, c)``."""
    def edit(t: nn.Module) -> None:
        t.get_submodule(path).step = step
    edit_torch(p, "pixel_rnn", edit)


@mutation("pixel_rnn_cell_stock_gate_order", "pixel_rnn", "torch", "LSTM0.output_state_fw.s_to_s",
          "the Diagonal LSTM cell's quarters read in a stock LSTM's order (i, f, g, o) instead of the "
          "package's (i, g, f, o)",
          "model_utils.DiagonalLSTMCell splits i, g, f, o; torch's LSTM order is i, f, g, o: a port "
          "written against nn.LSTM's docs trades the forget gate and the candidate", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def step(gates: torch.Tensor, cell: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        i, f, g, o = gates.chunk(4, dim=1)
        cell = f * cell + i * g
        return o * torch.tanh(cell), cell
    _edit_scan(p, "LSTM0.output_state_fw.s_to_s", step)


@mutation("pixel_rnn_h_c_swapped", "pixel_rnn", "torch", "LSTM2.output_state_bw.s_to_s",
          "the Diagonal LSTM's state handed on as (c, h) where the next step reads (h, c)",
          "TF1's LSTMStateTuple is (c, h) and model_utils packs its state as [c, h]; torch and Keras "
          "return (h, c): a port that unpacks one framework's state in the other's order swaps them",
          ("parity",), COUNTS)
def _(p: Patches) -> None:
    def step(gates: torch.Tensor, cell: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        i, g, f, o = gates.chunk(4, dim=1)
        cell = f * cell + i * g
        return cell, o * torch.tanh(cell)
    _edit_scan(p, "LSTM2.output_state_bw.s_to_s", step)


@mutation("pixel_rnn_backward_not_reversed", "pixel_rnn", "torch", "LSTM1.flip_in",
          "the backward Diagonal LSTM run on the image as it is, not mirrored",
          "model_utils.diagonal_bilstm reverses the width before and after the backward direction; a "
          "port that drops the first reverse runs both directions left to right", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_torch(p, "pixel_rnn", lambda t: replace_module(t, "LSTM1.flip_in", nn.Identity()))


@mutation("pixel_rnn_backward_output_not_rereversed", "pixel_rnn", "torch", "LSTM3.flip_out",
          "the backward Diagonal LSTM's output left mirrored (not reversed back before the sum)",
          "a bidirectional layer's backward outputs must be re-reversed to line up with the forward "
          "ones (tf.reverse_sequence after the backward dynamic_rnn; a known pitfall of hand-written "
          "bidirectional RNNs)", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_torch(p, "pixel_rnn", lambda t: replace_module(t, "LSTM3.flip_out", nn.Identity()))


@mutation("pixel_rnn_unskew_off_by_one", "pixel_rnn", "torch", "LSTM0.output_state_fw.unskew",
          "unskew reads row i from column i - 1 (one column early) for every row below the first",
          "the skew's per-row offset (row i shifted by i) undone with an index off by one: the "
          "diagonal of the previous step is read back", ("parity",), COUNTS)
def _(p: Patches) -> None:
    class UnskewEarly(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = x.shape[2]
            return torch.stack([x[:, :, i, max(i - 1, 0):max(i - 1, 0) + h] for i in range(h)], 2)
    edit_torch(p, "pixel_rnn", lambda t: replace_module(t, "LSTM0.output_state_fw.unskew", UnskewEarly()))


# ------------------------------------------------------------------------------------------
# GNMT (gnmt.meta, tensorflow/nmt's GNMT in infer mode). The decoder's layers run once per step,
# so parity cannot compare their activations one by one: a bug there is caught by the outputs
# (every step's logits and greedy ids), not localised.
# ------------------------------------------------------------------------------------------
def _gnmt_encode(merge: str = "concat", init: str = "backward"):
    """The torch twin's ``encode`` with the bidirectional merge and the decoder's bottom state
    as given (the twin's own: ``concat`` and ``backward``)."""
    def encode(self, src):
        x = self.embedding_encoder(src)
        fw, (fw_h, fw_c) = self.encoder_bi_fw(x)
        bw, (bw_h, bw_c) = self.encoder_bi_bw(torch.flip(x, [1]))
        bw = torch.flip(bw, [1])
        h = torch.cat([fw, bw], dim=-1) if merge == "concat" else fw + bw
        states = [(bw_h[0], bw_c[0]) if init == "backward" else (fw_h[0], fw_c[0])]
        for k, lstm in enumerate(self.encoder_uni):
            y, (hk, ck) = lstm(h)
            h = y + h if k >= gnmt_spec.GNMT_ENCODER_RESIDUAL_FROM else y
            states.append((hk[0], ck[0]))
        return h, states[: len(self.decoder_cells)]
    return encode


@mutation("gnmt_bidirectional_sum_merge", "gnmt", "torch", "encoder_uni.0",
          "the bidirectional encoder layer's directions summed (1024) instead of concatenated (2048)",
          "tf.nn.bidirectional_dynamic_rnn returns the two directions apart and nmt concatenates them "
          "(tf.concat(bi_outputs, -1)); Keras' Bidirectional merges by concat, but merge_mode='sum' and "
          "hand-written ports that add the directions exist: the next layer then takes half the inputs",
          ("parity",))
def _(p: Patches) -> None:
    def edit(t: nn.Module) -> None:
        units = t.encoder_bi_fw.hidden_size
        replace_module(t, "encoder_uni.0", nn.LSTM(units, units, batch_first=True))
        t.encode = types.MethodType(_gnmt_encode(merge="sum"), t)
    edit_torch(p, "gnmt", edit)


@mutation("gnmt_decoder_init_from_forward_state", "gnmt", "torch", None,
          "the decoder's bottom cell starts from the forward direction's final state, not the backward's",
          "nmt's GNMT passes (bi_encoder_state[1],) + uni states: the backward direction's final state, "
          "which has read the whole sentence from its first word last; a port that takes the 'last' "
          "state of the bidirectional layer takes the forward one", ("parity",), COUNTS)
def _(p: Patches) -> None:
    edit_torch(p, "gnmt", lambda t: setattr(t, "encode", types.MethodType(_gnmt_encode(init="forward"), t)))


@mutation("gnmt_attention_not_normalised", "gnmt", "torch", None,
          "Bahdanau attention scored with v as it is, not weight-normalised (g v / ||v||)",
          "nmt's attention='normed_bahdanau' (BahdanauAttention(normalize=True)) scales v to the "
          "learned norm g; a port to plain Bahdanau attention drops g and the division, and g's own "
          "weight is left unused", ("parity",), COUNTS)
def _(p: Patches) -> None:
    def forward(self, query, keys, memory):
        score = torch.sum(self.attention_v * torch.tanh(keys + query[:, None, :] + self.attention_b), dim=-1)
        return torch.matmul(torch.softmax(score, dim=-1)[:, None, :], memory)[:, 0, :]
    edit_torch(p, "gnmt", lambda t: setattr(t.attention, "forward", types.MethodType(forward, t.attention)))
