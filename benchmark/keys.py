"""The main job's cache keys: what a conformance row, a timing and the witness rows are a
function of (the export cache's ingredients plus the settings each one depends on), and which
cached timings may be reused for this run."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from benchmark import peak as peak_mod

if TYPE_CHECKING:
    from benchmark.config import RunConfig

def conformance_key(name: str, checks: tuple[str, ...], seed: int) -> tuple[str, dict[str, Any]]:
    from export import cache
    ing = cache.ingredients("conformance", network=name, checks=list(checks), seed=seed)
    return cache.key_of(ing), ing


def store_row(cache: Any, row: dict[str, Any], checks: tuple[str, ...], seed: int) -> None:
    """A conformance row is cached unless a transient failure (memory, a killed process) made it."""
    from export.pipeline import TRANSIENT
    if any(marker in json.dumps(row, default=str) for marker in TRANSIENT):
        return
    try:
        cache.put(*conformance_key(row["model"], checks, seed), row)
    except OSError:
        pass                    # a full cache costs the next run, not this one


def timing_key(name: str, size: tuple[int, int], rt: Any, cfg: RunConfig, plan: Any,
               peak: peak_mod.Peak) -> tuple[str, dict[str, Any]]:
    """One (network, runtime) timing: the export key's ingredients, the runtime, the threads, the
    timing plan, the CPU and its cores, and the timing code's own source."""
    from export import cache
    ing = cache.ingredients("timing", sources=(*cache.SOURCE_DIRS, *cache.TIMING_SOURCES), network=name,
                            size=list(size), seed=cfg.seed, weights=cache.weights_identity(name, cfg.weights),
                            runtime=rt.name, format=rt.format, threads=cfg.threads, plan=plan.as_dict(),
                            cpu=peak.cpu, cores=os.cpu_count(), omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"))
    return cache.key_of(ing), ing


def _artifact_id(export_rec: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a timing depends on of its artifact: the export outcome and the artifact's bytes."""
    return None if export_rec is None else {"outcome": export_rec.get("outcome"), "sha256": export_rec.get("sha256")}


def reusable_timings(name: str, size: tuple[int, int], rts: list[Any], exported: dict[str, dict[str, Any]],
                     cfg: RunConfig, plan: Any, peak: peak_mod.Peak, cache: Any) -> dict[str, dict[str, Any]]:
    """The runtime records of ``name`` to reuse from the cache: same key, and for an artifact's
    runtime the very artifact this run exported or restored (same outcome, same sha256)."""
    if cache is None or cfg.retime:
        return {}
    got: dict[str, dict[str, Any]] = {}
    for rt in rts:
        hit = cache.get(timing_key(name, size, rt, cfg, plan, peak)[0])
        if hit is None or (rt.format and hit.record.get("artifact") != _artifact_id(exported.get(rt.format))):
            continue
        got[rt.name] = {**hit.record, "measured": hit.stored}
    return got


def timing_cacheable(r: dict[str, Any], rt: Any, export_rec: dict[str, Any] | None) -> bool:
    """A timing record worth reusing: measured ("ok"), or a deterministic outcome: the runtime
    does not apply (skipped after its artifact, or a twin runtime), or its export failed in a
    way export caches. Failures to open or run are tried again next time."""
    from export.pipeline import EXPORT_FAILED, cacheable
    if r.get("status") == "ok":
        return True
    if r.get("status") == "skipped":
        return rt.format is None or "artifact" in r
    return r.get("stage") == "export" and export_rec is not None and export_rec.get("outcome") == EXPORT_FAILED \
        and cacheable(export_rec)


def store_timings(net_rec: dict[str, Any], rts: list[Any], exported: dict[str, dict[str, Any]],
                  cfg: RunConfig, plan: Any, peak: peak_mod.Peak, cache: Any) -> None:
    """Cache the runtime records measured in this run (``--retime`` replaces the old ones)."""
    if cache is None:
        return
    size = tuple(net_rec["size"])
    for rt in rts:
        r = net_rec["runtimes"].get(rt.name)
        export_rec = exported.get(rt.format) if rt.format else None
        if rt.format and export_rec is None:      # exported in this process after a worker failed: not keyed
            continue
        if r is None or (r.get("timing") or {}).get("from_cache") or not timing_cacheable(r, rt, export_rec):
            continue
        entry = {"runtime": r, "macs": net_rec.get("macs"), "weights": net_rec.get("weights"),
                 "artifact": _artifact_id(export_rec) if rt.format else None}
        try:
            cache.put(*timing_key(net_rec["network"], size, rt, cfg, plan, peak), entry, replace=cfg.retime)
        except OSError:
            pass


def witness_key(names: list[str], sizes: dict[str, tuple[int, int]], cfg: RunConfig, plan: Any,
                peak: peak_mod.Peak) -> tuple[str, dict[str, Any]]:
    from export import cache
    ing = cache.ingredients("witnesses", sources=(*cache.SOURCE_DIRS, *cache.WITNESS_SOURCES), networks=names,
                            sizes={n: list(sizes[n]) for n in names}, seed=cfg.seed, threads=cfg.threads,
                            plan=plan.as_dict(), quick=cfg.quick, cpu=peak.cpu, cores=os.cpu_count(),
                            omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"))
    return cache.key_of(ing), ing
