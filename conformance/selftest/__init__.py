"""The mutation self-test: proof that the conformance checks catch real porting bugs and do not
cry wolf.

1. Every mutation of ``conformance.selftest.mutations`` is applied (in memory) and the full twin-vs-twin
   conformance check of its network runs under it (``SELFTEST_CHECKS``); we record which checks
   flag it (fail or error) and the layer they name, against the catalogue's expectation.
2. The unmutated networks run the same checks over several seeds; any flag is a false alarm.
3. From both runs, per network: the parity error of the correct twins (its distribution over
   seeds and inputs) against the smallest parity error a planted bug produces, each as a ratio to
   the network's tolerance (1.0 = the pass/fail line), so the report shows where the tolerance
   sits between them and with what margin.
4. The sweeps of ``conformance.selftest.sensitivity``: the other framework's epsilon planted in every
   normalisation layer of one network per family, the unbiased variance in every instance norm,
   each judged by the parity check alone (caught, and by what margin); and each network's
   detection floor (the smallest relative kernel perturbation parity flags).

Parity's verdict is split in two columns: ``parity`` (the outputs differ) and ``roundtrip`` (the
Keras -> torch transfer does not give the weights back bit for bit), so a converter bug planted
in both directions, where the round trip stays exact, is seen to be caught by the outputs alone.

The reference-graph and witness checks compare against third-party definitions, not twin
against twin, and are left out of the usual run (their own tests plant bugs in them); a
mutation that expects the reference check (a bug both twins share, which only AI Benchmark's
graph can show) runs it too, as do its network's clean runs, and the ``clean`` part runs it on
every network that has a graph.

The ``clean`` part runs the unmutated twins of every network (or those named) over the seeds:
the false-alarm runs of the whole zoo, and the data the train check's output line was placed on
(``tolerances`` and ``train_tolerances`` in the report).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from conformance.selftest.sensitivity import parity_ratios
from twinzoo import workers

SELFTEST_CHECKS = ("params", "macs", "parity", "fold", "train")
REFERENCE = "reference"         # run too where a mutation expects it, and in the clean part
RETIRE_BYTES = 6 * 2**30        # a worker past this after a job is replaced (left alone, one grows to 10 GB)
SEED_CHECKS = ("parity", "fold", "train")      # the checks whose inputs and weights a seed changes (and the reference's)
COLUMNS = ("params", "macs", "parity", "roundtrip", "fold", "train", REFERENCE)   # parity split in two
FLAGGED = ("fail", "error")
DEFAULT_SEEDS = tuple(range(10))
PARTS = ("mutations", "sweeps", "floors", "clean")
DEFAULT_PARTS = ("mutations", "sweeps", "floors")      # the clean runs of the whole zoo are asked for


def mutation_checks(expect: tuple[str, ...]) -> tuple[str, ...]:
    """The checks run under a mutation: the self-test's, and the reference graph's when expected."""
    return SELFTEST_CHECKS + ((REFERENCE,) if REFERENCE in expect else ())


def has_graph(network: str) -> bool:
    from conformance.lib.graphs import GRAPHS
    return network in GRAPHS


def statuses_of(results: dict[str, Any]) -> dict[str, str]:
    """Each check's status, the parity check split into its outputs (``parity``) and its
    Keras -> torch round trip (``roundtrip``)."""
    out = {c: r.status for c, r in results.items()}
    par = results.get("parity")
    if par is not None and par.status in ("pass", "fail") and "outputs_passed" in par.data:
        out["parity"] = "pass" if par.data["outputs_passed"] else "fail"
        out["roundtrip"] = "pass" if par.data["roundtrip_exact"] else "fail"
    return out


# ------------------------------------------------------------------------------------------
# one mutation
# ------------------------------------------------------------------------------------------
@dataclass
class MutationResult:
    name: str
    network: str
    twin: str
    description: str
    models: str
    expected_checks: list[str]
    expected_layer: str | None
    statuses: dict[str, str]
    flagged_by: list[str]
    layers: dict[str, str | None]               # check -> layer it names
    localised: str | None
    invisible: dict[str, str]
    summaries: dict[str, str]
    parity_ratio: float | None                  # worst input's error / tolerance (None: no numbers)
    parity_failed_sizes: list[list[int]] = field(default_factory=list)   # where parity's outputs differ
    train_output_ratio: float | None = None     # train-mode output error / its line
    reference_ratio: float | None = None        # graph vs twins, worst head and size / tolerance
    seconds: float = 0.0

    @property
    def caught(self) -> bool:
        return bool(self.flagged_by)

    @property
    def layer_ok(self) -> bool:
        return self.expected_layer is None or self.localised == self.expected_layer

    @property
    def expectation_met(self) -> bool:
        return set(self.expected_checks) <= set(self.flagged_by)

    @property
    def ok(self) -> bool:
        return self.caught and self.layer_ok and self.expectation_met

    def as_dict(self) -> dict[str, Any]:
        d = {**asdict(self), "caught": self.caught, "layer_ok": self.layer_ok,
             "expectation_met": self.expectation_met, "ok": self.ok}
        del d["seconds"]                      # timings live apart, under the report's "timings"
        return d


def _layer_named(check: str, result: Any) -> str | None:
    """The layer a check's result names: a localised divergence, or the layer in an error."""
    from conformance.selftest.mutations import layer_in_message
    div = result.data.get("first_divergence") if result.data else None
    if div and div.get("layer"):
        return div["layer"]
    if result.status == "error":
        return layer_in_message(result.data.get("error", result.summary))
    return None


