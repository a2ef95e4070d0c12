"""The main job's report on disk: written (JSON, Markdown, HTML, atomically), read back to
resume a run with the same settings, and merged from shards."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from benchmark import report as rep
from twinzoo import catalogue, files
from twinzoo.arguments import ArgumentError

if TYPE_CHECKING:
    from benchmark.config import RunConfig

console = Console(stderr=True)

def write_report(out: Path, report: dict[str, Any], full: bool = True) -> list[Path]:
    paths = [out / "benchmark.json"]
    files.atomic_write(paths[0], rep.to_json(report), mkdir=True)
    if full:
        paths += [out / "benchmark.md", out / "benchmark.html"]
        files.atomic_write(paths[1], rep.markdown(report), mkdir=True)
        files.atomic_write(paths[2], rep.html_page(report), mkdir=True)
    return paths


RESUME_KEYS = ("mode", "seed", "threads", "size", "runtimes", "weights")


def request_of(cfg: RunConfig, rt_names: list[str], planned: dict[str, tuple[tuple[int, int], str]],
               checks: tuple[str, ...]) -> dict[str, Any]:
    """The settings a resumed run must share with the run it finishes."""
    return {"mode": "quick" if cfg.quick else "full", "seed": cfg.seed, "threads": cfg.threads,
            "size": cfg.size_arg, "sizes": {n: list(p[0]) for n, p in planned.items()}, "runtimes": rt_names,
            "weights": str(cfg.weights) if cfg.weights else None, "conformance": list(checks),
            "witnesses": not cfg.no_witnesses}


def resume_from(out: Path, request: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The networks ``out/benchmark.json`` finished (those this command also asks for) and their
    export records (``out/artifacts/manifest.json``); a ArgumentError when there is nothing to resume
    or the settings differ."""
    from benchmark import schema
    path = out / "benchmark.json"
    try:
        prev = schema.read(path)
    except FileNotFoundError:
        raise ArgumentError(f"--resume: {path} does not exist: nothing to resume (run without --resume)") from None
    except schema.ReportError as exc:
        raise ArgumentError(f"--resume: {exc}") from None
    old = prev["settings"].get("request")
    if old is None:
        raise ArgumentError(f"--resume: {path} records no settings to compare (written by another version); "
                         "run without --resume")
    differ = [k for k in RESUME_KEYS if old.get(k) != request[k]]
    differ += [f"size of {n}" for n in request["sizes"] if n in old["sizes"] and old["sizes"][n] != request["sizes"][n]]
    if differ:
        raise ArgumentError(f"--resume: {path} was run with other settings ({'; '.join(differ)}): "
                         + "; ".join(f"{k} {old.get(k)!r} there, {request[k]!r} now" for k in RESUME_KEYS if k in differ)
                         + " (run with the same settings, or without --resume into another --out)")
    kept = {n["network"]: n for n in prev["networks"] if n["network"] in request["sizes"]}
    records = [r for r in schema.artifacts_of(out / "artifacts" / "manifest.json") if r["network"] in kept]
    return kept, records


def cache_summary(report: dict[str, Any], untimed: dict[str, Any], cfg: RunConfig,
                  exported: list[dict[str, Any]], witnesses_cached: bool, resumed: list[str]) -> dict[str, Any]:
    """What came from the cache, for the report (under ``timing``: it differs between two runs)."""
    rts = [r for n in report["networks"] for r in n["runtimes"].values()]
    rows = (report.get("conformance") or {}).get("rows", [])
    return {"dir": str(cfg.cache) if cfg.cache else None, "timing_reuse": bool(cfg.cache) and not cfg.retime,
            "artifacts": len(exported), "artifacts_from_cache": sum(bool((r.get("cache") or {}).get("hit")) for r in exported),
            "timing_records": len(rts),
            "timing_records_from_cache": sum(bool((r.get("timing") or {}).get("from_cache")) for r in rts),
            "conformance_rows": len(rows), "conformance_rows_from_cache": untimed.get("conformance_hits", 0),
            "witnesses_from_cache": witnesses_cached, "resumed_networks": resumed}


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
    from benchmark import schema
    shards = []
    for p in paths:
        try:
            shards.append(schema.read(p))
        except FileNotFoundError:
            raise ArgumentError(f"{p}: no such file") from None
        except schema.ReportError as exc:
            raise ArgumentError(str(exc)) from None
    for key in ("seed", "mode"):
        if len({s[key] for s in shards}) > 1:
            raise ArgumentError(f"shards differ in {key}: {sorted({str(s[key]) for s in shards})}")
    merged = {k: v for k, v in shards[0].items() if k not in ("networks", "witnesses", "conformance")}
    nets: dict[str, dict[str, Any]] = {}
    wits: dict[tuple, dict[str, Any]] = {}
    conf_rows: dict[str, dict[str, Any]] = {}
    conf_checks: list[str] = []
    for s in shards:
        for n in s["networks"]:
            if n["network"] in nets and nets[n["network"]]["size"] != n["size"]:
                raise ArgumentError(f"{n['network']} was benchmarked at different sizes in the shards")
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
    merged["settings"] = {**merged["settings"], "export_schedule": {
        n: e for s in shards for n, e in (s["settings"].get("export_schedule") or {}).items()}}
    return rep.finalise(merged)
