"""``python -m benchmark``: time the zoo in every runtime and write the report; ``plan`` prints
balanced shard commands for a CI matrix, ``merge`` joins the shards' reports into one.

    python -m benchmark [--model NAME ...] [--runtime NAME ...] [--quick] [--threads N] [--size HxW]
                        [--out DIR] [--seed N] [--conformance CHECKS|none] [--no-witnesses]
                        [--jobs N] [--weights DIR] [--cache DIR | --no-cache] [--retime] [--resume]
                        [--conformance-model NAME ...]
    python -m benchmark plan --shards N [--from REPORT] [--out-prefix PREFIX] [--json] [options of the shards]
    python -m benchmark merge SHARD.json [SHARD.json ...] --out DIR

Writes DIR/benchmark.{json,md,html} atomically (the JSON also after every network, so an
interrupted run leaves what was measured), the artifacts and their export manifest under
DIR/artifacts/. Exports, verifications, conformance rows, timings and witness rows come from the
artifact cache (``export.cache``; default $TWINZOO_CACHE, else $XDG_CACHE_HOME/twinzoo/artifacts,
else ~/.cache/twinzoo/artifacts) when nothing they depend on changed: a warm re-run re-measures
nothing, and the report says how many records came from the cache. --retime measures every
timing (and witness) again while reusing the artifacts; --no-cache neither reads nor writes the
cache. --resume finishes an interrupted run in DIR: the networks its benchmark.json holds are kept,
the others run (refused when the settings differ). Exit status 0 when every runtime ran and every conformance row passes, 1
otherwise (the report says what failed), 2 on bad arguments or an unwritable --out.
"""

from __future__ import annotations

from twinzoo import environment

# before anything imports torch (the report states the OMP_WAIT_POLICY in use); the load order
# is set later, in ``run``
environment.prepare(omp_passive=True, load_order=False)

import argparse  # noqa: E402
import os  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402

from benchmark import peak as peak_mod  # noqa: E402
from benchmark import report as rep  # noqa: E402
from benchmark import sizing  # noqa: E402
from benchmark.keys import conformance_key, reusable_timings, store_row, store_timings, witness_key  # noqa: E402
from benchmark.report_io import cache_summary, finish, merge, request_of, resume_from, write_report  # noqa: E402
from benchmark.config import DEFAULT_CONFORMANCE, QUICK_RUNTIMES, RunConfig  # noqa: E402
from benchmark.runtimes import RUNTIMES  # noqa: E402
from benchmark.sizing import ExportSchedule  # noqa: E402
from benchmark.suite import BENCH_NETWORKS, ROUTE_BUDGET_MINUTES  # noqa: E402
from twinzoo import arguments, catalogue, files  # noqa: E402
from twinzoo.arguments import ArgumentError  # noqa: E402

