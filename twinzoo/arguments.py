"""Command-line values every CLI of twinzoo checks the same way, before any work (exit 2)."""

from __future__ import annotations

import re
from pathlib import Path

from twinzoo.files import UnusableDir, writable_dir

SEED_LIMIT = 2 ** 32        # numpy, torch and TensorFlow all take seeds 0 <= seed < 2**32


class ArgumentError(ValueError):
    """A command-line value that selects nothing or is out of range; the message names the flag."""


def seed(value: int, flag: str = "--seed") -> int:
    if not 0 <= value < SEED_LIMIT:
        raise ArgumentError(f"{flag} {value}: must be an integer from 0 to {SEED_LIMIT - 1}")
    return value


def selection(flag: str, values: list[str] | str | None, known: list[str]) -> list[str] | None:
    """A repeatable, comma-separable ``--flag`` as a list (None when not given); an empty one
    (``--format ,``) is an ArgumentError naming the flag, not a run that does nothing."""
    if values is None:
        return None
    items = [x.strip() for v in ([values] if isinstance(values, str) else values) for x in v.split(",") if x.strip()]
    if not items:
        raise ArgumentError(f"{flag}: selects nothing; known: {', '.join(known)}")
    return items


def size(text: str | None, flag: str = "--size") -> tuple[int, int] | None:
    """``HxW`` (e.g. ``224x224``) as (H, W); None when not given."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m or int(m.group(1)) == 0 or int(m.group(2)) == 0:
        raise ArgumentError(f"{flag} {text!r}: expected HxW with positive integers, e.g. 224x224")
    return int(m.group(1)), int(m.group(2))


def out_dir(path: Path, flag: str = "--out") -> Path:
    """``path`` created if needed and proved writable by writing a file there, before any work."""
    try:
        return writable_dir(path, flag)
    except UnusableDir as exc:
        raise ArgumentError(str(exc)) from None
