"""One network through every requested route: the twins with the same random weights, the
verification inputs and references, then each format exported (atomically), verified in its
runtime and recorded. A failing route is recorded with its error and the others go on."""

from __future__ import annotations

import dataclasses
import importlib.util
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from conformance.lib import inputs as cinputs
from conformance.lib.twins import parity_inputs, prepare_twins
from export import cache as cachemod
from export import formats, metrics, nnapi, tflite
from export.common import ExportContext, Outputs, Sample, as_outputs, sha256, version_of
from export.formats import Format
from export.limits import limit_for
from export.records import CrossRoute, ExportRecord, NnapiSummary, TopOneOverImages, Verification
from twinzoo import memory
from twinzoo.catalogue import Network
from twinzoo.files import atomic_path, atomic_write
# an artifact's outcome is one of twinzoo.status.ARTIFACT, its verification's status of VERIFICATION
from twinzoo.status import EXPORT_FAILED, FAIL, NOT_RUN, NOT_VERIFIABLE, PASS, SKIPPED
from twinzoo.workers import MEMORY_GUARD, TIME_BUDGET

# Representative dataset for full-int8 calibration: real images of the network's image set, after
# the ones used for verification (so the model is not verified on its own calibration images).
# 16 images: the converter's calibrator runs the float model once per image, so this bounds the
# cost at the large canonical sizes; per-tensor min/max ranges settle within a few images.
CALIBRATION_IMAGES = 16
VERIFY_IMAGES = 4     # real images per network: reduced precision is judged on these
VERIFY_RANDOM = 2     # seeded uniform random inputs in the network's input range


def export_size(net: Network, requested: tuple[int, int] | None) -> tuple[tuple[int, int], str]:
    """The input size to export at, and why."""
    if net.fixed_size:
        why = "fixed by the network's fully connected head"
        if requested and tuple(requested) != tuple(net.input_size):
            why += f" (--size {requested[0]}x{requested[1]} ignored)"
        return tuple(net.input_size), why
    if requested:
        return tuple(requested), "--size"
    return tuple(net.input_size), f"canonical ({net.input_size_source})"


def _calibration(net: Network, size: tuple[int, int], seed: int,
                 trained: bool = False) -> tuple[Callable[[], Iterator[np.ndarray]], str]:
    if trained and net.task == "classification":
        # every classification image is a top-1 verification image then (metrics.TOP1_IMAGES):
        # calibrate on photos of another set, so none is verified on its own calibration
        files = cinputs.image_files("enhancement")[:CALIBRATION_IMAGES]
        batch = cinputs.load_images(dataclasses.replace(net, image_set="enhancement"), size, len(files))
        source = (f"{len(files)} images of ai_benchmark/data/enhancement (photos outside the 100 classification "
                  "images the top-1 verification uses)")
    elif net.image_set is not None:
        files = cinputs.image_files(net.image_set)
        count = min(CALIBRATION_IMAGES, max(len(files) - VERIFY_IMAGES, 1))
        offset = VERIFY_IMAGES if len(files) > VERIFY_IMAGES else 0
        batch = cinputs.load_images(net, size, count, offset=offset)
        source = (f"{count} images of ai_benchmark/data/{net.image_set} "
                  f"({files[offset].name} onwards, after the verification images)")
    else:
        batch = cinputs.random_inputs(net, size, CALIBRATION_IMAGES, seed + 2)
        source = (f"{CALIBRATION_IMAGES} seeded uniform{list(net.input_range)} inputs (seed {seed + 2}): "
                  f"{net.name} takes " + ("sequences, the package ships none" if net.layout == "sequence"
                                          else "token ids, the package ships one sentence" if net.layout == "tokens"
                                          else f"{net.channels}-channel feature maps, not images"))

    def gen() -> Iterator[np.ndarray]:
        for i in range(batch.shape[0]):
            yield batch[i:i + 1]

    return gen, source