console = Console(stderr=True)
# the catalogue's conformance rows run in this many worker jobs (each a fresh process: imports paid once a chunk)
CONFORMANCE_CHUNKS = 2
SCOPE = (f"Benchmarked: the {len(BENCH_NETWORKS)} AI Benchmark networks, convolutional and recurrent (discriminators and the "
         "other catalogue variants are not timed: they get conformance rows only).")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmark", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", nargs="+", metavar="NAME", help=f"networks to time (default: {' '.join(BENCH_NETWORKS)})")
    p.add_argument("--runtime", nargs="+", metavar="NAME", help=f"runtimes (default: all): {', '.join(RUNTIMES)}")
    p.add_argument("--quick", action="store_true",
                   help=f"small sizes, few runs, runtimes {', '.join(QUICK_RUNTIMES)} unless --runtime, no conformance, "
                        "no graph witnesses: a first look in about a minute")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads of every runtime (default: the cores)")
    p.add_argument("--size", metavar="HxW", help="one input size for every network (default: each network's benchmark size)")
    p.add_argument("--out", type=Path, default=Path("reports"), metavar="DIR", help="output directory (default reports)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights and inputs (default 0)")
    p.add_argument("--conformance", metavar="CHECKS",
                   help=f"conformance checks over the whole catalogue, or 'none' (default: {DEFAULT_CONFORMANCE}; "
                        "--quick: none; with --model: those networks only)")
    p.add_argument("--conformance-model", nargs="+", metavar="NAME",
                   help="catalogue networks given conformance rows only, beside --model's (how a shard of "
                        "`python -m benchmark plan` takes its share of the catalogue's rows)")
    p.add_argument("--weights", type=Path, metavar="DIR",
                   help="time the certified ports in DIR (python -m conformance port --out DIR) instead of random "
                        "weights; a network without one there is recorded as an error")
    p.add_argument("--no-witnesses", action="store_true", help="skip the witness comparisons")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="worker processes for the untimed work (exports, verification, conformance) run before "
                        "the timing; 0: in this process (default: the cores)")
    p.add_argument("--route-budget", type=float, default=ROUTE_BUDGET_MINUTES, metavar="MIN",
                   help="minutes one export route (conversion and verification) may run before it is stopped and "
                        f"recorded as failed, the network's other routes going on (default {ROUTE_BUDGET_MINUTES:g}; "
                        "0: no budget; none either with --jobs 0, where routes run in this process); the stop is "
                        "cached, and a larger budget tries the route again")
    from export.cli import add_cache_arguments
    add_cache_arguments(p)
    p.add_argument("--retime", action="store_true",
                   help="measure every timing and witness again (the cache keeps the artifacts; by default a timing "
                        "record whose key is unchanged, same CPU and settings included, is reused and marked so)")
    p.add_argument("--resume", action="store_true",
                   help="finish an interrupted run: keep the networks DIR/benchmark.json holds, run the others "
                        "(refused when its settings differ from this command's)")
    return p


def _merge_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmark merge", description="join shard reports into one")
    p.add_argument("shards", nargs="+", type=Path, metavar="SHARD.json")
    p.add_argument("--out", type=Path, required=True, metavar="DIR")
    return p


def environment(peak: peak_mod.Peak) -> dict[str, Any]:
    from export.common import tool_versions, version_of
    return {"cpu": peak.cpu, "cores": os.cpu_count(), "python": sys.version.split()[0],
            "platform": platform.platform(),
            "versions": {**tool_versions(), **{d: version_of(d) for d in ("torchvision", "matplotlib", "rich")}}}


