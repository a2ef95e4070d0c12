"""The heavy, untimed work of the main job, run in worker processes before any timing: every
artifact's export and verification (export's own ``export_network``) and the conformance checks.

Converters are mostly single-threaded Python, so on a 2-core machine two workers halve this
phase; the timed runs come afterwards, in the main process, with the workers gone so they do not
share the cores with anything of ours. Workers are spawned (not forked: TensorFlow and torch hold
threads and locks a fork would copy) and run their frameworks at one thread each.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from export.jobs import export_job, recovered_export, route_overdue
from twinzoo.workers import Job          # (function, args), as the runner takes them


def conformance_job(names: list[str], checks: tuple[str, ...], seed: int) -> dict[str, Any]:
    """Conformance rows of a chunk of networks (``conformance.checks.check_network`` records its own
    errors; one chunk per worker process amortises the frameworks' import)."""
    from conformance.checks import check_network

    rows = []
    for name in names:
        t0 = time.perf_counter()
        r = check_network(name, checks, seed=seed)
        rows.append({"model": name, "passed": r.ok, "checks": {k: v.status for k, v in r.results.items()},
                     "summaries": {k: v.summary for k, v in r.results.items()},
                     "parity_max_rel": r.results["parity"].data.get("max_rel") if "parity" in r.results else None,
                     "timing": {"seconds": time.perf_counter() - t0}})     # a shard plan's measured cost
    return {"kind": "conformance", "names": names, "rows": rows}


def _failed(job: Job, why: str) -> dict[str, Any]:
    fn, args = job
    if fn is export_job:
        return recovered_export(args, why)
    if fn is witness_job:
        return {"kind": "witness", "error": why}
    return {"kind": "conformance", "names": args[0], "error": why}


def witness_job(names: list[str], sizes: dict[str, tuple[int, int]], threads: int, plan: Any,
                quick: bool) -> dict[str, Any]:
    """Every witness comparison, in a process of its own: a fresh TensorFlow state after the
    timing of the zoo (the main process, holding every network's sessions by then, can crash in
    this phase), and a crash here loses the witnesses only."""
    from benchmark import witnesses
    return {"kind": "witness", "records": witnesses.run_all(names, sizes, threads, plan, quick)}


def run_jobs(jobs: list[Job], workers: int, on_result: Callable[[dict[str, Any]], None], threads: int = 1,
             alone: Callable[[Job], bool] | None = None, route_budget: float | None = None) -> None:
    """The main job's worker processes (``twinzoo.workers.run_jobs``): one fresh process per job,
    since the converters' memory goes back to the system only with their process (one process
    kept through several networks grows past 10 GB). A job whose process dies fails alone
    (``_failed``: an export keeps what its journal recorded); a route that runs past
    ``route_budget`` seconds is killed (``route_overdue``)."""
    from twinzoo import workers as pool
    pool.run_jobs(jobs, workers, lambda _, result: on_result(result), _failed, threads=threads, alone=alone,
                  overdue=route_overdue(route_budget))