def run_mutation(name: str, seed: int = 0) -> MutationResult:
    import keras

    from conformance import checks
    from conformance.selftest import mutations
    m = mutations.by_name(name)
    keras.backend.clear_session()
    start = time.perf_counter()
    with m.applied():
        report = checks.check_network(m.network, mutation_checks(m.expect), seed=seed)
    seconds = time.perf_counter() - start
    results = report.results
    statuses = statuses_of(results)
    flagged = [c for c in COLUMNS if statuses.get(c) in FLAGGED]
    layers = {c: _layer_named(c, results[c]) for c in flagged if c in results}
    # the localising checks in the order they are trusted: parity, train, then an error message
    localised = next((layers[c] for c in ("parity", "train", "fold", "params", "macs") if layers.get(c)), None)
    par = results.get("parity")
    ratio = None
    if par is not None and par.status in ("pass", "fail") and par.data.get("inputs"):
        ratio = max(parity_ratios(par.data))
    return MutationResult(
        m.name, m.network, m.twin, m.description, m.models, list(m.expect), m.layer,
        statuses, flagged, layers, localised, dict(m.invisible),
        {c: r.summary for c, r in results.items()}, ratio,
        par.data.get("failed_sizes", []) if par is not None and par.data else [],
        train_output_ratio(results.get("train")), reference_ratio(results.get(REFERENCE)), round(seconds, 1))


def reference_ratio(result: Any) -> float | None:
    """The reference check's worst graph-vs-twin error as a multiple of its tolerance."""
    if result is None or not result.data or "tolerance" not in result.data or "vs_keras" not in result.data:
        return None
    return max(result.data[k]["line_ratio"] for k in ("vs_keras", "vs_torch"))


def train_output_ratio(result: Any) -> float | None:
    """The train check's training-mode output error as a multiple of its line (None: no numbers)."""
    if result is None or not result.data or "output_tolerance" not in result.data:
        return None
    return result.data["output"]["line_ratio"]


# ------------------------------------------------------------------------------------------
# false alarms: the unmutated twins over seeds
# ------------------------------------------------------------------------------------------
@dataclass
class CleanRun:
    network: str
    seed: int
    statuses: dict[str, str]
    summaries: dict[str, str]
    parity_ratios: list[float] = field(default_factory=list)
    parity_max_rel: float | None = None
    train_output_ratio: float | None = None     # training-mode outputs: error / their line
    train_output_max_rel: float | None = None
    reference_ratio: float | None = None        # worst head and size, graph vs either twin / tolerance
    seconds: float = 0.0

    @property
    def false_alarms(self) -> list[str]:
        return [c for c, s in self.statuses.items() if s in FLAGGED]


