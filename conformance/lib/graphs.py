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

The graphs name their variables in their authors' dialects; the rules that read each one onto
our layer names are data in the network's spec (``Network.graph``, a ``twinzoo.graphs.GraphSpec``).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from twinzoo import catalogue
from twinzoo.zoo import gnmt as gnmt_spec
from twinzoo.graphs import GraphSpec, Split

# every network's graph spec by name, in catalogue order (read at call time: tests replace entries)
GRAPHS: dict[str, GraphSpec] = {n.name: n.graph for n in catalogue.networks() if n.graph is not None}


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
    path = tf.constant(str(ai_benchmark_data_dir().parent / gnmt_spec.GNMT_VOCAB_FILE))
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
    return " ".join(gnmt_spec.GNMT_SENTENCE.split(" ")[:tokens])


def graph_networks() -> list[str]:
    return list(GRAPHS)
