"""The quick main job killed twice at random moments (SIGKILL to its whole process group) and
resumed: its report equals an uninterrupted run's, timings aside, and nothing is left behind. The
long soak (20 kills and more) runs outside CI: ``python -m benchmark.soak --kills 20 --out DIR``."""

from __future__ import annotations

import pytest

from benchmark import soak


def test_comparable_leaves_out_what_two_runs_measure_differently_and_nothing_else():
    a = {"command": "x", "peak": {"ghz": 2.6}, "timing": {"wall_seconds": 3},
         "networks": [{"network": "srcnn", "timing": {"bench_seconds": 1}, "runtimes": {"t": {"faithful": True}}}]}
    b = {"command": "y --resume", "peak": {"ghz": 2.9}, "timing": {"wall_seconds": 9},
         "networks": [{"network": "srcnn", "timing": {"bench_seconds": 4}, "runtimes": {"t": {"faithful": True}}}]}
    assert soak.differences(soak.comparable(a), soak.comparable(b)) == []
    b["networks"][0]["runtimes"]["t"]["faithful"] = False
    assert soak.differences(soak.comparable(a), soak.comparable(b)) == [
        "/networks[0]/runtimes/t/faithful: true != false"]


@pytest.mark.soak
def test_two_kills_and_resumes_give_the_uninterrupted_report(tmp_path):
    result = soak.soak(tmp_path, ["--quick", "--model", "srcnn", "--runtime", "torch_eager", "onnx_torch",
                                  "--no-witnesses"], kills=2, seed=0, log=lambda _: None)
    assert result["kills"] == 2
    for r in result["rounds"]:
        assert r["equal"], r["differences"]
        assert r["left_behind"] == []
    assert result["passed"]
