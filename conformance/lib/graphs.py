"""Reference-graph conformance: our twins against AI Benchmark's own TF graphs.

The ``ai-benchmark`` package (0.1.2) ships the benchmark's TF1 meta graphs
(``ai_benchmark/models/*.meta``), each with an ``input:0`` placeholder and an ``output:0`` tensor
(``ai_benchmark/utils.py`` reads exactly those). For each network that has one:

1. every graph variable is mapped onto a weight of our Keras twin (both are TF layouts, so the
   arrays go over as they are), shapes must be equal, and nothing may be left over on either side;
2. the twin's weights (randomised in the torch twin and transferred to Keras) are loaded into the
   graph's variables, the graph runs on the same real images, and every head of it (its output,
   and the Inceptions' aux logits, which ``output:0`` does not reach) must equal both twins' same
   head under the parity tolerance; a graph head that no comparison covers fails the check
   (``uncompared_heads``);
3. where the graph's placeholder takes any size, this runs at the network's canonical size and
   at its second size (``Network.numeric_sizes``; the twins randomised once, the graph loaded
   once), else at the placeholder's fixed size.

The graphs name their variables in their authors' dialects (TF-slim scopes, tensorlayer scopes,
bare ``w1``/``Variable_3``); each spec below is the rule set that reads one dialect onto our
layer names. Numbered variables are mapped by arithmetic on the number, not one by one.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from twinzoo import catalogue, tables

# (variable-name regex, function of the match -> (our layer name, Keras weight name))
Rule = tuple[str, Callable[[re.Match], tuple[str, str]]]


# leaf variable names of the dialects -> Keras weight names
_LEAF = {
    "weights": "kernel", "depthwise_weights": "kernel", "biases": "bias",
    "W_conv2d": "kernel", "b_conv2d": "bias", "kernel": "kernel", "bias": "bias",
    "gamma": "gamma", "beta": "beta", "moving_mean": "moving_mean", "moving_variance": "moving_variance",
}


@dataclass(frozen=True)
class Split:
    """A graph variable that is not one Keras weight as it is: it holds the Keras weights
    ``parts`` ((layer, weight) pairs) in another layout. ``to_keras(array)`` gives the parts'
    arrays in order, ``to_graph(arrays)`` the graph's array from them; ``how`` says what the rule
    does (it goes into the mapping report)."""

    parts: tuple[tuple[str, str], ...]
    to_keras: Callable[[np.ndarray], tuple[np.ndarray, ...]]
    to_graph: Callable[[tuple[np.ndarray, ...]], np.ndarray]
    how: str


def reorder_gates(a: np.ndarray, src: tuple[str, ...], dst: tuple[str, ...]) -> np.ndarray:
    """``a``'s last axis, four gate blocks in ``src`` order, rearranged into ``dst`` order."""
    blocks = np.split(a, 4, axis=-1)
    return np.concatenate([blocks[src.index(g)] for g in dst], axis=-1)


def shift_forget_bias(bias: np.ndarray, delta: float, gates: tuple[str, ...] = tables.STOCK_LSTM_GATES) -> np.ndarray:
    """A copy of an LSTM ``bias`` (four blocks in ``gates`` order) with ``delta`` added to the
    forget gate's block."""
    b = bias.copy()
    units, f = b.shape[0] // 4, gates.index("f")
    b[f * units:(f + 1) * units] += delta
    return b


def tf1_lstm_rules(scope: str, layer: str, forget_bias: float = tables.TF1_FORGET_BIAS) -> tuple[Rule, ...]:
    """A TF1 ``BasicLSTMCell`` (``<scope>/kernel`` [inputs + units, 4 units] over [x, h], gates
    (i, j, f, o); ``<scope>/bias`` [4 units] without the run-time ``forget_bias``) onto a stock
    Keras LSTM ``layer`` (kernel [inputs, 4u], recurrent_kernel [u, 4u], bias [4u]; gates (i, f,
    c, o)): the kernel's rows split at ``inputs``, the gate blocks reordered, the forget bias
    folded into the stored bias (and taken out again on the way back)."""
    tf1, stock = tables.TF1_LSTM_GATES, tables.STOCK_LSTM_GATES

    def kernel_to_keras(a: np.ndarray) -> tuple[np.ndarray, ...]:
        units = a.shape[1] // 4
        a = reorder_gates(a, tf1, stock)
        return a[:-units], a[-units:]

    def bias_to_keras(a: np.ndarray) -> tuple[np.ndarray, ...]:
        return (shift_forget_bias(reorder_gates(a, tf1, stock), forget_bias),)

    def bias_to_graph(parts: tuple[np.ndarray, ...]) -> np.ndarray:
        return reorder_gates(shift_forget_bias(parts[0], -forget_bias), stock, tf1)

    s = re.escape(scope)
    return (
        (rf"{s}/kernel", lambda m: Split(((layer, "kernel"), (layer, "recurrent_kernel")), kernel_to_keras,
                                         lambda p: reorder_gates(np.concatenate(p, axis=0), stock, tf1),
                                         "rows [x, h] split into kernel and recurrent_kernel; gates (i, j, f, o) "
                                         "-> (i, f, j, o)")),
        (rf"{s}/bias", lambda m: Split(((layer, "bias"),), bias_to_keras, bias_to_graph,
                                       f"gates (i, j, f, o) -> (i, f, j, o); the cell's run-time forget_bias "
                                       f"{forget_bias:g} added to the forget gate's bias")),
    )


def _slim_rules(scope: str, aliases: dict[str, str], prefix: str = "") -> tuple[Rule, ...]:
    """TF-slim: ``<scope>/<block>/<sub>/weights`` -> ``<block>.<sub>.conv`` kernel,
    ``.../BatchNorm/<stat>`` -> ``<block>.<sub>.bn`` <stat>; ``aliases`` rename whole scope paths
    (e.g. slim's ``Logits/Conv2d_1c_1x1`` is our ``logits``); ``prefix`` goes before every other
    path (our MobileNet v1 keeps its body under ``body.``)."""
    def block(m: re.Match) -> str:
        path = m["path"]
        return aliases[path] if path in aliases else prefix + path.replace("/", ".")

    s = re.escape(scope)
    return (
        (rf"{s}/(?P<path>.+)/BatchNorm/(?P<leaf>beta|gamma|moving_mean|moving_variance)",
         lambda m: (f"{block(m)}.bn", _LEAF[m["leaf"]])),
        (rf"{s}/(?P<path>.+)/(?P<leaf>weights|depthwise_weights|biases)",
         lambda m: (f"{block(m)}.conv", _LEAF[m["leaf"]])),
    )


