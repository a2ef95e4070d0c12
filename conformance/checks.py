"""The conformance checks: small functions that pytest and the CLI both call.

Each check takes a catalogue network and returns a ``CheckResult`` (status pass / fail / error /
skip, a one-line summary, and the data behind it). ``check_network`` runs them all and records
an exception in one check as that check's error, so one broken network never stops the rest.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

import keras

import keras_models
import torch_models
from twinzoo import catalogue
from twinzoo.catalogue import Figure, Network
from conformance import counting, inputs, parity, transfer

PASS, FAIL, ERROR, SKIP = "pass", "fail", "error", "skip"


@dataclass
class CheckResult:
    check: str
    status: str
    summary: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in (PASS, SKIP)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "summary": self.summary, **self.data}


# ------------------------------------------------------------------------------------------
# published figures
# ------------------------------------------------------------------------------------------
def judge_figure(fig: Figure, ours: float) -> dict[str, Any]:
    """Our count against one published figure: within ``rel_tol`` (exact when 0)? An erratum
    is reported but never fails."""
    rel = abs(ours - fig.value) / fig.value
    within = (ours == fig.value) if fig.rel_tol == 0 else rel <= fig.rel_tol + 1e-12
    return {
        "value": fig.value, "ours": ours, "rel_diff": rel, "rel_tol": fig.rel_tol,
        "convention": fig.convention, "source": fig.source,
        **({"input_size": list(fig.input_size)} if fig.input_size else {}),
        **({"opts": dict(fig.opts)} if fig.opts else {}),
        **({"note": fig.note} if fig.note else {}),
        **({"erratum": fig.erratum} if fig.erratum else {}),
        "passed": bool(within) or bool(fig.erratum),
        "matches": bool(within),
    }


# ------------------------------------------------------------------------------------------
# parameters
# ------------------------------------------------------------------------------------------
def check_params(net: Network, keras_model: keras.Model | None = None) -> CheckResult:
    """torch count by role, Keras trainable and total counts, their agreement, and every
    published parameter figure under its stated convention."""
    roles = counting.torch_param_roles(counting.build_torch_meta(net.name))
    kmodel = keras_model or keras_models.build(net.name)
    kcounts = counting.keras_param_counts(kmodel)
    t_train = counting.count_convention(roles, "trainable")
    agree = t_train == kcounts["trainable"] and t_train + roles["stats"] == kcounts["total"]
    published = []
    roles_by_opts: dict[str, dict[str, int]] = {"{}": roles}
    for fig in net.figures:
        if fig.quantity != "params":
            continue
        key = repr(sorted(fig.opts.items()))
        if key not in roles_by_opts:
            roles_by_opts[key] = counting.torch_param_roles(counting.build_torch_meta(net.name, **fig.opts))
        published.append(judge_figure(fig, counting.count_convention(roles_by_opts[key], fig.convention)))
    ok = agree and all(p["passed"] for p in published)
    summary = (f"torch {t_train:,} (+{roles['stats']:,} stats"
               + (f", +{roles['b2']:,} second LSTM biases" if roles["b2"] else "")
               + f"), Keras {kcounts['trainable']:,} trainable / {kcounts['total']:,} total"
               + ("" if agree else "  <- twins disagree"))
    bad = [p for p in published if not p["passed"]]
    if bad:
        summary += "; off published: " + ", ".join(f"{p['ours']:,} vs {p['value']:,.0f} ({p['convention']})" for p in bad)
    return CheckResult("params", PASS if ok else FAIL, summary, {
        "torch": {"trainable": t_train, "stats": roles["stats"], "by_role": roles},
        "keras": kcounts,
        "twins_agree": agree,
        "published": published,
    })


# ------------------------------------------------------------------------------------------
# MACs
# ------------------------------------------------------------------------------------------
def check_macs(net: Network, keras_model: keras.Model | None = None) -> CheckResult:
    """MACs counted independently in each framework at the canonical input size and at every
    published figure's size, equal to each other and to the figures within their tolerance."""
    tmacs = counting.torch_macs(counting.build_torch_meta(net.name), net.batch_shape(layout="NCHW"), net.input_dtype)
    kmacs = counting.keras_macs(keras_model or keras_models.build(net.name))
    agree = tmacs == kmacs
    cache: dict[str, dict[str, int]] = {repr((tuple(net.input_size), [])): {"torch": tmacs, "keras": kmacs}}
    published = []
    for fig in net.figures:
        if fig.quantity != "macs":
            continue
        key = repr((tuple(fig.input_size), sorted(fig.opts.items())))
        if key not in cache:
            cache[key] = counting.macs_at(net.name, fig.input_size, **fig.opts)
        pair = cache[key]
        entry = judge_figure(fig, pair["torch"])
        entry["keras"] = pair["keras"]
        entry["twins_agree"] = pair["torch"] == pair["keras"]
        agree = agree and entry["twins_agree"]
        published.append(entry)
    ok = agree and all(p["passed"] for p in published)
    summary = f"{tmacs / 1e6:,.2f} M (torch) / {kmacs / 1e6:,.2f} M (Keras) at {net.shape_text()}"
    if not agree:
        summary += "  <- twins disagree"
    bad = [p for p in published if not p["passed"]]
    if bad:
        summary += "; off published: " + ", ".join(
            f"{p['ours'] / 1e6:,.2f} M vs {p['value'] / 1e6:,.2f} M at {p['input_size']}" for p in bad)
    return CheckResult("macs", PASS if ok else FAIL, summary, {
        "input_size": list(net.input_size),
        "torch": tmacs, "keras": kmacs, "twins_agree": agree, "published": published,
    })


