"""The manifest: one JSON per export run listing every artifact (path, bytes, sha256, source
network and framework, precision, converter and runtime versions, verification result, device
benchmark command) or the reason a route produced none. Rewritten atomically after each network,
so an interrupted run leaves a consistent manifest of what was done."""

from __future__ import annotations

import datetime as dt
import json
import math
import platform
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from export import formats, metrics, nnapi, onnx, torch_mobile
from export.common import tool_versions
from twinzoo.files import atomic_write
from export.pipeline import EXPORT_FAILED, FAIL, NOT_VERIFIABLE, PASS, SKIPPED

SCHEMA = "twinzoo-export/1"
MANIFEST_NAME = "manifest.json"


def _clean(obj: Any) -> Any:
    """JSON has no inf/nan: write them as strings."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def counts(records: list[dict[str, Any]]) -> dict[str, int]:
    out = {k: 0 for k in (PASS, FAIL, EXPORT_FAILED, NOT_VERIFIABLE, SKIPPED)}
    for r in records:
        out[r["outcome"]] = out.get(r["outcome"], 0) + 1
    return out


def weights_note(weights: Path | None) -> str:
    if weights is None:
        return ("random non-trivial seeded weights (conformance.lib.twins.prepare_twins), the same in both twins; "
                "verification inputs: ai-benchmark test images + seeded random inputs")
    return (f"ported weights from {weights} (python -m conformance port: each network's certificate there; "
            "every artifact record's 'weights' names the files and their sha256); classifiers' reduced-precision "
            f"artifacts are also judged on top-1 over {metrics.TOP1_IMAGES} package images")


def cache_note(records: list[dict[str, Any]], cache: Path | None) -> dict[str, Any]:
    """Where the artifact cache is and how many records came from it (each record's own
    ``cache`` says its key and, for a hit, when the entry was made)."""
    if cache is None:
        return {"dir": None, "note": "--no-cache: every artifact exported and verified in this run"}
    hits = sum(bool((r.get("cache") or {}).get("hit")) for r in records)
    return {"dir": str(cache), "hits": hits, "misses": len(records) - hits,
            "note": "a hit is an artifact and verdict reused from an earlier run with the same key (export.cache)"}


def build(records: list[dict[str, Any]], *, seed: int, size: tuple[int, int] | None,
          argv: list[str], started: str, finished: bool, weights: Path | None = None,
          cache: Path | None = None) -> dict[str, Any]:
    try:
        xnn = torch_mobile.xnnpack_enabled()
    except Exception:  # noqa: BLE001 — torch missing: nothing to say about it
        xnn = None
    return _clean({
        "schema": SCHEMA,
        "started": started,
        "written": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "complete": finished,
        "command": " ".join(["python -m export", *argv]),
        "seed": seed,
        "size": f"{size[0]}x{size[1]}" if size else "canonical (each network's catalogue input size)",
        "weights": weights_note(weights),
        "host": {"python": sys.version.split()[0], "platform": platform.platform(),
                 "machine": platform.machine()},
        "tool_versions": tool_versions(),
        "onnx_opset": onnx.OPSET,
        "torch_xnnpack": xnn,
        "thresholds": {"fp32": "each network's Tolerance: max|a-b| <= atol + rtol*max|ref|",
                       **{k: asdict(v) for k, v in metrics.THRESHOLDS.items()}},
        "nnapi": {"deprecation": nnapi.DEPRECATION, "delegate_table_source": nnapi.TABLE_SOURCE},
        "formats": {f.name: f.description for f in formats.FORMATS.values()},
        "summary": counts(records),
        "cache": cache_note(records, cache),
        "artifacts": records,
    })


def write(out_dir: Path, manifest: dict[str, Any]) -> Path:
    path = out_dir / MANIFEST_NAME
    atomic_write(path, json.dumps(manifest, indent=1) + "\n", mkdir=True)
    return path
