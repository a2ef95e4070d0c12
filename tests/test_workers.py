"""The worker runner shared by ``check --jobs``, ``selftest --jobs`` and the main job: a worker
that dies or a job that raises fails that job alone; the rest finish."""

from __future__ import annotations

import os
import signal

from twinzoo import workers


def pid_job(tag: str) -> tuple[str, int]:
    return tag, os.getpid()


def die_job() -> None:
    os.kill(os.getpid(), signal.SIGKILL)          # as the OOM killer does


def raise_job() -> None:
    raise ValueError("bad weights")


def _run(jobs, n_workers=2, **kw):
    got: dict[int, object] = {}
    workers.run_jobs(jobs, n_workers, got.__setitem__, lambda job, why: ("failed", job[0].__name__, why), **kw)
    return got


def test_a_killed_worker_and_a_raising_job_fail_alone_and_the_rest_finish():
    jobs = [(pid_job, ("a",)), (die_job, ()), (pid_job, ("b",)), (raise_job, ()), (pid_job, ("c",))]
    got = _run(jobs, reuse=True)
    assert sorted(got) == [0, 1, 2, 3, 4]
    assert got[1][:2] == ("failed", "die_job") and "exit code -9" in got[1][2] and "OOM" in got[1][2]
    assert got[3] == ("failed", "raise_job", "ValueError: bad weights")
    assert [got[i][0] for i in (0, 2, 4)] == ["a", "b", "c"]
    assert all(got[i][1] != os.getpid() for i in (0, 2, 4))      # run in workers, not here


def test_a_reused_worker_keeps_its_process_and_a_grown_one_is_retired():
    jobs = [(pid_job, ("a",)), (pid_job, ("b",))]
    kept = _run(jobs, n_workers=1, reuse=True)
    assert kept[0][1] == kept[1][1]
    retired = _run(jobs, n_workers=1, reuse=True, retire_bytes=1)     # every worker is "too big"
    assert retired[0][1] != retired[1][1]


def sleep_job(seconds: float) -> str:
    import time
    time.sleep(seconds)
    return "slept"


def test_the_memory_guard_kills_the_process_that_took_the_memory_and_names_why():
    """Memory short (a faked /proc/meminfo: 20 of 1000 bytes left) and the sleeper's resident set
    faked above half the machine: it is killed and its job fails with the guard's words; the
    small job beside it finishes (the guard kills nobody while no process is that large)."""
    first: list[int] = []

    def rss_of(pid):                              # the first process the guard looks at is "big"
        first.append(pid) if not first else None
        return 900 if pid == first[0] else 10

    guard = workers.MemoryGuard(poll_seconds=0.05, meminfo=lambda: (1000, 20), rss_of=rss_of)
    got = _run([(sleep_job, (60,)), (sleep_job, (0.5,))], guard=guard)
    killed = [g for g in got.values() if g != "slept"]
    assert len(killed) == 1 and killed[0][:2] == ("failed", "sleep_job")
    assert workers.MEMORY_GUARD in killed[0][2] and "of the machine's" in killed[0][2]
    assert list(got.values()).count("slept") == 1


def parent_of_a_sleeper(pid_file: str) -> str:
    """A job that starts a process of its own (as the full-int8 and ExecuTorch routes do), writes
    its pid to ``pid_file`` and waits on it."""
    import subprocess
    import sys
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    with open(pid_file, "w") as f:
        f.write(str(child.pid))
    child.wait()
    return "waited"


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] in ("Z", "X")       # a zombie is dead
    except OSError:
        return True


def test_a_job_past_its_time_budget_is_killed_with_the_processes_under_it(tmp_path):
    """``overdue`` names a reason once the sleeper's job has started its process: that job fails
    with the reason, the process it started dies with it (not left running, orphaned), the other
    job finishes; a job that ``overdue`` leaves alone is never killed."""
    import time
    pid_file = tmp_path / "child.pid"

    def overdue(job, seconds):
        return f"past the {workers.TIME_BUDGET} ({seconds:.1f} s)" if job[0] is parent_of_a_sleeper and \
            pid_file.exists() and pid_file.read_text() else None
    t0 = time.monotonic()
    got = _run([(parent_of_a_sleeper, (str(pid_file),)), (sleep_job, (2,))], overdue=overdue, poll_seconds=0.1,
               guard=None)
    assert got[1] == "slept"
    assert got[0][:2] == ("failed", "parent_of_a_sleeper") and workers.TIME_BUDGET in got[0][2]
    assert time.monotonic() - t0 < 60                             # not the sleeper's 120 s
    child = int(pid_file.read_text())
    for _ in range(50):                                          # SIGKILL is delivered at once; reaping may lag
        if _gone(child):
            break
        time.sleep(0.1)
    assert _gone(child), "the killed job's own process is still running"


