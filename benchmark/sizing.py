"""Which export jobs may share this machine, derived from each network's measured export peak
(``BenchPlan.export_peak_gib``) and this machine's memory, not fixed for one machine.

The memory the jobs may use is the machine's total less the share the memory guard keeps free
(``twinzoo.workers.MemoryGuard``). With ``workers`` jobs at once, a job whose peak is over that
memory's ``1 / workers`` share could push the others out: it runs **alone**. A job whose peak is
over the whole of it cannot run as one process at all: each of its formats becomes a job of its
own (**per format**), so one route's memory kill does not take the routes after it. A network
with no measured peak is taken to fit in a share; the report's measured peaks
(``export_job_peak_rss_bytes``) are what a spec's figure is refreshed from.
"""

from __future__ import annotations

from dataclasses import dataclass

from twinzoo.memory import GIB, meminfo
from twinzoo.network import Network
from twinzoo.workers import MemoryGuard


@dataclass(frozen=True)
class ExportSchedule:
    network: str
    alone: bool              # no other export job beside its jobs
    per_format: bool         # one job per format
    why: str                 # the figures the two choices come from


def usable_bytes(total: int) -> float:
    """What the export jobs may hold of a machine with ``total`` bytes before the guard acts."""
    return total * (1 - MemoryGuard.min_available)


def schedule(net: Network, total: int | None, workers: int) -> ExportSchedule:
    """How ``net``'s exports run on a machine of ``total`` bytes (None: unknown, nothing
    constrained) with ``workers`` jobs at once."""
    plan = net.bench
    peak = plan.export_peak_gib if plan is not None else None
    if peak is None or total is None:
        why = "no measured export peak" if peak is None else "this machine's memory is unknown"
        return ExportSchedule(net.name, False, False, why)
    usable = usable_bytes(total) / GIB
    share = usable / max(workers, 1)
    per_format = peak > usable
    alone = workers > 1 and peak > share
    why = (f"export peak {peak:.1f} GiB ({plan.export_peak_from}) against {usable:.1f} GiB usable here"
           + (f", {share:.1f} GiB a share of {workers} jobs" if workers > 1 else ""))
    return ExportSchedule(net.name, alone, per_format, why)


def schedules(nets: list[Network], workers: int, total: int | None = None) -> dict[str, ExportSchedule]:
    """``schedule`` for each network on this machine (or one of ``total`` bytes)."""
    if total is None:
        mem = meminfo()
        total = mem[0] if mem else None
    return {n.name: schedule(n, total, workers) for n in nets}
