"""Command-line values every CLI of twinzoo checks the same way, before any work (exit 2)."""

from __future__ import annotations

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
