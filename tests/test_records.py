"""The typed records (``export.records``, ``benchmark.records``) against what the tools write,
and the checker that holds them to it (``typed_check``)."""

from __future__ import annotations

import copy
import json
from typed_check import problems

from benchmark.records import Report
from export.records import ExportRecord
from twinzoo import status

RECORD = {"network": "srcnn", "task": "enhancement", "format": "onnx_torch", "description": "d",
          "source_framework": "torch", "precision": "fp32",
          "input": {"shape": [1, 3, 8, 8], "layout": "NCHW", "dtype": "float32", "range": [0.0, 1.0], "size_from": "--size"},
          "converter": {"name": "torch.onnx.export", "versions": {"torch": "2.9", "onnx": None}},
          "runtime": {"name": "onnxruntime", "version": "1.2"}, "outcome": "pass", "path": "srcnn/a.onnx", "bytes": 10,
          "verification": {"status": "pass", "passed": True, "max_abs": 1e-7, "snr_db": 120.0},
          "peak_rss_bytes": 123456, "export_seconds": 1}


def test_the_checker_passes_a_conforming_record_and_names_each_kind_of_deviation():
    assert problems(RECORD, ExportRecord) == []
    planted = {
        "an undeclared key": (lambda r: r.update(artefact="x"), "$.artefact: not declared in ExportRecord"),
        "a missing required key": (lambda r: r.pop("outcome"), "$.outcome: required by ExportRecord, missing"),
        "a word outside the vocabulary": (lambda r: r.update(outcome="passed"), "$.outcome: 'passed' is not one of"),
        "a nested wrong type": (lambda r: r["verification"].update(snr_db="high"), "$.verification.snr_db: 'high'"),
        "a bool where a number is due": (lambda r: r.update(bytes=True), "$.bytes: True is not int"),
        "a list item's type": (lambda r: r["input"]["shape"].append("8"), "$.input.shape[4]: '8' is not int"),
    }
    for what, (plant, needle) in planted.items():
        rec = copy.deepcopy(RECORD)
        plant(rec)
        found = problems(rec, ExportRecord)
        assert len(found) == 1 and found[0].startswith(needle), (what, found)


def test_the_record_types_speak_the_one_status_vocabulary():
    assert set(status.ARTIFACT) == {status.PASS, status.FAIL, status.EXPORT_FAILED, status.NOT_VERIFIABLE,
                                    status.SKIPPED}
    assert set(status.RUNTIME) == {status.OK, status.ERROR, status.SKIPPED}
    assert set(status.CHECK) == {status.PASS, status.FAIL, status.ERROR, status.SKIP}
    assert set(status.VERIFICATION) == {status.PASS, status.FAIL, status.ERROR, status.NOT_RUN}
    for words in (status.ARTIFACT, status.RUNTIME, status.CHECK, status.VERIFICATION):
        assert set(words) <= status.WORDS


def test_a_report_and_its_manifest_conform(tmp_path):
    """What the main job writes: its report (the twins, an exported runtime, a conformance row)
    and the export manifest beside the artifacts."""
    from benchmark import cli
    out = tmp_path / "run"
    cli.main(["--model", "srcnn", "--runtime", "torch_eager", "keras_tf", "onnx_torch", "--size", "16x16", "--quick",
              "--threads", "1", "--no-witnesses", "--conformance", "params", "--no-cache", "--out", str(out)])
    report = json.loads((out / "benchmark.json").read_text())
    assert problems(report, Report) == []
    manifest = json.loads((out / "artifacts" / "manifest.json").read_text())
    assert manifest["artifacts"] and all(problems(a, ExportRecord) == [] for a in manifest["artifacts"])
