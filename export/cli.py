"""``python -m export``: export catalogue networks to mobile formats and verify each artifact.

    python -m export [--model NAME ...] [--format NAME ...] [--size HxW] [--seed N] [--weights DIR]
                     [--jobs N] [--route-budget MIN] [--cache DIR | --no-cache] --out DIR

Writes ``DIR/<network>/<network>_<H>x<W>.<format>.<ext>`` (atomically), an NNAPI delegate report
beside every .tflite, and ``DIR/manifest.json``. Artifacts and verdicts come from the artifact
cache (``export.cache``: default $TWINZOO_CACHE, else $XDG_CACHE_HOME/twinzoo/artifacts, else
~/.cache/twinzoo/artifacts) when nothing they depend on changed; --no-cache exports everything
afresh and stores nothing. Each network is exported in a worker process of its own (``--jobs`` at
once) that the memory guard watches: a route that runs out of memory, crashes its converter or
runs past ``--route-budget`` fails alone with its record, and the routes after it go on in a
fresh process. Exit status: 0 when every artifact verifies (or
cannot run on this host, like the NNAPI model); 1 when any verification fails; 3 when none
fails but some route could not export (the manifest says why); 2 on bad arguments.
"""

from __future__ import annotations

from twinzoo import environment

environment.prepare()

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from export import formats  # noqa: E402
from export.pipeline import EXPORT_FAILED, FAIL, PASS  # noqa: E402
from export.records import ExportRecord  # noqa: E402
from twinzoo import arguments, catalogue, files  # noqa: E402
from twinzoo.arguments import ArgumentError, seed, selection  # noqa: E402

console = Console(stderr=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", nargs="+", metavar="NAME", help="catalogue networks (default: all)")
    p.add_argument("--format", nargs="+", metavar="NAME",
                   help=f"formats (default: all): {', '.join(formats.names())}")
    p.add_argument("--size", metavar="HxW", help="input size (default: each network's canonical "
                   "size; networks with a fixed-size head always use theirs)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights and inputs (default 0)")
    p.add_argument("--weights", type=Path, metavar="DIR",
                   help="use the certified ports in DIR (python -m conformance port --out DIR) instead of random "
                        "weights; a network without one there is recorded as an error")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="networks exported at once, each in a worker process of its own (default 1; 0: all in this "
                        "process, unguarded: a converter's crash or an out-of-memory kill ends the run)")
    p.add_argument("--route-budget", type=float, default=0.0, metavar="MIN",
                   help="minutes a route may run before it is stopped and recorded as failed (default 0: no budget)")
    add_cache_arguments(p)
    return p


def add_cache_arguments(p: argparse.ArgumentParser) -> None:
    """``--cache DIR`` / ``--no-cache``, shared with ``python -m benchmark``."""
    from export.cache import ENV_VAR
    group = p.add_mutually_exclusive_group()
    group.add_argument("--cache", type=Path, metavar="DIR",
                       help=f"artifact cache directory (default: ${ENV_VAR}, else $XDG_CACHE_HOME/twinzoo/artifacts, "
                            "else ~/.cache/twinzoo/artifacts)")
    group.add_argument("--no-cache", action="store_true",
                       help="neither read nor write the artifact cache: export and verify everything afresh")


def check_cache_dir(args: argparse.Namespace) -> Path | None:
    """The cache directory (None: --no-cache), created and proved writable before any work."""
    from export.cache import CacheUnusable, resolve_dir
    try:
        return resolve_dir(args.cache, args.no_cache)
    except CacheUnusable as exc:
        raise ArgumentError(str(exc)) from None


def check_weights_dir(path: Path | None, networks: list[str]) -> Path | None:
    """``--weights DIR`` resolved, and the certified port of each of ``networks`` found there checked
    against its certificate before any work (a changed, swapped or truncated file: exit 2 naming
    it). A network without a port in DIR is left to its own record's error."""
    if path is None:
        return None
    path = path.expanduser()
    if not path.is_dir():
        raise ArgumentError(f"--weights {path}: not a directory (the --out of python -m conformance port)")
    if not list(path.glob("*.certificate.json")):
        raise ArgumentError(f"--weights {path}: no port certificate (<network>.certificate.json) in it")
    from conformance.lib.certificate import CertificateError
    from conformance.lib.ports import verify_ports
    try:
        verify_ports(path, networks)
    except CertificateError as exc:
        raise ArgumentError(f"--weights: {exc}") from None
    return path.resolve()


def resolve(args: argparse.Namespace) -> tuple[list[catalogue.Network], list[formats.Format], tuple[int, int] | None, Path]:
    models = selection("--model", args.model, catalogue.names())
    chosen = selection("--format", args.format, formats.names())
    try:
        nets = [catalogue.get(n) for n in models] if models else catalogue.networks()
    except catalogue.UnknownModelError as exc:
        raise ArgumentError(str(exc)) from None
    try:
        fmts = [formats.get(f) for f in chosen] if chosen else list(formats.FORMATS.values())
    except formats.UnknownFormatError as exc:
        raise ArgumentError(str(exc)) from None
    size = arguments.size(args.size)
    seed(args.seed)
    if args.jobs < 0:
        raise ArgumentError(f"--jobs {args.jobs}: must be 0 or more")
    if not args.route_budget >= 0:                # NaN too
        raise ArgumentError(f"--route-budget {args.route_budget}: must be 0 (no budget) or more minutes")
    args.model = models
    args.weights = check_weights_dir(args.weights, [n.name for n in nets])   # resolved once, before any work
    out = arguments.out_dir(args.out)
    args.cache = check_cache_dir(args)
    return nets, fmts, size, out


