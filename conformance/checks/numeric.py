"""The numeric checks after weight transfer: parity of the twins' outputs (with the first
diverging layer), BN folding, and training-mode behaviour."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch


import keras_models
import torch_models
from conformance.checks.result import FAIL, PASS, SKIP, CheckResult
from conformance.lib import inputs, parity, transfer
from conformance.lib.twins import input_count, keras_twin_at, parity_inputs, prepare_twins, random_torch_twin, roundtrip_exact
from twinzoo import catalogue
from twinzoo.catalogue import Network


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
    ``prepare_twins`` and is called at every size (tests and ``conformance.selftest.sensitivity`` use it to
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