def _resnet_v2_rules(scope: str) -> tuple[Rule, ...]:
    """TF-slim resnet_v2: a unit's ``<block>/<unit>/bottleneck_v2/<conv>`` is our
    ``<block>.<unit>.<conv>`` (``bottleneck_v2`` left out); its pre-activation BN ``.../preact/<stat>``
    (no ``BatchNorm`` sub-scope) is ``<block>.<unit>.preact.bn``, and ``postnorm/<stat>`` is
    ``postnorm.bn``; the rest is slim's usual ``<path>/weights`` -> ``<path>.conv``."""
    s = re.escape(scope)
    stats = "beta|gamma|moving_mean|moving_variance"
    unit = r"(?P<block>block\d)/(?P<unit>unit_\d+)/bottleneck_v2"
    return (
        (rf"{s}/{unit}/preact/(?P<leaf>{stats})", lambda m: (f"{m['block']}.{m['unit']}.preact.bn", m["leaf"])),
        (rf"{s}/{unit}/(?P<conv>\w+)/BatchNorm/(?P<leaf>{stats})",
         lambda m: (f"{m['block']}.{m['unit']}.{m['conv']}.bn", m["leaf"])),
        (rf"{s}/{unit}/(?P<conv>\w+)/(?P<leaf>weights|biases)",
         lambda m: (f"{m['block']}.{m['unit']}.{m['conv']}.conv", _LEAF[m["leaf"]])),
        (rf"{s}/postnorm/(?P<leaf>{stats})", lambda m: ("postnorm.bn", m["leaf"])),
        (rf"{s}/(?P<conv>conv1|logits)/(?P<leaf>weights|biases)", lambda m: (f"{m['conv']}.conv", _LEAF[m["leaf"]])),
    )


def _slim_fc_rules(scope: str, fcs: tuple[str, ...]) -> tuple[Rule, ...]:
    """slim's fully connected layers ``<scope>/<path>/{weights,biases}`` -> our Dense ``<path>``
    (before ``_slim_rules``, which would read them as convs)."""
    paths = "|".join(re.escape(f) for f in fcs)
    return ((rf"{re.escape(scope)}/(?P<path>{paths})/(?P<leaf>weights|biases)",
             lambda m: (m["path"].replace("/", "."), _LEAF[m["leaf"]])),)


def _inception_resnet_v2_rules() -> tuple[Rule, ...]:
    """slim's Inception-ResNet-v2: the residual blocks' up conv ``<block>/Conv2d_1x1`` is our bare
    ``<block>.Conv2d_1x1`` (facenet's block layout), the two heads' FC layers are Dense, the rest
    is ``_slim_rules``."""
    block = r"(?P<path>Repeat(?:_\d)?/block\d+_\d+|Block8)"
    return (
        (rf"InceptionResnetV2/{block}/Conv2d_1x1/(?P<leaf>weights|biases)",
         lambda m: (f"{m['path'].replace('/', '.')}.Conv2d_1x1", _LEAF[m["leaf"]])),
        *_slim_fc_rules("InceptionResnetV2", ("AuxLogits/Logits", "Logits/Logits")),
        *_slim_rules("InceptionResnetV2", {}),
    )


def _unet_rule(m: re.Match) -> tuple[str, str]:
    """unet.meta: ``layer<i>/conv_<j>/{kernel,bias}``; a stage's norms are ``Variable``,
    ``Variable_1`` (shift, scale of norm_1) and ``Variable_2``, ``Variable_3`` (of norm_2)."""
    if m["conv"]:
        return f"layer{m['i']}.conv_{m['conv']}", m["leaf"]
    k = int(m["k"] or 0)
    return f"layer{m['i']}.norm_{k // 2 + 1}", "beta" if k % 2 == 0 else "gamma"


def _srcnn_rule(m: re.Match) -> tuple[str, str]:
    i = m["i"]
    if m["kind"] == "b" and i == "3":
        return "bias3", "bias"                      # the graph's single shared last bias
    return f"conv{i}", "kernel" if m["kind"] == "w" else "bias"


def _dped_conv(m: re.Match) -> tuple[str, str]:
    """W1/b1 head, W2..W9 two per residual block, W10/W11 the plain convs, W12 the tail."""
    i = int(m["i"])
    weight = "kernel" if m["kind"] == "W" else "bias"
    if i == 1:
        return "head.conv", weight
    if 2 <= i <= 9:
        return f"blocks.{(i - 2) // 2}.conv{(i - 2) % 2 + 1}", weight
    if i in (10, 11):
        return f"convs.{i - 10}.conv", weight
    if i == 12:
        return "tail.conv", weight
    raise KeyError(f"no DPED conv W{i}")


def _dped_norm(m: re.Match) -> tuple[str, str]:
    """``Variable_k``: DPED's _instance_norm creates (shift, scale) per norm, in block order."""
    k = int(m["k"] or 0)
    norm = k // 2
    return f"blocks.{norm // 2}.norm{norm % 2 + 1}", "beta" if k % 2 == 0 else "gamma"


