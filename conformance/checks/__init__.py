"""The conformance checks: small functions that pytest and the CLI both call.

Each check takes a catalogue network and returns a ``CheckResult`` (status pass / fail / error /
skip, a one-line summary, and the data behind it). ``check_network`` runs them all and records
an exception in one check as that check's error, so one broken network never stops the rest.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Callable

import keras

import keras_models
from conformance import CHECK_NAMES
from conformance.checks import counts, numeric, reference, witnesses
from conformance.checks.result import ERROR, FAIL, PASS, SKIP, CheckResult, judge_figure
from twinzoo import catalogue

__all__ = ["CHECKS", "ERROR", "FAIL", "PASS", "SKIP", "CheckResult", "NetworkReport", "Run", "check_network",
           "judge_figure", "lost_record"]


@dataclass
class NetworkReport:
    model: str
    description: str
    task: str
    results: dict[str, CheckResult]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results.values())

    def as_record(self) -> dict[str, Any]:
        rec: dict[str, Any] = {"model": self.model, "task": self.task, "description": self.description,
                               "passed": self.ok}
        for name, res in self.results.items():
            rec[name] = res.as_dict()
        rec["checks"] = {name: res.status for name, res in self.results.items()}
        return rec


def lost_record(name: str, checks: tuple[str, ...], why: str) -> dict[str, Any]:
    """The report record of a network whose checks never returned (its worker process died, e.g.
    OOM-killed): every asked check an error saying so, the network failed."""
    net = catalogue.get(name)
    results = {c: CheckResult(c, ERROR, why, {"error": why}) for c in checks}
    return NetworkReport(net.name, net.description, net.task, results).as_record()


def _guard(name: str, fn: Callable[[], CheckResult]) -> CheckResult:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 — recorded in the report, the run goes on
        tb = traceback.format_exception(exc)
        return CheckResult(name, ERROR, f"{type(exc).__name__}: {exc}".splitlines()[0][:300],
                           {"error": f"{type(exc).__name__}: {exc}", "traceback": "".join(tb[-6:])})


class Run:
    """One network's checks in one process: the Keras twin at the canonical size is built once
    and shared by the checks that can use it."""

    def __init__(self, net: catalogue.Network, seed: int):
        self.net, self.seed = net, seed
        self._keras: keras.Model | None = None

    def canonical_keras(self) -> keras.Model:
        if self._keras is None:
            self._keras = keras_models.build(self.net.name)
        return self._keras

    def prebuilt(self) -> dict[tuple[int, int], keras.Model]:
        """The Keras twins already built, by input size (for parity not to build them again)."""
        return {} if self._keras is None else {tuple(self.net.input_size): self._keras}


# every check by name, in report order; each runner looks its function up when it runs (a test
# or a planted bug may have replaced it)
RUNNERS: dict[str, Callable[[Run], CheckResult]] = {
    "params": lambda r: counts.check_params(r.net, r.canonical_keras()),
    "macs": lambda r: counts.check_macs(r.net, r.canonical_keras()),
    "parity": lambda r: numeric.check_parity(r.net, r.seed, r.prebuilt()),
    "fold": lambda r: numeric.check_fold(r.net, r.seed),
    "train": lambda r: numeric.check_train(r.net, r.seed),
    "reference": lambda r: reference.check_reference(r.net, r.seed),
    "witness": lambda r: witnesses.check_witnesses(r.net, r.seed),
}
CHECKS = tuple(RUNNERS)
if CHECKS != CHECK_NAMES:
    raise ImportError(f"conformance.CHECK_NAMES {CHECK_NAMES} and the runners {CHECKS} differ")


def check_network(name: str, checks: tuple[str, ...] = CHECKS, seed: int = 0) -> NetworkReport:
    net = catalogue.get(name)
    unknown = set(checks) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown check(s) {sorted(unknown)}; known: {', '.join(CHECKS)}")
    keras.backend.clear_session()
    run = Run(net, seed)
    results = {c: _guard(c, lambda c=c: RUNNERS[c](run)) for c in CHECKS if c in checks}
    return NetworkReport(net.name, net.description, net.task, results)
