"""What the benchmark runs: the AI Benchmark networks at their benchmark sizes, and the loop
that times one network in every requested runtime.

Sizes: AI Benchmark's canonical input where a network's whole row (exports, verification, int8
calibration and every runtime's timed runs) fits the main job's budget on a 2-core machine;
otherwise a stated smaller size, with the reason next to it. ``--quick`` uses small sizes for all.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any, Callable

from benchmark import runtimes, timing
from benchmark.records import NetworkRecord, RuntimeRecord
from export.records import ExportRecord
from export.common import ExportContext
from twinzoo import catalogue
from twinzoo.catalogue import Network

# The benchmark's plan of each network is part of its spec (``Network.bench``); these are views.
_PLANNED = sorted((n for n in catalogue.networks() if n.bench is not None), key=lambda n: n.bench.order)
BENCH_NETWORKS = tuple(n.name for n in _PLANNED)
# What the default --quick run leaves out, and why (``BenchPlan.quick_skip``).
QUICK_LEFT_OUT = {n.name: n.bench.quick_skip for n in _PLANNED if n.bench.quick_skip}
# Export workers take the networks whose conversions take longest first, so the small ones (and
# the conformance rows) fill the gaps at the end. Which export jobs may share the machine:
# ``benchmark.sizing``, from each network's measured export peak.
EXPORT_COST_RANK = tuple(n.name for n in sorted(_PLANNED, key=lambda n: n.bench.export_rank))

# Minutes one export route (conversion, verification, cross-route comparison) may run in the main
# job before it is stopped and recorded as failed (--route-budget; benchmark.parallel.route_overdue).
# On 2 cores the slowest route that finishes in a cold run (GNMT and SPADE, 13 routes) takes 4 min
# (SPADE's ExecuTorch: 46 s lowering, 189 s verifying); what runs far past that does not finish:
# Pixel-RNN's torch -> TFLite (litert-torch) does not finish in 25 min, GNMT's ExecuTorch lowering
# runs 18 min until the memory guard stops it.
ROUTE_BUDGET_MINUTES = 15.0


def bench_size(net: Network, quick: bool, override: tuple[int, int] | None = None) -> tuple[tuple[int, int], str]:
    """The size a network is benchmarked at, and why."""
    if override is not None and not net.fixed_size:
        return tuple(override), "--size"
    plan = net.bench
    if plan is None or net.fixed_size:
        return tuple(net.input_size), f"canonical ({net.input_size_source})"
    if quick and plan.quick is not None:
        return plan.quick, "--quick: a small size for a first look"
    if quick or plan.size is None or tuple(plan.size) == tuple(net.input_size):
        return tuple(net.input_size), f"canonical ({net.input_size_source})"
    return plan.size, f"smaller than the canonical {net.input_size[0]}x{net.input_size[1]}: {plan.why}"


def error_record(exc: BaseException, stage: str) -> dict[str, Any]:
    msg = f"{type(exc).__name__}: {exc}"
    return {"status": "error", "stage": stage, "error": msg.splitlines()[0][:500] if msg else type(exc).__name__,
            "traceback": "".join(traceback.format_exception(exc)[-3:])[-2000:]}


# Fields of export's verification worth keeping in the benchmark report (the rest is in the
# export manifest written beside the artifacts).
_VERIFY_KEYS = ("status", "passed", "max_abs", "max_rel", "snr_db", "psnr_db", "top1_agreement", "criterion",
                "error", "reason")


def _twin_parity(ctx: ExportContext) -> dict[str, Any]:
    """The Keras twin against the torch twin on the export's verification samples, at this size."""
    from conformance.lib import inputs, parity

    errs = []
    for t, k in zip(ctx.torch_ref, ctx.keras_ref):
        errs += [parity.compare(inputs.to_nhwc(a), b, ctx.net.tolerance) for a, b in zip(t, k)]
    return {"status": "pass" if all(e.passed for e in errs) else "fail", "passed": all(e.passed for e in errs),
            "max_abs": max(e.max_abs for e in errs), "max_rel": max(e.max_rel for e in errs),
            "reference": "the torch twin on the same inputs"}


