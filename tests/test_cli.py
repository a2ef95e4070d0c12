"""The ``python -m conformance`` command line."""

import json
import os
import subprocess
import sys

import pytest

from conformance.cli import main


def test_unknown_model_exits_2_and_lists_known(capsys):
    assert main(["check", "--model", "resnet50"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'resnet50'" in err and "mobilenet_v2" in err


def test_json_and_markdown_reports(tmp_path):
    out, md = tmp_path / "r.json", tmp_path / "sub" / "r.md"
    assert main(["check", "--model", "srcnn", "mobilenet_v1_table3_rho_0.714",
                 "--json", str(out), "--markdown", str(md)]) == 0
    report = json.loads(out.read_text())
    assert report["networks"] == 2 and report["passed_networks"] == 2
    rec = report["results"][0]
    assert rec["model"] == "srcnn"
    for key in ("params", "macs", "parity", "checks"):
        assert key in rec
    assert {"torch", "keras", "published"} <= rec["params"].keys()
    assert all("source" in p for p in rec["params"]["published"] + rec["macs"]["published"])
    assert {"max_abs", "max_rel", "inputs"} <= rec["parity"].keys()
    assert rec["checks"] == {"params": "pass", "macs": "pass", "parity": "pass", "fold": "skip", "reference": "pass",
                             "witness": "skip"}
    assert rec["reference"]["graph"] == "ai_benchmark/models/srcnn.meta"
    assert report["results"][1]["checks"]["reference"] == "skip"      # Table 3 row: no graph
    assert "| srcnn |" in md.read_text()
    assert not [p for p in tmp_path.rglob(".*.tmp")]          # no temporary left behind


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output_is_refused_before_work(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    assert main(["check", "--model", "srcnn", "--json", str(ro / "r.json")]) == 2
    assert "not writable" in capsys.readouterr().err


def test_output_path_that_is_a_directory_is_refused(tmp_path, capsys):
    assert main(["check", "--model", "srcnn", "--json", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_failing_check_exits_1(tmp_path, monkeypatch):
    from conformance.checks import counts
    real = counts.check_macs

    def off(net, keras_model=None):
        res = real(net, keras_model)
        res.status = "fail"
        return res
    monkeypatch.setattr(counts, "check_macs", off)
    out = tmp_path / "r.json"
    assert main(["check", "--model", "mobilenet_v1_table3_conv", "--checks", "macs", "--json", str(out)]) == 1
    assert json.loads(out.read_text())["results"][0]["checks"] == {"macs": "fail"}


def test_module_entry_point_lists_models():
    res = subprocess.run([sys.executable, "-m", "conformance", "list"], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "200"}, timeout=120)
    assert res.returncode == 0
    assert "mobilenet_v1_0.75_160" in res.stdout


def test_output_under_a_file_is_refused(tmp_path, capsys):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("x")
    assert main(["check", "--model", "srcnn", "--json", str(blocker / "r.json")]) == 2
    assert "cannot create the directory" in capsys.readouterr().err


def test_check_jobs_share_networks_and_keep_the_order_asked(tmp_path):
    out = tmp_path / "r.json"
    # given out of catalogue order: the report lists them in the order asked, whoever finished first
    assert main(["check", "--model", "vdsr_y", "srcnn", "dped_discriminator", "--checks", "params,macs",
                 "--jobs", "2", "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert [r["model"] for r in rep["results"]] == ["vdsr_y", "srcnn", "dped_discriminator"]
    assert all(r["checks"] == {"params": "pass", "macs": "pass"} for r in rep["results"])
    assert set(rep["timings"]["per_network_seconds"]) == {"vdsr_y", "srcnn", "dped_discriminator"}


def test_check_jobs_must_be_positive(capsys):
    assert main(["check", "--model", "srcnn", "--jobs", "0"]) == 2
    assert "--jobs" in capsys.readouterr().err
