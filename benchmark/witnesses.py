"""Witnesses: the same network from an independent definition, timed in the same runtime as our
twin, so the report shows what our definitions cost against theirs (goal: ours/theirs <= 1.05).

- keras.applications ``MobileNet``, ``MobileNetV2``, ``InceptionV3`` (weights=None) against our
  Keras twin built with the options that make it the same network (``conformance.lib.keras_witness``),
  in Keras (compiled ``tf.function``) and in LiteRT fp32, both converted by export's TFLite route;
- torchvision ``mobilenet_v2``, ``inception_v3`` and ``vgg16`` against our torch twin with
  torchvision's options (``conformance.lib.torchvision_witness``), in torch eager in both memory
  formats (default NCHW and channels_last), where torchvision imports;
- AI Benchmark's own TF graph (``conformance.lib.graphs``) in a ``tf.compat.v1`` Session against our
  Keras twin in ``tf.function``, at the network's benchmark size.

Both sides of a pair hold the same weights where a weight copy exists (ours -> theirs), and are
timed alternately (``timing.measure_pair``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from benchmark import timing
from benchmark.suite import error_record

Call = Callable[[], Any]
FLAG_RATIO = 1.05


def _pair_record(network: str, witness: str, runtime: str, size: tuple[int, int], ours: Call | None,
                 theirs: Call | None, plan: timing.Plan, note: str = "") -> dict[str, Any]:
    rec: dict[str, Any] = {"network": network, "witness": witness, "runtime": runtime, "size": list(size)}
    if note:
        rec["note"] = note
    try:
        a, b = timing.measure_pair(ours, theirs, plan)
    except Exception as exc:  # noqa: BLE001 — recorded; the other witnesses go on
        return {**rec, **error_record(exc, "run")}
    ratio = a["median_ms"] / b["median_ms"]
    return {**rec, "status": "ok", "timing": {"ours": a, "theirs": b, "ratio": ratio, "over_5pct": ratio > FLAG_RATIO}}


def _tf_call(model) -> Callable[[np.ndarray], Call]:
    import tensorflow as tf

    fn = tf.function(lambda t: model(t, training=False))

    def bind(x: np.ndarray) -> Call:
        c = tf.constant(x)
        return lambda: fn(c)
    return bind


def _tflite_call(model, net_name: str, size: tuple[int, int], threads: int, work: Path,
                 stem: str) -> Callable[[np.ndarray], Call]:
    """``model`` (ours or the witness, both taking ``net_name``'s input) through the export's own
    Keras -> TFLite route, in LiteRT."""
    from export import tflite
    from twinzoo import catalogue

    ctx = SimpleNamespace(size=size, net=catalogue.get(net_name), keras_model=model, cache={})
    path = work / f"{stem}.tflite"
    tflite.keras_to_tflite(ctx, path, "fp32")
    interp = tflite.interpreter(path, threads)
    interp.allocate_tensors()
    index = interp.get_input_details()[0]["index"]

    def bind(x: np.ndarray) -> Call:
        def call() -> None:
            interp.set_tensor(index, x)
            interp.invoke()
        return call
    return bind


def keras_applications(names: list[str], runtimes: list[str], threads: int, plan: timing.Plan,
                       work: Path) -> list[dict[str, Any]]:
    import keras

    import keras_models
    from conformance.lib.keras_witness import KERAS_WITNESSES, build_keras_witness, copy_by_position

    out = []
    for w in KERAS_WITNESSES.values():
        if w.model not in names and not (w.model == "inception_v3_keras" and "inception_v3" in names):
            continue
        label = f"keras.applications.{w.app}"
        keras.backend.clear_session()
        try:
            ours = keras_models.build(w.model, input_size=w.size, **w.opts)
            theirs = build_keras_witness(w)
            copy_by_position(ours, theirs)
            x = np.random.default_rng(0).uniform(-1, 1, (1, *w.size, 3)).astype(np.float32)
        except Exception as exc:  # noqa: BLE001
            out.append({"network": w.model, "witness": label, "runtime": "keras_tf", "size": list(w.size),
                        **error_record(exc, "building")})
            continue
        for rt in runtimes:
            try:
                if rt == "keras_tf":
                    a, b = _tf_call(ours)(x), _tf_call(theirs)(x)
                else:
                    a = _tflite_call(ours, w.model, w.size, threads, work, f"{w.model}_ours")(x)
                    b = _tflite_call(theirs, w.model, w.size, threads, work, f"{w.model}_{w.app}")(x)
            except Exception as exc:  # noqa: BLE001
                out.append({"network": w.model, "witness": label, "runtime": rt, "size": list(w.size),
                            **error_record(exc, "converting" if rt != "keras_tf" else "tracing")})
                continue
            out.append(_pair_record(w.model, label, rt, w.size, a, b, plan,
                                    note=f"our twin with {w.opts or 'default options'}; weights copied ours -> theirs"))
    return out


def torchvision_models(names: list[str], plan: timing.Plan) -> list[dict[str, Any]]:
    from conformance.lib.torchvision_witness import TORCHVISION_WITNESSES, copy_by_position, torchvision_or_reason

    wanted = [w for w in TORCHVISION_WITNESSES.values()
              if w.model in names or (w.model == "inception_v3_keras" and "inception_v3" in names)]
    if not wanted:
        return []
    tv, reason = torchvision_or_reason()
    if tv is None:
        return [{"network": w.model, "witness": f"torchvision.models.{w.ctor}", "runtime": "torch_eager",
                 "size": list(w.size), "status": "skipped", "reason": reason} for w in wanted]
    import torch

    import torch_models

    out = []
    for w in wanted:
        label = f"torchvision.models.{w.ctor} {tv.__version__}"
        try:
            theirs = getattr(tv.models, w.ctor)(weights=None, num_classes=w.opts.get("num_classes", 1000),
                                                **w.ctor_kwargs).eval()
            ours = torch_models.build(w.model, **w.opts).eval()
            # theirs -> ours, as the witness check does: the pairing maps their Linear classifier
            # onto our 1x1-conv logits, not the reverse
            copy_by_position(theirs, ours)
        except Exception as exc:  # noqa: BLE001
            out.append({"network": w.model, "witness": label, "runtime": "torch_eager", "size": list(w.size),
                        **error_record(exc, "building")})
            continue
        x = torch.from_numpy(np.random.default_rng(0).uniform(-1, 1, (1, 3, *w.size)).astype(np.float32))

        def call(m, x) -> Call:
            def run() -> Any:
                with torch.inference_mode():
                    return m(x)
            return run
        out.append(_pair_record(w.model, label, "torch_eager", w.size, call(ours, x), call(theirs, x), plan,
                                note=f"our twin with {w.opts}; weights copied theirs -> ours"))
        # the same pair in channels_last (both models and the input moved to NHWC strides)
        cl = torch.channels_last
        out.append(_pair_record(w.model, label, "torch_channels_last", w.size, call(ours.to(memory_format=cl),
                                x.contiguous(memory_format=cl)), call(theirs.to(memory_format=cl),
                                x.contiguous(memory_format=cl)), plan,
                                note=f"our twin with {w.opts}; weights copied theirs -> ours; channels_last"))
    return out


def _graph_session(spec, net, size: tuple[int, int], threads: int):
    """AI Benchmark's graph in a Session with its input mapped to a batch-1 placeholder at ``size``
    and random variable values (timing does not depend on the values). GNMT's graph keeps its
    string input (fed the benchmark sentence) and reads its vocabulary from the package."""
    import tensorflow as tf

    from conformance.lib.graphs import gnmt_input_map, graph_path

    graph = tf.Graph()
    with graph.as_default():
        if net.layout == "tokens":
            tf.compat.v1.train.import_meta_graph(str(graph_path(spec)), clear_devices=True, input_map=gnmt_input_map())
            fixed = graph.get_tensor_by_name("input:0")
        else:
            fixed = tf.compat.v1.placeholder(tf.float32, list(net.batch_shape(size)), name="bench_input")
            tf.compat.v1.train.import_meta_graph(str(graph_path(spec)), clear_devices=True,
                                                 input_map={"input:0": fixed})
        init = [tf.compat.v1.global_variables_initializer(), tf.compat.v1.tables_initializer()]
        output = graph.get_tensor_by_name(spec.output)
        extra = {}
        if any(op.name == "use_dropout" for op in graph.get_operations()):
            extra[graph.get_tensor_by_name("use_dropout:0")] = False
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=1)
    sess = tf.compat.v1.Session(graph=graph, config=config)
    sess.run(init)
    return sess, fixed, output, extra


def _graph_input(spec, net, size: tuple[int, int]) -> tuple[np.ndarray, Any]:
    """Our twin's input and the graph's feed for it: random values in the network's range; for
    GNMT the benchmark sentence's first ``size[0]`` words and their ids."""
    if net.layout == "tokens":
        from conformance.lib import text
        from twinzoo.zoo import gnmt as gnmt_spec
        sentence = " ".join(gnmt_spec.GNMT_SENTENCE.split(" ")[: size[0]])
        return text.encode(sentence)[None], sentence
    x = np.random.default_rng(0).uniform(*net.input_range, net.batch_shape(size)).astype(np.float32)
    return x, x * spec.in_scale + np.asarray(spec.in_shift, np.float32)


def _session_call(sess, output, feed: dict) -> Call:
    return lambda: sess.run(output, feed)


def ai_benchmark_graphs(sizes: dict[str, tuple[int, int]], threads: int, plan: timing.Plan) -> list[dict[str, Any]]:
    import keras

    import keras_models
    from conformance.lib.graphs import GRAPHS, ReferenceUnavailable, graph_path
    from twinzoo import catalogue

    out = []
    for name, size in sizes.items():
        if name not in GRAPHS:
            continue
        spec = GRAPHS[name]
        label = f"AI Benchmark graph ai_benchmark/models/{spec.meta}"
        base = {"network": name, "witness": label, "runtime": "keras_tf", "size": list(size)}
        try:
            graph_path(spec)
        except ReferenceUnavailable as exc:
            out.append({**base, "status": "skipped", "reason": str(exc)})
            continue
        net = catalogue.get(name)
        keras.backend.clear_session()
        note = "graph in a tf.compat.v1 Session (random variable values); ours: Keras twin in tf.function"
        try:
            try:
                sess, fixed, output, extra = _graph_session(spec, net, size, threads)
            except ValueError:
                # a graph whose shapes are fixed to its placeholder's size: both sides at that size
                if spec.input_size is None or tuple(spec.input_size) == tuple(size):
                    raise
                note += (f"; timed at the graph's fixed input size {spec.input_size[0]}x{spec.input_size[1]} "
                         f"(it does not run at the benchmark size {size[0]}x{size[1]})")
                size = tuple(spec.input_size)
                base["size"] = list(size)
                sess, fixed, output, extra = _graph_session(spec, net, size, threads)
            ours = keras_models.build(name, input_size=size)
        except Exception as exc:  # noqa: BLE001
            out.append({**base, **error_record(exc, "loading the graph")})
            continue
        x, graph_x = _graph_input(spec, net, size)
        feed = {fixed: graph_x, **extra}
        rec = _pair_record(name, label, "keras_tf", size, _tf_call(ours)(x), _session_call(sess, output, feed), plan,
                           note=note)
        sess.close()
        out.append(rec)
    return out


def _graph_names() -> set[str]:
    from conformance.lib.graphs import GRAPHS
    return set(GRAPHS)


def run_all(names: list[str], sizes: dict[str, tuple[int, int]], threads: int, plan: timing.Plan, quick: bool,
            on_done: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Every witness of the benchmarked networks (in --quick: keras.applications in Keras only, no graphs)."""
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="twinzoo-witness-") as tmp:
        steps: list[Callable[[], list[dict[str, Any]]]] = [
            lambda: keras_applications(names, ["keras_tf"] if quick else ["keras_tf", "tflite_fp32"], threads, plan,
                                       Path(tmp)),
            lambda: torchvision_models(names, plan),
            lambda: ai_benchmark_graphs(sizes, threads, plan) if not quick else [
                {"network": n, "witness": "AI Benchmark graph", "runtime": "keras_tf", "size": list(s),
                 "status": "skipped", "reason": "--quick: the graphs are timed in the full run"} for n, s in sizes.items()
                if n in _graph_names()],
        ]
        for step in steps:
            for rec in step():
                records.append(rec)
                if on_done:
                    on_done(rec)
    return records
