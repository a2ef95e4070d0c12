"""The benchmark: peak formula, choose lines, shard merge, failure recording, report
files, determinism and argument errors. Tiny sizes (srcnn at 32x32, eager runtimes) keep it fast;
no test asserts a wall-clock time."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmark import cli, peak, report, runtimes, suite, timing
from twinzoo import catalogue

CPUINFO = """processor\t: 0
model name\t: Fake CPU @ 2.00GHz
cpu MHz\t\t: 1995.000
flags\t\t: fpu sse sse2 avx avx2 fma avx512f
processor\t: 1
model name\t: Fake CPU @ 2.00GHz
cpu MHz\t\t: 2000.000
flags\t\t: fpu sse sse2 avx avx2 fma avx512f
"""


def test_peak_from_fake_cpuinfo():
    p = peak.detect(CPUINFO, cores=2)
    assert (p.isa, p.lanes, p.fma_units, p.cores) == ("AVX-512F", 16, 2, 2)
    assert p.ghz == pytest.approx(2.0)
    assert p.gmacs == pytest.approx(128.0)
    assert "2 cores x 2 FMA units/core (assumed) x 16 fp32 lanes" in p.formula() and "128.0 GMAC/s" in p.formula()


def test_peak_lanes_and_clock_sources():
    avx2 = CPUINFO.replace(" avx512f", "")
    assert peak.detect(avx2, cores=4).gmacs == pytest.approx(4 * 2 * 8 * 2.0)
    assert peak.detect(avx2.replace(" fma", "").replace(" avx2", ""), cores=1).lanes == 4
    # cpufreq's maximum (kHz) wins over a lower current "cpu MHz"
    p = peak.detect(CPUINFO, cores=1, max_freq_khz="3500000\n")
    assert p.ghz == pytest.approx(3.5) and p.clock_source == "cpufreq cpuinfo_max_freq"


def _rt(name: str, ms: float | None, faithful: bool | None = True, size: int | None = None, **extra) -> dict:
    rec = {"runtime": name, "status": "ok" if ms is not None else "error", "faithful": faithful, **extra}
    if ms is not None:
        rec["timing"] = {"median_ms": ms, "p90_ms": ms, "runs": 10, "gmacs_per_s": 1.0, "peak_fraction": 0.1}
    if size is not None:
        rec["artifact"] = {"path": f"x.{name}", "bytes": size, "sha256": "0"}
    return rec


def _net(name: str = "srcnn", **rts) -> dict:
    return {"network": name, "size": [32, 32], "macs": 10**9, "size_from": "test", "runtimes": rts}


def test_choose_fastest_smallest_unfaithful():
    net = _net(torch_eager=_rt("torch_eager", 9.0),
               tflite_fp32=_rt("tflite_fp32", 3.0, size=2000, verification={"max_rel": 1e-6}),
               tflite_int8=_rt("tflite_int8", 1.0, faithful=False, size=500, verification={"snr_db": 2.0},
                               precision="int8"),
               onnx_torch=_rt("onnx_torch", 2.0, size=1500),
               pte={"runtime": "pte", "status": "error", "stage": "export", "error": "boom"})
    c = report.choose(net)
    assert c["fastest"] == {"runtime": "onnx_torch", "median_ms": 2.0, "precision": "fp32"}   # int8: unfaithful
    assert c["smallest"] == {"runtime": "onnx_torch", "bytes": 1500}         # int8 is smaller but unfaithful
    assert c["unfaithful"] == [{"runtime": "tflite_int8", "error": "SNR 2.0 dB"}]
    assert c["failed"][0]["runtime"] == "pte"
    line = report.choose_line(net)
    assert "fastest: onnx_torch" in line and "not faithful: tflite_int8 (SNR 2.0 dB)" in line and "failed: pte" in line


def test_choose_names_the_fastest_float32_beside_a_faithful_int8():
    net = _net(keras_tf=_rt("keras_tf", 5.0),
               tflite_int8=_rt("tflite_int8", 1.0, size=500, verification={"snr_db": 30.0}, precision="int8"))
    c = report.choose(net)
    assert c["fastest"]["runtime"] == "tflite_int8" and c["fastest_fp32"]["runtime"] == "keras_tf"
    assert "fastest: tflite_int8 (1.0 ms, int8); fastest float32: keras_tf (5.0 ms)" in report.choose_line(net)


def test_choose_with_nothing_usable():
    c = report.choose(_net(pte={"runtime": "pte", "status": "error", "stage": "open", "error": "x"}))
    assert c["fastest"] is None and c["smallest"] is None


def _shard(rts: dict, conformance: list[dict] | None = None) -> dict:
    p = peak.detect(CPUINFO, cores=2)
    return {"schema": report.SCHEMA, "mode": "full", "seed": 0, "command": "python -m benchmark", "scope": "test",
            "settings": {"thread_settings": {"threads": 2}, "timing_plan": timing.FULL.as_dict(), "input": "test"},
            "environment": {"cpu": "Fake", "cores": 2, "python": "3.11", "platform": "linux", "versions": {}},
            "peak": p.as_dict(), "networks": [_net(**rts)],
            "witnesses": [], "conformance": {"checks": ["macs"], "rows": conformance or [], "passed": len(conformance or []),
                                             "note": ""},
            "timing": {"wall_seconds": 1.0}}


def test_merge_shards(tmp_path: Path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(_shard({"torch_eager": _rt("torch_eager", 5.0)},
                                   [{"model": "srcnn", "passed": True, "checks": {"macs": "pass"}}])))
    b.write_text(json.dumps(_shard({"onnx_torch": _rt("onnx_torch", 2.0, size=100)},
                                   [{"model": "vdsr", "passed": True, "checks": {"macs": "pass"}}])))
    out = tmp_path / "merged"
    assert cli.main(["merge", str(a), str(b), "--out", str(out)]) == 0
    merged = json.loads((out / "benchmark.json").read_text())
    assert list(merged["networks"][0]["runtimes"]) == ["torch_eager", "onnx_torch"]
    assert [r["model"] for r in merged["conformance"]["rows"]] == ["srcnn", "vdsr"]
    assert merged["networks"][0]["timing"]["fastest"]["runtime"] == "onnx_torch"
    assert (out / "benchmark.md").read_text().count("onnx_torch") >= 2
    assert "data:image/png;base64," in (out / "benchmark.html").read_text()


def test_merge_rejects_mismatched_shards(tmp_path: Path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(_shard({})))
    other = _shard({})
    other["seed"] = 1
    b.write_text(json.dumps(other))
    assert cli.main(["merge", str(a), str(b), "--out", str(tmp_path / "m")]) == 2


def test_failing_runtime_is_recorded_not_fatal(tmp_path: Path):
    def broken(*_args):
        raise RuntimeError("this runtime cannot open anything")
    bad = runtimes.Runtime("broken", "a runtime that fails", "torch", None, broken)
    net = catalogue.get("srcnn")
    rec = suite.bench_network(net, (32, 32), "test", [bad, runtimes.get("torch_eager")], 1, timing.QUICK, 0,
                              tmp_path / "work", 100.0)
    assert rec["runtimes"]["broken"]["status"] == "error"
    assert rec["runtimes"]["broken"]["stage"] == "open"
    assert "cannot open anything" in rec["runtimes"]["broken"]["error"]
    assert rec["runtimes"]["torch_eager"]["status"] == "ok"
    from typed_check import problems

    from benchmark.records import NetworkRecord
    assert problems(rec, NetworkRecord) == []


def _run(out: Path) -> int:
    return cli.main(["--model", "srcnn", "--runtime", "torch_eager", "keras_tf", "--size", "32x32", "--quick",
                     "--threads", "1", "--no-witnesses", "--conformance", "none", "--out", str(out)])


def test_report_files_well_formed_and_deterministic(tmp_path: Path):
    assert _run(tmp_path / "a") == 0
    assert _run(tmp_path / "b") == 0
    a = json.loads((tmp_path / "a" / "benchmark.json").read_text())
    b = json.loads((tmp_path / "b" / "benchmark.json").read_text())
    assert a["schema"] == report.SCHEMA and a["mode"] == "quick"
    net = a["networks"][0]
    assert net["network"] == "srcnn" and net["size"] == [32, 32] and net["size_from"] == "--size"
    assert net["runtimes"]["torch_eager"]["timing"]["median_ms"] > 0
    assert net["runtimes"]["keras_tf"]["faithful"] is True
    assert a["peak"]["formula"].endswith("GMAC/s")
    a["command"] = b["command"] = ""
    assert report.strip_timing(a) == report.strip_timing(b)           # same seed: same report but timings
    md = (tmp_path / "a" / "benchmark.md").read_text()
    assert "| srcnn 32x32 |" in md and "## Choose" in md and "## Environment" in md
    page = (tmp_path / "a" / "benchmark.html").read_text()
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert "data:image/png;base64," in page and "src='http" not in page     # self-contained


def test_unwritable_out_is_a_usage_error(tmp_path: Path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert _run(blocker / "sub") == 2
    assert "not writable" in capsys.readouterr().err
    assert _run(blocker) == 2


def test_unknown_runtime_and_model(capsys):
    assert cli.main(["--runtime", "tflite_fp33"]) == 2
    assert "tflite_fp32" in capsys.readouterr().err
    assert cli.main(["--model", "mobilenet_v9"]) == 2


def test_torchvision_witness_is_timed_where_torchvision_imports():
    """The benchmark times torchvision's MobileNet v2 against our twin holding its weights; where
    torchvision does not import the row says why (and the torchvision tox env must not get there)."""
    import os

    from benchmark import witnesses
    from conformance.lib.torchvision_witness import torchvision_or_reason
    tiny = timing.Plan(warmup=1, min_runs=2, max_runs=2, min_seconds=0.0, max_seconds=1.0, floor_runs=2)
    rows = witnesses.torchvision_models(["mobilenet_v2"], tiny)
    assert {r["network"] for r in rows} == {"mobilenet_v2"}
    tv, reason = torchvision_or_reason()
    if tv is None:
        assert os.environ.get("TWINZOO_REQUIRE_TORCHVISION") != "1", reason
        assert len(rows) == 1 and rows[0]["status"] == "skipped" and "torchvision does not import" in rows[0]["reason"]
        pytest.skip(reason)
    assert [r["runtime"] for r in rows] == ["torch_eager", "torch_channels_last"]       # both memory formats
    for r in rows:
        assert r["status"] == "ok", r
        assert r["timing"]["ratio"] > 0


def test_keras_applications_witness_is_timed_in_keras_and_litert(tmp_path):
    """The keras.applications witness row in both runtimes: the LiteRT one converts ours and
    theirs through the export's route (which reads the network's input shape: the witness must
    give it)."""
    from benchmark import witnesses
    tiny = timing.Plan(warmup=1, min_runs=2, max_runs=2, min_seconds=0.0, max_seconds=1.0, floor_runs=2)
    rows = witnesses.keras_applications(["mobilenet_v1"], ["keras_tf", "tflite_fp32"], 1, tiny, tmp_path)
    assert [(r["witness"], r["runtime"]) for r in rows] == [("keras.applications.MobileNet", "keras_tf"),
                                                           ("keras.applications.MobileNet", "tflite_fp32")]
    for r in rows:
        assert r["status"] == "ok", r
        assert r["timing"]["ratio"] > 0


def test_an_export_that_must_run_alone_waits_and_blocks():
    from twinzoo import workers
    big, small, other = ("export", ("vgg_16",)), ("export", ("srcnn",)), ("export", ("dped",))
    alone = lambda job: job[1][0] == "vgg_16"      # noqa: E731
    assert workers.may_start(big, [], 2, alone)
    assert not workers.may_start(big, [small], 2, alone)         # waits for the worker to be free
    assert not workers.may_start(small, [big], 2, alone)         # nothing beside it
    assert workers.may_start(other, [small], 2, alone)
    assert not workers.may_start(other, [small, small], 2, alone)


def test_a_worker_killed_mid_network_keeps_the_formats_it_finished(tmp_path):
    """The OOM killer took a worker during its third format: the first two records survive, the
    third is recorded with the reason, the fourth as not attempted."""
    import json

    from export import jobs as export_jobs
    formats = ["onnx_torch", "ptl", "tflite_fp32", "onnx_keras"]
    journal = export_jobs._journal(str(tmp_path), "srcnn")
    done = [{"network": "srcnn", "format": f, "outcome": "pass", "path": f"srcnn/x.{f}"} for f in formats[:2]]
    lines = [{"start": formats[0]}, {"record": done[0]}, {"start": formats[1]}, {"record": done[1]},
             {"start": formats[2]}]
    journal.write_text("".join(json.dumps(e) + "\n" for e in lines))
    res = export_jobs.recovered_export(("srcnn", (64, 64), formats, 0, str(tmp_path)), "worker process died (exit code -9)")
    by_format = {r["format"]: r for r in res["records"]}
    assert [by_format[f]["outcome"] for f in formats] == ["pass", "pass", "export failed", "export failed"]
    assert by_format["tflite_fp32"]["error"] == "worker process died (exit code -9)"
    assert by_format["onnx_keras"]["stage"] == "not attempted" and "during tflite_fp32" in by_format["onnx_keras"]["error"]
    assert "error" not in res


def test_a_worker_killed_before_its_first_format_fails_the_network(tmp_path):
    from export import jobs as export_jobs
    res = export_jobs.recovered_export(("srcnn", (64, 64), ["ptl"], 0, str(tmp_path)), "worker process died")
    assert res == {"kind": "export", "name": "srcnn", "error": "worker process died", "seconds": None}


def test_an_export_job_makes_its_work_directory(tmp_path):
    """The first export job of a run can start before anything has made the artifacts directory:
    its journal must not fail there (it did: FileNotFoundError on the journal, every format lost)."""
    from export import jobs as export_jobs
    work = tmp_path / "new" / "artifacts"
    res = export_jobs.export_job("srcnn", (32, 32), ["ptl"], 0, str(work))
    assert "error" not in res, res
    assert [r["format"] for r in res["records"]] == ["ptl"] and res["records"][0]["outcome"] == "pass"


def test_ratio_table_and_colours():
    """Each latency as a multiple of the network's fastest faithful runtime; an unfaithful runtime
    is timed and shown, never the best, and greyed."""
    rep = {"networks": [_net(torch_eager=_rt("torch_eager", 9.0), onnx_torch=_rt("onnx_torch", 3.0),
                             tflite_int8=_rt("tflite_int8", 1.0, faithful=False, precision="int8"),
                             pte={"runtime": "pte", "status": "error", "stage": "export", "error": "boom"})]}
    title, headers, rows = report.ratio_table(rep)
    assert headers == ["network", "best", "torch_eager", "onnx_torch", "tflite_int8", "pte"]
    assert rows == [["srcnn", "3.0 ms (onnx_torch)", "3.00x", "best", "0.33x ✗", "error (export)"]]
    colours = report.ratio_colours(rep)[0]
    assert colours[3] == "hsl(120, 70%, 80%)" and colours[4] == "#d9d9d9" and colours[5] is None
    assert colours[2] == f"hsl({120 * (1 - math.log10(3)):.0f}, 70%, 80%)"      # 3x: between green and red
    assert "background:hsl(120, 70%, 80%)" in report.html_table(report.ratio_table(rep), report.ratio_colours(rep))


@pytest.fixture(scope="module")
def srcnn_torch_runtimes(tmp_path_factory) -> dict:
    names = ("torch_eager", "torch_channels_last", "torch_compile")
    return suite.bench_network(catalogue.get("srcnn"), (32, 32), "test", [runtimes.get(n) for n in names], 1,
                               timing.QUICK, 0, tmp_path_factory.mktemp("work"), 100.0)["runtimes"]


def test_channels_last_and_compiled_twins_are_judged_against_eager(srcnn_torch_runtimes):
    for name in ("torch_channels_last", "torch_compile"):
        r = srcnn_torch_runtimes[name]
        assert r["status"] == "ok", r
        v = r["verification"]
        assert v["reference"].startswith("the torch twin (eager") and len(v["inputs"]) >= 2
        assert r["faithful"] is True and v["max_rel"] <= 1e-4, v
        assert r["timing"]["first_call_seconds"] > 0 and r["timing"]["median_ms"] > 0
    assert srcnn_torch_runtimes["torch_eager"]["verification"]["status"] == "reference"


def test_a_variant_that_changes_the_outputs_is_not_faithful(tmp_path: Path):
    """Planted: a channels_last copy whose first conv's bias drifts by 1e-3 (caught by the
    variant's own verification against the eager twin, nothing else: it is timed all the same)."""
    import torch

    def drifted(ctx):
        model, to_input = runtimes.channels_last(ctx)
        with torch.no_grad():
            model.conv1.bias += 1e-3
        return model, to_input
    rt = runtimes.Runtime("torch_channels_last", "drifted", "torch", None, variant=drifted)
    r = suite.bench_network(catalogue.get("srcnn"), (32, 32), "test", [rt], 1, timing.QUICK, 0,
                            tmp_path, 100.0)["runtimes"]["torch_channels_last"]
    assert r["status"] == "ok" and r["faithful"] is False and r["verification"]["status"] == "fail"


