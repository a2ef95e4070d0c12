"""The artifact cache (export.cache) of export and the main job, and the main job's --resume.
Small nets only: srcnn at 32x32, two formats, --quick; every cache lives under tmp_path."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from export import cache as cachemod
from export import formats, pipeline
from export.cache import ArtifactCache
from export.pipeline import PASS, export_network
from twinzoo import catalogue

SMALL = (32, 32)
NET = catalogue.get("srcnn")
FORMATS = ("onnx_torch", "tflite_fp32")


def _fmts(*names: str) -> list[formats.Format]:
    return [formats.get(n) for n in names]


@pytest.fixture(scope="module")
def cold(tmp_path_factory) -> tuple[Path, list[dict]]:
    """One export of srcnn in two formats into a fresh cache: the cache and the cold records."""
    root = tmp_path_factory.mktemp("cold")
    records = export_network(NET, _fmts(*FORMATS), SMALL, 0, root / "out", cache=ArtifactCache(root / "cache"))
    return root / "cache", records


@pytest.fixture
def warm(cold, tmp_path) -> ArtifactCache:
    """A private copy of the cold cache (tests below damage theirs)."""
    shutil.copytree(cold[0], tmp_path / "cache")
    return ArtifactCache(tmp_path / "cache")


@pytest.fixture
def fresh_environment():
    cachemod.environment.cache_clear()
    yield
    cachemod.environment.cache_clear()


def _forbid_exports(monkeypatch) -> None:
    def refuse(*_a, **_k):
        raise AssertionError("a cache hit must not build the twins or export anything")
    monkeypatch.setattr(pipeline, "make_context", refuse)
    monkeypatch.setattr(pipeline, "run_format", refuse)


def _count_runs(monkeypatch) -> list[str]:
    ran: list[str] = []
    real = pipeline.run_format

    def counting(ctx, fmt, why):
        ran.append(fmt.name)
        return real(ctx, fmt, why)
    monkeypatch.setattr(pipeline, "run_format", counting)
    return ran


# ------------------------------------------------------------------------------------------
# export
# ------------------------------------------------------------------------------------------
def test_cold_run_stores_every_verdict_with_its_ingredients(cold):
    root, records = cold
    assert [r["outcome"] for r in records] == [PASS, PASS]
    assert all(r["cache"] == {"hit": False, "key": r["cache"]["key"]} for r in records)
    for r in records:
        entry = ArtifactCache(root).entry(r["cache"]["key"])
        ing = json.loads((entry / "key.json").read_text())
        assert (ing["network"], ing["format"], ing["size"], ing["seed"], ing["weights"]) == \
            ("srcnn", r["format"], [32, 32], 0, "random")
        assert ing["environment"]["versions"]["numpy"] and len(ing["source_digest"]) == 64
        assert (entry / "files" / r["path"]).is_file()
    tfl = records[1]
    assert (ArtifactCache(root).entry(tfl["cache"]["key"]) / "files" / tfl["nnapi_delegate"]["report"]).is_file()


def test_second_run_is_all_hits_and_exports_nothing(warm, cold, tmp_path, monkeypatch):
    _forbid_exports(monkeypatch)
    calls: list[str] = []
    out = tmp_path / "out2"
    recs = export_network(NET, _fmts(*FORMATS), SMALL, 0, out, on_record=lambda r: calls.append(r["format"]),
                          cache=warm)
    assert calls == list(FORMATS)
    for rec, before in zip(recs, cold[1]):
        assert rec["cache"]["hit"] is True and rec["cache"]["key"] == before["cache"]["key"]
        assert rec["cache"]["stored"][:4].isdigit()
        assert rec["sha256"] == before["sha256"] and rec["verification"] == before["verification"]
        assert cachemod.sha256(out / rec["path"]) == rec["sha256"]        # restored where the record says
    assert (out / recs[1]["nnapi_delegate"]["report"]).is_file()


@pytest.mark.parametrize("change", ["seed", "size", "version", "source"])
def test_a_changed_ingredient_is_a_miss(warm, tmp_path, monkeypatch, fresh_environment, change):
    seed, size = 0, SMALL
    if change == "seed":
        seed = 1
    elif change == "size":
        size = (48, 48)
    elif change == "version":
        real = cachemod.tool_versions
        monkeypatch.setattr(cachemod, "tool_versions", lambda: {**real(), "onnxruntime": "0.0.0-other"})
    else:
        monkeypatch.setattr(cachemod, "source_digest", lambda *_a, **_k: "0" * 64)
    hits, keys = pipeline.cached_records(NET, _fmts(*FORMATS), size, "test", seed, tmp_path / "out", warm)
    assert hits == {} and len(keys) == 2
    # the same lookup without the change hits: the miss was the change's doing
    monkeypatch.undo()
    cachemod.environment.cache_clear()
    again, _ = pipeline.cached_records(NET, _fmts(*FORMATS), SMALL, "test", 0, tmp_path / "out", warm)
    assert set(again) == set(FORMATS)


def test_source_digest_follows_the_bytes_of_the_sources(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "notes.txt").write_text("not source")
    first = cachemod.source_digest(("pkg",), tmp_path)
    (tmp_path / "pkg" / "notes.txt").write_text("changed, still not source")
    cachemod.source_digest.cache_clear()
    assert cachemod.source_digest(("pkg",), tmp_path) == first
    (tmp_path / "pkg" / "a.py").write_text("x = 2\n")
    cachemod.source_digest.cache_clear()
    assert cachemod.source_digest(("pkg",), tmp_path) != first


def test_a_corrupted_cached_artifact_is_a_miss_and_is_exported_again(warm, cold, tmp_path, monkeypatch):
    before = cold[1][0]
    cached = warm.entry(before["cache"]["key"]) / "files" / before["path"]
    data = bytearray(cached.read_bytes())
    data[len(data) // 2] ^= 0xFF
    cached.write_bytes(bytes(data))
    ran = _count_runs(monkeypatch)
    out = tmp_path / "out"
    recs = export_network(NET, _fmts(*FORMATS), SMALL, 0, out, cache=warm)
    assert ran == ["onnx_torch"]                              # the damaged one only
    assert recs[0]["cache"]["hit"] is False and recs[0]["outcome"] == PASS
    assert recs[1]["cache"]["hit"] is True
    assert cachemod.sha256(out / recs[0]["path"]) == recs[0]["sha256"]
    # the entry was replaced by a sound one: the next run hits again
    again, _ = pipeline.cached_records(NET, _fmts("onnx_torch"), SMALL, "test", 0, tmp_path / "out3", warm)
    assert again["onnx_torch"]["sha256"] == recs[0]["sha256"]


def test_a_half_written_entry_is_never_used(warm, cold, tmp_path, monkeypatch):
    # an entry without its record (a writer that did not rename into place would leave this)
    key = cold[1][0]["cache"]["key"]
    (warm.entry(key) / "record.json").unlink()
    assert warm.restore(key, tmp_path / "out") is None and not warm.entry(key).exists()
    # a writer crashing between files (here: at the first output array) leaves no entry
    ran = _count_runs(monkeypatch)

    def crash(*_a, **_k):
        raise OSError("simulated crash while writing the entry")
    monkeypatch.setattr(cachemod.np, "save", crash)
    (rec,) = export_network(NET, _fmts("onnx_torch"), SMALL, 0, tmp_path / "out", cache=warm)
    assert ran == ["onnx_torch"] and "simulated crash" in rec["cache"]["not_stored"]
    assert not warm.entry(key).exists()
    assert not list(warm.entry(key).parent.glob(".tmp-*"))
    hits, _ = pipeline.cached_records(NET, _fmts("onnx_torch"), SMALL, "test", 0, tmp_path / "o2", warm)
    assert hits == {}


def test_a_fresh_route_is_compared_with_its_cached_partner(warm, tmp_path, monkeypatch):
    """onnx_keras runs now, onnx_torch comes from the cache: the cross-route comparison is made
    against onnx_torch's stored outputs, as in a run without the cache."""
    ran = _count_runs(monkeypatch)
    recs = export_network(NET, _fmts("onnx_torch", "onnx_keras"), SMALL, 0, tmp_path / "out", cache=warm)
    assert ran == ["onnx_keras"] and recs[0]["cache"]["hit"] is True
    cross = recs[1]["cross_route"]
    assert cross["against"] == "onnx_torch" and cross["within_tolerance"] is True and cross["max_rel"] < 1e-4


