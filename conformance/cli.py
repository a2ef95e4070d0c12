"""``python -m conformance``: list the zoo, or check it.

    python -m conformance list
    python -m conformance check [--model NAME ...] [--json PATH] [--markdown PATH] [--seed N]
                                [--checks params,macs,parity]
    python -m conformance selftest [--mutation NAME ...] [--parts mutations,sweeps,floors,clean]
                                   [--network NAME ...] [--seeds N] [--jobs N] [--json PATH] [--markdown PATH]
    python -m conformance port --model NAME --from PATH [--format F] [--ema M] [--size HxW]
                               [--images N] --out DIR

``check`` shows progress and a table, writes the reports atomically, and exits 1 when any check
fails (2 on bad arguments). ``selftest`` plants the bugs of ``conformance.selftest.mutations`` one at a
time, runs the checks under each and the unmutated twins over seeds, and exits 1 when a bug is
missed (or named at the wrong layer) or a correct twin is flagged. ``port`` reads a checkpoint
into both twins and certifies them (``conformance.port``): exit 0 certified, 1 not, 2 the file
does not fit (nothing written).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from twinzoo import arguments, catalogue, files, workers
from twinzoo.arguments import ArgumentError
from twinzoo.registry import UnknownNameError

console = Console(stderr=True)

# a worker whose resident memory has grown past this after a job is replaced by a fresh one: left
# alone, a self-test worker grows to 10 GB, more than a 23 GB machine with tests beside it can spare
RETIRE_BYTES = 6 * 2**30


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m conformance", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="list every network of the catalogue")
    ls.add_argument("--task", help="only networks of this task")
    ck = sub.add_parser("check", help="run the conformance checks")
    ck.add_argument("--model", nargs="+", metavar="NAME", help="networks to check (default: all)")
    ck.add_argument("--json", type=Path, metavar="PATH", help="write the JSON report here")
    ck.add_argument("--markdown", type=Path, metavar="PATH", help="write the Markdown report here")
    ck.add_argument("--seed", type=int, default=0, help="seed of the random weights and inputs (default 0)")
    ck.add_argument("--checks", default=",".join(("params", "macs", "parity", "fold", "reference", "witness")),
                    help="comma-separated subset of params,macs,parity,fold,train,reference,witness "
                         "(default: all but train)")
    ck.add_argument("--jobs", type=int, default=1, metavar="N",
                    help="worker processes, networks shared out among them (default 1; 2 on a 2-core machine "
                         "about halves the wall time)")
    ck.add_argument("--reference", action="store_true",
                    help="only the reference-graph check, on the networks that have an AI Benchmark graph")
    st = sub.add_parser("selftest", help="plant known porting bugs and prove the checks catch them")
    st.add_argument("--mutation", nargs="+", metavar="NAME", help="mutations to run (default: all)")
    st.add_argument("--seeds", type=int, default=10, metavar="N",
                    help="seeds 0..N-1 for the false-alarm runs of the unmutated twins (default 10)")
    st.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes (default 1)")
    st.add_argument("--json", type=Path, metavar="PATH", help="write the JSON report here")
    st.add_argument("--markdown", type=Path, metavar="PATH", help="write the Markdown report here")
    st.add_argument("--parts", metavar="LIST",
                    help="comma-separated subset of mutations,sweeps,floors,clean (default: the first three, "
                         "only the mutations when --mutation names some, only clean when --network does); "
                         "clean: the unmutated twins of every network (or --network) over the seeds")
    st.add_argument("--network", nargs="+", metavar="NAME",
                    help="the networks of the clean part (default: the whole catalogue)")
    st.add_argument("--list", action="store_true", help="list the mutations and exit")
    pt = sub.add_parser("port", help="port a checkpoint into both twins and certify them")
    pt.add_argument("--model", required=True, metavar="NAME", help="the catalogue network the file is for")
    pt.add_argument("--from", dest="source", required=True, type=Path, metavar="PATH",
                    help="the file: a TF checkpoint (prefix, .index or its directory), a Keras .h5 / "
                         ".weights.h5, a torch state dict, or twinzoo safetensors")
    pt.add_argument("--format", default="auto", choices=("auto", "tf-checkpoint", "keras-h5", "torch-state-dict",
                                                         "twinzoo"), help="the file's format (default: detected)")
    pt.add_argument("--ema", default="auto", choices=("auto", "use", "ignore"),
                    help="a TF checkpoint's ExponentialMovingAverage shadows: used when present (auto, as "
                         "TF-slim evaluates), required (use), or left out for the raw values (ignore)")
    pt.add_argument("--size", metavar="HxW", help="size of the top-1 comparison over the package's images "
                                                  "(default: the network's AI Benchmark size)")
    pt.add_argument("--images", type=int, metavar="N", help="top-1 over the first N classification images of the "
                                                           "package (default: all 100)")
    pt.add_argument("--seed", type=int, default=0, help="seed of the random parity inputs (default 0)")
    pt.add_argument("--out", required=True, type=Path, metavar="DIR",
                    help="where the weight files and <network>.certificate.{json,md} go")
    return p


def _check_writable(path: Path) -> None:
    parent = path.expanduser().resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArgumentError(f"cannot create the directory of {path}: {exc.strerror}") from None
    if path.is_dir():
        raise ArgumentError(f"output path {path} is a directory")
    if not os.access(parent, os.W_OK):
        raise ArgumentError(f"output directory {parent} is not writable")


def write_atomic(path: Path, text: str) -> None:
    """A report written atomically (``twinzoo.files``); a full disk is a ArgumentError (exit 2)."""
    try:
        files.atomic_write(path, text)
    except files.WriteFailed as exc:
        raise ArgumentError(str(exc)) from None


def _fmt_int(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) else "-"


def summary_rows(records: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in records:
        p, m, q = r.get("params", {}), r.get("macs", {}), r.get("parity", {})
        pub_p = [x for x in p.get("published", [])]
        pub_m = [x for x in m.get("published", [])]
        rows.append([
            r["model"],
            _fmt_int(p.get("torch", {}).get("trainable")) if p else "-",
            _fmt_int(p.get("keras", {}).get("total")) if p else "-",
            f"{sum(x['matches'] for x in pub_p)}/{len(pub_p)}" if p else "-",
            f"{m['torch'] / 1e6:,.1f}" if "torch" in m else "-",
            f"{m['keras'] / 1e6:,.1f}" if "keras" in m else "-",
            f"{sum(x['matches'] for x in pub_m)}/{len(pub_m)}" if m else "-",
            f"{q['max_rel']:.1e}" if "max_rel" in q else "-",
            _graph_cell(r.get("reference", {})),
            "pass" if r["passed"] else "FAIL " + ",".join(k for k, v in r["checks"].items() if v not in ("pass", "skip")),
        ])
    return rows


HEADERS = ["model", "params torch", "Keras total", "pub. params", "MMACs torch", "MMACs Keras",
           "pub. MACs", "parity rel", "AIB graph rel", "status"]


def _graph_cell(ref: dict[str, Any]) -> str:
    if not ref or ref.get("status") == "skip":
        return "-"
    if "vs_keras" in ref:
        return f"{max(ref['vs_keras']['max_rel'], ref['vs_torch']['max_rel']):.1e}"
    return ref.get("status", "-")


def markdown_report(report: dict[str, Any]) -> str:
    lines = ["# twinzoo conformance report", "",
             f"{report['passed_networks']}/{report['networks']} networks pass; "
             f"seed {report['seed']}; checks: {', '.join(report['checks'])}.", "",
             "Conventions: MACs count conv + FC multiply-accumulates only. Params: torch = trainable "
             "parameters; Keras total = trainable + BN moving statistics. `pub.` = published figures "
             "matched / cited (an erratum counts as cited, not matched). Parity rel = "
             "max|keras - torch| / max|torch| over real images and random inputs. AIB graph rel = "
             "worst of max|graph - twin| / max|graph| for AI Benchmark's own TF graph loaded with "
             "the twins' weights (both twins).", "",
             "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for row in summary_rows(report["results"]):
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "## Details", ""]
    for r in report["results"]:
        lines.append(f"### {r['model']}: {'pass' if r['passed'] else 'FAIL'}")
        lines.append(f"{r['description']}")
        lines.append("")
        for check in r["checks"]:
            lines.append(f"- **{check}** ({r[check]['status']}): {r[check]['summary']}")
            for pub in r[check].get("published", []):
                flag = "ok" if pub["matches"] else ("erratum" if pub.get("erratum") else "MISMATCH")
                unit = "" if check == "params" else f" at {pub['input_size'][0]}x{pub['input_size'][1]}"
                lines.append(f"  - {flag}: ours {pub['ours']:,} vs {pub['value']:,.0f}{unit} "
                             f"[{pub['convention']}, tol {pub['rel_tol']:.1%}] — {pub['source']}"
                             + (f"; {pub['note']}" if pub.get("note") else "")
                             + (f"; erratum: {pub['erratum']}" if pub.get("erratum") else ""))
            if check == "parity" and r[check].get("first_divergence"):
                d = r[check]["first_divergence"]
                lines.append(f"  - first diverging layer: {d['layer']}")
        lines.append("")
    return "\n".join(lines) + "\n"


def cmd_list(args: argparse.Namespace) -> int:
    table = Table(title="twinzoo catalogue")
    for col in ("name", "task", "input", "description"):
        table.add_column(col)
    for net in catalogue.networks():
        if args.task and net.task != args.task:
            continue
        table.add_row(net.name, net.task, net.shape_text(), net.description)
    Console().print(table)
    return 0


def _check_one(name: str, checks: tuple[str, ...], seed: int) -> tuple[dict[str, Any], float]:
    """One network's checks (in this process or a worker): its JSON record and the seconds taken."""
    from conformance.checks import check_network
    t0 = time.perf_counter()
    record = check_network(name, checks, seed=seed).as_record()
    return record, round(time.perf_counter() - t0, 2)