def _srgan_rules() -> tuple[Rule, ...]:
    """tensorlayer SRGAN_g scopes (see torch_models/srgan.py for the table)."""
    return (
        (r"SRGAN_g/(?P<s>n64s0|n64s1)/c/(?P<leaf>W_conv2d|b_conv2d)",
         lambda m: (f"stem.{m['s']}.conv", _LEAF[m["leaf"]])),
        (r"SRGAN_g/n64s1/c(?P<j>[12])/(?P<i>\d+)/W_conv2d",
         lambda m: (f"blocks.{m['i']}.conv{m['j']}", "kernel")),
        (r"SRGAN_g/n64s1/b(?P<j>[12])/(?P<i>\d+)/(?P<leaf>beta|gamma|moving_mean|moving_variance)",
         lambda m: (f"blocks.{m['i']}.bn{m['j']}", m["leaf"])),
        (r"SRGAN_g/n64s1/c/m/W_conv2d", lambda m: ("m.conv", "kernel")),
        (r"SRGAN_g/n64s1/b/m/(?P<leaf>beta|gamma|moving_mean|moving_variance)",
         lambda m: ("m.bn", m["leaf"])),
        (r"SRGAN_g/n256s1/(?P<i>\d)/(?P<leaf>W_conv2d|b_conv2d)",
         lambda m: (f"upsample.{int(m['i']) - 1}.conv", _LEAF[m["leaf"]])),
        (r"SRGAN_g/out/(?P<leaf>W_conv2d|b_conv2d)", lambda m: ("out.conv", _LEAF[m["leaf"]])),
    )


def _icnet_rules() -> tuple[Rule, ...]:
    """ICNet's Caffe-port scopes: a bottleneck's ``conv<i>_<j>_{1x1_reduce,3x3,1x1_increase,1x1_proj}``
    is our ``conv<i>_<j>.{reduce,conv3x3,increase,proj}.conv``; every other scope ``<s>`` (stem,
    branch and head convs, ``final``) is our ``<s>.conv``. BN is folded: weights and biases only."""
    part = {"1x1_reduce": "reduce", "3x3": "conv3x3", "1x1_increase": "increase", "1x1_proj": "proj"}
    return (
        (r"conv(?P<i>[2-5]_\d)_(?P<part>1x1_reduce|3x3|1x1_increase|1x1_proj)/(?P<leaf>weights|biases)",
         lambda m: (f"conv{m['i']}.{part[m['part']]}.conv", _LEAF[m["leaf"]])),
        (r"(?P<s>[^/]+)/(?P<leaf>weights|biases|kernel|bias)", lambda m: (f"{m['s']}.conv", _LEAF[m["leaf"]])),
    )


def _pspnet_rules() -> tuple[Rule, ...]:
    """pspnet.meta: ICNet's scope names with unmerged BN in ``<scope>_bn``: a bottleneck's
    ``conv<i>_<j>_<part>[_bn]`` is our ``conv<i>_<j>.<part>.{conv,bn}``, any other ``<s>[_bn]`` is
    ``<s>.{conv,bn}``."""
    part = {"1x1_reduce": "reduce", "3x3": "conv3x3", "1x1_increase": "increase", "1x1_proj": "proj"}
    leaf = "weights|biases|gamma|beta|moving_mean|moving_variance"

    def target(m: re.Match, block: str) -> tuple[str, str]:
        return f"{block}.{'bn' if m['bn'] else 'conv'}", _LEAF[m["leaf"]]
    return (
        (rf"conv(?P<i>[2-5]_\d)_(?P<part>1x1_reduce|3x3|1x1_increase|1x1_proj)(?P<bn>_bn)?/(?P<leaf>{leaf})",
         lambda m: target(m, f"conv{m['i']}.{part[m['part']]}")),
        (rf"(?P<s>[^/]+?)(?P<bn>_bn)?/(?P<leaf>{leaf})", lambda m: target(m, m["s"])),
    )


def _deeplab_rules() -> tuple[Rule, ...]:
    """deeplab.meta (Caffe ResNet-101 names): ``res<u>_branch<b>/weights`` and
    ``bn<u>_branch<b>/<stat>`` are our ``res<u>.<part>.{conv,bn}`` (``branch2a`` -> ``reduce``,
    ``2b`` -> ``conv3x3``, ``2c`` -> ``increase``, ``1`` -> ``proj``); ``conv1`` / ``bn_conv1``
    are ``conv1.{conv,bn}``; ``fc1_voc12_c<i>`` is ``fc1_voc12_c<i>.conv``."""
    part = {"branch2a": "reduce", "branch2b": "conv3x3", "branch2c": "increase", "branch1": "proj"}
    stats = "gamma|beta|moving_mean|moving_variance"
    return (
        (r"res(?P<u>\w+?)_(?P<b>branch\w+)/weights", lambda m: (f"res{m['u']}.{part[m['b']]}.conv", "kernel")),
        (rf"bn(?P<u>\w+?)_(?P<b>branch\w+)/(?P<leaf>{stats})",
         lambda m: (f"res{m['u']}.{part[m['b']]}.bn", m["leaf"])),
        (r"conv1/weights", lambda m: ("conv1.conv", "kernel")),
        (rf"bn_conv1/(?P<leaf>{stats})", lambda m: ("conv1.bn", m["leaf"])),
        (r"(?P<s>fc1_voc12_c\d)/(?P<leaf>weights|biases)", lambda m: (f"{m['s']}.conv", _LEAF[m["leaf"]])),
    )


def _spade_rules() -> tuple[Rule, ...]:
    """spade.meta: ``generator/<scope path>[/conv2d]/<leaf>`` -> our ``<scope path>`` with '.'
    (the ``conv2d`` sub-scopes of the plain convs dropped); ``u`` is the spectral norm's vector."""
    return ((r"generator/(?P<path>.+?)(?:/conv2d)?/(?P<leaf>kernel|bias|u)",
             lambda m: (m["path"].replace("/", "."), m["leaf"])),)


