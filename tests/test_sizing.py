"""Which export jobs run alone or one format per job: derived from each spec's measured export
peak and the machine's memory (``benchmark.sizing``), not fixed for one machine."""

from __future__ import annotations

import dataclasses

from benchmark import sizing
from benchmark.suite import BENCH_NETWORKS
from twinzoo import catalogue

GIB = 2 ** 30


def _plan(total_gib: float, workers: int) -> tuple[set[str], set[str]]:
    got = sizing.schedules([catalogue.get(n) for n in BENCH_NETWORKS], workers, int(total_gib * GIB))
    return {n for n, e in got.items() if e.alone}, {n for n, e in got.items() if e.per_format}


def test_the_reference_machine_keeps_the_large_exports_apart():
    """23.5 GiB and two workers: the machine the peaks were measured on. Every network whose
    export job passed a share of it runs alone; GNMT, whose one-process job passed all of it,
    runs one format per job."""
    alone, per_format = _plan(23.5, 2)
    measured = {n for n in BENCH_NETWORKS if (catalogue.get(n).bench.export_peak_gib or 0) > 0.95 * 23.5 / 2}
    assert alone == measured and "vgg_16" in alone and "mobilenet_v1" not in alone
    assert per_format == {"gnmt"}


def test_more_memory_lifts_the_constraints_and_less_adds_to_them():
    alone64, per_format64 = _plan(64, 2)
    assert alone64 == set() and per_format64 == set()
    alone16, per_format16 = _plan(16, 2)
    assert alone16 >= _plan(23.5, 2)[0] and per_format16 > {"gnmt"}     # 20 GiB jobs no longer fit 15.2
    assert _plan(23.5, 1)[0] == set()                  # one worker: nothing runs beside anything


def test_a_network_without_a_measured_peak_is_never_held_back():
    net = catalogue.get("srcnn")
    unmeasured = dataclasses.replace(net, bench=dataclasses.replace(net.bench, export_peak_gib=None))
    e = sizing.schedule(unmeasured, 1 * GIB, 2)
    assert not e.alone and not e.per_format and "no measured export peak" in e.why
    assert not sizing.schedule(catalogue.get("vgg_16"), None, 2).alone       # memory unknown