def test_channels_last_does_not_apply_to_a_sequence(tmp_path: Path):
    r = suite.bench_network(catalogue.get("lstm_sentiment"), (4, 300), "test", [runtimes.get("torch_channels_last")],
                            1, timing.QUICK, 0, tmp_path, 100.0)["runtimes"]["torch_channels_last"]
    assert r["status"] == "skipped" and "4-D image tensors" in r["reason"]



def test_a_first_look_leaves_out_the_heaviest_networks_and_says_which(tmp_path: Path):
    from benchmark.config import RunConfig
    from benchmark.suite import BENCH_NETWORKS

    def config(*argv):
        return RunConfig.from_args(cli._parser().parse_args([*argv, "--no-cache", "--out", str(tmp_path)]))
    skipped = {n for n in BENCH_NETWORKS if catalogue.get(n).bench.quick_skip}
    assert {"pspnet", "gnmt"} <= skipped and "mobilenet_v1" not in skipped
    assert set(config("--quick").networks) == set(BENCH_NETWORKS) - skipped
    assert config().networks == BENCH_NETWORKS                          # the main job times them all
    assert config("--quick", "--model", "pspnet").networks == ("pspnet",)  # asked for by name: timed
    text = report.left_out_text({"settings": {"left_out": {"pspnet": catalogue.get("pspnet").bench.quick_skip}}})
    assert "leaves out pspnet (161 GMAC" in text and "--quick --model NAME" in text
