"""The heavy, untimed work of the main job, run in worker processes before any timing: every
artifact's export and verification (export's own ``export_network``) and the conformance checks.

Converters are mostly single-threaded Python, so on a 2-core machine two workers halve this
phase; the timed runs come afterwards, in the main process, with the workers gone so they do not
share the cores with anything of ours. Workers are spawned (not forked: TensorFlow and torch hold
threads and locks a fork would copy) and run their frameworks at one thread each.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable


def _init_worker() -> None:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from twinzoo.import_order import before_tensorflow
    before_tensorflow()
    from benchmark.runtimes import configure_threads
    configure_threads(1)


def export_job(name: str, size: tuple[int, int], formats: list[str], seed: int, work: str) -> dict[str, Any]:
    """Export and verify one network's artifacts (export's pipeline); its records, never raises."""
    from export import formats as fmt_registry
    from export.pipeline import export_network
    from twinzoo import catalogue

    t0 = time.perf_counter()
    try:
        records = export_network(catalogue.get(name), [fmt_registry.get(f) for f in formats], size, seed, Path(work))
    except Exception as exc:  # noqa: BLE001 — returned as the job's error
        return {"kind": "export", "name": name, "error": f"{type(exc).__name__}: {exc}"[:500],
                "traceback": "".join(traceback.format_exception(exc)[-3:])[-2000:]}
    return {"kind": "export", "name": name, "records": records, "seconds": time.perf_counter() - t0}


def conformance_job(name: str, checks: tuple[str, ...], seed: int) -> dict[str, Any]:
    """One network's conformance row (``conformance.checks.check_network`` records its own errors)."""
    from conformance.checks import check_network

    r = check_network(name, checks, seed=seed)
    return {"kind": "conformance", "name": name, "row": {
        "model": name, "passed": r.ok, "checks": {k: v.status for k, v in r.results.items()},
        "summaries": {k: v.summary for k, v in r.results.items()},
        "parity_max_rel": r.results["parity"].data.get("max_rel") if "parity" in r.results else None}}


Job = tuple[Callable[..., dict[str, Any]], tuple]


def run_jobs(jobs: list[Job], workers: int, on_result: Callable[[dict[str, Any]], None]) -> None:
    """Run ``jobs`` in ``workers`` spawned processes (0: in this process, one after the other),
    calling ``on_result`` as each finishes. A job whose worker dies is reported as an error result."""
    if workers <= 0:
        for fn, args in jobs:
            on_result(fn(*args))
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker) as pool:
        futures: dict[Future, Job] = {pool.submit(fn, *args): (fn, args) for fn, args in jobs}
        for fut in as_completed(futures):
            fn, args = futures[fut]
            try:
                on_result(fut.result())
            except Exception as exc:  # noqa: BLE001 — e.g. a worker killed by a crash in a converter
                kind = "export" if fn is export_job else "conformance"
                on_result({"kind": kind, "name": args[0], "error": f"worker failed: {type(exc).__name__}: {exc}"[:500]})