def make_context(net: Network, size: tuple[int, int], seed: int, out_dir: Path,
                 weights_dir: Path | None = None) -> ExportContext:
    """The twins (random seeded weights, or the certified port in ``weights_dir``), the
    verification samples and both twins' outputs on them."""
    import torch

    sets = parity_inputs(net, size, seed, images=VERIFY_IMAGES, randoms=VERIFY_RANDOM)
    calibration = np.concatenate([x for _, x, _ in sets])
    weights = None
    if weights_dir is not None:
        from conformance.lib.ports import ported_twins
        tmodel, kmodel, weights = ported_twins(net, weights_dir, size)
    else:
        tmodel, kmodel = prepare_twins(net, size, seed, calibration)
    samples: list[Sample] = []
    for kind, batch, desc in sets:
        for i in range(batch.shape[0]):
            x = batch[i:i + 1]
            src = desc[i] if kind == "images" and i < len(desc) else f"{desc[0]} #{i}"
            samples.append(Sample(kind, src, x, cinputs.nhwc_to_nchw(x)))
    with torch.no_grad():
        torch_ref = [as_outputs(tmodel(torch.from_numpy(s.nchw))) for s in samples]
    keras_ref = [as_outputs(kmodel(s.nhwc, training=False)) for s in samples]
    gen, source = _calibration(net, size, seed, trained=weights is not None)
    return ExportContext(net, size, seed, out_dir, tmodel, kmodel, samples, torch_ref, keras_ref, gen, source,
                         weights=weights)


def _error(exc: BaseException) -> dict[str, str]:
    msg = f"{type(exc).__name__}: {exc}"
    return {"error": msg[:4000], "traceback": "".join(traceback.format_exception(exc)[-4:])[-4000:]}


def missing_modules(fmt: Format) -> list[str]:
    return [m for m in fmt.requires if importlib.util.find_spec(m) is None]


def verify(fmt: Format, ctx: ExportContext, path: Path) -> Verification:
    """Run the artifact in its runtime on the verification samples and judge it against the
    source twin's outputs on the same inputs."""
    if fmt.run is None:
        return {"status": NOT_RUN, "passed": None,
                "reason": "no host runtime: the artifact runs only on an Android device"}
    xs = [s.nchw if fmt.layout == "NCHW" else s.nhwc for s in ctx.samples]
    ref: list[Outputs] = ctx.torch_ref if fmt.source == "torch" else ctx.keras_ref
    try:
        got = fmt.run(path, xs)
        judged = metrics.judge(ctx.net, fmt.precision, ref, got, [s.kind for s in ctx.samples])
        ctx.cache.setdefault("outputs", {})[fmt.name] = (fmt.layout, got)
        if ctx.weights is not None and ctx.net.task == "classification" and fmt.precision != "fp32":
            judged["top1_images"] = top1_over_images(fmt, ctx, path)
            judged["passed"] = judged["passed"] and judged["top1_images"]["passed"]
    except Exception as exc:  # noqa: BLE001 — a runtime that cannot load/run the artifact fails it
        return {"status": "error", "passed": False, "runtime": fmt.runtime, **_error(exc)}
    return {"status": PASS if judged["passed"] else FAIL, "runtime": fmt.runtime,
            "reference": f"the {fmt.source} twin on the same inputs",
            "inputs": [f"{s.kind}: {s.source}" for s in ctx.samples], **judged}