def test_the_memory_guard_spares_a_small_process_and_acts_only_when_memory_is_short():
    tight = workers.MemoryGuard(meminfo=lambda: (1000, 30), rss_of=lambda pid: {1: 400, 2: 100}[pid])
    assert tight.victim([1, 2]) is None                          # nobody holds half: the kernel decides
    hog = workers.MemoryGuard(meminfo=lambda: (1000, 30), rss_of=lambda pid: {1: 600, 2: 100}[pid])
    assert hog.victim([2, 1])[0] == 1
    roomy = workers.MemoryGuard(meminfo=lambda: (1000, 50), rss_of=lambda pid: 900)
    assert roomy.victim([1]) is None                             # 5% left: above the 4% line
    assert workers.MemoryGuard(meminfo=lambda: None).victim([1]) is None


def test_in_process_mode_turns_an_exception_into_the_jobs_failure():
    got = _run([(raise_job, ()), (pid_job, ("x",))], n_workers=0)
    assert got[0] == ("failed", "raise_job", "ValueError: bad weights")
    assert got[1] == ("x", os.getpid())


def test_a_lost_job_fails_the_selftest_and_a_lost_network_fails_the_check():
    from conformance import checks, selftest
    assert selftest.totals([], [], lost=[])["passed"]
    assert not selftest.totals([], [], lost=[{"kind": "clean", "args": ["srcnn"], "error": "died"}])["passed"]
    rec = checks.lost_record("srcnn", ("params", "parity"), "worker process died (exit code -9)")
    assert not rec["passed"] and rec["checks"] == {"params": "error", "parity": "error"}
    assert "exit code -9" in rec["parity"]["summary"]


# ---- peak memory of a span (twinzoo.memory) and of an isolated child ----
def _hold(nbytes: int) -> int:
    import numpy as np
    block = np.ones(nbytes // 8)        # written, so resident
    return int(block[-1])


MIB = 2 ** 20


def _fresh_python(script: str) -> list[int]:
    """Run ``script`` in a fresh interpreter and return the integers it prints: a test worker's
    own memory (gigabytes of free heap after other tests, which a new block may reuse) would
    blur the spans' peaks."""
    import subprocess
    import sys
    from pathlib import Path

    import pytest

    from twinzoo import memory
    if memory.peak_rss_bytes() is None or not memory.reset_peak():
        pytest.skip("no /proc/self/status VmHWM or clear_refs here")
    tests = Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests.parent), str(tests)]), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return [int(v) for v in done.stdout.split()]


def test_a_span_measures_its_own_peak_not_the_ones_before_it():
    idle, small, inner, outer = _fresh_python(
        "from twinzoo import memory\n"
        "from test_workers import _hold\n"
        "_hold(400 * 2 ** 20)\n"                               # a peak before the spans
        "with memory.measure() as idle:\n"
        "    pass\n"
        "with memory.measure() as small:\n"
        "    _hold(8 * 2 ** 20)\n"
        "with memory.measure() as outer:\n"
        "    with memory.measure() as inner:\n"
        "        _hold(200 * 2 ** 20)\n"
        "    _hold(8 * 2 ** 20)\n"
        "print(idle.peak, small.peak, inner.peak, outer.peak)\n")
    assert small < idle + 100 * MIB                     # the 400 MiB before it is not counted
    assert inner > idle + 150 * MIB
    assert outer >= inner                               # an inner span's peak counts in the outer


def test_an_isolated_childs_peak_counts_in_the_parents_span():
    span, idle = _fresh_python(
        "from twinzoo import memory, workers\n"
        "from test_workers import _hold\n"
        "with memory.measure() as span:\n"
        "    workers.run_isolated(_hold, 600 * 2 ** 20)\n"
        "with memory.measure() as idle:\n"
        "    pass\n"
        "print(span.peak, idle.peak)\n")
    # the child imported both frameworks besides the block; the parent held neither
    assert span > idle + 500 * MIB
