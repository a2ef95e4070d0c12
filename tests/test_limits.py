"""The export tools' known limits: each one proven by a minimal repro under docs/limits/, named
on the records of the routes it applies to and in the report."""

from __future__ import annotations

import re
from pathlib import Path

from benchmark import report
from export import formats
from export.limits import LIMITS, limit_for
from export.pipeline import base_record
from twinzoo import catalogue

ROOT = Path(__file__).resolve().parent.parent          # the repository: the installed package has no docs


def test_every_limit_has_a_short_repro_of_known_routes_and_networks():
    for lim in LIMITS:
        doc = (ROOT / lim.repro).read_text()
        code = re.search(r"```python\n(.*?)```", doc, re.S)
        assert code and len(code.group(1).splitlines()) <= 35, lim.name            # a minimal repro
        assert "**Tool:**" in doc and "**What it would need.**" in doc and "Output" in doc, lim.name
        assert all(catalogue.get(n).name == n for n in lim.networks)
        assert all(formats.get(f).name == f for f in lim.formats)


def test_a_route_that_meets_a_limit_says_so_in_its_record_and_the_report():
    lstm, srcnn = catalogue.get("lstm_sentiment"), catalogue.get("srcnn")
    rec = base_record(lstm, formats.get("tflite_torch"), (64, 300), "test")
    assert rec["tool_limit"]["repro"] == "docs/limits/litert-torch-lstm.md"
    assert "tool_limit" not in base_record(srcnn, formats.get("tflite_torch"), (32, 32), "test")
    assert limit_for("lstm_sentiment", "tflite_fp32") is None           # the Keras route fuses it
    net = {"network": "lstm_sentiment", "runtimes": {"tflite_torch": {"runtime": "tflite_torch",
                                                                       "tool_limit": rec["tool_limit"]}}}
    title, _, rows = report.limits_table({"networks": [net]})
    assert rows == [["lstm_sentiment", "tflite_torch", rec["tool_limit"]["what"], rec["tool_limit"]["repro"]]]
    assert report.limits_table({"networks": [{"network": "srcnn", "runtimes": {}}]}) is None