def test_skipped_and_transient_records_are_not_cacheable():
    assert pipeline.cacheable({"outcome": PASS, "verification": {"status": "pass"}})
    assert pipeline.cacheable({"outcome": pipeline.EXPORT_FAILED, "error": "ValueError: unsupported op"})
    assert not pipeline.cacheable({"outcome": pipeline.SKIPPED, "reason": "not installed: x"})
    assert not pipeline.cacheable({"outcome": pipeline.EXPORT_FAILED, "stage": "not attempted", "error": "died"})
    assert not pipeline.cacheable({"outcome": pipeline.EXPORT_FAILED,
                                   "error": "IsolatedJobFailed: isolated process died (exit code -9: killed)"})


def test_a_memory_guard_kill_is_cached_only_when_its_route_ran_alone():
    """The guard's kill of a route that ran with nothing beside it is that route's outcome on this
    machine (whose memory is in the key); beside another job, or a kill by anyone else, it is not."""
    from twinzoo.workers import MEMORY_GUARD
    why = f"IsolatedJobFailed: killed by the {MEMORY_GUARD}: its resident set reached 19.8 GB"
    assert pipeline.cacheable(pipeline.mark_alone({"outcome": pipeline.EXPORT_FAILED, "error": why}, True))
    assert not pipeline.cacheable(pipeline.mark_alone({"outcome": pipeline.EXPORT_FAILED, "error": why}, False))
    dead = {"outcome": pipeline.EXPORT_FAILED, "stage": "export or verification",
            "error": f"killed by the {MEMORY_GUARD}: its resident set reached 19.8 GB"}
    assert pipeline.cacheable(pipeline.mark_alone(dict(dead), True))
    assert not pipeline.cacheable(pipeline.mark_alone({**dead, "stage": "not attempted"}, True))
    assert not pipeline.cacheable(pipeline.mark_alone(
        {"outcome": pipeline.EXPORT_FAILED, "error": "isolated process died (exit code -9: killed)"}, True))
    assert "memory_gib" in cachemod.environment()


