"""Latency of one callable at batch 1: warm-up calls, then an adaptive number of timed calls
(``time.perf_counter`` around each), summarised by the median and the 90th percentile."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class Plan:
    """How much to time: ``warmup`` untimed calls, then at least ``min_runs`` timed calls and more
    until ``min_seconds`` of timed calls have passed, never more than ``max_runs`` (a slow network
    stops at ``min_runs`` once the time is spent: a few seconds per call already averages out)."""

    warmup: int = 3
    min_runs: int = 10
    max_runs: int = 200
    min_seconds: float = 1.5

    def as_dict(self) -> dict[str, Any]:
        return {"warmup": self.warmup, "min_runs": self.min_runs, "max_runs": self.max_runs,
                "min_seconds": self.min_seconds}


FULL = Plan()
QUICK = Plan(warmup=1, min_runs=3, max_runs=20, min_seconds=0.2)


def measure(call: Callable[[], Any], plan: Plan) -> dict[str, Any]:
    """Time ``call`` (which must finish its work before returning, e.g. copy the output to host)."""
    for _ in range(plan.warmup):
        call()
    times: list[float] = []
    spent = 0.0
    while len(times) < plan.max_runs and (len(times) < plan.min_runs or spent < plan.min_seconds):
        t0 = time.perf_counter()
        call()
        dt = time.perf_counter() - t0
        times.append(dt)
        spent += dt
    return summarise(times)


def summarise(times: list[float]) -> dict[str, Any]:
    ms = np.asarray(times) * 1e3
    return {"median_ms": float(np.median(ms)), "p90_ms": float(np.percentile(ms, 90)),
            "min_ms": float(ms.min()), "mean_ms": float(ms.mean()), "runs": int(ms.size)}


def measure_pair(call_a: Callable[[], Any], call_b: Callable[[], Any], plan: Plan) -> tuple[dict[str, Any], dict[str, Any]]:
    """Time two callables alternately, one call each per round, so drift in a shared machine's
    load hits both alike (their ratio is what a witness comparison reports)."""
    for _ in range(plan.warmup):
        call_a()
        call_b()
    ta: list[float] = []
    tb: list[float] = []
    while len(ta) < plan.max_runs and (len(ta) < plan.min_runs or sum(ta) + sum(tb) < 2 * plan.min_seconds):
        for call, times in ((call_a, ta), (call_b, tb)):
            t0 = time.perf_counter()
            call()
            times.append(time.perf_counter() - t0)
    return summarise(ta), summarise(tb)
