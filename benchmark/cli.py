"""``python -m benchmark``: time the zoo in every runtime and write the report; ``merge`` joins
shard reports into one.

    python -m benchmark [--model NAME ...] [--runtime NAME ...] [--quick] [--threads N] [--size HxW]
                        [--out DIR] [--seed N] [--conformance CHECKS|none] [--no-witnesses]
    python -m benchmark merge SHARD.json [SHARD.json ...] --out DIR

Writes DIR/benchmark.{json,md,html} atomically (the JSON also after every network, so an
interrupted run leaves what was measured), the artifacts and their export manifest under
DIR/artifacts/. Exit status 0 when every runtime ran and every conformance row passes, 1
otherwise (the report says what failed), 2 on bad arguments or an unwritable --out.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# torch's OpenMP threads spin-wait between parallel regions by default; on a machine whose cores
# are shared with other processes a descheduled thread then stalls every region (measured here:
# MobileNet v2 at 2 threads 2.4-5.8 s with the default, 35 ms with PASSIVE). Read by libgomp when
# torch loads, so it is set before any import of torch; the report states the value in use.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
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
from rich.table import Table  # noqa: E402

from benchmark import peak as peak_mod  # noqa: E402
from benchmark import report as rep  # noqa: E402
from benchmark.runtimes import RUNTIMES, UnknownRuntimeError  # noqa: E402
from benchmark.runtimes import get as get_runtime  # noqa: E402
from benchmark.suite import BENCH_NETWORKS  # noqa: E402
from twinzoo import catalogue  # noqa: E402

console = Console(stderr=True)
DEFAULT_CONFORMANCE = "params,macs,parity"
# --quick times the twins themselves only: every export route costs seconds to tens of seconds
QUICK_RUNTIMES = ("torch_eager", "keras_tf")
# the catalogue's conformance rows run in this many worker jobs (each a fresh process: imports paid once a chunk)
CONFORMANCE_CHUNKS = 2
SCOPE = (f"Benchmarked: the {len(BENCH_NETWORKS)} AI Benchmark networks, convolutional and recurrent (discriminators and the "
         "other catalogue variants are not timed: they get conformance rows only).")


class UsageError(Exception):
    pass


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
    p.add_argument("--weights", type=Path, metavar="DIR",
                   help="time the certified ports in DIR (python -m conformance port --out DIR) instead of random "
                        "weights; a network without one there is recorded as an error")
    p.add_argument("--no-witnesses", action="store_true", help="skip the witness comparisons")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="worker processes for the untimed work (exports, verification, conformance) run before "
                        "the timing; 0: in this process (default: the cores)")
    return p


def _merge_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmark merge", description="join shard reports into one")
    p.add_argument("shards", nargs="+", type=Path, metavar="SHARD.json")
    p.add_argument("--out", type=Path, required=True, metavar="DIR")
    return p


def check_out_dir(out: Path) -> Path:
    """Create ``out`` if needed and prove it writable, before any work."""
    import tempfile
    out = out.expanduser()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test."):
            pass
    except OSError as exc:
        raise UsageError(f"--out {out}: not writable ({exc.strerror or exc})") from None
    return out.resolve()


def write_report(out: Path, report: dict[str, Any], full: bool = True) -> list[Path]:
    from export.common import write_bytes_atomic     # temporary file + rename, usual file mode
    paths = [out / "benchmark.json"]
    write_bytes_atomic(paths[0], rep.to_json(report).encode())
    if full:
        paths += [out / "benchmark.md", out / "benchmark.html"]
        write_bytes_atomic(paths[1], rep.markdown(report).encode())
        write_bytes_atomic(paths[2], rep.html_page(report).encode())
    return paths


def environment(peak: peak_mod.Peak) -> dict[str, Any]:
    from export.common import tool_versions, version_of
    return {"cpu": peak.cpu, "cores": os.cpu_count(), "python": sys.version.split()[0],
            "platform": platform.platform(),
            "versions": {**tool_versions(), **{d: version_of(d) for d in ("torchvision", "matplotlib", "rich")}}}


def resolve(args: argparse.Namespace) -> tuple[list[str], list[str], tuple[int, int] | None, Path]:
    from export.cli import UsageError as ExportUsage
    from export.cli import check_weights_dir, parse_size
    try:
        names = [catalogue.get(n).name for n in args.model] if args.model else list(BENCH_NETWORKS)
        rts = [get_runtime(r).name for a in args.runtime for r in a.split(",") if r] if args.runtime \
            else list(QUICK_RUNTIMES if args.quick else RUNTIMES)
        size = parse_size(args.size)
        args.weights = check_weights_dir(args.weights)
    except (catalogue.UnknownModelError, UnknownRuntimeError, ExportUsage) as exc:
        raise UsageError(str(exc)) from None
    if args.jobs < 0:
        raise UsageError(f"--jobs {args.jobs}: must be 0 or more")
    if args.threads < 1:
        raise UsageError(f"--threads {args.threads}: must be at least 1")
    return names, rts, size, check_out_dir(args.out)


def untimed_phase(names: list[str], sizes: dict[str, tuple[int, int]], formats: list[str], conf_names: list[str],
                  checks: tuple[str, ...], args: argparse.Namespace, work: Path, progress: Progress) -> dict[str, Any]:
    """Exports (with export's verification) and conformance rows, in worker processes."""
    from benchmark import parallel
    from benchmark.suite import EXPORT_ALONE, EXPORT_COST_RANK, EXPORT_PER_FORMAT
    heavy_first = sorted(names, key=lambda n: EXPORT_COST_RANK.index(n) if n in EXPORT_COST_RANK else len(EXPORT_COST_RANK))
    weights = str(args.weights) if args.weights else None
    jobs: list[parallel.Job] = [(parallel.export_job, (n, sizes[n], group, args.seed, str(work), weights))
                                for n in heavy_first if formats
                                for group in ([[f] for f in formats] if n in EXPORT_PER_FORMAT else [formats])]
    chunks = [conf_names[i::CONFORMANCE_CHUNKS] for i in range(CONFORMANCE_CHUNKS)] if checks else []
    jobs += [(parallel.conformance_job, (chunk, checks, args.seed)) for chunk in chunks if chunk]
    done: dict[str, Any] = {"exported": {}, "export_errors": {}, "rows": {}, "seconds": {}}
    if not jobs:
        return done
    task = progress.add_task(f"exports and conformance ({args.jobs} workers)", total=len(jobs))

    def on_result(res: dict[str, Any]) -> None:
        progress.advance(task)
        err = res.get("error")
        if res["kind"] == "export":
            name = res["name"]
            if err:
                done["export_errors"][name] = err
            else:               # a network exported one format per job gathers its records here
                done["exported"].setdefault(name, {}).update({r["format"]: r for r in res["records"]})
                prev = done["seconds"].get(name, 0.0)        # None: a job's worker died, no total
                done["seconds"][name] = None if prev is None or res["seconds"] is None else prev + res["seconds"]
            outcomes = ", ".join(f"{r['format']} {r['outcome']}" for r in done["exported"].get(name, {}).values())
            progress.console.print(f"  exported {name}: {escape(err or outcomes)}", soft_wrap=True, highlight=False)
        else:
            rows = res.get("rows") or [{"model": n, "passed": False, "checks": {"worker": "error"},
                                        "summaries": {"worker": err}, "parity_max_rel": None} for n in res["names"]]
            for row in rows:
                done["rows"][row["model"]] = row
            progress.console.print("  conformance " + ", ".join(f"{r['model']} {'pass' if r['passed'] else 'FAIL'}"
                                                                for r in rows), soft_wrap=True, highlight=False)
    parallel.run_jobs(jobs, args.jobs, on_result,
                      alone=lambda job: job[0] is parallel.export_job and job[1][0] in EXPORT_ALONE)
    return done


def witness_phase(names: list[str], report: dict[str, Any], args: argparse.Namespace, plan: Any,
                  progress: Progress) -> list[dict[str, Any]]:
    """The witness comparisons, in a process of their own (``parallel.witness_job``) unless --jobs 0."""
    from benchmark import parallel
    sizes = {n["network"]: tuple(n["size"]) for n in report["networks"]}
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
    parallel.run_jobs([(parallel.witness_job, (names, sizes, args.threads, plan, args.quick))],
                      1 if args.jobs else 0, on_result, threads=args.threads)
    return got


def run(args: argparse.Namespace, argv: list[str]) -> int:
    names, rt_names, size, out = resolve(args)
    checks = () if (args.conformance or ("none" if args.quick else DEFAULT_CONFORMANCE)) == "none" \
        else tuple(c.strip() for c in (args.conformance or DEFAULT_CONFORMANCE).split(",") if c.strip())
    started, t0 = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), time.perf_counter()

    from twinzoo.import_order import before_tensorflow
    before_tensorflow()
    from benchmark import runtimes, suite, timing
    thread_settings = runtimes.configure_threads(args.threads)   # before TF runs anything
    from conformance.checks import CHECKS
    from export.manifest import weights_note
    if set(checks) - set(CHECKS):
        raise UsageError(f"--conformance: unknown check(s) {sorted(set(checks) - set(CHECKS))}; known: {', '.join(CHECKS)}")

    peak = peak_mod.detect()
    plan = timing.QUICK if args.quick else timing.FULL
    report: dict[str, Any] = {
        "schema": rep.SCHEMA, "mode": "quick" if args.quick else "full", "seed": args.seed,
        "command": " ".join(["python -m benchmark", *argv]), "scope": SCOPE,
        "settings": {"thread_settings": thread_settings, "timing_plan": plan.as_dict(),
                     "input": "batch 1, float32, the first verification sample (a real ai-benchmark image where "
                              "the network has an image set)",
                     "weights": weights_note(args.weights)},
        "environment": environment(peak), "peak": peak.as_dict(),
        "networks": [], "witnesses": [], "conformance": None,
        "timing": {"started": started, "load_average_at_start": os.getloadavg()},
    }
    work = out / "artifacts"
    export_records: list[dict[str, Any]] = []
    rts = [runtimes.get(r) for r in rt_names]
    planned = {n: suite.bench_size(catalogue.get(n), args.quick, size) for n in names}
    conf_names = [n for n in catalogue.names() if not args.model or n in args.model]
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        untimed = untimed_phase(names, {n: p[0] for n, p in planned.items()}, [r.format for r in rts if r.format],
                                conf_names, checks, args, work, progress)
        if checks:
            rows = [untimed["rows"][n] for n in conf_names if n in untimed["rows"]]
            report["conformance"] = {"checks": list(checks), "rows": rows, "passed": sum(r["passed"] for r in rows),
                                     "note": "full checks (fold, reference graphs, witnesses' outputs): "
                                             "python -m conformance check"}
        task = progress.add_task("benchmark", total=len(names) * len(rts))
        for name in names:
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
            rec = suite.bench_network(net, sz, why, rts, args.threads, plan, args.seed, work, peak.gmacs, on_runtime,
                                      untimed["exported"].get(name), untimed["export_errors"].get(name), args.weights)
            if name in untimed["seconds"]:
                rec["timing"]["export_job_seconds"] = untimed["seconds"][name]
            export_records += rec.pop("export_records", [])
            report["networks"].append(rec)
            write_report(out, report, full=False)
        if not args.no_witnesses:
            report["witnesses"] = witness_phase(names, report, args, plan, progress)
    if export_records:
        from export import manifest
        manifest.write(work, manifest.build(export_records, seed=args.seed, size=size, argv=argv, started=started,
                                            finished=True, weights=args.weights))
    report["timing"].update(wall_seconds=time.perf_counter() - t0, load_average_at_end=os.getloadavg(),
                            finished=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    return finish(out, rep.finalise(report))


def finish(out: Path, report: dict[str, Any]) -> int:
    paths = write_report(out, report)
    title, headers, rows = rep.summary_table(report)
    table = Table(title=title)
    for h in headers:
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console(width=max(Console().width, 160)).print(table)
    for net in report["networks"]:
        console.print(f"[bold]{net['network']}[/]: {escape(rep.choose_line(net))}", highlight=False)
    wall = (report.get("timing") or {}).get("wall_seconds")
    console.print("wrote " + ", ".join(str(p) for p in paths) + (f" in {wall:.0f} s" if wall else ""))
    failed = any(r.get("status") == "error" for r in rep.iter_records(report)) or \
        any(not r["passed"] for r in (report.get("conformance") or {}).get("rows", []))
    return 1 if failed else 0


def merge(paths: list[Path]) -> dict[str, Any]:
    """One report from shard reports: networks' runtime records joined (a later shard's record of
    the same network x runtime wins), witnesses and conformance rows joined by their keys."""
    shards = []
    for p in paths:
        try:
            shards.append(json.loads(p.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise UsageError(f"{p}: not a readable benchmark report ({exc})") from None
        if shards[-1].get("schema") != rep.SCHEMA:
            raise UsageError(f"{p}: schema {shards[-1].get('schema')!r}, expected {rep.SCHEMA!r}")
    for key in ("seed", "mode"):
        if len({s[key] for s in shards}) > 1:
            raise UsageError(f"shards differ in {key}: {sorted({str(s[key]) for s in shards})}")
    merged = {k: v for k, v in shards[0].items() if k not in ("networks", "witnesses", "conformance")}
    nets: dict[str, dict[str, Any]] = {}
    wits: dict[tuple, dict[str, Any]] = {}
    conf_rows: dict[str, dict[str, Any]] = {}
    conf_checks: list[str] = []
    for s in shards:
        for n in s["networks"]:
            if n["network"] in nets and nets[n["network"]]["size"] != n["size"]:
                raise UsageError(f"{n['network']} was benchmarked at different sizes in the shards")
            target = nets.setdefault(n["network"], {**n, "runtimes": {}})
            target["runtimes"].update(n["runtimes"])
        for w in s.get("witnesses", []):
            wits[(w["network"], w["witness"], w["runtime"])] = w
        if s.get("conformance"):
            conf_checks = conf_checks or s["conformance"]["checks"]
            conf_rows.update({r["model"]: r for r in s["conformance"]["rows"]})
    order = {n: i for i, n in enumerate(catalogue.names())}
    merged["networks"] = sorted(nets.values(), key=lambda n: order.get(n["network"], len(order)))
    merged["witnesses"] = list(wits.values())
    rows = sorted(conf_rows.values(), key=lambda r: order.get(r["model"], len(order)))
    merged["conformance"] = {"checks": conf_checks, "rows": rows, "passed": sum(r["passed"] for r in rows),
                             "note": shards[0]["conformance"]["note"] if shards[0].get("conformance") else ""} \
        if rows else None
    merged["command"] = "python -m benchmark merge " + " ".join(str(p) for p in paths)
    merged["timing"] = {"shards": [{"command": s["command"], **(s.get("timing") or {})} for s in shards]}
    merged["environment"]["shard_hosts"] = sorted({s["environment"]["cpu"] for s in shards})
    return rep.finalise(merged)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["merge"]:
            margs = _merge_parser().parse_args(argv[1:])
            out = check_out_dir(margs.out)
            return finish(out, merge(margs.shards))
        args = _parser().parse_args(argv)
        return run(args, argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    except UsageError as exc:
        console.print(f"error: {exc}", style="red", markup=False, highlight=False, soft_wrap=True)
        return 2
