"""How much memory a piece of work took: the peak resident set of this process over a span of
code, and of the isolated child processes it ran in that span (Linux ``/proc``; elsewhere the
figures are None, and nothing that reads them may depend on them being there).

This process's peak is ``VmHWM``, which the kernel lets a process reset (``clear_refs`` 5), so
each span measures its own peak, not the largest of every span before it. A child's peak is its
own ``VmHWM``, which the child reads just before it returns (``twinzoo.workers.run_isolated``)
and hands to ``note_child_peak`` here.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

GIB = 2 ** 30


def meminfo() -> tuple[int, int] | None:
    """The machine's (total, available) memory in bytes (Linux ``/proc/meminfo``; None elsewhere)."""
    try:
        with open("/proc/meminfo") as f:
            fields = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f}
        return fields["MemTotal"], fields["MemAvailable"]
    except (OSError, ValueError, IndexError, KeyError):
        return None


def peak_rss_bytes() -> int | None:
    """This process's peak resident set since it started or since the last ``reset_peak``."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def reset_peak() -> bool:
    """Reset this process's peak to its resident set now; False where the kernel does not allow it
    (then a span's peak is the process's peak so far, an upper bound)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# peaks seen in this process that the spans open now must count: each isolated child's, and this
# process's own before an inner span resets it (so a span holding inner spans sees their peaks)
_seen: list[int] = []
_open = 0                                       # spans open now


def note_child_peak(nbytes: int | None) -> None:
    """Record the peak of an isolated child process this one ran (it ends with the child)."""
    if nbytes and _open:
        _seen.append(nbytes)


@dataclass
class Span:
    """The peak resident set of one span (``measure``), in bytes."""
    peak: int | None = None


@contextlib.contextmanager
def measure() -> Iterator[Span]:
    """``with measure() as span:``: afterwards ``span.peak`` is the block's peak resident set,
    the largest of this process's and of the isolated children it ran (a child runs while its
    parent waits, so the two are not added up)."""
    note_child_peak(peak_rss_bytes())           # an enclosing span's peak so far, before the reset
    global _open
    first = len(_seen)
    reset_peak()
    span = Span()
    _open += 1
    try:
        yield span
    finally:
        _open -= 1
        known = [b for b in (peak_rss_bytes(), *_seen[first:]) if b]
        span.peak = max(known) if known else None
        del _seen[first:]
        note_child_peak(span.peak)              # for the enclosing span