def test_a_worker_the_guard_killed_alone_is_cached_by_the_main_process(tmp_path):
    """The worker died before it could store its route: recovered_export stores the route in
    flight (and only that one) when the job ran alone, and a later run hits it."""
    from export import jobs as export_jobs
    from twinzoo.workers import MEMORY_GUARD
    work, cache_dir = tmp_path / "work", tmp_path / "cache"
    journal = export_jobs._journal(str(work), NET.name)
    journal.parent.mkdir(parents=True)
    journal.write_text('{"start": "onnx_keras"}\n')
    why = f"killed by the {MEMORY_GUARD}: its resident set reached 19.8 GB"
    fmts = ["onnx_keras", "tflite_fp32"]
    for alone in (False, True):
        res = export_jobs.recovered_export((NET.name, SMALL, fmts, 0, str(work), None, str(cache_dir), alone), why)
        assert [r["outcome"] for r in res["records"]] == [pipeline.EXPORT_FAILED] * 2
    hits, _ = pipeline.cached_records(NET, _fmts(*fmts), SMALL, "", 0, tmp_path / "out", ArtifactCache(cache_dir))
    assert list(hits) == ["onnx_keras"] and MEMORY_GUARD in hits["onnx_keras"]["error"]


def test_a_route_past_the_time_budget_is_named_from_the_journal_and_cached_with_its_budget(tmp_path):
    """route_overdue reads the route in flight from the job's journal: past the budget it names
    it; a route under the budget, a finished route, a journal older than the job, no budget: no
    kill. The killed route is cached with its budget (its leftover temporary files, and the
    artifact it had written but not verified, removed), a
    hit for that budget or a smaller one and a miss for a larger one or none, so raising
    --route-budget tries it again; the routes after it are not attempted and not cached."""
    import time

    from export import jobs as export_jobs
    from twinzoo.workers import TIME_BUDGET
    work, cache_dir = tmp_path / "work", tmp_path / "cache"
    fmts = ["onnx_keras", "tflite_fp32"]
    args = (NET.name, SMALL, fmts, 0, str(work), None, str(cache_dir), False, 600.0)
    journal = export_jobs._journal(str(work), NET.name)
    journal.parent.mkdir(parents=True)
    overdue = export_jobs.route_overdue(600.0)
    job = (export_jobs.export_job, args)
    now = time.time()
    journal.write_text(json.dumps({"begin": now - 900}) + "\n" + json.dumps({"start": "onnx_keras", "t": now - 700}) + "\n")
    why = overdue(job, 900)
    assert TIME_BUDGET in why and "onnx_keras" in why and "10 min" in why
    assert overdue(job, 100) is None                       # the journal predates this job
    assert export_jobs.route_overdue(900.0)(job, 900) is None and export_jobs.route_overdue(None) is None
    from benchmark import parallel
    assert overdue((parallel.conformance_job, ([NET.name], (), 0)), 900) is None
    with journal.open("a") as f:
        f.write(json.dumps({"record": {"format": "onnx_keras"}}) + "\n")
    assert overdue(job, 900) is None                       # between routes
    journal.write_text(json.dumps({"begin": now - 900}) + "\n" + json.dumps({"start": "onnx_keras", "t": now - 700}) + "\n")
    leftover = work / NET.name / f".{NET.name}_{SMALL[0]}x{SMALL[1]}.onnx_keras.{os.getpid()}.abc123.onnx"
    leftover.parent.mkdir()
    leftover.write_bytes(b"")
    saved_model = export_jobs._scratch(str(work), NET.name) / "twinzoo-savedmodel-x" / "saved_model.pb"
    saved_model.parent.mkdir(parents=True)
    saved_model.write_bytes(b"")                            # what the killed worker's converter left
    unverified = work / NET.name / f"{NET.name}_{SMALL[0]}x{SMALL[1]}.onnx_keras.onnx"
    unverified.write_bytes(b"")                             # written, killed while verifying: no record names it
    res = export_jobs.recovered_export(args, why)
    assert not leftover.exists() and not export_jobs._scratch(str(work), NET.name).exists()
    assert not unverified.exists()
    assert [r.get("stage") for r in res["records"]] == ["export or verification", "not attempted"]
    assert res["records"][0]["budget_seconds"] == 600.0 and 890 < res["seconds"] < 1000
    assert 690 < res["records"][0]["export_seconds"] < 800             # the route's own time, from the journal
    cache = ArtifactCache(cache_dir)
    for budget, hit in ((600.0, True), (300.0, True), (900.0, False), (None, False)):
        hits, _ = pipeline.cached_records(NET, _fmts(*fmts), SMALL, "", 0, tmp_path / "out", cache, route_budget=budget)
        assert list(hits) == (["onnx_keras"] if hit else []), budget


