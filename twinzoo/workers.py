"""Worker processes for the heavy jobs: ``conformance check --jobs``, ``conformance selftest
--jobs`` and the main job's exports share this one runner and this one initialiser.

Why not ``concurrent.futures.ProcessPoolExecutor``: when one of its workers dies (e.g. a self-test
worker OOM-killed at 10 GB RSS) the whole pool is broken and every pending future fails, so a
30-minute run loses all its results. Here a dead worker fails only the job it held
(``failed(job, why)`` makes its result), a new worker takes the rest, and a worker whose memory
has grown past ``retire_bytes`` after a job is replaced by a fresh one before it can be killed.
Workers are spawned, not forked (TensorFlow and torch hold threads and locks a fork would copy).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import time
from dataclasses import dataclass
from typing import Any, Callable

from twinzoo.memory import meminfo, note_child_peak, peak_rss_bytes

Job = tuple[Callable[..., Any], tuple]


def configure_threads(threads: int) -> None:
    """Both frameworks' global thread pools (intra-op ``threads``, inter-op 1); must run before
    TensorFlow executes anything. Already-initialised pools (a second call in one process) keep
    what they have: callers that report threads read them back."""
    from twinzoo.environment import before_tensorflow
    before_tensorflow()
    import tensorflow as tf
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:        # already set once in this process
        pass
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:        # TF already initialised
        pass


def init_worker(threads: int) -> None:
    """Every worker's start: libgomp's threads sleep when idle (they would spin on the other
    worker's core otherwise), the frameworks loaded in the safe order, ``threads`` threads each."""
    from twinzoo.environment import prepare
    prepare(omp_passive=True)
    configure_threads(threads)


def rss_bytes(pid: int | None = None) -> int | None:
    """The resident set of process ``pid`` (default: this one) now (Linux ``/proc``; None elsewhere)."""
    try:
        with open(f"/proc/{pid or 'self'}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


# Words every memory-guard kill's message carries (``export.pipeline.cacheable`` looks for them).
MEMORY_GUARD = "memory guard"
# Words every kill for running past a time budget carries (``run_jobs``'s ``overdue``).
TIME_BUDGET = "time budget"


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (Linux ``/proc/<pid>/task/*/children``; [] elsewhere)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{parent}/task/{tid}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except (OSError, ValueError):
                continue
            found += kids
            todo += kids
    return found


def kill_tree(proc: Any) -> None:
    """SIGKILL a worker and every process under it (a route's isolated child, a converter's own
    subprocess): killing the worker alone would leave them running on, orphaned. All of them are
    stopped first: a worker that outlived its child by a moment would see the child end and send
    a result it did not earn, and a child could start another process between a look and a kill."""
    import signal

    def send(pids: list[int], sig: int) -> None:
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:                       # gone already
                pass
    frozen = [proc.pid]
    send(frozen, signal.SIGSTOP)
    while new := [pid for pid in descendants(proc.pid) if pid not in frozen]:
        send(new, signal.SIGSTOP)
        frozen += new
    send(frozen[1:], signal.SIGKILL)
    proc.kill()


@dataclass(frozen=True)
class MemoryGuard:
    """Kills a job's process that has taken the machine's memory, before the machine thrashes.

    Why: near the end of memory Linux does not always OOM-kill at once; it reclaims page cache
    (the libraries' code pages among them) and the machine thrashes. Measured: GNMT's ExecuTorch
    lowering held 19.8 of 23.5 GB with 0.37 GB available for over 20 minutes, kswapd at 72% of a
    core, memory pressure "full" 63%, not killed. The guard checks every ``poll_seconds``:
    when the machine's available memory is below ``min_available`` of its total, the busy process
    with the largest resident set is killed if that set is at least ``min_share`` of the total (so
    only a process that is itself the cause is killed, never a small worker that waits on a big
    child: the child's own runner, which watches it, kills it). Linux only (``/proc``). Every
    0.25 s at 5%: at once a second and 4% (0.94 GB of 23.5), tf2onnx converting GNMT went from there
    to the OOM killer between two looks (at 23.8 GB), and that kill, the kernel's, is not cached.
    One look reads ``/proc/meminfo``: 32 µs measured, four times a second."""
    min_available: float = 0.05
    min_share: float = 0.5
    poll_seconds: float = 0.25
    meminfo: Callable[[], tuple[int, int] | None] = meminfo
    rss_of: Callable[[int], int | None] = rss_bytes

    def victim(self, pids: list[int]) -> tuple[int, str] | None:
        """The pid to kill among ``pids`` and why, or None when memory is not short."""
        mem = self.meminfo()
        if mem is None or not pids:
            return None
        total, available = mem
        if available >= self.min_available * total:
            return None
        sizes = [(self.rss_of(pid) or 0, pid) for pid in pids]
        rss, pid = max(sizes)
        if rss < self.min_share * total:
            return None
        gb = 2 ** 30
        return pid, (f"killed by the {MEMORY_GUARD}: its resident set reached {rss / gb:.1f} GB of the machine's "
                     f"{total / gb:.1f} GB with {available / gb:.2f} GB left (it would have thrashed or been "
                     f"OOM-killed)")


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _serve(conn: Any, threads: int, reuse: bool, retire_bytes: int | None) -> None:
    """A worker: run the jobs it is sent until told to stop (``None``), or after one job when not
    ``reuse``, or when its memory has grown past ``retire_bytes``."""
    init_worker(threads)
    while True:
        job = conn.recv()
        if job is None:
            return
        fn, args = job
        try:
            outcome: tuple[str, Any] = ("result", fn(*args))
        except BaseException as exc:  # noqa: BLE001 — sent back as the job's failure
            outcome = ("error", _error(exc))
        rss = rss_bytes()
        retire = not reuse or (retire_bytes is not None and rss is not None and rss > retire_bytes)
        conn.send((*outcome, retire))
        if retire:
            conn.close()
            return


def may_start(job: Job, running: list[Job], workers: int, alone: Callable[[Job], bool] | None) -> bool:
    """Whether ``job`` may start beside the ``running`` ones: a free worker, and neither it nor
    a running job must run alone."""
    if len(running) >= workers:
        return False
    if not running or alone is None:
        return True
    return not alone(job) and not any(alone(j) for j in running)


def death_reason(exitcode: int | None) -> str:
    import signal
    why = ""
    if exitcode == -9:
        why = ": killed, e.g. by the OOM killer"
    elif exitcode is not None and -exitcode in signal.valid_signals():
        why = f": {signal.Signals(-exitcode).name}" + (", a native crash" if exitcode == -11 else "")
    return f"worker process died (exit code {exitcode}{why})"


def run_jobs(jobs: list[Job], workers: int, on_result: Callable[[int, Any], None],
             failed: Callable[[Job, str], Any], threads: int = 1, alone: Callable[[Job], bool] | None = None,
             reuse: bool = False, retire_bytes: int | None = None,
             guard: MemoryGuard | None = MemoryGuard(),
             overdue: Callable[[Job, float], str | None] | None = None, poll_seconds: float = 1.0) -> None:
    """Run ``jobs`` in at most ``workers`` spawned processes, calling ``on_result(index, result)``
    as each finishes (in completion order). A job that raises, or whose process dies (crash, OOM
    kill), gets ``failed(job, why)`` as its result; the other jobs go on. ``threads``: each
    process's framework threads. ``reuse``: a process runs job after job (the frameworks' import
    paid once), retired once its RSS exceeds ``retire_bytes``; otherwise one fresh process per job
    (every converter's memory back to the system after each). ``workers`` 0: in this process.
    ``alone(job)``: the job runs with no other job beside it. ``guard``: kills a process that has
    taken the machine's memory (``MemoryGuard``; its job fails with the guard's message).
    ``overdue(job, seconds)``: asked every ``poll_seconds`` of a job that has run ``seconds``;
    a reason it returns kills the job's process (and everything under it) and fails the job with
    that reason. A killed process's children are killed with it (``kill_tree``)."""
    if workers <= 0:
        for i, job in enumerate(jobs):
            fn, args = job
            try:
                result = fn(*args)
            except Exception as exc:  # noqa: BLE001 — the job's failure, as in a worker
                result = failed(job, _error(exc))
            on_result(i, result)
        return
    ctx = multiprocessing.get_context("spawn")
    pending = list(enumerate(jobs))
    idle: list[tuple[Any, Any]] = []                            # (process, connection)
    busy: dict[Any, tuple[Any, Any, int, Job, float]] = {}      # sentinel -> (process, conn, index, job, start)
    guarded: dict[Any, str] = {}                                # sentinel -> why the guard or a budget killed it
    watched = guard is not None or overdue is not None
    poll = min(guard.poll_seconds if guard else poll_seconds, poll_seconds if overdue else float("inf"))
    last_check = time.monotonic()

    def start_worker() -> tuple[Any, Any]:
        parent, child = ctx.Pipe(duplex=True)
        # not daemonic: a job may start a process of its own (run_isolated: the full-int8 and
        # ExecuTorch routes), which a daemonic process may not; the finally below stops every worker
        proc = ctx.Process(target=_serve, args=(child, threads, reuse, retire_bytes), daemon=False)
        proc.start()
        child.close()
        return proc, parent

    try:
        while pending or busy:
            while pending and may_start(pending[0][1], [b[3] for b in busy.values()], workers, alone):
                index, job = pending.pop(0)
                proc, conn = idle.pop() if idle else start_worker()
                try:
                    conn.send(job)
                except OSError:                               # an idle worker that died: a fresh one
                    proc.join()
                    proc, conn = start_worker()
                    conn.send(job)
                busy[proc.sentinel] = (proc, conn, index, job, time.monotonic())
            ready = multiprocessing.connection.wait([*busy, *(b[1] for b in busy.values())],
                                                    timeout=poll if watched else None)
            if watched and time.monotonic() - last_check >= poll:
                last_check = time.monotonic()
                kills: list[tuple[Any, str]] = []
                found = guard.victim([proc.pid for proc, *_ in busy.values()]) if guard else None
                if found is not None:
                    kills.append((next(k for k, (proc, *_) in busy.items() if proc.pid == found[0]), found[1]))
                for key, (_, _, _, job, t0) in busy.items() if overdue else ():
                    why = overdue(job, time.monotonic() - t0) if key not in guarded else None
                    if why:
                        kills.append((key, why))
                for key, why in kills:
                    if key not in guarded:
                        guarded[key] = why
                        kill_tree(busy[key][0])
            if not ready:
                continue
            for key in list(busy):
                proc, conn, index, job, _ = busy[key]
                if conn not in ready and key not in ready:
                    continue
                message = None
                try:
                    if conn.poll():
                        message = conn.recv()
                except (EOFError, OSError):
                    message = None
                if message is None and proc.is_alive():
                    continue                                   # woke for another process
                del busy[key]
                if message is None:                            # died mid-job
                    proc.join()
                    conn.close()
                    on_result(index, failed(job, guarded.pop(key, None) or death_reason(proc.exitcode)))
                    continue
                kind, payload, retire = message
                guarded.pop(key, None)                         # finished before its kill took effect
                if retire:
                    proc.join()
                    conn.close()
                else:
                    idle.append((proc, conn))
                on_result(index, payload if kind == "result" else failed(job, payload))
    finally:
        for proc, conn in idle:
            try:
                conn.send(None)
                conn.close()
            except (OSError, BrokenPipeError):
                pass
            proc.join(timeout=30)
        for proc, *_ in busy.values():                    # interrupted: nothing waits for these
            kill_tree(proc)
            proc.join()


class IsolatedJobFailed(RuntimeError):
    """A job run by ``run_isolated`` raised or its process died; the message says which."""


def _with_peak(fn: Callable[..., Any], *args: Any) -> tuple[Any, int | None]:
    """``fn(*args)`` and this process's peak resident set after it (``run_isolated``'s child)."""
    result = fn(*args)
    return result, peak_rss_bytes()


def run_isolated(fn: Callable[..., Any], *args: Any, threads: int = 1) -> Any:
    """``fn(*args)`` in one fresh spawned process (``run_jobs`` with one worker): a native crash
    (a converter's segfault) kills that process, not the caller, and comes back as
    ``IsolatedJobFailed`` naming the exit code; an exception in ``fn`` as its message. The
    child's peak resident set goes to ``twinzoo.memory`` (the caller's span counts it)."""
    out: dict[str, Any] = {}

    def failed(job: Job, why: str) -> IsolatedJobFailed:
        return IsolatedJobFailed(why.replace("worker process died", "isolated process died"))

    run_jobs([(_with_peak, (fn, *args))], 1, lambda i, result: out.setdefault("result", result), failed,
             threads=threads)
    if isinstance(out.get("result"), IsolatedJobFailed):
        raise out["result"]
    result, peak = out["result"]
    note_child_peak(peak)
    return result