def untimed_phase(names: list[str], sizes: dict[str, tuple[int, int]], formats: list[str], conf_names: list[str],
                  checks: tuple[str, ...], cfg: RunConfig, work: Path, progress: Progress,
                  schedule: dict[str, ExportSchedule] | None = None) -> dict[str, Any]:
    """Exports (with export's verification) and conformance rows, in worker processes; what the
    artifact cache holds is taken from it here, and only the rest goes to workers, grouped and
    kept apart as ``schedule`` says (``benchmark.sizing``; None: as it says for this machine)."""
    if schedule is None:
        schedule = sizing.schedules([catalogue.get(n) for n in names], cfg.jobs)
    from benchmark import parallel
    from benchmark.suite import EXPORT_COST_RANK
    from export.jobs import retries
    from export.cache import open_cache
    cache = open_cache(cfg.cache)
    alone_nets = {n for n, p in schedule.items() if p.alone}
    per_format = {n for n, p in schedule.items() if p.per_format}
    heavy_first = sorted(names, key=lambda n: EXPORT_COST_RANK.index(n) if n in EXPORT_COST_RANK else len(EXPORT_COST_RANK))
    weights = str(cfg.weights) if cfg.weights else None
    cache_dir = str(cfg.cache) if cfg.cache else None
    budget = cfg.route_budget_seconds
    done: dict[str, Any] = {"exported": {}, "export_errors": {}, "rows": {}, "seconds": {}, "peak_rss_bytes": {},
                           "conformance_hits": 0}

    def export_jobs(n: str, groups: list[list[str]], alone: bool = False) -> list[parallel.Job]:
        return [(parallel.export_job, (n, sizes[n], group, cfg.seed, str(work), weights, cache_dir,
                                       alone or n in alone_nets, budget)) for group in groups]

    jobs: list[parallel.Job] = []
    for n in heavy_first if formats else []:
        hits = cached_exports(n, sizes[n], formats, cfg, work, cache)
        missing = [f for f in formats if f not in hits]
        if hits:
            done["exported"][n] = hits
        if not missing:
            continue
        # a network exported one format per job runs only its missing ones; the others get every
        # format, restored from the cache in the worker, so cross-route pairs see both routes
        jobs += export_jobs(n, [[f] for f in missing] if n in per_format else [formats])
    if checks and cache is not None:
        for n in conf_names:
            hit = cache.get(conformance_key(n, checks, cfg.seed)[0])
            if hit is not None:
                done["rows"][n] = hit.record
        done["conformance_hits"] = len(done["rows"])
    todo = [n for n in conf_names if n not in done["rows"]] if checks else []
    chunks = [todo[i::CONFORMANCE_CHUNKS] for i in range(CONFORMANCE_CHUNKS)]
    jobs += [(parallel.conformance_job, (chunk, checks, cfg.seed)) for chunk in chunks if chunk]
    if not jobs:
        return done
    if len(jobs) == 1 or cfg.jobs <= 1:       # nothing runs beside it: a memory-guard kill is its own
        jobs = [(fn, (*a[:7], True, *a[8:])) if fn is parallel.export_job else (fn, a) for fn, a in jobs]
    task = progress.add_task(f"exports and conformance ({cfg.jobs} workers)", total=len(jobs))

    def on_result(res: dict[str, Any]) -> None:
        progress.advance(task)
        err = res.get("error")
        if res["kind"] == "export":
            name = res["name"]
            if err:
                done["export_errors"][name] = err
            else:               # a network exported one format per job gathers its records here
                done["exported"].setdefault(name, {}).update({r["format"]: r for r in res["records"]})
            prev = done["seconds"].get(name, 0.0)        # None: a job's time unknown, no total
            done["seconds"][name] = None if prev is None or res.get("seconds") is None else prev + res["seconds"]
            if res.get("peak_rss_bytes"):        # a network exported in several jobs: the largest
                done["peak_rss_bytes"][name] = max(res["peak_rss_bytes"], done["peak_rss_bytes"].get(name, 0))
            outcomes = ", ".join(f"{r['format']} {r['outcome']}" for r in done["exported"].get(name, {}).values())
            progress.console.print(f"  exported {name}: {escape(err or outcomes)}", soft_wrap=True, highlight=False)
        else:
            rows = res.get("rows") or [{"model": n, "passed": False, "checks": {"worker": "error"},
                                        "summaries": {"worker": err}, "parity_max_rel": None} for n in res["names"]]
            for row in rows:
                done["rows"][row["model"]] = row
                if res.get("rows") and cache is not None:
                    store_row(cache, row, checks, cfg.seed)
            progress.console.print("  conformance " + ", ".join(f"{r['model']} {'pass' if r['passed'] else 'FAIL'}"
                                                                for r in rows), soft_wrap=True, highlight=False)
    tried: dict[str, list[list[str]]] = {}
    while jobs:
        parallel.run_jobs(jobs, cfg.jobs, on_result, route_budget=budget,
                          alone=lambda job: job[0] is parallel.export_job and bool(job[1][7]))
        # a worker killed mid-network (the time budget, the memory guard, a crash) left routes not
        # attempted: they get a fresh worker; a route the memory guard stopped while another job
        # ran beside it is tried again alone; a network whose retry made no progress stops
        jobs = [job for n, group, alone in retries(done["exported"], formats, cache is not None, per_format, tried)
                for job in export_jobs(n, [group], alone)]
        if jobs:
            task = progress.add_task("routes not attempted or stopped beside another job, again", total=len(jobs))
    return done