def _gnmt_rules() -> tuple[Rule, ...]:
    """tensorflow/nmt's GNMT scopes onto the twin's layers (docs/gnmt_graph.md, section 1): every
    BasicLSTMCell by ``tf1_lstm_rules``, the rest kernels and embeddings as they are."""
    enc, dec = "dynamic_seq2seq/encoder", "dynamic_seq2seq/decoder"
    att = f"{dec}/multi_rnn_cell/cell_0_attention/attention"
    cells = [*tf1_lstm_rules(f"{enc}/bidirectional_rnn/fw/basic_lstm_cell", "encoder_bi_fw"),
             *tf1_lstm_rules(f"{enc}/bidirectional_rnn/bw/basic_lstm_cell", "encoder_bi_bw"),
             *tf1_lstm_rules(f"{att}/basic_lstm_cell", "decoder_cells.0")]
    for k in range(tables.GNMT_ENCODER_UNI_LAYERS):
        cells += tf1_lstm_rules(f"{enc}/rnn/multi_rnn_cell/cell_{k}/basic_lstm_cell", f"encoder_uni.{k}")
    for k in range(1, tables.GNMT_DECODER_LAYERS):
        cells += tf1_lstm_rules(f"{dec}/multi_rnn_cell/cell_{k}/basic_lstm_cell", f"decoder_cells.{k}")
    return (
        *cells,
        (r"embeddings/(?P<side>encoder|decoder)/embedding_(?P=side)", lambda m: (f"embedding_{m['side']}", "embeddings")),
        (rf"{re.escape(att)}/bahdanau_attention/query_layer/kernel", lambda m: ("query_layer", "kernel")),
        (rf"{re.escape(att)}/bahdanau_attention/(?P<w>attention_[vgb])", lambda m: ("attention", m["w"])),
        (rf"{dec}/(?P<layer>memory_layer|output_projection)/kernel", lambda m: (m["layer"], "kernel")),
    )


# Caffe's BGR-order ImageNet means that icnet.meta subtracts from its input (`sub` op).
ICNET_MEAN = tables.ICNET_MEAN


@dataclass(frozen=True)
class GraphSpec:
    """How one AI Benchmark graph relates to our twin: ``graph_in = x * in_scale + in_shift``
    for our input x (``in_shift`` a scalar or one value per channel), and
    ``ours = graph_out * out_scale + out_shift``."""

    model: str
    meta: str
    rules: tuple[Rule, ...]
    in_scale: float = 1.0
    in_shift: float | tuple[float, ...] = 0.0
    out_scale: float = 1.0
    out_shift: float = 0.0
    output: str = "output:0"
    # the graph's further heads, in the order the twins return them after the main output (the
    # Inception aux logits): every head of the twins is compared against the graph's
    heads: tuple[str, ...] = ()
    # ops that ``uncompared_heads`` finds but that are no heads (dead ends of the graph), by regex
    dead_ends: str = ""
    # the placeholder's fixed size, if any (Inception-v3's takes any size: AI Benchmark's 346 here is
    # where its MACs are counted); where the reference check runs is read off the placeholder itself
    input_size: tuple[int, int] | None = None
    feeds: tuple[tuple[str, Callable[[], np.ndarray]], ...] = ()   # other graph tensors to set, e.g. a latent z
    note: str = ""
    # graph_macs: the tensor a fixed-shape placeholder replaces (GNMT's string input has no shape:
    # its ids [1, T] are fixed instead) and its dtype; the steps of a while loop (by its scope)
    # whose input TensorArray does not fix them (GNMT's decoder), from that placeholder's shape
    macs_input: str = "input:0"
    macs_input_dtype: str = "float32"
    loop_steps: Callable[[tuple[int, ...], str], int] | None = None
    # the value of every dimension shape inference leaves unknown (GNMT: the source length, which
    # the attention's sequence mask takes from Max(source lengths) at run time; the memory layer's
    # Tensordot rows are batch 1 x that length)
    dynamic_dim: Callable[[tuple[int, ...]], int] | None = None


