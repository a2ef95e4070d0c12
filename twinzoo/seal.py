"""A JSON record that carries the sha256 of its own content, so an edit after it was written is
seen. Not a signature: whoever recomputes the seal after editing is not stopped by it; what it
catches is a record changed by hand, by a tool or on the disk without its writer."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def _default(v: Any) -> Any:
    if hasattr(v, "tolist"):
        return v.tolist()
    if hasattr(v, "item"):
        return v.item()
    return str(v)


def plain(obj: Any) -> Any:
    """``obj`` as the JSON values it reads back as (numpy scalars and arrays made plain)."""
    return json.loads(json.dumps(obj, default=_default))


def digest(record: dict[str, Any], field: str) -> str:
    body = {k: v for k, v in record.items() if k != field}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def seal(record: dict[str, Any], field: str) -> dict[str, Any]:
    """``record`` made plain JSON, with ``field`` holding the digest of the rest."""
    body = {k: v for k, v in plain(record).items() if k != field}
    return {**body, field: digest(body, field)}


def intact(record: Any, field: str) -> bool:
    """Whether ``record`` (anything parsed from JSON) is an object whose seal matches its content."""
    return isinstance(record, dict) and isinstance(record.get(field), str) and record[field] == digest(record, field)