def run_clean(network: str, seed: int, checks_: tuple[str, ...]) -> CleanRun:
    import keras

    from conformance import checks
    keras.backend.clear_session()
    start = time.perf_counter()
    report = checks.check_network(network, checks_, seed=seed)
    par = report.results.get("parity")
    ratios = parity_ratios(par.data) if par is not None and par.data.get("inputs") else []
    train = report.results.get("train")
    ref = report.results.get(REFERENCE)
    ref_rel = reference_ratio(ref)
    return CleanRun(network, seed, statuses_of(report.results),
                    {c: r.summary for c, r in report.results.items()}, ratios,
                    par.data.get("max_rel") if par is not None else None,
                    train_output_ratio(train),
                    train.data["output"]["max_rel"] if train is not None and train.data.get("output") else None,
                    ref_rel, round(time.perf_counter() - start, 1))


# ------------------------------------------------------------------------------------------
# the whole self-test
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LostJob:
    """A job whose worker died or that raised: no result, only why (reported, never judged)."""
    why: str


def _job(kind: str, args: tuple) -> Any:
    """One unit of work (module-level: it runs in a worker process)."""
    from conformance.selftest import sensitivity
    if kind == "mutation":
        return run_mutation(*args)
    if kind == "clean":
        return run_clean(*args)
    if kind == "floor":
        return sensitivity.detection_floor(*args)
    sweep = {"epsilon": sensitivity.epsilon_sweep, "variance": sensitivity.variance_sweep}[kind]
    return [p.as_dict() for p in sweep(*args)]


def plan(mutation_names: list[str], seeds: tuple[int, ...],
         parts: tuple[str, ...] = DEFAULT_PARTS, networks: list[str] | None = None) -> list[tuple[str, tuple]]:
    """The work: each mutation at seed 0; each network used by a mutation (and, with the
    ``clean`` part, every network of ``networks``, default the whole catalogue) unmutated — the
    seed-independent checks (params, macs) once, the seeded ones at every seed, the reference
    graph's where a mutation of the network expects it or in the clean part; the sweeps (one
    job per network) and the detection floors (of every network the rest touches), at seed 0."""
    from conformance.selftest import mutations, sensitivity
    from twinzoo import catalogue
    muts = [mutations.by_name(n) for n in mutation_names] if "mutations" in parts else []
    with_reference = {m.network for m in muts if REFERENCE in m.expect}
    clean = list(dict.fromkeys(m.network for m in muts))
    if "clean" in parts:
        clean += [n for n in (networks or catalogue.names()) if n not in clean]
        with_reference |= {n for n in (networks or catalogue.names()) if has_graph(n)}
    jobs: list[tuple[str, tuple]] = [("mutation", (m.name, 0)) for m in muts]
    for net in clean:
        for i, seed in enumerate(seeds):
            checks_ = SELFTEST_CHECKS if i == 0 else SEED_CHECKS
            if net in with_reference:
                checks_ += (REFERENCE,)
            jobs.append(("clean", (net, seed, checks_)))
    if "sweeps" in parts:
        jobs += [("epsilon", (n, 0)) for n in sensitivity.EPSILON_SWEEP_NETWORKS]
        jobs += [("variance", (n, 0)) for n in sensitivity.VARIANCE_SWEEP_NETWORKS]
    if "floors" in parts:
        jobs += [("floor", (n, 0)) for n in floor_networks()]
    # the longest jobs first, so the short ones fill the workers' gaps at the end
    cost = {"epsilon": 0, "floor": 1, "variance": 2, "mutation": 3, "clean": 3}
    return sorted(jobs, key=lambda j: cost[j[0]])


def floor_networks() -> list[str]:
    """Every network a mutation or a sweep touches."""
    from conformance.selftest import mutations, sensitivity
    return list(dict.fromkeys([*(m.network for m in mutations.MUTATIONS), *sensitivity.EPSILON_SWEEP_NETWORKS]))