# ------------------------------------------------------------------------------------------
# numeric parity
# ------------------------------------------------------------------------------------------
def parity_inputs(net: Network, size: tuple[int, int], seed: int, images: int = 2,
                  randoms: int = 2) -> list[tuple[str, np.ndarray, list[str]]]:
    """(kind, NHWC batch, description) for the real images (AI Benchmark's sentence for a network
    on token ids) and the seeded random inputs."""
    sets: list[tuple[str, np.ndarray, list[str]]] = []
    if net.layout == "tokens" and images:
        sets.append(("sentence", inputs.load_sentence(net, size),
                     [f"AI Benchmark's sentence (ai_benchmark/utils.py loadData('nlp-text')), first {size[0]} tokens"]))
    if net.image_set is not None and images:
        files = inputs.image_files(net.image_set)[:images]
        sets.append(("images", inputs.load_images(net, size, images),
                     [f"ai_benchmark/data/{net.image_set}/{f.name}" for f in files]))
    if randoms:
        sets.append(("random", inputs.random_inputs(net, size, randoms, seed + 1),
                     [f"uniform{list(net.input_range)} seed {seed + 1}"]))
    return sets


def input_count(net: Network, size: tuple[int, int]) -> int:
    """How many real and how many random inputs the numeric checks run at ``size``: two of each
    at a parity size (where the tolerance was placed and the sweeps run) and at the second size;
    one of each at a canonical size that is no parity size (U-Net's and DeepLab's 512x512, PSPNet's
    720x720, ICNet's 1024x1536), which is there to show what only that size shows, and where every
    pass costs time and memory up to 30x one at the second size."""
    light = tuple(size) == tuple(net.input_size) and tuple(size) not in {tuple(s) for s in net.parity_sizes}
    return 1 if light else 2


def sample_inputs(net: Network, size: tuple[int, int], seed: int, count: int = 2) -> tuple[str, np.ndarray, list[str]]:
    """One batch of ``count`` inputs (kind, batch, description): real images where the network
    takes images, AI Benchmark's sentence where it takes token ids (one: the package has no
    other), seeded random inputs otherwise (the package ships no sequences)."""
    if net.image_set is not None or net.layout == "tokens":
        return parity_inputs(net, size, seed, images=count, randoms=0)[0]
    return parity_inputs(net, size, seed, images=0, randoms=count)[0]


