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
    until ``min_seconds`` of timed calls have passed, never more than ``max_runs``. A very slow
    runtime (the lite interpreter runs at <1% of the peak) stops after ``max_seconds`` once it has
    ``floor_runs`` timed calls, and gets a single warm-up call when that call takes over 5 s:
    the report states the number of runs of every median."""

    warmup: int = 3
    min_runs: int = 10
    max_runs: int = 200
    min_seconds: float = 1.0
    max_seconds: float = 6.0
    floor_runs: int = 3

    def as_dict(self) -> dict[str, Any]:
        return {"warmup": self.warmup, "min_runs": self.min_runs, "max_runs": self.max_runs,
                "min_seconds": self.min_seconds, "max_seconds": self.max_seconds, "floor_runs": self.floor_runs}

    def more(self, runs: int, spent: float) -> bool:
        if runs >= self.max_runs:
            return False
        if runs >= self.floor_runs and spent >= self.max_seconds:
            return False
        return runs < self.min_runs or spent < self.min_seconds


FULL = Plan()
QUICK = Plan(warmup=1, min_runs=3, max_runs=20, min_seconds=0.2, max_seconds=1.0, floor_runs=2)


def _warm(calls: list[Callable[[], Any]], plan: Plan) -> None:
    for i in range(plan.warmup):
        t0 = time.perf_counter()
        for call in calls:
            call()
        # over 5 s a call: one warm-up is enough (a call that slow is not dominated by one-off setup
        # such as tf.function tracing, which a faster network's first call is)
        if i == 0 and time.perf_counter() - t0 > 5.0 * len(calls):
            return


def measure(call: Callable[[], Any], plan: Plan) -> dict[str, Any]:
    """Time ``call`` (which must finish its work before returning, e.g. copy the output to host)."""
    _warm([call], plan)
    times: list[float] = []
    spent = 0.0
    while plan.more(len(times), spent):
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
    _warm([call_a, call_b], plan)
    ta: list[float] = []
    tb: list[float] = []
    while plan.more(len(ta), (sum(ta) + sum(tb)) / 2):
        for call, times in ((call_a, ta), (call_b, tb)):
            t0 = time.perf_counter()
            call()
            times.append(time.perf_counter() - t0)
    return summarise(ta), summarise(tb)