def run(mutation_names: list[str] | None = None, seeds: tuple[int, ...] = DEFAULT_SEEDS,
        jobs: int = 1, progress: Any = None, parts: tuple[str, ...] | None = None,
        networks: list[str] | None = None) -> dict[str, Any]:
    """Run the self-test; ``progress(done, total, label)`` is called after each unit. ``parts``
    (default: the mutations, sweeps and floors, or only the mutations when some are named; the
    clean runs of the zoo when asked, or when ``networks`` are named) picks what runs."""
    from conformance.selftest import mutations, sensitivity
    from twinzoo import catalogue
    if parts is None:
        parts = ("mutations",) if mutation_names else ("clean",) if networks else DEFAULT_PARTS
    names = mutation_names or [m.name for m in mutations.MUTATIONS]
    work = plan(names, tuple(seeds), parts, networks)
    start = time.perf_counter()
    results: list[Any] = [None] * len(work)
    seconds: list[float] = [float("nan")] * len(work)
    lost: list[dict[str, Any]] = []
    finished = 0

    def on_result(i: int, result: Any) -> None:
        nonlocal finished
        finished += 1
        if isinstance(result, LostJob):
            lost.append({"kind": work[i][0], "args": [str(a) for a in work[i][1]], "error": result.why})
        else:
            results[i] = result
        if progress:
            progress(finished, len(work), f"{work[i][0]} {work[i][1][0]}")

    def lost_job(job: Any, why: str) -> LostJob:
        return LostJob(why)

    jobs_ = [(_job, (kind, args)) for kind, args in work]
    if jobs <= 1:
        for i, job in enumerate(jobs_):
            t0 = time.perf_counter()
            on_result(i, job[0](*job[1]))      # in this process an exception is a bug: it propagates
            seconds[i] = time.perf_counter() - t0
    else:
        # one worker runs job after job (the frameworks' import paid once); a worker that dies
        # (OOM killer) loses only the job it held, recorded in ``lost_jobs``; a worker whose memory
        # has grown past RETIRE_BYTES is replaced by a fresh one after its job
        threads = max(1, (os.cpu_count() or 1) // jobs)
        workers.run_jobs(jobs_, jobs, on_result, lost_job, threads=threads, reuse=True, retire_bytes=RETIRE_BYTES)
    kept = [(w, r) for w, r in zip(work, results) if r is not None]
    by_kind: dict[str, list[Any]] = {}
    for (kind, _), r in kept:
        by_kind.setdefault(kind, []).append(r)
    muts: list[MutationResult] = by_kind.get("mutation", [])
    clean: list[CleanRun] = by_kind.get("clean", [])
    plantings = [p for kind in ("epsilon", "variance") for sweep in by_kind.get(kind, []) for p in sweep]
    floors = by_kind.get("floor", [])
    return {
        "tool": "twinzoo conformance selftest",
        "checks": list(SELFTEST_CHECKS),
        "parts": list(parts),
        "seeds": list(seeds),
        "mutations": [r.as_dict() for r in muts],
        "clean_runs": [{k: v for k, v in asdict(r).items() if k != "seconds"} | {"false_alarms": r.false_alarms}
                       for r in clean],
        "tolerances": tolerance_table(muts, clean, catalogue),
        "train_tolerances": train_tolerance_table(muts, clean, catalogue),
        "sweeps": {"margin_goal": sensitivity.MARGIN_GOAL, "summary": sensitivity.sweep_summary(plantings),
                   "plantings": plantings},
        "floors": floors,
        "lost_jobs": lost,
        "totals": totals(muts, clean, plantings, floors, lost),
        "timings": {"seconds": round(time.perf_counter() - start, 1), "jobs": jobs,
                    "mutation_seconds": {r.name: r.seconds for r in muts},
                    "clean_run_seconds": [[r.network, r.seed, r.seconds] for r in clean],
                    "job_seconds": [[kind, args[0], round(t, 1)] for (kind, args), t in zip(work, seconds)
                                    if kind in ("epsilon", "variance", "floor") and np.isfinite(t)]},
    }


def totals(muts: list[MutationResult], clean: list[CleanRun], plantings: list[dict[str, Any]] = (),
           floors: list[dict[str, Any]] = (), lost: list[dict[str, Any]] = ()) -> dict[str, Any]:
    from conformance.selftest.sensitivity import MARGIN_GOAL
    with_layer = [m for m in muts if m.expected_layer is not None]
    transfer_muts = [m for m in muts if m.twin == "transfer"]
    asked = [p for p in plantings if p["asked_to_localise"]]
    sweeps_ok = all(p["caught"] and p["ratio"] >= MARGIN_GOAL and p["layer_ok"] for p in plantings)
    return {
        "mutations": len(muts),
        "caught": sum(m.caught for m in muts),
        "layer_named_right": sum(m.layer_ok for m in with_layer),
        "layer_expected": len(with_layer),
        "expectations_met": sum(m.expectation_met for m in muts),
        "transfer_mutations": len(transfer_muts),
        "transfer_caught_by_parity": sum("parity" in m.flagged_by for m in transfer_muts),
        "transfer_roundtrip_exact": sum("roundtrip" not in m.flagged_by for m in transfer_muts),
        "networks": len({m.network for m in muts}),
        "clean_runs": len(clean),
        "false_alarms": sum(len(c.false_alarms) for c in clean),
        "sweep_plantings": len(plantings),
        "sweep_caught": sum(p["caught"] for p in plantings),
        "sweep_below_margin_goal": sum(p["ratio"] < MARGIN_GOAL for p in plantings),
        "sweep_min_margin": min((p["ratio"] for p in plantings), default=None),
        "sweep_localised_right": sum(p["layer_ok"] for p in asked),
        "sweep_localise_asked": len(asked),
        "floors": len(floors),
        "floors_meeting_goal": sum(f["meets_goal"] for f in floors),
        "worst_floor": max((f["floor"] for f in floors), default=None),
        "lost_jobs": len(lost),
        "passed": (all(m.ok for m in muts) and not any(c.false_alarms for c in clean) and sweeps_ok
                   and all(f["meets_goal"] for f in floors) and not lost),
    }


def tolerance_table(muts: list[MutationResult], clean: list[CleanRun], catalogue: Any) -> list[dict[str, Any]]:
    """Per network: the correct twins' parity errors (over every seed and input) and the smallest
    parity error among its planted bugs, both as multiples of the tolerance."""
    rows = []
    for net_name in dict.fromkeys(c.network for c in clean):
        net = catalogue.get(net_name)
        ratios = [r for c in clean if c.network == net_name for r in c.parity_ratios]
        rels = [c.parity_max_rel for c in clean if c.network == net_name and c.parity_max_rel is not None]
        bugs = [(m.parity_ratio, m.name) for m in muts
                if m.network == net_name and m.parity_ratio is not None and "parity" in m.flagged_by]
        smallest = min(bugs) if bugs else (None, None)
        worst = max(ratios) if ratios else None
        rows.append({
            "network": net_name,
            "tolerance": {"atol": net.tolerance.atol, "rtol": net.tolerance.rtol},
            "samples": len(ratios),
            "correct_max": worst,
            "correct_p99": float(np.percentile(ratios, 99)) if ratios else None,
            "correct_max_rel": max(rels) if rels else None,
            "smallest_bug": smallest[0], "smallest_bug_mutation": smallest[1],
            "margin_below": (1.0 / worst) if worst else None,
            "margin_above": smallest[0],
        })
    return rows


def train_tolerance_table(muts: list[MutationResult], clean: list[CleanRun], catalogue: Any) -> list[dict[str, Any]]:
    """Per network: the correct twins' training-mode output errors (over every seed) and the
    smallest one a planted bug the train check flags produces, as multiples of the train-mode
    output line (``catalogue.train_output_tolerance``)."""
    rows = []
    for net_name in dict.fromkeys(c.network for c in clean):
        runs = [c for c in clean if c.network == net_name and c.train_output_ratio is not None]
        if not runs:
            continue
        tol = catalogue.train_output_tolerance(catalogue.get(net_name).tolerance)
        bugs = [(m.train_output_ratio, m.name) for m in muts if m.network == net_name
                and m.train_output_ratio is not None and "train" in m.flagged_by]
        smallest = min(bugs) if bugs else (None, None)
        worst = max(runs, key=lambda c: c.train_output_ratio)
        rows.append({
            "network": net_name, "tolerance": {"atol": tol.atol, "rtol": tol.rtol}, "samples": len(runs),
            "correct_max": worst.train_output_ratio, "correct_max_seed": worst.seed,
            "correct_max_rel": max(c.train_output_max_rel for c in runs),
            "smallest_bug": smallest[0], "smallest_bug_mutation": smallest[1],
            "margin_below": (1.0 / worst.train_output_ratio) if worst.train_output_ratio else None,
            "margin_above": smallest[0],
        })
    return rows


# ------------------------------------------------------------------------------------------
# rendering
# ------------------------------------------------------------------------------------------
def mutation_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for m in report["mutations"]:
        cells = []
        for c in COLUMNS:
            status = m["statuses"].get(c, "-")
            if status in FLAGGED:
                cells.append("CAUGHT" + (" (error)" if status == "error" else ""))
            elif c in m["invisible"]:
                cells.append("n/a")
            elif status == "skip":
                cells.append("skip")
            else:
                cells.append("-")
        layer = m["localised"] or "-"
        if m["expected_layer"] is None:
            verdict = "no layer to name"
        else:
            verdict = "right" if m["layer_ok"] else f"WRONG (expected {m['expected_layer']})"
        rows.append([m["name"], m["network"], m["twin"], *cells, layer, verdict,
                     "ok" if m["ok"] else ("MISSED" if not m["caught"] else "NOT AS EXPECTED")])
    return rows


MUTATION_HEADERS = ["mutation", "network", "twin", *COLUMNS, "layer named", "layer", "result"]
SWEEP_HEADERS = ["network", "planted", "layers", "caught by parity", "margin min (weakest layer)",
                 "margin median", "below the margin goal", "layer named right"]
FLOOR_HEADERS = ["network", "floor (worst probed layer)", "per layer", "goal"]
TOLERANCE_HEADERS = ["network", "tolerance", "samples", "correct max (p99)", "correct max rel",
                     "smallest bug (mutation)", "margins below / above"]


def _x(v: float | None) -> str:
    if v is None:
        return "-"
    return "inf" if not np.isfinite(v) else f"{v:.3g}"


def _line_rows(entries: list[dict[str, Any]], beside_max: Callable[[dict[str, Any]], str]) -> list[list[str]]:
    """One row per network's line against data; ``beside_max``: what is shown next to the
    correct max (its p99, or the seed that reached it)."""
    rows = []
    for t in entries:
        tol = t["tolerance"]
        rows.append([t["network"], f"{tol['atol']:g} + {tol['rtol']:g}*scale", str(t["samples"]),
                     f"{_x(t['correct_max'])} ({beside_max(t)})",
                     _x(t["correct_max_rel"]), f"{_x(t['smallest_bug'])} ({t['smallest_bug_mutation'] or '-'})",
                     f"{_x(t['margin_below'])}x / {_x(t['margin_above'])}x"])
    return rows


def tolerance_rows(report: dict[str, Any]) -> list[list[str]]:
    return _line_rows(report["tolerances"], lambda t: _x(t["correct_p99"]))


TRAIN_TOLERANCE_HEADERS = ["network", "train-mode output line", "seeds", "correct max (seed)", "correct max rel",
                           "smallest bug (mutation)", "margins below / above"]


def train_tolerance_rows(report: dict[str, Any]) -> list[list[str]]:
    return _line_rows(report.get("train_tolerances", []), lambda t: str(t["correct_max_seed"]))


def sweep_rows(report: dict[str, Any]) -> list[list[str]]:
    return [[r["network"], f"{r['kind']}: {r['planted']}", str(r["plantings"]),
             f"{r['caught']}/{r['plantings']}", f"{_x(r['min_margin'])}x ({r['weakest_layer']})",
             f"{_x(r['median_margin'])}x", str(r["below_goal"]),
             f"{r['localised_right']}/{r['localise_asked']}"] for r in report["sweeps"]["summary"]]


def floor_rows(report: dict[str, Any]) -> list[list[str]]:
    return [[f["network"], _x(f["floor"]),
             "; ".join(f"{x['layer']} {_x(x['floor'])}" for x in f["layers"]),
             ("met" if f["meets_goal"] else "MISSED") + f" (<= {f['goal']:g})"] for f in report["floors"]]


def invisibility_notes(report: dict[str, Any]) -> list[str]:
    notes = []
    for m in report["mutations"]:
        for check, why in m["invisible"].items():
            if check in ("params", "macs") and why.startswith("same layers"):
                continue            # the common case; said once in the legend
            notes.append(f"{m['name']}: invisible to {check} ({why}); caught by {', '.join(m['flagged_by']) or 'nothing'}")
    return notes


def md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers),
            *("| " + " | ".join(r) + " |" for r in rows)]