def _artifact(ctx: ExportContext, rt: runtimes.Runtime, size_why: str) -> tuple[dict[str, Any], Path | None]:
    """Export (or reuse) and verify the runtime's artifact with export's own route."""
    from export import formats
    from export.pipeline import EXPORT_FAILED, PASS, SKIPPED, run_format

    cache = ctx.cache.setdefault("export_records", {})
    if rt.format not in cache and ctx.cache.get("export_job_error"):
        raise RuntimeError(f"the export worker failed: {ctx.cache['export_job_error']}")
    if rt.format not in cache:          # not exported by a worker: export here
        cache[rt.format] = run_format(ctx, formats.get(rt.format), size_why)
    rec = cache[rt.format]
    out: dict[str, Any] = {"format": rt.format}     # the artifact's part of a RuntimeRecord
    if rec.get("tool_limit"):
        out["tool_limit"] = rec["tool_limit"]
    if rec["outcome"] == SKIPPED:
        return {**out, "status": "skipped", "reason": rec.get("reason", "")}, None
    if rec["outcome"] == EXPORT_FAILED:
        return {**out, "status": "error", "stage": "export", "error": (rec.get("error") or "").splitlines()[0][:500],
                "timing": {"export_seconds": rec.get("export_seconds")}}, None
    v = rec.get("verification") or {}
    out.update(artifact={"path": rec["path"], "bytes": rec["bytes"], "sha256": rec["sha256"]},
               verification={k: v[k] for k in _VERIFY_KEYS if k in v}, faithful=rec["outcome"] == PASS,
               device_benchmark=rec.get("benchmark", []),
               timing={"export_seconds": rec.get("export_seconds"), "verify_seconds": rec.get("verify_seconds"),
                       "export_peak_rss_bytes": rec.get("peak_rss_bytes")})
    return out, ctx.out_dir / rec["path"]


def bench_runtime(ctx: ExportContext, rt: runtimes.Runtime, size_why: str, threads: int,
                  plan: timing.Plan, macs: int, peak_gmacs: float) -> RuntimeRecord:
    """One network in one runtime: its artifact (exported and verified), then the timed calls.
    Any failure is recorded with the stage it happened in."""
    rec: RuntimeRecord = {"runtime": rt.name, "label": rt.label, "source": rt.source, "precision": rt.precision}
    path = None
    if rt.format is not None:
        try:
            art, path = _artifact(ctx, rt, size_why)
        except Exception as exc:  # noqa: BLE001 — recorded; the other runtimes go on
            return {**rec, **error_record(exc, "export")}
        rec.update(art)
        if path is None:
            return rec
    elif rt.variant is None:
        rec.update(verification=_twin_parity(ctx))
        rec["faithful"] = rec["verification"]["passed"]
    try:
        if rt.variant is not None:      # the torch twin itself: eager, channels_last, compiled
            call, verdict, first_seconds = runtimes.twin_session(ctx, rt)
            rec["verification"] = verdict or {"status": "reference", "passed": True, "reason":
                                              "the torch twin itself: every other runtime is judged against it"}
            rec["faithful"] = rec["verification"]["passed"]
            rec["timing"] = {"first_call_seconds": first_seconds}
        else:
            call = rt.open(ctx, path, threads, rt.layout)
    except runtimes.NotApplicable as exc:
        return {**rec, "status": "skipped", "reason": str(exc)}
    except Exception as exc:  # noqa: BLE001
        return {**rec, **error_record(exc, "open")}
    try:
        t = timing.measure(call, plan)
    except Exception as exc:  # noqa: BLE001
        return {**rec, **error_record(exc, "run")}
    gmacs = macs / (t["median_ms"] / 1e3) / 1e9
    rec["status"] = "ok"
    rec.setdefault("timing", {}).update(t, gmacs_per_s=gmacs, peak_fraction=gmacs / peak_gmacs)
    return rec


