"""The shard plan (``python -m benchmark plan``): balanced shards from measured costs, MAC
estimates where a network was not measured, commands that cover every network once."""

from __future__ import annotations

import shlex

import pytest

from benchmark import plan


def test_lpt_balances_and_covers_every_job_once():
    costs = {"a": 10.0, "b": 9.0, "c": 6.0, "d": 5.0, "e": 4.0, "f": 2.0}
    shards = plan.balance(costs, 3)
    assert sorted(n for s in shards for n in s) == sorted(costs)
    loads = [sum(costs[n] for n in s) for s in shards]
    assert shards == [["a", "f"], ["b", "e"], ["c", "d"]] and loads == [12.0, 13.0, 11.0]
    assert max(loads) <= 4 / 3 * max(sum(costs.values()) / 3, max(costs.values()))    # LPT's bound
    # one shard: everything; as many shards as jobs: one each
    assert plan.balance(costs, 1) == [sorted(costs, key=lambda n: -costs[n])]
    assert sorted(len(s) for s in plan.balance(costs, 6)) == [1] * 6


def _report(bench: dict[str, tuple[float, float]], conf: dict[str, float]) -> dict:
    return {"networks": [{"network": n, "timing": {"export_job_seconds": e, "bench_seconds": b}}
                         for n, (e, b) in bench.items()],
            "conformance": {"rows": [{"model": n, "timing": {"seconds": s}} for n, s in conf.items()]}}


def test_plan_uses_measured_costs_and_says_where_they_came_from():
    report = _report({"srcnn": (100.0, 20.0), "vdsr": (10.0, 5.0), "dped": (50.0, 10.0)}, {"vdsr_y": 30.0})
    shards, source = plan.make_plan(["srcnn", "vdsr", "dped"], ["vdsr_y"], 2, report, quick=False)
    assert source == {"srcnn": "measured", "vdsr": "measured", "dped": "measured", "vdsr_y": "measured"}
    assert [s.bench for s in shards] == [["srcnn"], ["vdsr", "dped"]]
    assert shards[1].conformance == ["vdsr_y"] and shards[1].cost == pytest.approx(105.0)
    assert plan.imbalance(shards) == pytest.approx(120.0 / 112.5)


def test_a_warm_report_plans_with_the_costs_its_cached_records_carry():
    """A network whose timings came from the cache (a warm run: no export job, a few seconds of
    timing phase) is costed from its records: each route's export and verification seconds, each
    timing's warm-up and runs at their mean, a compile's first call; not from the warm seconds."""
    def rt(fmt, export, verify, mean_ms, runs, cached=True, first=None):
        t = {"export_seconds": export, "verify_seconds": verify, "mean_ms": mean_ms, "runs": runs,
             "first_call_seconds": first}
        if cached:
            t["from_cache"] = {"measured": "2026-12-04T20:00:00+00:00"}
        return {"format": fmt, "timing": t}
    warm = {"network": "srcnn", "timing": {"bench_seconds": 0.5},
            "runtimes": {"tflite_fp32": rt("tflite_fp32", 40.0, 8.0, 100.0, 20),
                         "torch_compile": rt(None, None, None, 50.0, 10, first=30.0)}}
    report = {"settings": {"timing_plan": {"warmup": 2}}, "networks": [warm]}
    bench, _ = plan.measured_costs(report)
    assert bench["srcnn"] == (pytest.approx(40 + 8 + 22 * 0.1 + 30 + 12 * 0.05), "records")
    cold = {**warm, "runtimes": {"tflite_fp32": rt("tflite_fp32", 40.0, 8.0, 100.0, 20, cached=False)},
            "timing": {"export_job_seconds": 60.0, "bench_seconds": 5.0}}
    assert plan.measured_costs({**report, "networks": [cold]})[0]["srcnn"] == (65.0, "measured")
    _, source = plan.make_plan(["srcnn", "vdsr"], [], 2, report, quick=False)
    assert source == {"srcnn": "records", "vdsr": "MACs"}


def test_plan_estimates_unmeasured_networks_from_macs():
    shards, source = plan.make_plan(["mobilenet_v1", "vgg_16"], [], 2, None, quick=False)
    assert source == {"mobilenet_v1": "MACs", "vgg_16": "MACs"}
    by_net = {s.bench[0]: s.cost for s in shards}
    # 15.5 GMAC against 0.57 at their benchmark sizes (224), plus the fixed cost of a network each
    assert by_net["vgg_16"] - plan.FIXED_SECONDS == pytest.approx(27 * (by_net["mobilenet_v1"] - plan.FIXED_SECONDS), rel=0.05)


def test_commands_name_every_network_and_output():
    shards, _ = plan.make_plan(["srcnn", "vdsr"], ["vdsr_y"], 2,
                               _report({"srcnn": (1.0, 1.0), "vdsr": (1.0, 0.5)}, {"vdsr_y": 1.0}), quick=False)
    cmds = plan.commands(shards, ["--seed", "3"], "out/shard")
    argvs = [shlex.split(c) for c in cmds]
    assert argvs[0][:3] == ["python", "-m", "benchmark"]
    assert [a[a.index("--out") + 1] for a in argvs] == ["out/shard1", "out/shard2"]
    named = [n for a in argvs for n in a[a.index("--model") + 1:] if not n.startswith("--")]
    assert "srcnn" in named and "vdsr" in named and all("--seed" in a for a in argvs)


def test_more_shards_than_networks_is_refused():
    with pytest.raises(ValueError, match="must be 1 to 2"):
        plan.make_plan(["srcnn", "vdsr"], [], 3, None, quick=False)


def test_plan_cli_prints_shards_that_cover_the_job(tmp_path, capsys):
    """From a (fake) last report: every benchmarked network timed by exactly one shard, every
    other catalogue network given its conformance rows by exactly one, options passed on."""
    import json

    from benchmark import cli
    from benchmark.suite import BENCH_NETWORKS
    from twinzoo import catalogue
    rep = tmp_path / "benchmark.json"
    rep.write_text(json.dumps(_report({n: (10.0 * (i + 1), 5.0) for i, n in enumerate(BENCH_NETWORKS)}, {})))
    assert cli.main(["plan", "--shards", "4", "--from", str(rep), "--json", "--seed", "2", "--out-prefix", "s"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert len(got["shards"]) == 4 and 1.0 <= got["imbalance"] < 1.2
    timed = [n for s in got["shards"] for n in s["networks"]]
    rows = [n for s in got["shards"] for n in s["conformance_only"]]
    assert sorted(timed) == sorted(BENCH_NETWORKS)
    assert sorted(timed + rows) == sorted(catalogue.names())
    for i, s in enumerate(got["shards"], 1):
        argv = shlex.split(s["command"])
        assert argv[argv.index("--seed") + 1] == "2" and argv[-2:] == ["--out", f"s{i}"]
    assert cli.main(["plan", "--shards", "40", "--from", str(rep)]) == 2        # more shards than networks
    assert cli.main(["plan", "--shards", "2", "--model", "mobilenet_v9"]) == 2