def test_an_export_job_keeps_its_temporary_files_in_its_own_directory_and_removes_them(tmp_path):
    """scratch_tempdir: tempfile and a child process (TMPDIR) both write under the job's directory,
    removed on leaving, with tempfile's directory and TMPDIR as they were before."""
    import os
    import subprocess
    import sys
    import tempfile

    from export import jobs as export_jobs
    before = tempfile.gettempdir(), os.environ.get("TMPDIR")
    scratch = tmp_path / ".net.export-tmp"
    (scratch / "stale").mkdir(parents=True)                # a killed run's leftover
    with export_jobs.scratch_tempdir(scratch):
        assert not (scratch / "stale").exists()
        assert Path(tempfile.mkdtemp(prefix="twinzoo-savedmodel-")).parent == scratch
        child = subprocess.run([sys.executable, "-c", "import tempfile; print(tempfile.gettempdir())"],
                               capture_output=True, text=True, check=True)
        assert Path(child.stdout.strip()) == scratch
    assert not scratch.exists()
    assert (tempfile.gettempdir(), os.environ.get("TMPDIR")) == before


def test_a_network_whose_worker_died_is_finished_in_a_fresh_worker():
    """retry_groups: the routes not attempted, with the cached ones so cross-route pairs meet
    (without a cache only those), one per job for a network exported per format; routes that
    failed otherwise, and a network with nothing left, are not retried."""
    from export.jobs import retry_groups
    fmts = ["onnx_torch", "onnx_keras", "tflite_fp32", "ptl"]
    recs = {"onnx_torch": {"outcome": PASS, "verification": {"status": "pass"}},
            "onnx_keras": {"outcome": pipeline.EXPORT_FAILED, "stage": "export or verification",
                           "error": "worker process died (exit code -9: killed, e.g. by the OOM killer)"},
            "tflite_fp32": {"outcome": pipeline.EXPORT_FAILED, "stage": "not attempted", "error": "not attempted"},
            "ptl": {"outcome": pipeline.EXPORT_FAILED, "stage": "not attempted", "error": "not attempted"}}
    assert retry_groups(recs, fmts, True, False) == [["onnx_torch", "tflite_fp32", "ptl"]]
    assert retry_groups(recs, fmts, False, False) == [["tflite_fp32", "ptl"]]
    assert retry_groups(recs, fmts, True, True) == [["tflite_fp32"], ["ptl"]]
    assert retry_groups({f: recs["onnx_torch"] for f in fmts}, fmts, True, False) == []
    guarded = {"outcome": pipeline.EXPORT_FAILED, "error": "killed by the memory guard: 22.5 GB"}
    beside = {**{f: recs["onnx_torch"] for f in fmts}, "tflite_fp32": guarded}
    assert retry_groups(beside, fmts, True, True) == [["tflite_fp32"]]
    assert retry_groups({**beside, "tflite_fp32": {**guarded, "ran_alone": True}}, fmts, True, True) == []