def random_torch_twin(net: Network, seed: int, calibration: np.ndarray) -> torch.nn.Module:
    """The torch twin with seeded random, non-trivial weights (BN statistics calibrated on
    ``calibration``, NHWC).

    A twin whose BN is folded into its convs (``folded=True`` in the catalogue options) gets its
    weights by folding a randomised, calibrated unfolded twin: random weights put straight into
    a network without BN let activations grow layer after layer far beyond a trained network's,
    and parity would then measure float32 rounding at absurd scales rather than the port."""
    torch.manual_seed(seed)
    cal = torch.from_numpy(inputs.nhwc_to_nchw(calibration))
    if net.opts.get("folded"):
        unfolded = torch_models.build(net.name, folded=False)
        parity.randomize(unfolded, seed, cal)
        return torch_models.fold_batch_norm(net.name, unfolded)
    tmodel = torch_models.build(net.name)
    parity.randomize(tmodel, seed, cal)
    return tmodel


def prepare_twins(net: Network, size: tuple[int, int], seed: int,
                  calibration: np.ndarray, keras_model: keras.Model | None = None):
    """A randomised torch twin and a Keras twin holding the same weights (torch -> Keras)."""
    tmodel = random_torch_twin(net, seed, calibration)
    kmodel = keras_model or keras_models.build(net.name, input_size=size)
    transfer.torch_to_keras(tmodel, kmodel)
    return tmodel, kmodel


def keras_twin_at(net: Network, kmodel: keras.Model, size: tuple[int, int], prebuilt: keras.Model | None = None,
                  **opts: Any) -> keras.Model:
    """A Keras twin of ``net`` for inputs of ``size`` (``prebuilt``, else built) holding
    ``kmodel``'s weights, copied layer by layer (the same layers at every size; GNMT's decoder,
    unrolled for a fixed length, shares its cells' layers over the steps)."""
    other = prebuilt if prebuilt is not None else keras_models.build(net.name, input_size=size, **opts)
    for layer in kmodel.layers:
        if layer.weights:
            other.get_layer(layer.name).set_weights(layer.get_weights())
    return other


def roundtrip_exact(net: Network, tmodel: torch.nn.Module, kmodel: keras.Model) -> bool:
    """Keras -> torch into a fresh twin gives back the torch weights bit for bit, as the Keras
    twin holds them (one layout rule is not one-to-one: torch's LSTM holds two biases that only
    act as their sum, Keras' one, so the sums are compared; every other rule is a bijection)."""
    fresh = torch_models.build(net.name)
    transfer.keras_to_torch(kmodel, fresh)
    _, ref = transfer.keras_values(tmodel, kmodel)
    _, back = transfer.keras_values(fresh, kmodel)
    return all(np.array_equal(a, b) for (_, a), (_, b) in zip(ref, back))


