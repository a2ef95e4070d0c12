"""``python -m benchmark plan --shards N``: split the main job into N shard commands of about equal
cost, for a CI matrix (each entry runs one command; ``python -m benchmark merge`` joins them).

Costs come from the last run's report (``--from``, default ``reports/benchmark.json``): a
network's export-job seconds plus its seconds in the timing phase, and each conformance row's
seconds. Where there is no report, or it lacks a network, the cost is estimated from the network's
MACs at its benchmark size (the timed runs scale with it; the exports and conformance rows of the
big networks too, roughly), and the plan says so. Shards are filled longest job first, each
job to the shard with the least cost so far (LPT: within 4/3 of the best possible longest shard).
"""

from __future__ import annotations

import argparse
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# estimate without measurements: seconds = SECONDS_PER_GMAC * GMAC + FIXED_SECONDS per network, a
# least-squares fit to the 13 convolutional networks measured cold on 2 cores (export job + timing
# phase seconds, every runtime): 55 s (SRCNN) to 899 s (SPADE), each within 0.4-2.1x of the fit.
# MACs miss what an export costs: the recurrent networks (GNMT's exports alone take 35 min) are
# planned right only from a report.
# Conformance-only rows: the median of 33 measured in the same runs (0.3-4.6 s, median 1.5).
SECONDS_PER_GMAC = 4.2
FIXED_SECONDS = 117.0
CONFORMANCE_ONLY_SECONDS = 1.5


@dataclass
class Shard:
    bench: list[str] = field(default_factory=list)           # networks timed (and given conformance rows)
    conformance: list[str] = field(default_factory=list)     # catalogue networks given conformance rows only
    cost: float = 0.0


def measured_costs(report: dict[str, Any]) -> tuple[dict[str, tuple[float, str]], dict[str, float]]:
    """Seconds per benchmarked network (with how they are known: ``network_cost``) and per
    conformance-only row, as a report measured them."""
    warmup = ((report.get("settings") or {}).get("timing_plan") or {}).get("warmup", 0)
    bench = {n["network"]: c for n in report.get("networks", []) if (c := network_cost(n, warmup)) is not None}
    conf = {r["model"]: r["timing"]["seconds"] for r in (report.get("conformance") or {}).get("rows", [])
            if (r.get("timing") or {}).get("seconds") is not None}
    return bench, conf


def network_cost(net: dict[str, Any], warmup: int) -> tuple[float, str] | None:
    """What one network's share of a run costs when nothing comes from the cache, and how that is
    known: "measured" (its export jobs and its timing phase, as this run ran them), or "records"
    when a runtime's timing came from the cache (a warm run's seconds would plan nothing): each
    route's export and verification seconds and each timing's calls (warm-up and timed runs at
    their mean, a compile's first call), as the records of the run that measured them say; the
    twins' construction is not in them. None: nothing measured."""
    t = net.get("timing") or {}
    rts = list((net.get("runtimes") or {}).values())
    export, bench = t.get("export_job_seconds"), t.get("bench_seconds")
    if not any((r.get("timing") or {}).get("from_cache") for r in rts):
        return (None if export is None and bench is None else ((export or 0.0) + (bench or 0.0), "measured"))
    routes = {r["format"]: r.get("timing") or {} for r in rts if r.get("format")}
    cost = export if export is not None else sum((rt.get("export_seconds") or 0.0) + (rt.get("verify_seconds") or 0.0)
                                                 for rt in routes.values())
    for r in rts:
        rt = r.get("timing") or {}
        cost += rt.get("first_call_seconds") or 0.0
        if rt.get("mean_ms") and rt.get("runs"):
            cost += (rt["runs"] + warmup) * rt["mean_ms"] / 1e3
    return (cost, "records") if cost > 0 else None


def estimated_cost(name: str, quick: bool) -> float:
    from benchmark.suite import bench_size
    from conformance.lib import counting
    from twinzoo import catalogue

    net = catalogue.get(name)
    size, _ = bench_size(net, quick)
    macs = counting.torch_macs(counting.build_torch_meta(name), net.batch_shape(size, layout="NCHW"), net.input_dtype)
    return SECONDS_PER_GMAC * macs / 1e9 + FIXED_SECONDS


def balance(costs: dict[str, float], shards: int) -> list[list[str]]:
    """LPT: the costliest job first, each to the shard with the least cost so far (ties: the
    lower shard); names keep a deterministic order for equal costs."""
    loads = [0.0] * shards
    out: list[list[str]] = [[] for _ in range(shards)]
    for name in sorted(costs, key=lambda n: (-costs[n], n)):
        i = min(range(shards), key=lambda k: (loads[k], k))
        out[i].append(name)
        loads[i] += costs[name]
    return out


def make_plan(bench: list[str], conformance_only: list[str], shards: int, report: dict[str, Any] | None,
              quick: bool) -> tuple[list[Shard], dict[str, str]]:
    """The shards, and where each network's cost came from ("measured", "records": ``network_cost``;
    "MACs": ``estimated_cost``; "fixed")."""
    if not 1 <= shards <= len(bench):
        raise ValueError(f"--shards {shards}: must be 1 to {len(bench)} (every shard times at least one network)")
    measured_bench, measured_conf = measured_costs(report) if report else ({}, {})
    costs: dict[str, float] = {}
    source: dict[str, str] = {}
    for n in bench:
        costs[n], source[n] = measured_bench[n] if n in measured_bench else (estimated_cost(n, quick), "MACs")
    for n in conformance_only:
        costs[n], source[n] = (measured_conf[n], "measured") if n in measured_conf else (CONFORMANCE_ONLY_SECONDS, "fixed")
    plan = [Shard() for _ in range(shards)]
    for shard, names in zip(plan, balance(costs, shards)):
        shard.bench = [n for n in bench if n in names]                 # catalogue order within a shard
        shard.conformance = [n for n in conformance_only if n in names]
        shard.cost = sum(costs[n] for n in names)
    return plan, source


def imbalance(plan: list[Shard]) -> float:
    """Longest shard over the mean shard (1.0: perfectly balanced)."""
    mean = sum(s.cost for s in plan) / len(plan)
    return max(s.cost for s in plan) / mean if mean else 1.0


def commands(plan: list[Shard], passthrough: list[str], out_prefix: str) -> list[str]:
    """One ``python -m benchmark`` command per shard; shard i writes ``{out_prefix}{i}``."""
    cmds = []
    for i, s in enumerate(plan, 1):
        argv = ["python", "-m", "benchmark", "--model", *s.bench]
        if s.conformance:
            argv += ["--conformance-model", *s.conformance]
        argv += [*passthrough, "--out", f"{out_prefix}{i}"]
        cmds.append(shlex.join(argv))
    return cmds


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmark plan", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shards", type=int, required=True, metavar="N", help="number of shard commands")
    p.add_argument("--from", dest="source", type=Path, default=Path("reports/benchmark.json"), metavar="REPORT",
                   help="the last run's benchmark.json, for measured costs (default reports/benchmark.json; "
                        "absent: costs estimated from MACs)")
    p.add_argument("--out-prefix", default="shard", metavar="PREFIX",
                   help="shard i writes PREFIX<i> (default shard): merge them with "
                        "python -m benchmark merge PREFIX*/benchmark.json --out reports")
    p.add_argument("--quick", action="store_true", help="plan --quick shards (passed on)")
    p.add_argument("--json", action="store_true", help="print the plan as JSON instead of commands")
    return p