def test_the_main_job_sends_routes_not_attempted_to_a_fresh_worker_until_none_is_left(tmp_path, monkeypatch):
    """untimed_phase with the worker pool faked: the first job's worker "dies" during its first
    route (the records recovered_export makes from the journal), the retry job gets the route
    not attempted and finishes it; the records merge, the network's seconds add up, and the
    time budget reaches the jobs."""

    from rich.progress import Progress

    from benchmark import cli, parallel
    from export import jobs as export_jobs
    from benchmark.config import RunConfig
    fmts = ["onnx_torch", "tflite_fp32"]
    sent: list[list[str]] = []

    def fake_pool(jobs, workers, on_result, alone=None, route_budget=None):
        for fn, args in jobs:
            assert fn is export_jobs.export_job and args[8] == route_budget == 120.0
            sent.append(list(args[2]))
            if len(sent) == 1:
                journal = export_jobs._journal(args[4], args[0])
                journal.parent.mkdir(parents=True, exist_ok=True)
                journal.write_text(json.dumps({"begin": 0}) + "\n" + json.dumps({"start": "onnx_torch"}) + "\n")
                res = export_jobs.recovered_export(args, "worker process died (exit code -9: killed)")
                res["seconds"] = 5.0
            else:
                res = {"kind": "export", "name": args[0], "seconds": 7.0,
                       "records": [{"format": f, "outcome": PASS} for f in args[2]]}
            on_result(res)
    monkeypatch.setattr(parallel, "run_jobs", fake_pool)
    args = RunConfig(cache=None, weights=None, seed=0, route_budget=2.0, jobs=1)
    with Progress(disable=True) as progress:
        done = cli.untimed_phase([NET.name], {NET.name: SMALL}, fmts, [], (), args, tmp_path / "work", progress)
    assert sent == [fmts, ["tflite_fp32"]]
    recs = done["exported"][NET.name]
    assert recs["onnx_torch"]["stage"] == "export or verification" and recs["tflite_fp32"]["outcome"] == PASS
    assert done["seconds"][NET.name] == 12.0


