"""The reference check: our twins against AI Benchmark's own TF graphs (``conformance.lib.graphs``
maps and runs them); every head of a graph compared at the canonical and the second size."""

from __future__ import annotations

import functools
import gc
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.checks.result import FAIL, PASS, SKIP, CheckResult
from conformance.lib import graphs
from conformance.lib.twins import input_count, keras_twin_at, parity_inputs, prepare_twins
from conformance.lib.graphs import GRAPHS, GraphSpec, Mapping, OpenGraph
from twinzoo.zoo import gnmt as gnmt_spec
from twinzoo.catalogue import Network


def _mapping_data(spec: GraphSpec, mapping: Mapping, size: tuple[int, int], inputs: list[str]) -> dict[str, Any]:
    """The reference check's report of the graph, its inputs and how its variables mapped."""
    mapped = len({p["graph"] for p in mapping.pairs})
    return {"graph": f"ai_benchmark/models/{spec.meta}", "output": spec.output, "input_size": list(size),
            "inputs": inputs, "variables": mapped + len(mapping.graph_leftovers), "mapped": mapped,
            "graph_leftovers": mapping.graph_leftovers, "keras_leftovers": mapping.keras_leftovers,
            "shape_mismatches": mapping.shape_mismatches, "mapping": mapping.pairs, "note": spec.note}


def _unmapped(mapping: Mapping, data: dict[str, Any]):
    """The reference check's verdict on a graph whose variables do not map onto the twin."""
    problems = mapping.graph_leftovers + mapping.keras_leftovers + mapping.shape_mismatches
    return CheckResult("reference", FAIL, f"graph variables do not map onto the twin: "
                              f"{len(problems)} problem(s), first: {problems[0]}", data)


def _check_gnmt(net: Network, spec: GraphSpec, seed: int):
    """The reference check of GNMT: AI Benchmark's sentence, and its first words as the second
    length (``Network.numeric_sizes``), through the graph and both twins, holding the same
    (randomised) weights: one randomisation, one graph import. The twins must find the graph's
    source ids from the string (``conformance.lib.text``), produce its greedy ids and strings, and,
    replaying the graph's ids (teacher forcing: a near-tie argmax cannot fork them), its logits
    at every step."""
    import torch

    from conformance.lib import counting, parity, text
    canonical = tuple(net.input_size)
    lengths = [size[0] for size in net.numeric_sizes]
    sentences = tuple(graphs.gnmt_sentence(t) for t in lengths)
    tmodel, kmodel = prepare_twins(net, canonical, seed, text.encode(gnmt_spec.GNMT_SENTENCE)[None])
    mapping, graph_runs = graphs.run_gnmt_graph(spec, kmodel, sentences)
    gc.collect()                # the graph's copy of the 282M weights, before more twins are built
    data = _mapping_data(spec, mapping, canonical, [f"AI Benchmark's sentence: {gnmt_spec.GNMT_SENTENCE!r}"]
                         + [f"AI Benchmark's sentence, its first {t} words: {s!r}"
                            for t, s in zip(lengths, sentences) if t != canonical[0]])
    gmacs = graphs.graph_macs(spec, canonical, shape=net.batch_shape(canonical))
    tmacs = counting.torch_macs(counting.build_torch_meta(net.name), net.batch_shape(canonical), net.input_dtype)
    data["macs"] = {"input_size": list(canonical), "graph": gmacs, "torch": tmacs, "equal": gmacs == tmacs}
    if graph_runs is None:
        return _unmapped(mapping, data)
    tol = net.tolerance
    runs = []
    for tokens, sentence, g in zip(lengths, sentences, graph_runs):
        size = (tokens, canonical[1])
        src = text.encode(sentence)[None]
        k_at = kmodel if tokens == canonical[0] else keras_twin_at(net, kmodel, size)
        graph_ids = g["ids"].astype(np.int64)
        replay = np.concatenate([[gnmt_spec.GNMT_SOS], graph_ids[:-1]]).astype(np.int32)[None]
        forced = keras_twin_at(net, kmodel, size, teacher_forcing=True, decoding_steps=replay.shape[1])
        k_logits = np.asarray(forced([src, replay], training=False))[0]
        with torch.no_grad():
            t_logits = tmodel(torch.from_numpy(src), torch.from_numpy(replay)).numpy()[0]
        k_ids = text.truncate_at_eos(parity.run_keras(k_at, src)[0].argmax(-1))
        t_ids = text.truncate_at_eos(parity.run_torch(tmodel, src)[0].argmax(-1))
        runs.append({"tokens": tokens, "sentence": sentence,
                     "vs_keras": parity.compare(g["logits"], k_logits, tol),
                     "vs_torch": parity.compare(g["logits"], t_logits, tol),
                     "source_ids_equal": bool(np.array_equal(g["source_ids"], src)),
                     "ids_equal": {"keras": bool(np.array_equal(k_ids, graph_ids)),
                                   "torch": bool(np.array_equal(t_ids, graph_ids))},
                     "strings_equal": text.decode(k_ids) == g["output"] == text.decode(t_ids),
                     "graph_ids": graph_ids.tolist(), "graph_output": " ".join(g["output"]),
                     "steps": int(graph_ids.size)})
        del k_at, forced        # 1.1 GB each: one length's Keras twins at a time
        gc.collect()
    main = next(r for r in runs if r["tokens"] == canonical[0])
    vs_keras, vs_torch = _worst([r["vs_keras"] for r in runs]), _worst([r["vs_torch"] for r in runs])
    same_src = all(r["source_ids_equal"] for r in runs)
    ids_ok = {twin: all(r["ids_equal"][twin] for r in runs) for twin in ("keras", "torch")}
    strings_ok = all(r["strings_equal"] for r in runs)
    data.update({"vs_keras": vs_keras.as_dict(), "vs_torch": vs_torch.as_dict(), "source_ids_equal": same_src,
                 "tolerance": {"atol": tol.atol, "rtol": tol.rtol},
                 "graph_ids": main["graph_ids"], "ids_equal": ids_ok, "strings_equal": strings_ok,
                 "graph_output": main["graph_output"], "steps": main["steps"], "sizes": [[t, canonical[1]] for t in lengths],
                 "sentences": [{**r, "vs_keras": r["vs_keras"].as_dict(), "vs_torch": r["vs_torch"].as_dict()}
                               for r in runs]})
    ok = vs_keras.passed and vs_torch.passed and same_src and all(ids_ok.values()) and strings_ok and gmacs == tmacs
    summary = (f"{data['mapped']} variables mapped, none left over; sentences of {' and '.join(map(str, lengths))} "
               f"tokens: source ids " + ("equal" if same_src else "DIFFER") + "; greedy ids and strings ("
               + ", ".join(str(r["steps"]) for r in runs) + " steps) "
               + ("equal in both twins" if all(ids_ok.values()) and strings_ok else f"differ ({ids_ok}, strings "
                                                                                  f"{strings_ok})")
               + f"; logits (graph's ids replayed) vs Keras rel {vs_keras.max_rel:.1e}, vs torch rel "
               f"{vs_torch.max_rel:.1e}; graph MACs {gmacs / 1e6:,.1f} M "
               + ("= ours" if gmacs == tmacs else f"!= ours {tmacs / 1e6:,.1f} M"))
    return CheckResult("reference", PASS if ok else FAIL, summary, data)