GRAPHS: dict[str, GraphSpec] = {spec.model: spec for spec in (
    GraphSpec("mobilenet_v2", "mobilenet_v2.meta",
              _slim_rules("MobilenetV2", {"Logits/Conv2d_1c_1x1": "logits"}),
              in_scale=127.5, in_shift=127.5,       # graph: (x/255 - 0.5) * 2
              input_size=(224, 224), note="output:0 is MobilenetV2/Logits/output (logits)"),
    GraphSpec("srcnn", "srcnn.meta",
              ((r"generator/(?P<kind>[wb])(?P<i>\d)", _srcnn_rule),),
              in_scale=255.0, out_scale=1 / 255.0),     # graph: x/255 ... * 255
    GraphSpec("vdsr", "vgg19.meta",
              ((r"conv_(?P<i>\d\d)_(?P<kind>[wb])",
                lambda m: (f"body.conv_{m['i']}", "kernel" if m["kind"] == "w" else "bias")),),
              in_scale=255.0, out_scale=1 / 255.0),
    GraphSpec("dped", "dped.meta",
              ((r"generator/(?P<kind>[Wb])(?P<i>\d+)", _dped_conv),
               (r"generator/Variable(?:_(?P<k>\d+))?", _dped_norm)),
              in_scale=255.0, out_scale=1 / 255.0),
    GraphSpec("srgan", "srgan.meta", _srgan_rules(),
              in_scale=127.5, in_shift=127.5,        # graph: x/127.5 - 1 ... (y + 1) * 127.5
              out_scale=1 / 127.5, out_shift=-1.0),
    GraphSpec("inception_v3", "inception_v3.meta", _slim_rules("InceptionV3", {}),
              in_scale=127.5, in_shift=127.5,       # graph: (x/255 - 0.5) * 2, as mobilenet_v2
              output="InceptionV3/Logits/SpatialSqueeze:0", heads=("InceptionV3/AuxLogits/SpatialSqueeze:0",),
              input_size=(346, 346),
              note="output:0 is softmax(logits); the main logits and the aux head's logits (a sink of the graph "
                   "that output:0 does not reach) are compared"),
    GraphSpec("inception_v4", "inception_v4.meta",
              (*_slim_fc_rules("InceptionV4", ("AuxLogits/Aux_logits", "Logits/Logits")),
               *_slim_rules("InceptionV4", {})),
              in_scale=127.5, in_shift=127.5, output="InceptionV4/Logits/Logits/BiasAdd:0",
              heads=("InceptionV4/AuxLogits/Aux_logits/BiasAdd:0",), input_size=(346, 346),
              note="output:0 is softmax(logits); the main logits and the aux head's logits (a sink of the graph "
                   "that output:0 does not reach) are compared"),
    GraphSpec("inception_resnet_v2", "inception_resnet_v2.meta", _inception_resnet_v2_rules(),
              in_scale=127.5, in_shift=127.5, output="InceptionResnetV2/Logits/Logits/BiasAdd:0",
              heads=("InceptionResnetV2/AuxLogits/Logits/BiasAdd:0",), input_size=(346, 346),
              note="output:0 is softmax(logits); the main logits and the aux head's logits (a sink of the graph "
                   "that output:0 does not reach) are compared"),
    GraphSpec("unet", "unet.meta",
              ((r"layer(?P<i>\d)/(?:conv_(?P<conv>[12])/(?P<leaf>kernel|bias)|Variable(?:_(?P<k>\d))?)", _unet_rule),
               (r"(?P<up>upsample_\d)/(?P<leaf>kernel|bias)", lambda m: (m["up"], m["leaf"])),
               (r"final/(?P<leaf>kernel|bias)", lambda m: ("final.conv", m["leaf"]))),
              in_scale=127.5, in_shift=127.5,       # graph: x / 127.5 - 1 ... * 255
              out_scale=1 / 255.0, note="output:0 is (tanh(final) * 0.58 + 0.5) * 255"),
    GraphSpec("pspnet", "pspnet.meta", _pspnet_rules(),
              in_shift=ICNET_MEAN,                  # the graph subtracts ICNet's mean; the twin takes x - mean
              note="output:0 is conv6/BiasAdd (AI Benchmark's 3 channels at 1/8 of the input size)"),
    GraphSpec("deeplab", "deeplab.meta", _deeplab_rules(),
              in_shift=ICNET_MEAN,                  # the graph subtracts ICNet's mean; the twin takes x - mean
              note="output:0 is fc1_voc12 (the ASPP sum: AI Benchmark's 3 channels at 1/8 of the input size)"),
    GraphSpec("spade", "spade.meta", _spade_rules(),
              in_scale=127.5, in_shift=127.5,       # graph: x / 127.5 - 1 ... (tanh + 1) * 27.5
              out_scale=1 / tables.SPADE_OUT_SCALE, out_shift=-1.0, input_size=(128, 128),
              feeds=(("generator/random_normal:0", tables.spade_latent),),
              note="output:0 is (tanh(logit) + 1) * 27.5; the graph's z draw is replaced by the twins' fixed "
                   "z (tables.spade_latent), fed to generator/random_normal"),
    GraphSpec("vgg_16", "vgg_16.meta", _slim_rules("vgg_16", {}),
              in_scale=127.5, in_shift=127.5,       # graph: (x/255 - 0.5) * 2
              input_size=(224, 224), note="output:0 is vgg_16/fc8/squeezed (logits)"),
    *(GraphSpec(f"resnet_v2_{d}", f"resnet_v2_{d}.meta", _resnet_v2_rules(f"resnet_v2_{d}"),
                in_scale=127.5, in_shift=127.5, output=f"resnet_v2_{d}/SpatialSqueeze:0", input_size=size,
                note="output:0 is softmax(logits); the logits are compared")
      for d, size in ((50, (346, 346)), (152, (256, 256)))),
    GraphSpec("lstm_sentiment", "lstm.meta",
              (*tf1_lstm_rules("rnn/basic_lstm_cell", "rnn"),
               (r"Variable(?P<b>_1)?", lambda m: ("fc", "bias" if m["b"] else "kernel"))),
              input_size=(tables.LSTM_SENTIMENT_STEPS, tables.LSTM_SENTIMENT_FEATURES),   # its transpose fixes 1024
              # dynamic_rnn's zeros for copying finished sequences through: read only with a
              # sequence_length, which the graph does not pass
              dead_ends=r"rnn/zeros",
              note="output:0 is the FC on the last step's output (2 logits); Variable / Variable_1 are its "
                   "kernel and bias (ai_benchmark/models.py W_fc, b_fc)"),
    GraphSpec("pixel_rnn", "pixel_rnn.meta",
              ((r"(?P<path>.+)/(?P<leaf>weights|biases)",     # the cell's scope (rnn/DiagonalBiLSTMCell) left out
                lambda m: (m["path"].replace("/rnn/DiagonalBiLSTMCell/", "/").replace("/", "."), _LEAF[m["leaf"]])),),
              in_scale=255.0, out_scale=1 / 255.0,  # graph: x / 255 ... sigmoid * 255
              input_size=tables.PIXEL_RNN_SIZE,
              # each direction's skewed map split into its 127 columns, each squeezed, a list no op
              # reads (its dynamic_rnn takes the whole map), dynamic_rnn's copy-through zeros, and the
              # training loss (Mean of the sigmoid cross-entropy against the input, scope loss/)
              dead_ends=r"LSTM\d/output_state_(fw|bw)/(Squeeze(_\d+)?|rnn/zeros)|Mean",
              note="output:0 is sigmoid(conv2d_out_logits) * 255; the recurrent cell's s_to_s conv is our "
                   "<direction>.s_to_s (DiagonalLSTMScan)"),
    GraphSpec("gnmt", "gnmt.meta", _gnmt_rules(), output="output:0",
              macs_input="ExpandDims:0", macs_input_dtype="int32",
              loop_steps=lambda shape, scope: (tables.gnmt_decoding_steps(shape[1]) if scope.startswith(
                  "dynamic_seq2seq/decoder/") else shape[1]),
              dynamic_dim=lambda shape: shape[1],
              note="input:0 is a sentence (scalar string), output:0 its translation [steps, 1] (strings); the "
                   "twins take the graph's ids (conformance.lib.text, the graph's own vocabulary file) and are "
                   "compared on the ids and, replaying the graph's ids, on every step's logits; nmt's int32 global "
                   "step (Variable) is not a weight"),
    GraphSpec("icnet", "icnet.meta", _icnet_rules(),
              in_shift=ICNET_MEAN,                  # the graph subtracts the mean; the twin takes x - mean
              input_size=(1024, 1536), note="output:0 is final/Tanh (AI Benchmark's 19 -> 3 head)"),
)}


def register(spec: GraphSpec) -> None:
    GRAPHS[spec.model] = spec