def check_parity(net: Network, seed: int = 0, keras_models_by_size: dict | None = None,
                 tolerance: catalogue.Tolerance | None = None,
                 twins: Callable[..., tuple] | None = None, localise: bool = True,
                 sizes: tuple[tuple[int, int], ...] | None = None) -> CheckResult:
    """Keras twin with weights transferred from the torch twin, on the real AI Benchmark test
    images and on random inputs, at each of ``sizes`` (default the network's numeric sizes: the
    canonical size and the second size, ``Network.numeric_sizes``), every output head compared;
    names the first diverging layer on failure (unless ``localise`` is False). The Keras -> torch
    round trip must give the weights back bit for bit; ``outputs_passed`` and ``roundtrip_exact``
    in the data say which part failed, ``failed_sizes`` at which sizes the outputs differ.

    The twins are randomised once, at the first size (the smallest: ``numeric_sizes`` comes
    sorted), and hold the same weights at the others: the torch twin as it is, a Keras twin built
    for each other size with the first one's weights (``keras_twin_at``). ``twins`` replaces
    ``prepare_twins`` and is called at every size (tests and ``conformance.sensitivity`` use it to
    plant a bug in one twin); the round trip is then not run."""
    tol = tolerance or net.tolerance
    prepare = twins or prepare_twins
    sizes = tuple(tuple(s) for s in (sizes or net.numeric_sizes))
    per_input: list[dict[str, Any]] = []
    worst_abs, worst_rel = 0.0, 0.0
    divergence, divergence_size = None, None
    roundtrip = True
    first = None
    for size in sizes:
        n = input_count(net, size)
        sets = parity_inputs(net, size, seed, images=n, randoms=n)
        calibration = np.concatenate([x for _, x, _ in sets])
        kprebuilt = (keras_models_by_size or {}).get(tuple(size))
        if twins is not None or first is None:
            tmodel, kmodel = prepare(net, size, seed, calibration, kprebuilt)
            first = first or (tmodel, kmodel)
            if twins is None:
                roundtrip = roundtrip_exact(net, tmodel, kmodel)
        else:
            tmodel, kmodel = first[0], keras_twin_at(net, first[1], size, kprebuilt)
        for kind, x, desc in sets:
            t_out, k_out = parity.run_torch(tmodel, x), parity.run_keras(kmodel, x)
            err = parity.compare(t_out, k_out, tol)
            record = {"kind": kind, "size": list(size), "batch": int(x.shape[0]), "source": desc}
            if net.layout == "tokens":
                # a translation's parity is also its greedy ids: every step's argmax, equal
                same = t_out.shape == k_out.shape and np.array_equal(t_out.argmax(-1), k_out.argmax(-1))
                record["ids_equal"] = bool(same)
                err.passed = err.passed and same
            per_input.append({**record, **err.as_dict()})
            worst_abs, worst_rel = max(worst_abs, err.max_abs), max(worst_rel, err.max_rel)
            if not err.passed and divergence is None and localise:
                divergence = parity.first_divergence(tmodel, kmodel, x, tol)
                divergence_size = size
    outputs_passed = all(p["passed"] for p in per_input)
    failed_sizes = list(dict.fromkeys(tuple(p["size"]) for p in per_input if not p["passed"]))
    passed = outputs_passed and roundtrip
    summary = (f"max abs {worst_abs:.2e}, max rel {worst_rel:.2e} (tol {tol.atol:g} + {tol.rtol:g}*scale) at "
               + ", ".join(net.shape_text(s) for s in sizes))
    if failed_sizes and len(failed_sizes) < len(sizes):
        summary += "; outputs differ at " + ", ".join(net.shape_text(s) for s in failed_sizes) + " only"
    if divergence is not None:
        where = f" at {net.shape_text(divergence_size)}" if len(sizes) > 1 else ""
        if divergence.layer:
            summary += f"; first diverging layer {divergence.layer!r}{where} (rel {divergence.error.max_rel:.2e}"
            summary += f", {divergence.error.shape_mismatch})" if divergence.error.shape_mismatch else ")"
        else:
            summary += f"; no intermediate layer exceeds the tolerance{where}"
    if not roundtrip:
        summary += "; Keras -> torch round trip not exact"
    return CheckResult("parity", PASS if passed else FAIL, summary, {
        "max_abs": worst_abs, "max_rel": worst_rel,
        "tolerance": {"atol": tol.atol, "rtol": tol.rtol, "policy": "max|keras-torch| <= atol + rtol*max|torch|",
                      "why": tol.why},
        "seed": seed, "sizes": [list(s) for s in sizes], "failed_sizes": [list(s) for s in failed_sizes],
        "inputs": per_input, "outputs_passed": outputs_passed, "roundtrip_exact": roundtrip,
        "first_divergence": ({**divergence.as_dict(), "size": list(divergence_size)} if divergence else None),
    })


def check_fold(net: Network, seed: int = 0) -> CheckResult:
    """For a network with an unfolded (training) form: folding its BN into the convs changes
    nothing. The randomised unfolded torch twin is folded by the family's ``fold_batch_norm``;
    the folded torch twin and a folded Keras twin (weights transferred from it) must both give
    the unfolded twin's outputs under the parity tolerance, on real images and random inputs."""
    if not torch_models.has_folded_form(net.name) or net.opts.get("folded", True):
        return CheckResult("fold", SKIP, f"{net.name} has no unfolded form to fold", {})
    tol = net.tolerance
    per_input: list[dict[str, Any]] = []
    worst = 0.0
    for size in net.parity_sizes:
        sets = parity_inputs(net, size, seed)
        calibration = np.concatenate([x for _, x, _ in sets])
        unfolded = random_torch_twin(net, seed, calibration)
        folded = torch_models.fold_batch_norm(net.name, unfolded)
        kfolded = keras_models.build(net.name, input_size=size, folded=True)
        transfer.torch_to_keras(folded, kfolded)
        for kind, x, desc in sets:
            ref = parity.run_torch(unfolded, x)
            for form, out in (("torch folded", parity.run_torch(folded, x)),
                              ("Keras folded", parity.run_keras(kfolded, x))):
                err = parity.compare(ref, out, tol)
                per_input.append({"kind": kind, "size": list(size), "form": form, "source": desc, **err.as_dict()})
                worst = max(worst, err.max_rel)
    passed = all(p["passed"] for p in per_input)
    n_bn = sum(isinstance(m, torch.nn.BatchNorm2d) for m in unfolded.modules())
    return CheckResult("fold", PASS if passed else FAIL,
                       f"{n_bn} BN layers folded; folded vs unfolded max rel {worst:.2e}",
                       {"max_rel": worst, "bn_folded": n_bn, "inputs": per_input})