def markdown(report: dict[str, Any]) -> str:
    t = report["totals"]
    lines = [
        "# twinzoo conformance self-test", "",
        f"**{t['caught']}/{t['mutations']} mutations caught** on {t['networks']} networks "
        f"({t['transfer_caught_by_parity']}/{t['transfer_mutations']} converter bugs, planted in both "
        f"directions, caught by the outputs; round trip exact for {t['transfer_roundtrip_exact']} of "
        f"them); layer named right {t['layer_named_right']}/{t['layer_expected']}; expected checks met "
        f"{t['expectations_met']}/{t['mutations']}. **False alarms: {t['false_alarms']}** in "
        f"{t['clean_runs']} runs of the unmutated twins (seeds {', '.join(map(str, report['seeds']))}). "
        f"Checks: {', '.join(report['checks'])}.", "",
        "CAUGHT = the check fails or errors under the mutation; n/a = invisible to that check by "
        "nature (params/macs: same layers and shapes; see the notes for the rest); skip = the "
        "check does not apply to the network. parity = the twins' outputs differ; roundtrip = "
        "the Keras -> torch transfer does not give the weights back bit for bit (both are parts "
        "of the parity check).", ""]
    if report["lost_jobs"]:
        lines += [f"**{t['lost_jobs']} jobs lost** (no result: the worker died or the job raised); the "
                  "self-test did not pass:", ""]
        lines += [f"- {j['kind']} {' '.join(j['args'])}: {j['error']}" for j in report["lost_jobs"]] + [""]
    lines += md_table(MUTATION_HEADERS, mutation_rows(report))
    lines += ["", "## Invisible by nature", ""]
    lines += [f"- {n}" for n in invisibility_notes(report)]
    lines += ["", "## What each mutation models", ""]
    lines += [f"- **{m['name']}** ({m['network']}, {m['twin']}): {m['description']}. Models: {m['models']}."
              for m in report["mutations"]]
    lines += ["", "## Tolerances against data", "",
              "Errors as multiples of the network's tolerance (`atol + rtol * max|torch|`; 1 = the "
              "pass/fail line). Correct: every parity batch (the real-image batch and the random "
              "batch) of the unmutated twins at every seed; smallest bug: the planted parity-visible bug with "
              "the smallest error. Margins: tolerance / correct max, smallest bug / tolerance.", ""]
    lines += md_table(TOLERANCE_HEADERS, tolerance_rows(report))
    if report.get("train_tolerances"):
        lines += ["", "## The train check's output line against data", "",
                  "Training-mode output errors (one training-mode forward of both twins, every head) as "
                  "multiples of the train-mode output line (`catalogue.train_output_tolerance`; 1 = the "
                  "pass/fail line). Correct: the unmutated twins at every seed; smallest bug: the planted bug "
                  "the train check flags with the smallest output error.", ""]
        lines += md_table(TRAIN_TOLERANCE_HEADERS, train_tolerance_rows(report))
    if report["sweeps"]["summary"]:
        lines += ["", "## Sweeps: one planted bug per layer, judged by parity alone", "",
                  f"**{t['sweep_caught']}/{t['sweep_plantings']} plantings caught**; "
                  f"{t['sweep_below_margin_goal']} below the {report['sweeps']['margin_goal']:g}x margin goal "
                  f"(smallest margin {_x(t['sweep_min_margin'])}x); parity named the planted layer in "
                  f"{t['sweep_localised_right']}/{t['sweep_localise_asked']} of the localised sample.", "",
                  "Margin: the planted twin's parity error as a multiple of the tolerance (worst "
                  "input). Epsilon: every normalisation layer of the Keras twin in turn gets the other "
                  "framework's default; variance: every instance norm of the torch twin divides by the "
                  "unbiased variance. Layer named: a sample of 12 layers per network (first, middle, "
                  "last among them), and every variance planting.", ""]
        lines += md_table(SWEEP_HEADERS, sweep_rows(report))
    if report["floors"]:
        lines += ["", "## Detection floor", "",
                  "The smallest relative error of every weight (`kernel * (1 + eps * z)`, z seeded "
                  "normal) of one kernel at 1/4, 1/2 and 3/4 of the network that parity flags "
                  "(bisection on log10 eps); a network's floor is its worst probed layer's.", ""]
        lines += md_table(FLOOR_HEADERS, floor_rows(report))
    lines += ["", f"Wall time: {report['timings']['seconds']:.0f} s with {report['timings']['jobs']} job(s).", ""]
    return "\n".join(lines)
