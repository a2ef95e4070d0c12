"""How an AI Benchmark graph, or a TF checkpoint, names a network's weights, as data a family's
spec holds (``Network.graph``, ``Network.checkpoint``): the rules that read one naming dialect
(TF-slim scopes, tensorlayer scopes, bare ``w1``/``Variable_3``) onto our layer names, and how the
graph's input and output relate to the twins'. Numbered variables are mapped by arithmetic on the
number, not one by one. ``conformance.lib.graphs`` runs the graphs; ``conformance.port`` reads
checkpoints with the same rules. numpy is imported only where a rule runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from twinzoo import tables

if TYPE_CHECKING:
    import numpy as np

# (variable-name regex, function of the match -> (our layer name, Keras weight name))
# (variable-name regex, function of the match -> (our layer name, Keras weight name))
Rule = tuple[str, Callable[[re.Match], tuple[str, str]]]


# leaf variable names of the dialects -> Keras weight names
LEAF = {
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
    import numpy as np
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

    def kernel_to_graph(parts: tuple[np.ndarray, ...]) -> np.ndarray:
        import numpy as np
        return reorder_gates(np.concatenate(parts, axis=0), stock, tf1)

    def bias_to_keras(a: np.ndarray) -> tuple[np.ndarray, ...]:
        return (shift_forget_bias(reorder_gates(a, tf1, stock), forget_bias),)

    def bias_to_graph(parts: tuple[np.ndarray, ...]) -> np.ndarray:
        return reorder_gates(shift_forget_bias(parts[0], -forget_bias), stock, tf1)

    s = re.escape(scope)
    return (
        (rf"{s}/kernel", lambda m: Split(((layer, "kernel"), (layer, "recurrent_kernel")), kernel_to_keras, kernel_to_graph,
                                         "rows [x, h] split into kernel and recurrent_kernel; gates (i, j, f, o) "
                                         "-> (i, f, j, o)")),
        (rf"{s}/bias", lambda m: Split(((layer, "bias"),), bias_to_keras, bias_to_graph,
                                       f"gates (i, j, f, o) -> (i, f, j, o); the cell's run-time forget_bias "
                                       f"{forget_bias:g} added to the forget gate's bias")),
    )


def slim_rules(scope: str, aliases: dict[str, str], prefix: str = "") -> tuple[Rule, ...]:
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
         lambda m: (f"{block(m)}.bn", LEAF[m["leaf"]])),
        (rf"{s}/(?P<path>.+)/(?P<leaf>weights|depthwise_weights|biases)",
         lambda m: (f"{block(m)}.conv", LEAF[m["leaf"]])),
    )


def resnet_v2_rules(scope: str) -> tuple[Rule, ...]:
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
         lambda m: (f"{m['block']}.{m['unit']}.{m['conv']}.conv", LEAF[m["leaf"]])),
        (rf"{s}/postnorm/(?P<leaf>{stats})", lambda m: ("postnorm.bn", m["leaf"])),
        (rf"{s}/(?P<conv>conv1|logits)/(?P<leaf>weights|biases)", lambda m: (f"{m['conv']}.conv", LEAF[m["leaf"]])),
    )


def slim_fc_rules(scope: str, fcs: tuple[str, ...]) -> tuple[Rule, ...]:
    """slim's fully connected layers ``<scope>/<path>/{weights,biases}`` -> our Dense ``<path>``
    (before ``slim_rules``, which would read them as convs)."""
    paths = "|".join(re.escape(f) for f in fcs)
    return ((rf"{re.escape(scope)}/(?P<path>{paths})/(?P<leaf>weights|biases)",
             lambda m: (m["path"].replace("/", "."), LEAF[m["leaf"]])),)


@dataclass(frozen=True)
class GraphSpec:
    """How one AI Benchmark graph relates to our twin: ``graph_in = x * in_scale + in_shift``
    for our input x (``in_shift`` a scalar or one value per channel), and
    ``ours = graph_out * out_scale + out_shift``."""

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
    model: str = ""             # the network's name: filled in when its family registers it


@dataclass(frozen=True)
class Dialect:
    """A TF checkpoint naming dialect: ``rules`` as ``conformance.lib.graphs``'s (name regex ->
    our Keras layer and weight), the variables it stores that are not the network's (``ignore``:
    regex, reason), and weights it does not store because they are constant (``fill``: Keras
    weight leaf -> value, reason)."""
    name: str
    rules: tuple
    ignore: tuple[tuple[str, str], ...] = ()
    fill: tuple[tuple[str, float, str], ...] = ()