# ------------------------------------------------------------------------------------------
# training mode
# ------------------------------------------------------------------------------------------
def _train_forward(tmodel: torch.nn.Module, x: np.ndarray,
                   batch_sizes: dict[str, int], bn_names: dict[torch.nn.Module, str]) -> parity.Outputs:
    """One training-mode forward of the torch twin (no gradients), recording for every BN how
    many values per channel its batch statistics are taken over (for Bessel's correction)."""
    def pre_hook(module, inp):
        batch_sizes[bn_names[module]] = inp[0].numel() // inp[0].shape[1]
    hooks = [m.register_forward_pre_hook(pre_hook) for m in bn_names]
    tmodel.train()
    try:
        with torch.no_grad():
            y = tmodel(torch.from_numpy(inputs.nhwc_to_nchw(x)))
    finally:
        tmodel.eval()
        for h in hooks:
            h.remove()
    if isinstance(y, (tuple, list)):
        return [inputs.to_nhwc(t.numpy()) for t in y]
    return inputs.to_nhwc(y.numpy())


def _moving_stats_errors(pairs: list[transfer.Pair], before: dict[str, torch.Tensor],
                         batch_sizes: dict[str, int], tol: catalogue.Tolerance) -> list[tuple[str, str, parity.Error]]:
    """(layer, statistic, error) of every BN's updated moving mean and variance, Keras against
    torch. The one documented difference is modelled, not tolerated: torch updates the moving
    variance with the unbiased batch variance, Keras with the biased one, so Keras' expected
    value is ``torch_new - (torch_new - (1 - m) * old) / n`` (n values per channel)."""
    out = []
    for p in pairs:
        bn = p.module
        m = bn.momentum if bn.momentum is not None else 0.1
        n = batch_sizes.get(p.name)
        if n is None:                      # a BN the forward pass never reached
            continue
        t_mean = bn.running_mean.double().numpy()
        t_var = bn.running_var.double().numpy()
        old = before[p.name].double().numpy()
        k_var_expected = t_var - (t_var - (1 - m) * old) / max(n, 1)
        kvars = {transfer._short(v): np.asarray(v.numpy(), dtype=np.float64) for v in p.layer.weights}
        out.append((p.name, "moving_mean", parity.compare(t_mean, kvars["moving_mean"], tol)))
        out.append((p.name, "moving_variance", parity.compare(k_var_expected, kvars["moving_variance"], tol)))
    return out