def error_cell(rec: dict[str, Any]) -> str:
    v = rec.get("verification") or {}
    if rec["outcome"] == EXPORT_FAILED:
        return (rec.get("error") or "").splitlines()[0][:60] if rec.get("error") else "-"
    if "error" in v:
        return v["error"].splitlines()[0][:60]
    if rec["precision"] == "fp32" and "max_rel" in v:
        return f"rel {v['max_rel']:.1e} (abs {v['max_abs']:.1e})"
    if "snr_db" in v:
        cell = f"SNR {v['snr_db']:.1f} dB"
        if "top1_agreement" in v:
            cell += f", top-1 {v['top1_agreement']:.2f}"
        elif "psnr_db" in v:
            cell += f", PSNR {v['psnr_db']:.1f}"
        return cell
    return v.get("reason", "-")[:60] if v else rec.get("reason", "-")


def results_table(records: list[dict[str, Any]]) -> Table:
    table = Table(title="export results")
    for col in ("network", "format", "size", "bytes", "error vs source", "outcome"):
        table.add_column(col, justify="right" if col == "bytes" else "left")
    for r in records:
        shape = r["input"]["shape"]
        if len(shape) == 4:
            hw = f"{shape[2]}x{shape[3]}" if r["input"]["layout"] == "NCHW" else f"{shape[1]}x{shape[2]}"
        else:                   # a sequence (steps x features) or token ids (steps)
            hw = "x".join(str(d) for d in shape[1:])
        table.add_row(r["network"], r["format"], hw, f"{r['bytes']:,}" if r.get("bytes") else "-",
                      error_cell(r), r["outcome"])
    return table


def exit_status(records: list[dict[str, Any]]) -> int:
    if any(r["outcome"] == FAIL for r in records):
        return 1
    if any(r["outcome"] == EXPORT_FAILED for r in records):
        return 3
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except files.WriteFailed as exc:                    # a full disk under the manifest's writer
        console.print(f"error: {exc}", style="red", markup=False, highlight=False, soft_wrap=True)
        return 2


def _main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        nets, fmts, size, out = resolve(args)
    except ArgumentError as exc:
        console.print(f"error: {exc}", style="red", markup=False, highlight=False, soft_wrap=True)
        return 2

    from export import manifest
    from export.jobs import run_exports

    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    records: list[ExportRecord] = []
    weights = args.weights
    manifest.write(out, manifest.build(records, seed=args.seed, size=size, argv=argv, started=started,
                                       finished=False, weights=weights, cache=args.cache))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"exporting ({args.jobs or 'no'} worker{'s' if args.jobs != 1 else ''})",
                                 total=len(nets) * len(fmts))

        def on_result(name: str, recs: list[ExportRecord]) -> None:
            for rec in recs:
                progress.advance(task)
                colour = {PASS: "green", FAIL: "red", EXPORT_FAILED: "yellow"}.get(rec["outcome"], "cyan")
                cached = " (cached)" if (rec.get("cache") or {}).get("hit") else ""
                progress.console.print(f"  {rec['network']:<28} {rec['format']:<18} "
                                       f"[{colour}]{rec['outcome']}[/{colour}]{cached}  {escape(error_cell(rec))}",
                                       soft_wrap=True)
            again = {r["format"] for r in recs}                 # a retried route replaces its earlier record
            records[:] = [r for r in records if r["network"] != name or r["format"] not in again] + recs
            manifest.write(out, manifest.build(records, seed=args.seed, size=size, argv=argv,
                                               started=started, finished=False, weights=weights, cache=args.cache))

        exported = run_exports([n.name for n in nets], size, [f.name for f in fmts], args.seed, out, weights=weights,
                               cache=args.cache, workers=args.jobs, route_budget=args.route_budget * 60 or None,
                               on_result=on_result)
    records = [exported[n.name][f.name] for n in nets for f in fmts if f.name in exported.get(n.name, {})]
    path = manifest.write(out, manifest.build(records, seed=args.seed, size=size, argv=argv,
                                              started=started, finished=True, weights=weights, cache=args.cache))
    console.print(results_table(records))
    summary = manifest.counts(records)
    hits = sum(bool((r.get("cache") or {}).get("hit")) for r in records)
    from_cache = f"; {hits} of {len(records)} from the cache {args.cache}" if args.cache else "; cache off"
    console.print(", ".join(f"{v} {k}" for k, v in summary.items() if v) + f"{from_cache}; manifest: {path}")
    return exit_status(records)