# ------------------------------------------------------------------------------------------
# the artifact cache (export.cache) in the main job, and --resume
# ------------------------------------------------------------------------------------------
def cached_exports(name: str, size: tuple[int, int], formats: list[str], cfg: RunConfig, work: Path,
                   cache: Any) -> dict[str, dict[str, Any]]:
    """The export records of ``name`` the cache holds (artifacts restored under ``work``), by format."""
    if cache is None:
        return {}
    from export import formats as registry
    from export.pipeline import cached_records, export_size
    net = catalogue.get(name)
    size_, why = export_size(net, size)
    hits, _ = cached_records(net, [registry.get(f) for f in formats], size_, why, cfg.seed, work, cache, cfg.weights,
                             cfg.route_budget_seconds)
    return hits


def witness_phase(names: list[str], report: dict[str, Any], cfg: RunConfig, plan: Any,
                  peak: peak_mod.Peak, progress: Progress) -> tuple[list[dict[str, Any]], bool]:
    """The witness comparisons, in a process of their own (``parallel.witness_job``) unless --jobs 0,
    or all of them from the cache (same networks, sizes, settings, CPU and code; not with --retime);
    and whether they came from it."""
    from benchmark import parallel
    from export.cache import open_cache
    sizes = {n["network"]: tuple(n["size"]) for n in report["networks"]}
    cache = open_cache(cfg.cache)
    key, ing = witness_key(names, sizes, cfg, plan, peak)
    hit = cache.get(key) if cache is not None and not cfg.retime else None
    if hit is not None:
        for w in hit.record:
            w.setdefault("timing", {})["from_cache"] = {"measured": hit.stored}
        return hit.record, True
    task = progress.add_task("witnesses (own process)", total=1)
    got: list[dict[str, Any]] = []

    def on_result(res: dict[str, Any]) -> None:
        progress.advance(task)
        if res.get("error"):
            got.append({"network": "-", "witness": "all witnesses", "runtime": "-", "size": [0, 0],
                        "status": "error", "stage": "witness process", "error": res["error"]})
        else:
            got.extend(res["records"])
        for w in got:
            cells = rep.witness_table({"witnesses": [w]})[2][0]
            progress.console.print(f"  witness {w['network']:<20} {w['runtime']:<12} {escape(cells[-2])} "
                                   f"{escape(cells[-1])}", soft_wrap=True, highlight=False)
    parallel.run_jobs([(parallel.witness_job, (names, sizes, cfg.threads, plan, cfg.quick))],
                      1 if cfg.jobs else 0, on_result, threads=cfg.threads)
    if cache is not None and not any(w.get("status") == "error" for w in got):
        try:
            cache.put(key, ing, got, replace=cfg.retime)
        except OSError:
            pass
    return got, False