def check_train(net: Network, seed: int = 0) -> CheckResult:
    """The twins in training mode: one forward pass on the parity inputs (at the first parity
    size) with BN taking batch statistics. Judged: every head of the training-mode outputs under
    the train-mode output line (``catalogue.train_output_tolerance``), and every BN's updated
    moving mean and variance under the statistics' line (``catalogue.train_tolerance``; torch
    momentum m <-> Keras momentum 1 - m; Bessel's correction modelled). Eval-mode parity cannot
    see a wrong momentum or a layer that acts only in training (a dropout one twin has); this
    can. Names the first BN (torch order) whose statistics diverge, else the first layer whose
    training-mode activation does."""
    tol = catalogue.train_tolerance(net.tolerance)
    out_tol = catalogue.train_output_tolerance(net.tolerance)
    size = tuple(net.parity_sizes[0])
    sets = parity_inputs(net, size, seed)
    x = np.concatenate([b for _, b, _ in sets])
    tmodel, kmodel = prepare_twins(net, size, seed, x)
    pairs = [p for p in transfer.pair_layers(tmodel, kmodel) if p.rule.name == "batch_norm"]
    before = {p.name: p.module.running_var.clone() for p in pairs}
    batch_sizes: dict[str, int] = {}
    yt = _train_forward(tmodel, x, batch_sizes, {p.module: p.name for p in pairs})
    yk = kmodel(x, training=True)
    yk = [np.asarray(t) for t in yk] if isinstance(yk, (tuple, list)) else np.asarray(yk)
    out_err = parity.compare(yt, yk, out_tol)
    stats = _moving_stats_errors(pairs, before, batch_sizes, tol)
    bad = [(name, stat, err) for name, stat, err in stats if not err.passed]
    passed = not bad and out_err.passed
    worst_stat = max((e.max_rel for _, _, e in stats), default=0.0)
    summary = (f"train-mode output max rel {out_err.max_rel:.2e} (line {out_tol.atol:g} + {out_tol.rtol:g}*scale); "
               f"{len(pairs)} BN moving statistics max rel {worst_stat:.2e}")
    divergence: dict[str, Any] | None = None
    if bad:
        divergence = {"layer": bad[0][0], "statistic": bad[0][1]}
        summary += f"; first diverging BN {bad[0][0]!r} ({bad[0][1]}, rel {bad[0][2].max_rel:.2e})"
    elif out_err.shape_mismatch:
        summary += f"; training-mode outputs differ in shape ({out_err.shape_mismatch})"
    elif not out_err.passed:
        # the statistics agree, the outputs do not: a layer that acts differently in training
        found = parity.first_divergence(tmodel, kmodel, x, out_tol, training=True)
        divergence = {"layer": found.layer, "statistic": None}
        summary += (f"; first diverging layer in training mode {found.layer!r} (rel {found.error.max_rel:.2e})"
                    if found.layer else "; no intermediate layer exceeds the line in training mode")
    return CheckResult("train", PASS if passed else FAIL, summary, {
        "output": out_err.as_dict(), "bn_layers": len(pairs), "moving_stats_max_rel": worst_stat,
        "tolerance": {"atol": tol.atol, "rtol": tol.rtol, "why": tol.why},
        "output_tolerance": {"atol": out_tol.atol, "rtol": out_tol.rtol, "why": out_tol.why},
        "first_divergence": divergence,
        "seed": seed, "size": list(size), "batch": int(x.shape[0]),
    })


# ------------------------------------------------------------------------------------------
# all checks of one network
# ------------------------------------------------------------------------------------------
CHECKS = ("params", "macs", "parity", "fold", "train", "reference", "witness")


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


def check_network(name: str, checks: tuple[str, ...] = CHECKS, seed: int = 0) -> NetworkReport:
    net = catalogue.get(name)
    unknown = set(checks) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown check(s) {sorted(unknown)}; known: {', '.join(CHECKS)}")
    keras.backend.clear_session()
    results: dict[str, CheckResult] = {}
    canonical: dict[str, keras.Model] = {}

    def canonical_keras() -> keras.Model:
        if "model" not in canonical:
            canonical["model"] = keras_models.build(net.name)
        return canonical["model"]

    if "params" in checks:
        results["params"] = _guard("params", lambda: check_params(net, canonical_keras()))
    if "macs" in checks:
        results["macs"] = _guard("macs", lambda: check_macs(net, canonical_keras()))
    if "parity" in checks:
        prebuilt = {}
        if "model" in canonical:
            prebuilt[tuple(net.input_size)] = canonical["model"]
        results["parity"] = _guard("parity", lambda: check_parity(net, seed, prebuilt))
    if "fold" in checks:
        results["fold"] = _guard("fold", lambda: check_fold(net, seed))
    if "train" in checks:
        results["train"] = _guard("train", lambda: check_train(net, seed))
    if "reference" in checks:
        from conformance.reference import check_reference
        results["reference"] = _guard("reference", lambda: check_reference(net, seed))
    if "witness" in checks:
        from conformance.witnesses import check_witnesses
        results["witness"] = _guard("witness", lambda: check_witnesses(net, seed))
    return NetworkReport(net.name, net.description, net.task, results)