def top1_over_images(fmt: Format, ctx: ExportContext, path: Path) -> TopOneOverImages:
    """A reduced-precision classifier with ported weights: its top-1 decision against its source
    twin's on every classification image of the package (``metrics.TOP1_IMAGES``), judged
    against the trained-network bar ``metrics.TRAINED_TOP1``."""
    import torch
    files = cinputs.image_files("classification")[:metrics.TOP1_IMAGES]
    x = cinputs.load_images(ctx.net, ctx.size, len(files))
    xs = [x[i:i + 1] if fmt.layout == "NHWC" else cinputs.nhwc_to_nchw(x[i:i + 1]) for i in range(len(files))]
    got = fmt.run(path, xs)
    if fmt.source == "torch":
        with torch.no_grad():
            ref = [as_outputs(ctx.torch_model(torch.from_numpy(cinputs.nhwc_to_nchw(x[i:i + 1]))))
                   for i in range(len(files))]
    else:
        ref = [as_outputs(ctx.keras_model(x[i:i + 1], training=False)) for i in range(len(files))]
    agree = sum(int(np.argmax(r[0])) == int(np.argmax(g[0])) for r, g in zip(ref, got))
    bar = metrics.TRAINED_TOP1[fmt.precision]
    return {"images": len(files), "agree": agree, "agreement": agree / len(files), "bar": bar,
            "passed": agree / len(files) >= bar,
            "criterion": f"top-1 agreement with the {fmt.source} twin >= {bar:g} over {len(files)} package images "
                         "(ported weights: metrics.TRAINED_TOP1)"}


# Routes that convert the same network from the other twin: their artifacts are compared with
# each other too (in NHWC), under the network's float32 tolerance, so the routes can be compared.
COUNTERPARTS = {"tflite_torch": "tflite_fp32", "onnx_keras": "onnx_torch"}


def cross_route(ctx: ExportContext, fmt: Format) -> CrossRoute | None:
    """The artifact's outputs against its counterpart route's artifact on the same inputs."""
    from conformance.lib import parity

    outs = ctx.cache.get("outputs", {})
    other = COUNTERPARTS.get(fmt.name) or next((k for k, v in COUNTERPARTS.items() if v == fmt.name), None)
    if other is None or fmt.name not in outs or other not in outs:
        return None

    def nhwc(layout: str, o: Outputs) -> Outputs:
        return [cinputs.to_nhwc(a) if layout == "NCHW" else a for a in o]

    (la, a), (lb, b) = outs[fmt.name], outs[other]
    errs = [parity.compare(nhwc(lb, rb), nhwc(la, ra), ctx.net.tolerance) for ra, rb in zip(a, b)]
    return {"against": other, "max_abs": max(e.max_abs for e in errs),
            "max_rel": max(e.max_rel for e in errs), "within_tolerance": all(e.passed for e in errs)}


def nnapi_report(path: Path, rel_to: Path) -> NnapiSummary:
    report = nnapi.delegate_report(tflite.op_list(path))
    report_path = path.with_name(path.name + ".nnapi.json")
    import json
    atomic_write(report_path, json.dumps(report, indent=1) + "\n", mkdir=True)
    return {"report": str(report_path.relative_to(rel_to)), "summary": nnapi.summary(report),
            "whole_graph_from_api": report["whole_graph_from_api"], "blocking_ops": report["blocking_ops"],
            "accepted_ops_at_api": report["accepted_ops_at_api"], "ops": report["ops"],
            "source": report["source"], "deprecation": nnapi.DEPRECATION}


def base_record(net: Network, fmt: Format, size: tuple[int, int], size_why: str) -> ExportRecord:
    shape = net.batch_shape(size, layout=fmt.layout)
    return {
        "network": net.name, "task": net.task, "format": fmt.name, "description": fmt.description,
        "source_framework": fmt.source, "precision": fmt.precision,
        "input": {"shape": list(shape), "layout": fmt.layout, "dtype": net.input_dtype,
                  "range": list(net.input_range), "size_from": size_why},
        "converter": {"name": fmt.converter, "versions": {d: version_of(d) for d in fmt.converter_dists}},
        "runtime": {"name": fmt.runtime, "version": version_of(fmt.runtime_dist) if fmt.runtime_dist else None},
        **({"tool_limit": lim.note()} if (lim := limit_for(net.name, fmt.name)) else {}),
    }