@dataclass
class HeadComparison:
    """One output head of the graph against both twins' same head, at one size."""
    head: str                  # the graph tensor
    vs_keras: Any              # parity.Error
    vs_torch: Any

    @property
    def passed(self) -> bool:
        return self.vs_keras.passed and self.vs_torch.passed

    def as_dict(self) -> dict[str, Any]:
        return {"head": self.head, "vs_keras": self.vs_keras.as_dict(), "vs_torch": self.vs_torch.as_dict(),
                "passed": self.passed}


@dataclass
class SizeComparison:
    """The graph and the twins, holding the same weights, on the same inputs at one size."""
    size: tuple[int, int]
    kind: str                  # images | random
    batch: int
    inputs: list[str]
    heads: list[HeadComparison]
    heads_missing: str = ""    # the twins return another number of outputs than the graph's heads

    @property
    def passed(self) -> bool:
        return not self.heads_missing and all(h.passed for h in self.heads)

    def as_dict(self) -> dict[str, Any]:
        return {"size": list(self.size), "kind": self.kind, "batch": self.batch, "inputs": self.inputs,
                "heads": [h.as_dict() for h in self.heads], "passed": self.passed,
                **({"heads_missing": self.heads_missing} if self.heads_missing else {})}


def reference_sizes(net: Network, input_hw: tuple[int | None, ...] | None) -> tuple[tuple[int, int], ...]:
    """Where the reference check runs a graph whose ``input:0`` has (H, W) ``input_hw``: its fixed
    size, or, where the placeholder takes any size, the network's numeric sizes (the canonical
    size and the second size, ``Network.numeric_sizes``)."""
    if input_hw is not None and None not in input_hw:
        return (tuple(input_hw),)
    return net.numeric_sizes


def _worst(errors: list[Any]) -> Any:
    """The error that decides a verdict: a failing one first, then the nearest to its line."""
    return max(errors, key=lambda e: (not e.passed, e.ratio))


def _compare_size(spec: GraphSpec, g: OpenGraph, net: Network, size: tuple[int, int],
                  twins: tuple[Any, Any], sample: tuple[str, np.ndarray, list[str]]) -> SizeComparison:
    """Every head of the graph (holding the twins' weights) against the twins' on ``sample``."""
    from conformance.lib import parity
    kind, x, sources = sample
    tmodel, kmodel = twins
    fetch = (spec.output, *spec.heads)
    graph_out = g.run(x, fetch)
    k_out, t_out = parity.run_keras(kmodel, x), parity.run_torch(tmodel, x)
    k_heads = k_out if isinstance(k_out, list) else [k_out]
    t_heads = t_out if isinstance(t_out, list) else [t_out]
    missing = ""
    if not len(k_heads) == len(t_heads) == len(fetch):
        missing = (f"the twins return {len(k_heads)} (Keras) / {len(t_heads)} (torch) outputs, the graph's spec "
                   f"compares {len(fetch)} head(s): {', '.join(fetch)}")
    tol = net.tolerance
    heads = [HeadComparison(name, parity.compare(gy, ky, tol), parity.compare(gy, ty, tol))
             for name, gy, ky, ty in zip(fetch, graph_out, k_heads, t_heads)]
    return SizeComparison(tuple(size), kind, int(x.shape[0]), sources, heads, missing)


