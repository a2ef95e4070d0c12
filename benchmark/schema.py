"""Reading a ``benchmark.json`` back (``--resume``, ``merge``, ``plan --from``): the file is
validated against the shape this version writes (a JSON Schema of every field the readers and the
report's renderers use, each of the type they use it as) before anything reads it, so a damaged,
edited or foreign file is refused naming the file and the first field that does not fit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmark.report import SCHEMA
from twinzoo import status

MAX_BYTES = 512 * 2 ** 20


class ReportError(ValueError):
    """A file that is not a benchmark report this version can read; the message names it."""


_NUM = {"type": "number"}
_OPT_NUM = {"type": ["number", "null"]}
_STR = {"type": "string"}
_OPT_STR = {"type": ["string", "null"]}
_OPT_BYTES = {"type": ["integer", "null"], "minimum": 0}
_SIZE = {"type": "array", "items": {"type": ["integer", "null"], "minimum": 0}, "minItems": 2, "maxItems": 2}

_TIMING = {"type": "object", "properties": {
    "median_ms": _OPT_NUM, "p90_ms": _OPT_NUM, "mean_ms": _OPT_NUM, "runs": {"type": ["integer", "null"]},
    "verify_seconds": _OPT_NUM,
    "export_seconds": _OPT_NUM, "first_call_seconds": _OPT_NUM, "over_5pct": {"type": "boolean"},
    "export_peak_rss_bytes": _OPT_BYTES,
    "from_cache": {"type": ["object", "boolean", "null"], "properties": {"measured": _STR}}}}

# a runtime record: "ok" ones carry the timing the tables print; the others say why not
_STATUS = {"enum": list(status.RUNTIME)}
_RUNTIME = {"type": "object", "required": ["runtime", "status"], "properties": {
    "runtime": _STR, "label": _STR, "source": _STR, "precision": _STR, "status": _STATUS, "format": _OPT_STR,
    "faithful": {"type": ["boolean", "null"]}, "error": _STR, "stage": _OPT_STR, "reason": _STR,
    "tool_limit": {"type": "object", "required": ["what", "repro"], "properties": {"what": _STR, "repro": _STR}},
    "artifact": {"type": ["object", "null"], "required": ["bytes"],
                 "properties": {"bytes": {"type": "integer", "minimum": 0}}},
    "verification": {"type": ["object", "null"], "properties": {
        "status": _STR, "max_rel": _NUM, "snr_db": _NUM, "top1_agreement": _NUM, "error": _STR, "reason": _STR}},
    "timing": _TIMING},
    "if": {"properties": {"status": {"const": status.OK}}},
    "then": {"required": ["timing"], "properties": {"timing": {
        "required": ["median_ms", "p90_ms", "gmacs_per_s", "peak_fraction"],
        "properties": {"median_ms": _NUM, "p90_ms": _NUM, "gmacs_per_s": _NUM, "peak_fraction": _NUM}}}}}

_NETWORK = {"type": "object", "required": ["network", "size", "size_from", "runtimes"], "properties": {
    "network": _STR, "size": _SIZE, "size_from": _STR, "macs": {"type": "integer", "minimum": 0},
    "runtimes": {"type": "object", "additionalProperties": {"$ref": "#/$defs/runtime"}},
    "timing": {"type": "object", "properties": {
        "export_job_seconds": _OPT_NUM, "bench_seconds": _OPT_NUM, "export_job_peak_rss_bytes": _OPT_BYTES,
        "fastest": {"type": ["object", "null"], "required": ["runtime", "median_ms"],
                    "properties": {"runtime": _STR, "median_ms": _NUM}}}}}}

_WITNESS = {"type": "object", "required": ["network", "witness", "runtime"], "properties": {
    "network": _STR, "witness": _STR, "runtime": _STR, "status": _STR, "reason": _STR, "error": _STR,
    "size": _SIZE, "timing": _TIMING},
    "if": {"properties": {"status": {"const": status.OK}}, "required": ["status"]},
    "then": {"required": ["timing"], "properties": {"timing": {"required": ["over_5pct"]}}}}

_CONFORMANCE = {"type": ["object", "null"], "required": ["checks", "rows"], "properties": {
    "checks": {"type": "array", "items": _STR}, "note": _STR,
    "rows": {"type": "array", "items": {"type": "object", "required": ["model", "passed", "checks"], "properties": {
        "model": _STR, "passed": {"type": "boolean"}, "parity_max_rel": _OPT_NUM,
        "timing": {"type": ["object", "null"], "properties": {"seconds": _OPT_NUM}},
        "checks": {"type": "object", "additionalProperties": {"enum": list(status.CHECK)}}}}}}}

REPORT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schema", "mode", "seed", "command", "scope", "settings", "environment", "peak", "networks"],
    "properties": {
        "schema": {"const": SCHEMA}, "mode": {"enum": ["quick", "full"]}, "seed": {"type": "integer", "minimum": 0},
        "command": _STR, "scope": _STR,
        "settings": {"type": "object", "required": ["thread_settings", "timing_plan", "input"], "properties": {
            "thread_settings": {"type": "object", "required": ["threads"], "properties": {
                "threads": {"type": "integer", "minimum": 1}}},
            "input": _STR,
            "timing_plan": {"type": "object", "properties": {"warmup": {"type": "integer", "minimum": 0}}},
            "left_out": {"type": "object", "additionalProperties": _STR},
            "export_schedule": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["alone", "per_format"],
                "properties": {"alone": {"type": "boolean"}, "per_format": {"type": "boolean"}, "why": _STR}}},
            "route_budget": _STR,
            "request": {"type": "object", "required": ["sizes"], "properties": {
                "sizes": {"type": "object", "additionalProperties": _SIZE}}}}},
        "environment": {"type": "object", "required": ["cpu", "cores", "python", "platform", "versions"], "properties": {
            "cpu": _STR, "cores": {"type": ["integer", "null"]}, "python": _STR, "platform": _STR,
            "versions": {"type": "object", "additionalProperties": _OPT_STR}}},
        "peak": {"type": "object", "required": ["isa", "formula", "gmacs_per_s"], "properties": {
            "isa": _STR, "formula": _STR, "gmacs_per_s": {"type": "number", "exclusiveMinimum": 0}}},
        "networks": {"type": "array", "items": {"$ref": "#/$defs/network"}},
        "witnesses": {"type": "array", "items": _WITNESS},
        "conformance": _CONFORMANCE,
        "timing": {"type": ["object", "null"], "properties": {
            "wall_seconds": _OPT_NUM, "cache": {"type": ["object", "null"], "properties": {
                "dir": _OPT_STR, "resumed_networks": {"type": "array", "items": _STR}}}}},
    },
    "$defs": {"runtime": _RUNTIME, "network": _NETWORK},
}


# what ``benchmark.plan`` reads of a report: the measured seconds (any version's report has them)
_SECONDS = {"type": "object", "properties": {
    "export_seconds": _OPT_NUM, "verify_seconds": _OPT_NUM, "first_call_seconds": _OPT_NUM, "mean_ms": _OPT_NUM,
    "runs": {"type": ["integer", "null"]}, "from_cache": {"type": ["object", "boolean", "null"]}}}
COSTS = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "settings": {"type": ["object", "null"], "properties": {"timing_plan": {
            "type": ["object", "null"], "properties": {"warmup": {"type": "integer", "minimum": 0}}}}},
        "networks": {"type": "array", "items": {"type": "object", "required": ["network"], "properties": {
            "network": _STR,
            "timing": {"type": ["object", "null"], "properties": {"export_job_seconds": _OPT_NUM,
                                                                 "bench_seconds": _OPT_NUM,
                                                                 "export_job_peak_rss_bytes": _OPT_BYTES}},
            "runtimes": {"type": ["object", "null"], "additionalProperties": {"type": "object", "properties": {
                "format": _OPT_STR, "timing": {"anyOf": [_SECONDS, {"type": "null"}]}}}}}}},
        "conformance": {"type": ["object", "null"], "properties": {"rows": {"type": "array", "items": {
            "type": "object", "required": ["model"], "properties": {
                "model": _STR, "timing": {"type": ["object", "null"], "properties": {"seconds": _OPT_NUM}}}}}}},
    },
}


def validate(report: Any, where: str, schema: dict[str, Any] = REPORT) -> dict[str, Any]:
    """``report`` if it has the shape of ``schema`` (a whole report of this version, or the
    ``COSTS`` a plan reads), else a ReportError naming ``where`` and the first field that does not fit."""
    import jsonschema
    if schema is REPORT and isinstance(report, dict) and report.get("schema") != SCHEMA:
        raise ReportError(f"{where}: schema {report.get('schema')!r}, expected {SCHEMA!r} (written by another "
                          "version)")
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(report))
    if error is not None:
        raise ReportError(f"{where}: not a benchmark report of this version: at {error.json_path}: "
                          f"{error.message[:200]}")
    return report


def read(path: Path, schema: dict[str, Any] = REPORT) -> dict[str, Any]:
    """A benchmark report read from ``path`` and validated against ``schema`` (see ``validate``)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ReportError(f"{path}: over {MAX_BYTES:,} bytes: not a benchmark report")
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ReportError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ReportError(f"{path}: not a readable benchmark report (not JSON: {exc})") from None
    return validate(data, str(path), schema)


def artifacts_of(path: Path) -> list[dict[str, Any]]:
    """The export records of a manifest (``export.manifest``) beside a report being resumed: a
    missing or damaged manifest holds none (its routes are exported again), never an error."""
    try:
        manifest = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return []
    records = manifest.get("artifacts") if isinstance(manifest, dict) else None
    return [r for r in records if isinstance(r, dict) and isinstance(r.get("network"), str)
            and isinstance(r.get("format"), str)] if isinstance(records, list) else []