def failed_record(net: Network, fmt: Format, size: tuple[int, int], size_why: str, stage: str,
                  **fields: Any) -> ExportRecord:
    """The record of a route that produced no artifact for a reason outside its converter
    (``stage``: where; ``fields``: ``error`` and whatever else explains it)."""
    rec = base_record(net, fmt, size, size_why)
    rec.update(outcome=EXPORT_FAILED, path=None, stage=stage, **fields)
    return rec


def run_format(ctx: ExportContext, fmt: Format, size_why: str) -> ExportRecord:
    """One route's record: exported, verified in its runtime, compared with its partner route,
    and the route's peak resident set (``peak_rss_bytes``: its isolated children's included)."""
    rec = base_record(ctx.net, fmt, ctx.size, size_why)
    missing = missing_modules(fmt)
    if missing:
        rec.update(outcome=SKIPPED, reason=f"not installed: {', '.join(missing)} (pip install -e '.[export,torch-tflite]')")
        return rec
    with memory.measure() as span:
        _export_and_verify(ctx, fmt, rec)
    rec["peak_rss_bytes"] = span.peak
    return rec


def _export_and_verify(ctx: ExportContext, fmt: Format, rec: ExportRecord) -> None:
    final = ctx.out_dir / ctx.net.name / fmt.filename(ctx.stem())
    rel = final.relative_to(ctx.out_dir)
    t0 = time.perf_counter()
    try:
        with atomic_path(final) as tmp:
            notes = fmt.export(ctx, tmp)
    except Exception as exc:  # noqa: BLE001 — recorded with the converter's error; others go on
        rec.update(outcome=EXPORT_FAILED, path=None, export_seconds=round(time.perf_counter() - t0, 1),
                   **_error(exc))
        return
    rec.update(path=str(rel), bytes=final.stat().st_size, sha256=sha256(final),
               export_seconds=round(time.perf_counter() - t0, 1), notes=notes)
    rec["benchmark"] = formats.benchmark_command(fmt, f"/data/local/tmp/{final.name}", tuple(rec["input"]["shape"]))
    t1 = time.perf_counter()
    rec["verification"] = verify(fmt, ctx, final)
    rec["verify_seconds"] = round(time.perf_counter() - t1, 1)
    status = rec["verification"]["status"]
    rec["outcome"] = PASS if status == PASS else NOT_VERIFIABLE if status == NOT_RUN else FAIL
    cross = cross_route(ctx, fmt)
    if cross is not None:
        rec["cross_route"] = cross
    if fmt.suffix == ".tflite":
        try:
            rec["nnapi_delegate"] = nnapi_report(final, ctx.out_dir)
        except Exception as exc:  # noqa: BLE001 — the report is extra; its failure is recorded
            rec["nnapi_delegate"] = _error(exc)


# Failures that say more about the machine than about the artifact (memory, disk, a killed
# process): never cached, so the next run tries again.
TRANSIENT = ("exit code -9", "MemoryError", "out of memory", "No space left", "Killed", "killed")


def cacheable(rec: ExportRecord) -> bool:
    """Whether a record is the deterministic outcome of its key: a verdict (pass, fail, not
    verifiable) or a converter's own failure; never a skipped route (a module missing), a failure
    to prepare the twins or a record recovered from a dead worker (both carry a ``stage``), except
    a route the memory guard killed while it ran with no other job beside it (``ran_alone``): it
    outgrew the machine on its own, and the key holds the machine's memory, so it would again
    (GNMT's ExecuTorch lowering can thrash the machine for 20 minutes before it is killed: a warm
    run must not pay that again), and a route the main job's time budget stopped, with the
    budget it had (``budget_seconds``: a hit only for a budget no larger, ``within_budget``)."""
    outcome, stage = rec.get("outcome"), rec.get("stage")
    if outcome in (PASS, FAIL, NOT_VERIFIABLE):
        text = (rec.get("verification") or {}).get("error") or ""
    elif outcome == EXPORT_FAILED:
        text = rec.get("error") or ""
    else:
        return False
    if MEMORY_GUARD in text:
        return rec.get("ran_alone") is True and stage in (None, "export or verification")
    if TIME_BUDGET in text:
        return bool(rec.get("budget_seconds")) and stage in (None, "export or verification")
    return stage is None and not any(marker in text for marker in TRANSIENT)