def check_reference(net: Network, seed: int = 0):
    """The reference-graph check of ``net`` (a ``CheckResult``): every head of the graph
    (its output and, for the Inceptions, the aux logits) against both twins, at the graph's fixed
    size or, where its placeholder takes any size, at the network's numeric sizes; and the
    graph's own MAC count against ours at the canonical size."""
    from conformance.lib import counting
    if net.name not in GRAPHS:
        return CheckResult("reference", SKIP,
                                  f"no AI Benchmark graph for {net.name}", {"graph": None})
    spec = GRAPHS[net.name]
    try:
        graphs.graph_path(spec)
    except graphs.ReferenceUnavailable as exc:
        return CheckResult("reference", SKIP, f"skipped: {exc}", {"graph": spec.meta})
    if net.layout == "tokens":
        return _check_gnmt(net, spec, seed)
    macs_size = spec.input_size or net.input_size
    gmacs = graphs.graph_macs(spec, macs_size, net.channels, net.batch_shape(macs_size))
    tmacs = counting.torch_macs(counting.build_torch_meta(net.name), net.batch_shape(macs_size, layout="NCHW"), net.input_dtype)
    macs = {"input_size": list(macs_size), "graph": gmacs, "torch": tmacs, "equal": gmacs == tmacs}
    compared: list[SizeComparison] = []
    with graphs.open_graph(spec) as g:
        sizes = reference_sizes(net, g.input_hw)
        uncompared = [h for h in graphs.uncompared_heads(g.graph, (spec.output, *spec.heads))
                      if not (spec.dead_ends and re.fullmatch(spec.dead_ends, h))]
        first = None
        for size in sizes:
            # the parity check's inputs at this size, the graph compared on the first batch (the
            # real images, where there are any); the twins randomised once, at the first size, on
            # all of them (as parity's), and the graph loaded once with their weights
            n = input_count(net, size)
            sets = parity_inputs(net, size, seed, images=n, randoms=n)
            if first is None:
                first = prepare_twins(net, size, seed, np.concatenate([x for _, x, _ in sets]))
                mapping = g.map(first[1])
                data = _mapping_data(spec, mapping, sizes[0], [])
                data.update({"macs": macs, "heads": [spec.output, *spec.heads], "sizes": [list(s) for s in sizes],
                             "placeholder": list(g.input_hw) if g.input_hw is not None else None,
                             "uncompared_heads": uncompared})
                if not mapping.complete:
                    return _unmapped(mapping, data)
                g.load(functools.partial(mapping.graph_value, kvalues=graphs.keras_weight_values(first[1])))
                twins = first
            else:
                twins = (first[0], keras_twin_at(net, first[1], size))
            compared.append(_compare_size(spec, g, net, size, twins, sets[0]))
            del twins
    errors = [h for c in compared for h in c.heads]
    vs_keras, vs_torch = _worst([h.vs_keras for h in errors]), _worst([h.vs_torch for h in errors])
    data.update({"inputs": [src for c in compared for src in c.inputs], "vs_keras": vs_keras.as_dict(),
                 "vs_torch": vs_torch.as_dict(), "comparisons": [c.as_dict() for c in compared],
                 "tolerance": {"atol": net.tolerance.atol, "rtol": net.tolerance.rtol}})
    ok = all(c.passed for c in compared) and gmacs == tmacs and not uncompared
    sizes_text = ", ".join(net.shape_text(c.size) for c in compared)
    heads_text = f"{len(spec.heads) + 1} heads" if spec.heads else "the output"
    summary = (f"{data['mapped']} variables mapped, none left over; {heads_text}: graph vs Keras rel "
               f"{vs_keras.max_rel:.1e}, vs torch rel {vs_torch.max_rel:.1e} on {compared[0].batch} "
               f"{compared[0].kind} inputs at {sizes_text}")
    bad = [c for c in compared if not c.passed]
    if bad:
        heads_bad = sorted({h.head for c in bad for h in c.heads if not h.passed})
        summary += (f"; differ at {', '.join(net.shape_text(c.size) for c in bad)}"
                    + (f" in {', '.join(heads_bad)}" if heads_bad else "")
                    + "".join(f"; {c.heads_missing}" for c in bad if c.heads_missing))
    if uncompared:
        summary += f"; {len(uncompared)} head(s) of the graph compared with nothing: {', '.join(uncompared[:3])}"
    summary += (f"; graph MACs {gmacs / 1e6:,.1f} M " + ("= ours" if gmacs == tmacs else f"!= ours {tmacs / 1e6:,.1f} M")
                + f" at {macs_size[0]}x{macs_size[1]}")
    return CheckResult("reference", PASS if ok else FAIL, summary, data)