class ReferenceUnavailable(RuntimeError):
    """The check cannot run here (package missing, no graph for the network); says why."""


def graph_path(spec: GraphSpec) -> Path:
    from conformance.lib.inputs import MissingImagesError, ai_benchmark_data_dir
    try:
        root = ai_benchmark_data_dir().parent
    except MissingImagesError as exc:
        raise ReferenceUnavailable(str(exc)) from None
    path = root / "models" / spec.meta
    if not path.exists():
        raise ReferenceUnavailable(f"{path} is missing from the installed ai-benchmark package")
    return path


@dataclass
class Mapping:
    pairs: list[dict[str, Any]]            # graph var -> Keras layer/weight, with shapes
    graph_leftovers: list[str]             # graph variables no rule or no Keras weight took
    keras_leftovers: list[str]             # Keras weights no graph variable fed
    shape_mismatches: list[str]
    splits: dict[str, Split] = field(default_factory=dict)     # graph vars mapped by a Split rule
    targets: dict[str, tuple[str, str]] = field(default_factory=dict)   # the others: their one Keras weight

    @property
    def complete(self) -> bool:
        return not (self.graph_leftovers or self.keras_leftovers or self.shape_mismatches)

    def keras_values(self, name: str, array: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
        """The Keras weights graph variable ``name`` holds, from its value ``array``."""
        split = self.splits.get(name)
        if split is None:
            return {self.targets[name]: array}
        return dict(zip(split.parts, split.to_keras(np.asarray(array))))

    def graph_value(self, name: str, kvalues: dict[tuple[str, str], np.ndarray]) -> np.ndarray:
        """Graph variable ``name``'s value from the Keras weights it maps to."""
        split = self.splits.get(name)
        if split is None:
            return kvalues[self.targets[name]]
        return split.to_graph(tuple(kvalues[part] for part in split.parts))


def map_variables(spec: GraphSpec, variables: list[tuple[str, tuple[int, ...]]], keras_model) -> Mapping:
    """Map (name, shape) graph variables onto the Keras twin's weights with ``spec.rules``; a rule
    returns a (layer, weight) target or a ``Split``."""
    kweights = {(layer.name, w.path.rsplit("/", 1)[-1]): w for layer in keras_model.layers for w in layer.weights}
    used: set[tuple[str, str]] = set()
    pairs, graph_left, mismatches = [], [], []
    splits: dict[str, Split] = {}
    targets: dict[str, tuple[str, str]] = {}
    for name, shape in variables:
        target = None
        for pattern, fn in spec.rules:
            m = re.fullmatch(pattern, name)
            if m:
                try:
                    target = fn(m)
                except KeyError:
                    target = None
                break
        split = target if isinstance(target, Split) else None
        parts = split.parts if split else ((target,) if target else ())
        missing = [t for t in parts if t not in kweights]
        if not parts or missing:
            graph_left.append(f"{name} {list(shape)}" + (f" (-> {missing[0][0]}/{missing[0][1]}: no such Keras weight)"
                                                          if missing else " (no rule)"))
            continue
        taken = [t for t in parts if t in used]
        if taken:
            mismatches.append(f"{name}: Keras weight {taken[0][0]}/{taken[0][1]} is already fed by another variable")
            continue
        used.update(parts)
        if split:
            splits[name] = split
            shapes = [a.shape for a in split.to_keras(np.zeros(shape, dtype=np.float32))]
        else:
            targets[name] = target
            shapes = [tuple(shape)]
        for t, want in zip(parts, shapes):
            kshape = tuple(kweights[t].shape)
            pair = {"graph": name, "graph_shape": list(shape), "keras_layer": t[0], "keras_weight": t[1],
                    "keras_shape": list(kshape)}
            if split:
                pair["how"] = split.how
            pairs.append(pair)
            if kshape != tuple(want):
                mismatches.append(f"{name} {list(shape)} -> {t[0]}/{t[1]} {list(kshape)}"
                                  + (f" (the rule gives {list(want)})" if split else ""))
    keras_left = [f"{layer}/{w} {list(kweights[(layer, w)].shape)}" for layer, w in kweights if (layer, w) not in used]
    return Mapping(pairs, graph_left, keras_left, mismatches, splits, targets)


def _model_variables(graph) -> list:
    import tensorflow as tf
    with graph.as_default():
        return [v for v in tf.compat.v1.global_variables()
                if not re.search(r"(Adam|_power|global_step|Momentum|RMSProp)", v.op.name)]


def _load(sess, variables: list, value_of: Callable[[str], np.ndarray]) -> None:
    """Every variable's initializer fed with our value (no extra ops in the graph), in one
    ``Session.run``: a run per variable prunes the graph anew each time (Inception-ResNet-v2's 908
    variables took 63 s that way)."""
    sess.run([v.initializer for v in variables], {v.initial_value: value_of(v.op.name) for v in variables})


class OpenGraph:
    """An AI Benchmark graph imported once with its session open, so the twins' weights can be
    loaded into it and it can run at several sizes without importing it again (``open_graph``)."""

    def __init__(self, spec: GraphSpec) -> None:
        import tensorflow as tf
        self.spec = spec
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.compat.v1.train.import_meta_graph(str(graph_path(spec)), clear_devices=True)
            self.variables = _model_variables(self.graph)
        self.sess = tf.compat.v1.Session(graph=self.graph)
        placeholder = self.graph.get_tensor_by_name("input:0").shape
        # (H, W) of input:0, None where it takes any size
        self.input_hw = tuple(placeholder.as_list()[1:3]) if placeholder.rank and placeholder.rank >= 3 else None

    def close(self) -> None:
        self.sess.close()

    def map(self, keras_model) -> Mapping:
        return map_variables(self.spec, [(v.op.name, tuple(v.shape.as_list())) for v in self.variables], keras_model)

    def load(self, value_of: Callable[[str], np.ndarray]) -> None:
        _load(self.sess, self.variables, value_of)

    def run(self, x_nhwc: np.ndarray, fetch: tuple[str, ...]) -> list[np.ndarray]:
        """The fetched tensors for our input ``x_nhwc``, each in our output convention
        (``out_scale``, ``out_shift``)."""
        spec, graph = self.spec, self.graph
        graph_in = x_nhwc * spec.in_scale + np.asarray(spec.in_shift, dtype=np.float32)
        feed = {graph.get_tensor_by_name("input:0"): graph_in.astype(np.float32)}
        feed.update({graph.get_tensor_by_name(name): value() for name, value in spec.feeds})
        if any(op.name == "use_dropout" for op in graph.get_operations()):
            feed[graph.get_tensor_by_name("use_dropout:0")] = False
        outs = self.sess.run([graph.get_tensor_by_name(name) for name in fetch], feed)
        return [out * spec.out_scale + spec.out_shift for out in outs]


@contextlib.contextmanager
def open_graph(spec: GraphSpec) -> Iterator[OpenGraph]:
    g = OpenGraph(spec)
    try:
        yield g
    finally:
        g.close()


def keras_weight_values(keras_model) -> dict[tuple[str, str], np.ndarray]:
    """(layer, weight) -> value of every Keras weight (read eagerly, outside any graph)."""
    return {(layer.name, w.path.rsplit("/", 1)[-1]): np.asarray(w.numpy())
            for layer in keras_model.layers for w in layer.weights}


def run_graph(spec: GraphSpec, keras_model, x_nhwc: np.ndarray,
              values: dict[str, np.ndarray] | None = None) -> tuple[Mapping, np.ndarray | None]:
    """Load the graph, map and load the Keras twin's weights into it, run it on ``x_nhwc`` (our
    input convention). Returns the mapping and the graph's output in our output convention
    (None when the mapping is incomplete: nothing is run on a half-loaded graph). ``values``
    (by the graph's own variable names, e.g. a checkpoint saved from it) are loaded instead of
    the twin's weights: the graph then runs without any of our mapping rules."""
    kvalues = keras_weight_values(keras_model)      # eager, before the graph is imported
    with open_graph(spec) as g:
        mapping = g.map(keras_model)
        if values is not None:
            missing = [f"{v.op.name} (not among the values)" for v in g.variables if v.op.name not in values]
            mapping = Mapping([{"graph": v.op.name} for v in g.variables if v.op.name in values], missing, [], [])
            value_of = values.__getitem__
        else:
            def value_of(name: str) -> np.ndarray:
                return mapping.graph_value(name, kvalues)
        if not mapping.complete:
            return mapping, None
        g.load(value_of)
        return mapping, g.run(x_nhwc, (spec.output,))[0]


def uncompared_heads(graph, compared: tuple[str, ...]) -> list[str]:
    """The graph's heads that no compared tensor accounts for: floating-point ops a data source
    reaches, whose outputs nothing consumes, outside while loops and the saver, and not computed
    from a compared tensor (a softmax of compared logits is that head's). The Inceptions' aux
    logits are such a head: ``output:0`` does not reach them."""
    data = _data_dependent(graph)

    def producer(name: str):
        op = graph.get_tensor_by_name(name).op
        while op.type == "Identity" and op.inputs:          # output:0 is an Identity of the logits
            op = op.inputs[0].op
        return op
    covered: set[str] = set()
    stack = [producer(t) for t in compared]
    while stack:
        op = stack.pop()
        if op.name not in covered:
            covered.add(op.name)
            stack += [c for out in op.outputs for c in out.consumers()]
    return [op.name for op in graph.get_operations()
            if op.name in data and op.name not in covered and op.outputs and op._control_flow_context is None
            and not any(out.consumers() for out in op.outputs) and not op.type.startswith(("Assign", "Apply"))
            and not op.type.startswith("Placeholder") and not op.name.startswith(("save", "gradients/"))
            and all(out.dtype.is_floating for out in op.outputs)]


def _data_dependent(graph) -> set[str]:
    """Names of the ops that a data source reaches: the graph's placeholders and its random ops
    outside variable initialisers (SPADE draws its latent z with ``RandomStandardNormal``)."""
    sources = [op for op in graph.get_operations()
               if op.type.startswith("Placeholder") or (op.type.startswith("Random") and "Initializer" not in op.name)]
    seen = {op.name for op in sources}
    stack = list(sources)
    while stack:
        for out in stack.pop().outputs:
            for consumer in out.consumers():
                if consumer.name not in seen:
                    seen.add(consumer.name)
                    stack.append(consumer)
    return seen


def _loop_trips(graph, op, steps_of: Callable[[str], int] | None = None) -> int:
    """How many times an op runs per forward pass: 1 outside loops; inside a ``dynamic_rnn``'s
    while loop, the number of steps, read off the static first dimension of the loop's input
    TensorArray (``<scope>/TensorArrayUnstack/TensorArrayScatter``: the time-major input); where
    that is not static or the loop has none (GNMT: an encoder layer fed by a ReverseSequence,
    the decoder), ``steps_of(scope)``."""
    ctx = op._control_flow_context
    if ctx is None or not ctx.name.endswith("while/while_context"):
        return 1
    scope = ctx.name[: -len("while/while_context")]
    try:
        scatter = graph.get_operation_by_name(f"{scope}TensorArrayUnstack/TensorArrayScatter/TensorArrayScatterV3")
        steps = scatter.inputs[2].shape[0]
    except KeyError:
        steps = None
    if steps is None and steps_of is not None:
        return steps_of(scope)
    if steps is None:
        raise ValueError(f"{op.name}: the number of steps of loop {scope!r} is not fixed")
    return int(steps)


def graph_macs(spec: GraphSpec, size: tuple[int, int], channels: int = 3, shape: tuple[int, ...] | None = None) -> int:
    """Conv and FC MACs of the graph itself at ``size``, read off its own ops: the graph is
    imported with ``input:0`` mapped to a fixed-shape placeholder so TF's shape inference fixes
    every shape, then each Conv2D / DepthwiseConv2dNative / Conv2DBackpropInput / MatMul adds
    kernel size x input channels (1 for depthwise) x output elements (an atrous conv written as
    SpaceToBatchND -> Conv2D -> BatchToSpaceND counted at its cropped output); ops no input or
    random source reaches compute on weights only (SPADE's spectral norm) and are not the
    network's MACs; nor are a training graph's (``gradients/`` scope). An op inside a recurrent
    layer's while loop counts once per step (``_loop_trips``). ``shape``: the input placeholder's
    whole shape, where it is not the image batch [1, H, W, channels]. A third counter, beside the
    torch FLOP counter and the Keras walk, that shares no code with either."""
    import tensorflow as tf
    graph = tf.Graph()
    total = 0
    with graph.as_default():
        shape = list(shape) if shape else [1, *size, channels]
        fixed = tf.compat.v1.placeholder(getattr(tf, spec.macs_input_dtype), shape)
        tf.compat.v1.train.import_meta_graph(str(graph_path(spec)), clear_devices=True,
                                             input_map={spec.macs_input: fixed})
        data = _data_dependent(graph)
        steps_of = (lambda scope: spec.loop_steps(tuple(shape), scope)) if spec.loop_steps else None
        for op in graph.get_operations():
            if op.type not in ("Conv2D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "MatMul",
                               "BatchMatMul", "BatchMatMulV2"):
                continue
            if op.name not in data or op.name.startswith("gradients/"):
                continue                # weight preprocessing (SPADE's spectral norm), or training
            trips = _loop_trips(graph, op, steps_of)
            out, kernel = op.outputs[0].shape, op.inputs[1].shape
            to_space = [c for c in op.outputs[0].consumers() if c.type == "BatchToSpaceND"]
            if op.type == "Conv2D" and to_space:
                # TF1's atrous conv: SpaceToBatchND pads the map to a multiple of the rate, the conv
                # runs on the blocks, BatchToSpaceND crops; the dilated conv itself is its cropped
                # output (the padding's extra rows are the implementation's, not the network's)
                out = to_space[0].outputs[0].shape
            o, k = out.as_list(), kernel.as_list()
            if spec.dynamic_dim is not None:
                fill = spec.dynamic_dim(tuple(shape))
                o, k = [fill if d is None else d for d in o], [fill if d is None else d for d in k]
            if o and o[0] is None:
                o[0] = 1            # the batch (1): shape inference loses it through a while loop's
                                    # Merge and TensorArrays (the recurrent graphs)
            if None in o or None in k:
                raise ValueError(f"{spec.meta}: shape of {op.name} not fixed at {size}: {out} x {kernel}")
            if op.type == "Conv2D":
                total += trips * int(np.prod(o)) * k[0] * k[1] * k[2]
            elif op.type == "DepthwiseConv2dNative":
                total += trips * int(np.prod(o)) * k[0] * k[1]
            elif op.type == "Conv2DBackpropInput":        # transposed conv: per input element
                total += trips * int(np.prod(op.inputs[2].shape.as_list())) * k[0] * k[1] * k[2]
            elif op.type.startswith("BatchMatMul"):          # GNMT's attention context
                total += trips * int(np.prod(o)) * (k[-1] if op.get_attr("adj_y") else k[-2])
            else:
                total += trips * o[0] * o[1] * (k[0] if not op.get_attr("transpose_b") else k[1])
    return total


# GNMT's graph: the three table initialisers' vocabulary paths; the graph's ids, logits and output
_GNMT_ASSETS = ("string_to_index/hash_table/table_init/asset_filepath:0",
                "string_to_index_1/hash_table/table_init/asset_filepath:0",
                "index_to_string/table_init/asset_filepath:0")


_GNMT_FETCH = {"source_ids": "ExpandDims:0",
               "logits": "dynamic_seq2seq/decoder/decoder/TensorArrayStack/TensorArrayGatherV3:0",
               "ids": "dynamic_seq2seq/decoder/decoder/TensorArrayStack_1/TensorArrayGatherV3:0",
               "output": "output:0"}


def gnmt_input_map() -> dict[str, Any]:
    """import_meta_graph's input_map for gnmt.meta: its tables' vocabulary path (relative to the
    package directory, where AI Benchmark chdirs) as the installed file (call in the graph)."""
    import tensorflow as tf
    from conformance.lib.inputs import ai_benchmark_data_dir
    path = tf.constant(str(ai_benchmark_data_dir().parent / tables.GNMT_VOCAB_FILE))
    return {name: path for name in _GNMT_ASSETS}


def run_gnmt_graph(spec: GraphSpec, keras_model, sentences: tuple[str, ...]) -> tuple[Mapping, list[dict[str, Any]] | None]:
    """gnmt.meta with the Keras twin's weights translating each of ``sentences`` (one import, one
    load): the mapping and, per sentence, the graph's source ids [1, T], logits [steps, vocab],
    greedy ids [steps] and output strings [steps] (None when the mapping is incomplete)."""
    import tensorflow as tf
    kvalues = keras_weight_values(keras_model)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.train.import_meta_graph(str(graph_path(spec)), clear_devices=True, input_map=gnmt_input_map())
        variables = [v for v in _model_variables(graph) if v.dtype.base_dtype.is_floating]   # not nmt's step
        mapping = map_variables(spec, [(v.op.name, tuple(v.shape.as_list())) for v in variables], keras_model)
        if not mapping.complete:
            return mapping, None
        results = []
        with tf.compat.v1.Session(graph=graph) as sess:
            _load(sess, variables, lambda name: mapping.graph_value(name, kvalues))
            sess.run(tf.compat.v1.tables_initializer())
            for sentence in sentences:
                out = sess.run({k: graph.get_tensor_by_name(t) for k, t in _GNMT_FETCH.items()},
                               {graph.get_tensor_by_name("input:0"): sentence})
                results.append({"source_ids": out["source_ids"], "logits": out["logits"][:, 0], "ids": out["ids"][:, 0],
                                "output": [b.decode("utf-8") for b in out["output"][:, 0]]})
    return mapping, results


def gnmt_sentence(tokens: int) -> str:
    """AI Benchmark's sentence cut to its first ``tokens`` words (the package ships no other)."""
    return " ".join(tables.GNMT_SENTENCE.split(" ")[:tokens])


def graph_networks() -> list[str]:
    return [n for n in GRAPHS if n in catalogue.names()]