def run(cfg: RunConfig, argv: list[str]) -> int:
    names, rt_names, size, out, checks = list(cfg.networks), list(cfg.runtimes), cfg.size, cfg.out, cfg.checks
    started, t0 = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), time.perf_counter()
    from benchmark import suite
    planned = {n: suite.bench_size(catalogue.get(n), cfg.quick, size) for n in names}
    request = request_of(cfg, rt_names, planned, checks)
    kept, kept_exports = resume_from(out, request) if cfg.resume else ({}, [])

    from twinzoo.environment import before_tensorflow
    before_tensorflow()
    from benchmark import runtimes, timing
    thread_settings = runtimes.configure_threads(cfg.threads)   # before TF runs anything
    from export.cache import open_cache
    from export.manifest import weights_note

    peak = peak_mod.detect()
    plan = timing.QUICK if cfg.quick else timing.FULL
    schedule = sizing.schedules([catalogue.get(n) for n in names], cfg.jobs)
    cache = open_cache(cfg.cache)
    report: dict[str, Any] = {
        "schema": rep.SCHEMA, "mode": "quick" if cfg.quick else "full", "seed": cfg.seed,
        "command": " ".join(["python -m benchmark", *argv]), "scope": SCOPE,
        "settings": {"thread_settings": thread_settings, "timing_plan": plan.as_dict(),
                     "input": "batch 1, float32, the first verification sample (a real ai-benchmark image where "
                              "the network has an image set)",
                     "weights": weights_note(cfg.weights), "request": request,
                     "route_budget": (f"{cfg.route_budget:g} min per export route" if cfg.route_budget and cfg.jobs
                                      else "none (--route-budget 0 or --jobs 0)"),
                     "export_schedule": {n: {"alone": e.alone, "per_format": e.per_format, "why": e.why}
                                         for n, e in schedule.items()},
                     "left_out": dict(suite.QUICK_LEFT_OUT) if cfg.quick and cfg.model is None else {}},
        "environment": environment(peak), "peak": peak.as_dict(),
        "networks": [kept[n] for n in names if n in kept], "witnesses": [], "conformance": None,
        "timing": {"started": started, "load_average_at_start": os.getloadavg()},
    }
    write_report(out, report, full=False)       # from now on --resume has settings to compare
    work = out / "artifacts"
    export_records: list[dict[str, Any]] = list(kept_exports)
    rts = [runtimes.get(r) for r in rt_names]
    conf_names = [n for n in catalogue.names() if not cfg.model or n in cfg.model
                  or n in (cfg.conformance_model or ())]
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        todo = [n for n in names if n not in kept]
        untimed = untimed_phase(todo, {n: planned[n][0] for n in todo}, [r.format for r in rts if r.format],
                                conf_names, checks, cfg, work, progress, schedule)
        if checks:
            rows = [untimed["rows"][n] for n in conf_names if n in untimed["rows"]]
            report["conformance"] = {"checks": list(checks), "rows": rows, "passed": sum(r["passed"] for r in rows),
                                     "note": "full checks (fold, reference graphs, witnesses' outputs): "
                                             "python -m conformance check"}
        task = progress.add_task("benchmark", total=len(names) * len(rts), completed=len(kept) * len(rts))
        finished: dict[str, dict[str, Any]] = dict(kept)
        for name in todo:
            net = catalogue.get(name)
            sz, why = planned[name]

            def on_runtime(rt: str, rec: dict[str, Any] | None, name: str = name) -> None:
                if rec is None:
                    progress.update(task, description=f"{name}: {rt}")
                    return
                progress.advance(task)
                cell = rep._cell(rec)
                if rec.get("status") == "error":
                    cell += f" {rec.get('error', '')[:100]}"
                progress.console.print(f"  {name:<20} {rt:<14} {escape(cell)}", soft_wrap=True, highlight=False)

            progress.update(task, description=f"{name}: preparing twins at {sz[0]}x{sz[1]}")
            exported = untimed["exported"].get(name) or {}
            reused = reusable_timings(name, sz, rts, exported, cfg, plan, peak, cache)
            rec = suite.bench_network(net, sz, why, rts, cfg.threads, plan, cfg.seed, work, peak.gmacs, on_runtime,
                                      untimed["exported"].get(name), untimed["export_errors"].get(name), cfg.weights,
                                      reused)
            store_timings(rec, rts, exported, cfg, plan, peak, cache)
            if name in untimed["seconds"]:
                rec["timing"]["export_job_seconds"] = untimed["seconds"][name]
            if name in untimed["peak_rss_bytes"]:
                rec["timing"]["export_job_peak_rss_bytes"] = untimed["peak_rss_bytes"][name]
            export_records += rec.pop("export_records", [])
            finished[name] = rec
            report["networks"] = [finished[n] for n in names if n in finished]
            write_report(out, report, full=False)
            write_manifest(work, export_records, cfg, size, argv, started, finished=False)
        witnesses_cached = False
        if not cfg.no_witnesses:
            report["witnesses"], witnesses_cached = witness_phase(names, report, cfg, plan, peak, progress)
    if export_records:
        write_manifest(work, export_records, cfg, size, argv, started, finished=True)
    report["timing"].update(wall_seconds=time.perf_counter() - t0, load_average_at_end=os.getloadavg(),
                            finished=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                            cache=cache_summary(report, untimed, cfg, export_records, witnesses_cached, sorted(kept)))
    return finish(out, rep.finalise(report))


