"""Export jobs in worker processes, shared by ``python -m export`` and the main job: one job
exports one network's formats (export's own ``export_network``) in a process of its own, so a
route that runs out of memory, crashes the converter natively or runs past its time budget
fails alone. Each job journals its records as it goes; when its process dies, the journal gives
back what it finished (``recovered_export``), the route in flight is recorded with why, and the
routes after it are tried again in a fresh job (``retry_groups``)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from export.records import ExportJobResult, ExportRecord
from twinzoo import memory
from twinzoo.workers import Job          # (function, args), as the runner takes them


def _journal(work: str, name: str) -> Path:
    return Path(work) / f".{name}.export-journal.jsonl"


def _scratch(work: str, name: str) -> Path:
    return Path(work) / f".{name}.export-tmp"


@contextlib.contextmanager
def scratch_tempdir(path: Path):
    """Every temporary file of the block, and of the processes it starts (``TMPDIR``), goes under
    ``path``, removed afterwards. A worker killed mid-route (the memory guard, the time budget)
    cannot clean up after itself: its leftovers stay under ``path``, which ``recovered_export``
    removes. Left in /tmp, each killed TFLite route's SavedModel (1-2 GB) would add up until the
    disk is full."""
    shutil.rmtree(path, ignore_errors=True)             # a killed run's leftovers
    path.mkdir(parents=True)
    before = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = os.environ["TMPDIR"] = str(path)
    try:
        yield path
    finally:
        tempfile.tempdir = before[0]
        if before[1] is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = before[1]
        shutil.rmtree(path, ignore_errors=True)


def export_job(name: str, size: tuple[int, int], formats: list[str], seed: int, work: str,
               weights: str | None = None, cache: str | None = None, alone: bool = False,
               route_budget: float | None = None) -> ExportJobResult:
    """Export and verify one network's artifacts (export's pipeline, through the artifact cache in
    directory ``cache`` unless None); its records, never raises. ``alone``: the job runs with no
    other job beside it (a memory-guard kill is then the route's own, and cached).
    ``route_budget``: the seconds a route may take (``route_overdue`` kills it after), so a cached
    kill made under a smaller budget is tried again.
    Each record, and each format as it starts, is also appended to a journal in ``work``, so a
    worker killed mid-network (the OOM killer: one converter takes 17 GB on VGG-16) loses only the
    format it was in (``recovered_export``). Temporary files go under a directory of the job's
    own in ``work`` (``scratch_tempdir``)."""
    from export import formats as fmt_registry
    from export.cache import open_cache
    from export.pipeline import export_network
    from twinzoo import catalogue

    journal = _journal(work, name)
    journal.parent.mkdir(parents=True, exist_ok=True)     # the first job may start before anything made it
    journal.unlink(missing_ok=True)

    def note(entry: dict[str, Any]) -> None:
        with journal.open("a") as f:
            f.write(json.dumps(entry, default=str) + "\n")

    t0 = time.perf_counter()
    note({"begin": time.time()})            # a killed job's seconds (recovered_export)
    try:
        with scratch_tempdir(_scratch(work, name)), memory.measure() as span:
            records = export_network(catalogue.get(name), [fmt_registry.get(f) for f in formats], size, seed,
                                     Path(work), on_record=lambda r: note({"record": r}),
                                     on_start=lambda f: note({"start": f.name, "t": time.time()}),
                                     weights_dir=Path(weights) if weights else None, cache=open_cache(cache),
                                     alone=alone, route_budget=route_budget)
    except Exception as exc:  # noqa: BLE001 — returned as the job's error
        return {"kind": "export", "name": name, "error": f"{type(exc).__name__}: {exc}"[:500],
                "traceback": "".join(traceback.format_exception(exc)[-3:])[-2000:]}
    return {"kind": "export", "name": name, "records": records, "seconds": time.perf_counter() - t0,
            "peak_rss_bytes": span.peak}


def route_in_flight(work: str, name: str) -> tuple[str, float] | None:
    """The route of ``name`` its export job is in now, and when it started (wall clock), from
    the job's journal; None before the first route or between routes."""
    journal = _journal(work, name)
    current = None
    try:
        lines = journal.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:                  # a line being written
            continue
        current = (entry["start"], entry.get("t", time.time())) if "start" in entry else None
    return current


def route_overdue(budget: float | None) -> Callable[[Job, float], str | None] | None:
    """For ``twinzoo.workers.run_jobs``: an export job whose current route has run past
    ``budget`` seconds is to be killed, with the reason its record will carry (None: no budget).
    Why a budget: a route that will not finish holds a worker for as long as it is let run;
    Pixel-RNN's torch -> TFLite conversion (litert-torch unrolling its scans) does not finish in
    25 minutes, GNMT's ExecuTorch lowering runs 18 minutes before the memory guard stops it."""
    if not budget:
        return None
    from twinzoo.workers import TIME_BUDGET

    def overdue(job: Job, seconds: float) -> str | None:
        fn, args = job
        if fn is not export_job:
            return None
        flight = route_in_flight(args[4], args[0])
        now = time.time()
        # a journal left by an earlier job of this network (killed mid-route) is not this job's
        if flight is None or flight[1] < now - seconds - 1 or now - flight[1] <= budget:
            return None
        return (f"stopped by the {TIME_BUDGET}: {flight[0]} ran past {budget / 60:g} min on this machine "
                f"(--route-budget; a larger budget tries it again)")
    return overdue


def recovered_export(args: tuple, why: str) -> ExportJobResult:
    """An export job whose worker died: the records its journal holds, the format in flight
    recorded as failed with ``why``, the formats after it as not attempted. Without a journal
    entry (it died before the first format) the whole network is the error."""
    name, _, formats, _, work = args[:5]
    alone = len(args) > 7 and args[7]
    budget = args[8] if len(args) > 8 else None
    journal = _journal(work, name)
    shutil.rmtree(_scratch(work, name), ignore_errors=True)     # what the dead worker left half-written
    records: list[ExportRecord] = []
    started = begin = started_at = None
    if journal.exists():
        for line in journal.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:              # the line the worker was writing when it died
                continue
            if "record" in entry:
                records.append(entry["record"])
            elif "start" in entry:
                started, started_at = entry["start"], entry.get("t")
            else:
                begin = entry.get("begin")
    seconds = round(time.time() - begin, 1) if begin else None
    if started is None:
        return {"kind": "export", "name": name, "error": why, "seconds": seconds}
    from export import formats as fmt_registry
    from export.common import artifact_stem
    from twinzoo.files import remove_leftovers
    from export.pipeline import cacheable, export_size, failed_record, mark_alone
    from twinzoo.workers import TIME_BUDGET
    from twinzoo import catalogue

    net = catalogue.get(name)
    size, size_why = export_size(net, args[1])
    done = {r["format"] for r in records}
    for fmt in formats:
        if fmt in done:
            continue
        if fmt == started:
            rec = failed_record(net, fmt_registry.get(fmt), size, size_why, "export or verification", error=why)
            if started_at:                  # what the route cost before it was killed (a shard plan's cost)
                rec["export_seconds"] = round(time.time() - started_at, 1)
            final = Path(work) / name / fmt_registry.get(fmt).filename(artifact_stem(name, size))
            remove_leftovers(final)
            # written but killed while verifying (GNMT's 1.1 GB LiteRT files): no record names it
            final.unlink(missing_ok=True)
            if TIME_BUDGET in why:
                rec["budget_seconds"] = budget
            if cacheable(mark_alone(rec, alone)):
                _store_recovered(rec, args, size)
        else:
            rec = failed_record(net, fmt_registry.get(fmt), size, size_why, "not attempted",
                                error=f"not attempted: the worker died during {started} ({why})")
        records.append(rec)
    return {"kind": "export", "name": name, "records": records, "seconds": seconds, "partial": True}


def _store_recovered(rec: ExportRecord, args: tuple, size: tuple[int, int]) -> None:
    """Cache the record of a route whose worker was killed for it (the memory guard, while it ran
    alone; the time budget): the worker died before it could store it
    (``export.pipeline.cacheable`` says which are kept)."""
    from export import cache as cachemod
    from export import formats as fmt_registry
    from export.pipeline import export_key, store
    from twinzoo import catalogue

    name, _, _, seed, _, weights, cache_dir = args[:7]
    cache = cachemod.open_cache(cache_dir)
    if cache is None:
        return
    key, ingredients = export_key(catalogue.get(name), fmt_registry.get(rec["format"]), size, seed,
                                  cachemod.weights_identity(name, Path(weights) if weights else None))
    store(cache, key, ingredients, rec, None)


def guarded_beside(rec: dict[str, Any]) -> bool:
    """A route the memory guard stopped while another job ran beside it: not its own verdict (the
    other job's memory counted), so not cached, and every run would pay for it again: Pixel-RNN's
    ExecuTorch lowering runs 570 s until the guard stops it. It is tried again alone
    (``untimed_phase``), and that outcome is cached."""
    from export.pipeline import MEMORY_GUARD, failure_text
    return MEMORY_GUARD in failure_text(rec) and not rec.get("ran_alone")


def retry_groups(records: dict[str, dict[str, Any]], formats: list[str], cached: bool,
                 per_format: bool) -> list[list[str]]:
    """The export jobs (format groups) that finish a network whose worker died before some of its
    routes, or whose route the memory guard stopped beside another job (``guarded_beside``): those
    routes, one per job for a network exported per format; otherwise in one job, with (when there
    is a cache) every route whose record the cache keeps, restored there, so cross-route pairs are
    compared as in one run. Routes that failed otherwise are not retried."""
    from export.pipeline import cacheable

    todo = [f for f in formats if (records.get(f) or {}).get("stage") == "not attempted"
            or guarded_beside(records.get(f) or {})]
    if not todo or per_format:
        return [[f] for f in todo]
    return [[f for f in formats if f in todo or (cached and f in records and cacheable(records[f]))]]


def retries(exported: dict[str, dict[str, ExportRecord]], formats: list[str], cached: bool, per_format: set[str],
            tried: dict[str, list[list[str]]]) -> list[tuple[str, list[str], bool]]:
    """The jobs, as (network, formats, alone), that finish what dead workers left of the networks
    in ``exported`` (``retry_groups``); a network whose jobs would be the ones it was last given
    made no progress and gets none (``tried`` remembers what each was given)."""
    out = []
    for name, recs in exported.items():
        groups = retry_groups(recs, formats, cached, name in per_format)
        if groups and tried.get(name) != groups:
            tried[name] = groups
            out += [(name, group, any(guarded_beside(recs.get(f) or {}) for f in group)) for group in groups]
    return out


def job_error_records(name: str, size: tuple[int, int] | None, formats: list[str], error: str) -> list[ExportRecord]:
    """A record for each format of a job that failed as a whole (its worker died before its first
    format, or it raised outside every route)."""
    from export import formats as fmt_registry
    from export.pipeline import export_size, failed_record
    from twinzoo import catalogue

    net = catalogue.get(name)
    sz, why = export_size(net, size)
    return [failed_record(net, fmt_registry.get(f), sz, why, "export job", error=error) for f in formats]


def run_exports(names: list[str], size: tuple[int, int] | None, formats: list[str], seed: int, out: Path, *,
                weights: Path | None, cache: Path | None, workers: int, route_budget: float | None,
                on_result: Callable[[str, list[ExportRecord]], None],
                job_fn: Callable[..., ExportJobResult] | None = None) -> dict[str, dict[str, ExportRecord]]:
    """``python -m export``'s run: each network's formats in an export job of its own, at most
    ``workers`` at once (``twinzoo.workers.run_jobs``: the memory guard watches them, a route past
    ``route_budget`` seconds is stopped), then the jobs that finish what a dead worker left
    (``retries``). ``workers`` 0: every job in this process, unguarded (a crash ends the run).
    ``on_result(network, records)`` as each job ends; returns every record by network and format.
    The jobs' journals are removed at the end: nothing of them stays in ``out``. ``job_fn``:
    ``export_job`` or one with its arguments (a test's)."""
    from twinzoo import workers as pool

    threads = max(1, (os.cpu_count() or 1) // max(workers, 1))
    alone = workers <= 1                      # nothing runs beside a job: a memory-guard kill is its route's own
    exported: dict[str, dict[str, ExportRecord]] = {}

    def job(name: str, group: list[str], by_itself: bool) -> Job:
        return (job_fn or export_job, (name, size, group, seed, str(out), str(weights) if weights else None,
                             str(cache) if cache else None, alone or by_itself, route_budget))

    def finished(index: int, res: ExportJobResult) -> None:
        name, group = jobs[index][1][0], jobs[index][1][2]
        records = res.get("records") or job_error_records(name, size, group, res.get("error") or "no records")
        exported.setdefault(name, {}).update({r["format"]: r for r in records})
        on_result(name, records)

    jobs = [job(name, formats, False) for name in names]
    tried: dict[str, list[list[str]]] = {}
    try:
        while jobs:
            pool.run_jobs(jobs, workers, finished, lambda j, why: recovered_export(j[1], why), threads=threads,
                          alone=lambda j: bool(j[1][7]), overdue=route_overdue(route_budget))
            jobs = [job(name, group, by_itself)
                    for name, group, by_itself in retries(exported, formats, cache is not None, set(), tried)]
    finally:
        for name in names:
            _journal(str(out), name).unlink(missing_ok=True)
    return exported