def from_cache(entry: dict[str, Any], macs: int, peak_gmacs: float) -> RuntimeRecord:
    """A runtime record reused from the cache, marked with when it was measured; its GMAC/s and
    fraction of the peak recomputed against this run's peak (the clock read may differ)."""
    import copy
    rec = copy.deepcopy(entry["runtime"])
    t = rec.setdefault("timing", {})
    if rec.get("status") == "ok":
        gmacs = macs / (t["median_ms"] / 1e3) / 1e9
        t.update(gmacs_per_s=gmacs, peak_fraction=gmacs / peak_gmacs)
    t["from_cache"] = {"measured": entry["measured"]}
    return rec


def bench_network(net: Network, size: tuple[int, int], size_why: str, rts: list[runtimes.Runtime],
                  threads: int, plan: timing.Plan, seed: int, work_dir: Path, peak_gmacs: float,
                  on_runtime: Callable[[str, RuntimeRecord | None], None] | None = None,
                  exported: dict[str, ExportRecord] | None = None, export_error: str | None = None,
                  weights_dir: Path | None = None, reused: dict[str, dict[str, Any]] | None = None) -> NetworkRecord:
    """Every requested runtime of one network; a failure to prepare the twins is recorded on each.
    ``exported``: export records (by format) of artifacts already written to ``work_dir`` by an
    export worker (``benchmark.parallel``); ``export_error``: why that worker produced none;
    ``weights_dir``: the certified ports to time instead of random weights; ``reused``: runtime
    records of an earlier run from the artifact cache, by runtime name (``{"runtime": record,
    "macs": ..., "weights": ..., "measured": ISO date}``): those runtimes are not timed again, and
    when every runtime is among them the twins are not even built."""
    import keras

    from conformance.lib import counting
    from export.pipeline import make_context

    keras.backend.clear_session()       # the previous network's graphs are not kept alive

    rec: NetworkRecord = {"network": net.name, "task": net.task, "description": net.description,
                           "size": list(size), "size_from": size_why, "channels": net.channels,
                           "runtimes": {}, "timing": {}}
    reused = reused or {}
    if rts and all(rt.name in reused for rt in rts):
        first = reused[rts[0].name]
        rec["macs"], rec["weights"] = first["macs"], first["weights"]
        for rt in rts:
            rec["runtimes"][rt.name] = from_cache(reused[rt.name], rec["macs"], peak_gmacs)
            if on_runtime:
                on_runtime(rt.name, rec["runtimes"][rt.name])
        rec["export_records"] = list((exported or {}).values())
        return rec
    t0 = time.perf_counter()
    try:
        ctx = make_context(net, size, seed, work_dir, weights_dir)
        opts = ctx.weights["options"] if ctx.weights else {}
        rec["macs"] = counting.torch_macs(counting.build_torch_meta(net.name, **opts),
                                          net.batch_shape(size, layout="NCHW"), net.input_dtype)
        rec["weights"] = ctx.weights or "random"
    except Exception as exc:  # noqa: BLE001 — recorded on every runtime of this network
        err = error_record(exc, "preparing the twins")
        for rt in rts:
            rec["runtimes"][rt.name] = {"runtime": rt.name, "label": rt.label, "source": rt.source, **err}
            if on_runtime:
                on_runtime(rt.name, rec["runtimes"][rt.name])
        return rec
    rec["timing"]["prepare_seconds"] = time.perf_counter() - t0
    ctx.cache["export_records"] = dict(exported or {})
    ctx.cache["export_job_error"] = export_error
    for rt in rts:
        if on_runtime:
            on_runtime(rt.name, None)
        rec["runtimes"][rt.name] = from_cache(reused[rt.name], rec["macs"], peak_gmacs) if rt.name in reused \
            else bench_runtime(ctx, rt, size_why, threads, plan, rec["macs"], peak_gmacs)
        if on_runtime:
            on_runtime(rt.name, rec["runtimes"][rt.name])
    rec["export_records"] = list(ctx.cache.get("export_records", {}).values())
    rec["timing"]["bench_seconds"] = time.perf_counter() - t0      # this network's share of the timing phase
    return rec