def write_manifest(work: Path, records: list[dict[str, Any]], cfg: RunConfig, size: tuple[int, int] | None,
                   argv: list[str], started: str, finished: bool) -> None:
    """The export manifest beside the artifacts (after every network too: ``--resume`` reads it)."""
    if not records:
        return
    from export import manifest
    manifest.write(work, manifest.build(records, seed=cfg.seed, size=size, argv=argv, started=started,
                                        finished=finished, weights=cfg.weights, cache=cfg.cache))


def plan_main(argv: list[str]) -> int:
    """``python -m benchmark plan --shards N [--from REPORT] [options of the shards]``: print N
    balanced shard commands (``benchmark.plan``); options it does not know are passed on to
    every shard (``--seed``, ``--runtime``, ``--threads`` ...)."""
    from benchmark import plan
    pargs, rest = plan.parser().parse_known_args(argv)
    shard_args = _parser().parse_args([*rest, *(["--quick"] if pargs.quick else [])])   # refuse what a shard would
    try:
        bench = [catalogue.get(n).name for n in shard_args.model] if shard_args.model else list(BENCH_NETWORKS)
    except catalogue.UnknownModelError as exc:
        raise ArgumentError(str(exc)) from None
    no_rows = shard_args.quick and not shard_args.conformance or shard_args.conformance == "none"
    conf_only = [] if no_rows or shard_args.model else [n for n in catalogue.names() if n not in bench]
    report = None
    if pargs.source.exists():
        from benchmark import schema
        try:
            report = schema.read(pargs.source, schema.COSTS)
        except schema.ReportError as exc:
            raise ArgumentError(f"--from {exc}") from None
    try:
        shards, source = plan.make_plan(bench, conf_only, pargs.shards, report, shard_args.quick)
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None
    drop = {"--model", "--conformance-model"}
    passthrough, skip = [], False
    for a in rest:                        # the shard's own --model / --conformance-model replace the user's
        if a.startswith("--"):
            skip = a in drop
        if not skip:
            passthrough.append(a)
    passthrough += ["--quick"] if pargs.quick else []
    cmds = plan.commands(shards, passthrough, pargs.out_prefix)
    measured = sum(v == "measured" for v in source.values())
    rebuilt = sum(v == "records" for v in source.values())
    if pargs.json:
        print(json.dumps({"shards": [{"command": c, "networks": s.bench, "conformance_only": s.conformance,
                                      "cost_seconds": round(s.cost, 1)} for c, s in zip(cmds, shards)],
                          "imbalance": round(plan.imbalance(shards), 3), "cost_sources": source}, indent=1))
        return 0
    console.print(f"{len(shards)} shards; costs: {measured} of {len(source)} measured "
                  f"({pargs.source if report else 'no report'})"
                  + (f", {rebuilt} from the cached records of the run that measured them" if rebuilt else "")
                  + ", the rest estimated; "
                  f"longest shard / mean = {plan.imbalance(shards):.2f}", highlight=False)
    for c, s in zip(cmds, shards):
        print(f"{c}    # ~{s.cost / 60:.0f} min")
    print(f"python -m benchmark merge {pargs.out_prefix}*/benchmark.json --out reports")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["plan"]:
            return plan_main(argv[1:])
        if argv[:1] == ["merge"]:
            margs = _merge_parser().parse_args(argv[1:])
            out = arguments.out_dir(margs.out)
            return finish(out, merge(margs.shards))
        return run(RunConfig.from_args(_parser().parse_args(argv)), argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    except (ArgumentError, files.WriteFailed) as exc:      # WriteFailed: a full disk under a report's writer
        console.print(f"error: {exc}", style="red", markup=False, highlight=False, soft_wrap=True)
        return 2