def failure_text(rec: ExportRecord) -> str:
    """The error a record carries: its own, else its verification's ("" if none)."""
    return rec.get("error") or (rec.get("verification") or {}).get("error") or ""


def mark_alone(rec: ExportRecord, alone: bool) -> ExportRecord:
    """Note on a record the memory guard made that its route ran with no other job beside it."""
    if alone and MEMORY_GUARD in failure_text(rec):
        rec["ran_alone"] = True
    return rec


def export_key(net: Network, fmt: Format, size: tuple[int, int], seed: int,
               weights: str | dict[str, str]) -> tuple[str, dict[str, Any]]:
    ingredients = cachemod.export_ingredients(net.name, fmt.name, size, seed, weights)
    return cachemod.key_of(ingredients), ingredients


def within_budget(rec: ExportRecord, budget: float | None) -> bool:
    """Whether a cached record stands under a route budget of ``budget`` seconds (None: none):
    every record does but one the time budget stopped under a smaller budget, which a larger
    budget tries again."""
    stopped = rec.get("budget_seconds")
    return stopped is None or (budget is not None and budget <= stopped)


def cached_records(net: Network, fmts: list[Format], size: tuple[int, int], size_why: str, seed: int,
                   out_dir: Path, cache: cachemod.ArtifactCache, weights_dir: Path | None = None,
                   route_budget: float | None = None
                   ) -> tuple[dict[str, ExportRecord], dict[str, tuple[str, dict[str, Any]]]]:
    """The records of ``fmts`` the cache holds (their files restored under ``out_dir``), by
    format, and every format's (key, ingredients); a route stopped by a smaller time budget than
    ``route_budget`` (None: no budget) is not taken (``within_budget``)."""
    identity = cachemod.weights_identity(net.name, weights_dir)
    keys = {fmt.name: export_key(net, fmt, size, seed, identity) for fmt in fmts}
    hits: dict[str, ExportRecord] = {}
    for fmt in fmts:
        key = keys[fmt.name][0]
        hit = cache.restore(key, out_dir)
        if hit is not None and within_budget(hit.record, route_budget):
            rec = hit.record
            rec["input"]["size_from"] = size_why         # the same size, perhaps asked for otherwise
            rec["cache"] = {"hit": True, "key": key, "stored": hit.stored}
            hits[fmt.name] = rec
    return hits, keys


def _side_files(rec: ExportRecord, out_dir: Path) -> dict[str, Path]:
    """The files a record points to, by their path relative to ``out_dir``."""
    rels = [rec.get("path"), (rec.get("nnapi_delegate") or {}).get("report")]
    return {rel: out_dir / rel for rel in rels if rel and (out_dir / rel).is_file()}


def store(cache: cachemod.ArtifactCache, key: str, ingredients: dict[str, Any], rec: ExportRecord,
          ctx: ExportContext | None) -> None:
    """Cache a fresh record (when ``cacheable``) with its files and, for a route that has a
    partner route, its outputs; ``rec["cache"]`` says whether it was stored. Without ``ctx`` (a
    record made after its worker died) the record alone is stored."""
    rec["cache"] = {"hit": False, "key": key}
    if not cacheable(rec):
        rec["cache"]["not_stored"] = "not a deterministic outcome of the key (skipped, or a transient failure)"
        return
    has_partner = rec["format"] in COUNTERPARTS or rec["format"] in COUNTERPARTS.values()
    outputs = ctx.cache.get("outputs", {}).get(rec["format"]) if has_partner and ctx is not None else None
    files = _side_files(rec, ctx.out_dir) if ctx is not None else None
    stored = {k: v for k, v in rec.items() if k != "cache"}
    try:
        cache.put(key, ingredients, stored, files, outputs)
    except (OSError, ValueError) as exc:     # a full or vanished cache costs the next run, not this one
        rec["cache"]["not_stored"] = f"{type(exc).__name__}: {exc}"[:300]