def test_a_route_the_memory_guard_stopped_beside_another_job_is_tried_again_alone(tmp_path, monkeypatch):
    """untimed_phase with the worker pool faked: a route the guard stopped while the job was not
    alone (not cacheable: every run would pay for it again) goes to a job that runs alone, once;
    killed again there, it is the route's own outcome (ran_alone, cacheable) and not retried. The
    only job of a run runs alone from the start."""

    from rich.progress import Progress

    from benchmark import cli, parallel
    from export import jobs as export_jobs
    from benchmark.config import RunConfig
    from export.pipeline import cacheable, mark_alone
    fmts = ["onnx_torch", "pte"]
    sent: list[tuple[list[str], bool, bool]] = []
    guard = "IsolatedJobFailed: killed by the memory guard: its resident set reached 21.3 GB"

    def fake_pool(jobs, workers, on_result, alone=None, route_budget=None):
        for job in jobs:
            fn, args = job
            sent.append((list(args[2]), args[7], alone(job)))
            recs = [mark_alone({"format": f, "outcome": PASS} if f == "onnx_torch" else
                               {"format": f, "outcome": pipeline.EXPORT_FAILED, "error": guard}, args[7])
                    for f in args[2]]
            on_result({"kind": "export", "name": args[0], "seconds": 1.0, "records": recs})
    monkeypatch.setattr(parallel, "run_jobs", fake_pool)
    args = RunConfig(cache=None, weights=None, seed=0, route_budget=2.0, jobs=2)
    with Progress(disable=True) as progress:
        done = cli.untimed_phase([NET.name, "vdsr"], {NET.name: SMALL, "vdsr": SMALL}, fmts, [], (), args,
                                 tmp_path / "work", progress)
    assert sorted(sent) == sorted([(fmts, False, False)] * 2 + [(["pte"], True, True)] * 2)
    pte = done["exported"][NET.name]["pte"]
    assert pte["ran_alone"] is True and cacheable(pte) and not export_jobs.guarded_beside(pte)
    sent.clear()                    # one job in all (or one worker): nothing runs beside it, no retry
    with Progress(disable=True) as progress:
        cli.untimed_phase([NET.name], {NET.name: SMALL}, fmts, [], (), args, tmp_path / "work1", progress)
    assert sent == [(fmts, True, True)]


