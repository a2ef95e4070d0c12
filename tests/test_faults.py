"""Faults under the writers: a full disk (a small tmpfs mounted for the test, where the machine
lets us), restores into the same directory, temporaries a killed run left behind. Each writer gives
a clean error and leaves nothing partial or hidden."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from export import formats
from export.cache import ArtifactCache
from export.pipeline import export_network
from twinzoo import catalogue, files

SMALL = (32, 32)
NET = catalogue.get("srcnn")
ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def small_disk(path: Path, size: str):
    """A tmpfs of ``size`` at ``path``: a real full disk for the writers (skips where mounting is
    not allowed)."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or done.returncode})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _fill(path: Path) -> None:
    """Fill the disk ``path`` is on."""
    with contextlib.suppress(OSError), open(path, "wb") as fh:
        while True:
            fh.write(b"\0" * 4096)
            fh.flush()


def _hidden(directory: Path) -> list[Path]:
    return [p for p in directory.rglob(".*") if p.is_file()]


def _python(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TWINZOO_CACHE": "off"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)


def test_export_on_a_full_disk_records_the_route_and_leaves_nothing_hidden(tmp_path):
    """The lite interpreter's native writer aborts the whole process on a full disk (c10::Error,
    exit 134) and leaves a hidden partial file; written from Python, every route is recorded."""
    with small_disk(tmp_path / "disk", "96k") as out:
        done = _python("-m", "export", "--model", "srcnn", "--format", "ptl", "onnx_torch", "--size", "32x32",
                       "--no-cache", "--out", str(out))
        assert done.returncode in (1, 3), done.stderr[-2000:]          # not an abort (134)
        manifest = json.loads((out / "manifest.json").read_text())
        recs = {r["format"]: r for r in manifest["artifacts"]}
        assert set(recs) == {"ptl", "onnx_torch"}
        assert "No space left" in recs["ptl"]["error"] or "no space left" in recs["ptl"]["error"], recs["ptl"]
        assert _hidden(out) == []


def test_port_on_a_full_disk_is_exit_2_and_leaves_nothing(tmp_path, capsys):
    import torch

    import torch_models
    from conformance import cli
    torch.save(torch_models.build("srcnn").state_dict(), tmp_path / "s.pt")
    with small_disk(tmp_path / "disk", "64k") as out:
        assert cli.main(["port", "--model", "srcnn", "--from", str(tmp_path / "s.pt"), "--out", str(out),
                         "--size", "32x32"]) == 2
        assert "no space left on the device" in capsys.readouterr().err
        assert list(out.iterdir()) == []


def test_a_report_on_a_full_disk_is_exit_2_and_leaves_nothing(tmp_path, capsys):
    from conformance import cli
    with small_disk(tmp_path / "disk", "64k") as out:
        _fill(out / "filler")
        rc = cli.main(["check", "--model", "srcnn", "--checks", "params", "--json", str(out / "r.json"),
                       "--markdown", str(out / "r.md")])
        assert rc == 2 and "no space left on the device" in capsys.readouterr().err
        assert sorted(p.name for p in out.iterdir()) == ["filler"]


def test_warm_restores_into_the_same_directory_leave_no_stray_links(tmp_path):
    cache = ArtifactCache(tmp_path / "cache")
    fmts = [formats.get("onnx_torch")]
    out = tmp_path / "out"
    for _ in range(3):                  # cold, then two warm restores onto the hard links of the first
        (rec,) = export_network(NET, fmts, SMALL, 0, out, cache=cache)
        assert rec["outcome"] == "pass"
    assert _hidden(out) == []
    assert (out / rec["path"]).is_file()


def test_a_killed_runs_temporaries_are_removed_by_the_next_run_and_a_live_writers_kept(tmp_path):
    out = tmp_path / "out"
    fmt = formats.get("onnx_torch")
    final = out / NET.name / fmt.filename(f"{NET.name}_{SMALL[0]}x{SMALL[1]}")
    final.parent.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()                 # a pid that has ended
    killed = final.with_name(f".{final.stem}.{dead}.k1ll3d{final.suffix}")
    live = final.with_name(f".{final.stem}.{os.getppid()}.l1v3{final.suffix}")
    for p in (killed, live):
        p.write_bytes(b"half an artifact")
    (rec,) = export_network(NET, [fmt], SMALL, 0, out)
    assert rec["outcome"] == "pass"
    assert not killed.exists() and live.exists()
    # the same for the reports' writer
    report = tmp_path / "r.json"
    stale = tmp_path / f".r.json.{dead}.x.tmp"
    stale.write_text("{")
    files.atomic_write(report, "{}\n")
    assert not stale.exists() and report.read_text() == "{}\n"


def test_a_benchmark_report_on_a_full_disk_is_exit_2_and_leaves_nothing(tmp_path, capsys):
    from benchmark import cli as bench_cli
    with small_disk(tmp_path / "disk", "64k") as out:
        _fill(out / "filler")
        rc = bench_cli.main(["merge", str(_a_report(tmp_path)), "--out", str(out)])
        assert rc == 2 and "no space left on the device" in capsys.readouterr().err
        assert _hidden(out) == [] and sorted(p.name for p in out.iterdir()) == ["filler"]


def _a_report(tmp_path: Path) -> Path:
    from benchmark import cli as bench_cli
    out = tmp_path / "bench"
    assert bench_cli.main(["--quick", "--model", "srcnn", "--runtime", "torch_eager", "--no-witnesses", "--jobs", "0",
                           "--no-cache", "--out", str(out)]) == 0
    return out / "benchmark.json"