def _partner_outputs(ctx: ExportContext, missing: list[Format], hits: dict[str, ExportRecord],
                     keys: dict[str, tuple[str, dict[str, Any]]], cache: cachemod.ArtifactCache) -> dict[str, str]:
    """Load into ``ctx`` the stored outputs of cached routes whose partner runs now, so the
    cross-route comparison is made as in a run without the cache; why, where they cannot be."""
    why: dict[str, str] = {}
    for fmt in missing:
        other = COUNTERPARTS.get(fmt.name) or next((k for k, v in COUNTERPARTS.items() if v == fmt.name), None)
        if other not in hits or hits[other].get("outcome") not in (PASS, FAIL):
            continue
        got = cache.outputs(keys[other][0])
        if got is None:
            why[fmt.name] = f"not computed: {other} came from the cache without readable outputs"
        else:
            ctx.cache.setdefault("outputs", {})[other] = got
    return why


def export_network(net: Network, fmts: list[Format], size: tuple[int, int] | None, seed: int,
                   out_dir: Path, on_record: Callable[[ExportRecord], None] | None = None,
                   on_start: Callable[[Format], None] | None = None,
                   weights_dir: Path | None = None,
                   cache: cachemod.ArtifactCache | None = None, alone: bool = True,
                   route_budget: float | None = None) -> list[ExportRecord]:
    """Every requested format of one network; a failure to prepare the twins (a network with no
    certified port in ``weights_dir`` among them) is recorded on each. With a ``cache``, the
    formats it holds are restored first, and the twins are built only if some format is missing.
    ``alone``: no other job runs beside this one (``mark_alone``). ``route_budget``: the seconds
    the caller lets a route run (it enforces them; here only for ``within_budget``)."""
    sz, why = export_size(net, size)
    done: dict[str, ExportRecord] = {}
    keys: dict[str, tuple[str, dict[str, Any]]] = {}

    def finish(fmt: Format, rec: ExportRecord) -> None:
        done[fmt.name] = rec
        if on_record:
            on_record(rec)

    if cache is not None:
        hits, keys = cached_records(net, fmts, sz, why, seed, out_dir, cache, weights_dir, route_budget)
        for fmt in fmts:
            if fmt.name in hits:
                if on_start:                 # the journal pairs each record with its start
                    on_start(fmt)
                finish(fmt, hits[fmt.name])
    missing = [fmt for fmt in fmts if fmt.name not in done]
    if not missing:
        return [done[fmt.name] for fmt in fmts]
    try:
        ctx = make_context(net, sz, seed, out_dir, weights_dir)
    except Exception as exc:  # noqa: BLE001 — recorded on every format of this network
        err = _error(exc)
        for fmt in missing:
            finish(fmt, failed_record(net, fmt, sz, why, "preparing the twins", **err))
        return [done[fmt.name] for fmt in fmts]
    no_cross = _partner_outputs(ctx, missing, done, keys, cache) if cache is not None else {}
    for fmt in missing:
        if on_start:
            on_start(fmt)
        rec = mark_alone(run_format(ctx, fmt, why), alone)
        rec["weights"] = ctx.weights or "random"
        if fmt.name in no_cross and "cross_route" not in rec:
            rec["cross_route"] = {"computed": False, "reason": no_cross[fmt.name]}
        if cache is not None:
            store(cache, *keys[fmt.name], rec, ctx)
        finish(fmt, rec)
    return [done[fmt.name] for fmt in fmts]