def test_an_unwritable_cache_is_a_usage_error(tmp_path, capsys):
    from benchmark import cli as bcli
    from export import cli as ecli
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert ecli.main(["--model", "srcnn", "--out", str(tmp_path / "o"), "--cache", str(blocker / "sub")]) == 2
    assert f"--cache {blocker / 'sub'}: not writable" in capsys.readouterr().err.replace("\n", "")
    assert bcli.main(["--quick", "--model", "srcnn", "--out", str(tmp_path / "b"), "--cache", str(blocker)]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err.replace("\n", "")
    assert not (tmp_path / "o" / "manifest.json").exists()          # refused before any work


# ------------------------------------------------------------------------------------------
# the main job
# ------------------------------------------------------------------------------------------
def _bench(out: Path, *extra: str, models: tuple[str, ...] = ("srcnn",), runtimes=("torch_eager",)) -> int:
    from benchmark import cli
    return cli.main(["--quick", "--model", *models, "--runtime", *runtimes, "--size", "32x32", "--threads", "1",
                     "--jobs", "0", "--no-witnesses", "--conformance", "none", "--out", str(out), *extra])


def test_main_job_on_a_warm_cache_reuses_everything_and_says_so(tmp_path, monkeypatch):
    from benchmark import suite
    cache = ["--cache", str(tmp_path / "cache")]
    assert _bench(tmp_path / "a", *cache, runtimes=("torch_eager", "tflite_fp32")) == 0
    cold = json.loads((tmp_path / "a" / "benchmark.json").read_text())

    def refuse(*_a, **_k):
        raise AssertionError("a warm run must not time, export or build anything")
    for mod, name in ((suite, "bench_runtime"), (pipeline, "make_context"), (pipeline, "run_format")):
        monkeypatch.setattr(mod, name, refuse)
    assert _bench(tmp_path / "b", *cache, runtimes=("torch_eager", "tflite_fp32")) == 0
    warm = json.loads((tmp_path / "b" / "benchmark.json").read_text())
    rts = warm["networks"][0]["runtimes"]
    assert all(r["timing"]["from_cache"]["measured"] >= cold["timing"]["started"] for r in rts.values())
    assert rts["tflite_fp32"]["timing"]["median_ms"] == cold["networks"][0]["runtimes"]["tflite_fp32"]["timing"]["median_ms"]
    c = warm["timing"]["cache"]
    assert (c["timing_records_from_cache"], c["timing_records"], c["artifacts_from_cache"], c["artifacts"]) == (2, 2, 1, 1)
    md = (tmp_path / "b" / "benchmark.md").read_text()
    assert "2 of 2 timing records" in md and "1 of 1 exported artifacts" in md and "↺" in md
    manifest = json.loads((tmp_path / "b" / "artifacts" / "manifest.json").read_text())
    assert manifest["cache"]["hits"] == 1 and manifest["artifacts"][0]["cache"]["hit"] is True
    # --retime measures again, still without exporting anything
    monkeypatch.undo()
    monkeypatch.setattr(pipeline, "run_format", refuse)
    assert _bench(tmp_path / "c", *cache, "--retime", runtimes=("torch_eager", "tflite_fp32")) == 0
    retimed = json.loads((tmp_path / "c" / "benchmark.json").read_text())
    assert not any("from_cache" in r["timing"] for r in retimed["networks"][0]["runtimes"].values())
    assert retimed["timing"]["cache"]["artifacts_from_cache"] == 1
    assert "0 of 2 timing records" in (tmp_path / "c" / "benchmark.md").read_text()


def test_resume_keeps_finished_networks_and_refuses_other_settings(tmp_path, monkeypatch, capsys):
    from benchmark import suite
    out = tmp_path / "run"
    real = suite.bench_network
    seen: list[str] = []

    def interrupted(net, *a, **k):
        if net.name == "vdsr":
            raise KeyboardInterrupt
        seen.append(net.name)
        return real(net, *a, **k)
    monkeypatch.setattr(suite, "bench_network", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _bench(out, "--no-cache", models=("srcnn", "vdsr"))
    partial = json.loads((out / "benchmark.json").read_text())
    assert [n["network"] for n in partial["networks"]] == ["srcnn"] and seen == ["srcnn"]

    assert _bench(out, "--no-cache", "--resume", "--threads", "2", models=("srcnn", "vdsr")) == 2
    assert "threads 1 there, 2 now" in capsys.readouterr().err.replace("\n", " ")
    assert _bench(tmp_path / "empty", "--no-cache", "--resume") == 2
    assert "nothing to resume" in capsys.readouterr().err

    seen.clear()
    monkeypatch.setattr(suite, "bench_network", lambda net, *a, **k: (seen.append(net.name), real(net, *a, **k))[1])
    assert _bench(out, "--no-cache", "--resume", models=("srcnn", "vdsr")) == 0
    assert seen == ["vdsr"]                                   # srcnn was kept, not run again
    done = json.loads((out / "benchmark.json").read_text())
    assert [n["network"] for n in done["networks"]] == ["srcnn", "vdsr"]
    assert done["networks"][0]["runtimes"] == partial["networks"][0]["runtimes"]
    assert done["timing"]["cache"]["resumed_networks"] == ["srcnn"]