def _lost(job: tuple[Any, tuple], why: str) -> tuple[dict[str, Any], float]:
    """The record of a network whose worker died (or whose job raised outside the checks)."""
    from conformance.checks import lost_record
    name, checks, _ = job[1]
    return lost_record(name, checks, why), 0.0


def _table(title: str, headers: list[str], rows: list[list[str]]) -> Table:
    table = Table(title=title)
    for h in headers:
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def cmd_check(args: argparse.Namespace) -> int:
    args.model = arguments.selection("--model", args.model, catalogue.names())
    for n in args.model or ():
        catalogue.get(n)          # unknown names fail here, before any work, listing the known ones
    arguments.seed(args.seed)
    from conformance.checks import CHECKS
    checks = tuple(arguments.selection("--checks", args.checks, list(CHECKS)))
    if args.reference:
        from conformance.lib.graphs import graph_networks
        checks = ("reference",)
        names = [n for n in args.model or graph_networks()]
    else:
        names = args.model or catalogue.names()
    for out in (args.json, args.markdown):
        if out is not None:
            _check_writable(out)

    bad = set(checks) - set(CHECKS)
    if bad:
        raise ArgumentError(f"unknown check(s) {sorted(bad)}; known: {', '.join(CHECKS)}")

    if args.jobs < 1:
        raise ArgumentError("--jobs must be at least 1")
    by_name: dict[str, dict[str, Any]] = {}
    per_network: dict[str, float] = {}
    start = time.perf_counter()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task("checking", total=len(names))

        def done(n: str, record: dict[str, Any], seconds: float) -> None:
            by_name[n], per_network[n] = record, seconds
            mark = "[green]pass" if record["passed"] else "[red]FAIL"
            progress.console.print(f"{mark}[/] {n}: " + "; ".join(
                f"{k} {v}" for k, v in record["checks"].items()))
            progress.advance(task)

        if args.jobs == 1:
            for n in names:
                progress.update(task, description=f"checking {n}")
                done(n, *_check_one(n, checks, args.seed))
        else:
            # spawned workers (TF and torch hold threads a fork would copy), the cores shared out
            # among them; the costliest networks first so the small ones fill the gaps at the end
            threads = max(1, (os.cpu_count() or 1) // args.jobs)
            order = sorted(names, key=lambda n: -math.prod(catalogue.get(n).input_size))
            progress.update(task, description=f"checking ({args.jobs} workers)")
            # a worker that dies (the OOM killer) fails its network only; a worker past 6 GB is
            # replaced after its network, before it can be killed
            jobs = [(_check_one, (n, checks, args.seed)) for n in order]
            workers.run_jobs(jobs, args.jobs, lambda i, res: done(order[i], *res), _lost, threads=threads,
                             reuse=True, retire_bytes=RETIRE_BYTES)
    records = [by_name[n] for n in names]         # the order asked, whatever order they finished in
    per_network = {n: per_network[n] for n in names}
    elapsed = time.perf_counter() - start

    Console(width=max(Console().width, 150)).print(
        _table(f"twinzoo conformance ({elapsed:.0f} s)", HEADERS, summary_rows(records)))
    failed = [r for r in records if not r["passed"]]
    for r in failed:
        for check, status in r["checks"].items():
            if status != "pass":
                console.print(f"[red]{r['model']} {check} {status}:[/] {r[check]['summary']}")

    report = {
        "tool": "twinzoo conformance", "seed": args.seed, "checks": list(checks),
        "networks": len(records), "passed_networks": len(records) - len(failed),
        "results": records,
        # the only machine-dependent part of the report: everything else is a function of the
        # seed, the versions and the code (tests/test_determinism.py)
        "timings": {"total_seconds": round(elapsed, 2), "per_network_seconds": per_network},
    }
    if args.json:
        write_atomic(args.json, json.dumps(report, indent=2, sort_keys=False) + "\n")
        console.print(f"wrote {args.json}")
    if args.markdown:
        write_atomic(args.markdown, markdown_report(report))
        console.print(f"wrote {args.markdown}")
    console.print(f"{len(records) - len(failed)}/{len(records)} networks pass in {elapsed:.1f} s")
    return 1 if failed else 0


def cmd_selftest(args: argparse.Namespace) -> int:
    from conformance.selftest import mutations
    from conformance import selftest
    if args.list:
        table = Table(title="planted porting bugs")
        for col in ("mutation", "network", "twin", "layer", "models"):
            table.add_column(col, overflow="fold")
        for m in mutations.MUTATIONS:
            table.add_row(m.name, m.network, m.twin, m.layer or "-", m.models)
        Console().print(table)
        return 0
    for n in args.mutation or ():
        try:
            mutations.by_name(n)
        except UnknownNameError as exc:
            console.print(f"[red]error:[/] {escape(str(exc))}")
            return 2
    if args.seeds < 1 or args.jobs < 1:
        console.print("[red]error:[/] --seeds and --jobs must be at least 1")
        return 2
    for n in args.network or ():
        catalogue.get(n)          # unknown names fail here (exit 2), listing the known ones
    parts = None
    if args.parts is not None:
        parts = tuple(x.strip() for x in args.parts.split(",") if x.strip())
        bad = [x for x in parts if x not in selftest.PARTS] or ([] if parts else ["(none)"])
        if bad:
            console.print(f"[red]error:[/] unknown part(s) {', '.join(bad)}; known: {', '.join(selftest.PARTS)}")
            return 2
    for out in (args.json, args.markdown):
        if out is not None:
            _check_writable(out)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("selftest", total=None)

        def tick(done: int, total: int, label: str) -> None:
            progress.update(task, completed=done, total=total, description=label)
        report = selftest.run(args.mutation, tuple(range(args.seeds)), args.jobs, tick, parts, args.network)
    wide = Console(width=max(Console().width, 160))
    wide.print(_table("mutation x check (CAUGHT = the check flags it; n/a = invisible by nature)",
                      selftest.MUTATION_HEADERS, selftest.mutation_rows(report)))
    for note in selftest.invisibility_notes(report):
        wide.print(f"  {note}")
    wide.print(_table("parity tolerance against data (errors as multiples of the tolerance)",
                      selftest.TOLERANCE_HEADERS, selftest.tolerance_rows(report)))
    if report.get("train_tolerances"):
        wide.print(_table("train-mode output line against data (errors as multiples of the line)",
                          selftest.TRAIN_TOLERANCE_HEADERS, selftest.train_tolerance_rows(report)))
    for title, headers, rows in (
            ("sweeps: one planted bug per layer, judged by parity alone (margin = error / tolerance)",
             selftest.SWEEP_HEADERS, selftest.sweep_rows(report)),
            ("detection floor: smallest relative kernel perturbation parity flags",
             selftest.FLOOR_HEADERS, selftest.floor_rows(report))):
        if rows:
            wide.print(_table(title, headers, rows))
    t = report["totals"]
    for job in report["lost_jobs"]:
        console.print(f"[red]lost job:[/] {job['kind']} {' '.join(job['args'])}: {job['error']}")
    for c in report["clean_runs"]:
        if c["false_alarms"]:
            console.print(f"[red]false alarm:[/] {c['network']} seed {c['seed']}: " + "; ".join(
                f"{k}: {c['summaries'][k]}" for k in c["false_alarms"]))
    wide.print(f"{t['caught']}/{t['mutations']} mutations caught; layer named right "
               f"{t['layer_named_right']}/{t['layer_expected']}; expected checks met "
               f"{t['expectations_met']}/{t['mutations']}; false alarms {t['false_alarms']} in "
               f"{t['clean_runs']} clean runs (seeds 0..{args.seeds - 1}); "
               + (f"sweeps {t['sweep_caught']}/{t['sweep_plantings']} caught, {t['sweep_below_margin_goal']} "
                  f"below the {report['sweeps']['margin_goal']:g}x margin; " if t["sweep_plantings"] else "")
               + (f"floors within {report['floors'][0]['goal']:g}: {t['floors_meeting_goal']}/{t['floors']}; "
                  if t["floors"] else "")
               + (f"[red]{t['lost_jobs']} jobs lost[/] (their workers died); " if t["lost_jobs"] else "")
               + f"{report['timings']['seconds']:.0f} s")
    if args.json:
        write_atomic(args.json, json.dumps(report, indent=2) + "\n")
        console.print(f"wrote {args.json}")
    if args.markdown:
        write_atomic(args.markdown, selftest.markdown(report))
        console.print(f"wrote {args.markdown}")
    return 0 if t["passed"] else 1


def cmd_port(args: argparse.Namespace) -> int:
    """Exit 0: certified and written; 1: the certificate fails (only the certificate written);
    2: the file does not fit, or bad arguments (nothing written)."""
    catalogue.get(args.model)
    arguments.seed(args.seed)
    size = arguments.size(args.size)
    if args.images is not None and args.images < 1:
        raise ArgumentError("--images must be at least 1")
    out = args.out.expanduser()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArgumentError(f"cannot create the output directory {out}: {exc.strerror}") from None
    if not os.access(out, os.W_OK):
        raise ArgumentError(f"output directory {out} is not writable")
    from conformance import port
    try:
        cert = port.port(args.model, args.source, out, args.format, args.ema, size, args.seed, args.images)
    except port.PortError as exc:
        raise ArgumentError(str(exc)) from None
    t = cert["tensors"]
    mark = "[green]certified[/]" if cert["passed"] else "[red]NOT certified[/]"
    console.print(f"{mark} {cert['network']} from {cert['source']['path']} ({cert['source']['dialect']}): "
                  f"{t['placed']} tensors placed, {t['ignored']} ignored by rule, {t['filled']} filled; "
                  f"parity {cert['parity']['status']} (max rel {cert['parity']['max_rel']:.1e}); reference "
                  f"{cert['reference']['status']}" + (f"; top-1 agree {cert['top1']['agree']}/{cert['top1']['images']}"
                                                      if "top1" in cert else ""), highlight=False, soft_wrap=True)
    console.print(f"wrote {', '.join([b['name'] for b in cert['written']] + cert['certificates'])} in {out}")
    return 0 if cert["passed"] else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return cmd_list(args)
        if args.command == "selftest":
            return cmd_selftest(args)
        if args.command == "port":
            return cmd_port(args)
        return cmd_check(args)
    except (catalogue.UnknownModelError, ArgumentError) as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
