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
