"""The witness check: independent definitions (keras.applications, torchvision where it
imports) loaded with our twins' weights, all outputs equal on real images."""

from __future__ import annotations

import numpy as np
import torch

import keras

import keras_models
import torch_models

from conformance.checks.result import FAIL, PASS, SKIP, CheckResult
# both witness libraries pair weights by position, each with its own copy_by_position: called by module
from conformance.lib import keras_witness, torchvision_witness, twins
from conformance.lib.keras_witness import KERAS_WITNESSES, KerasWitness, build_keras_witness
from conformance.lib.torchvision_witness import TORCHVISION_WITNESSES, torchvision_or_reason
from twinzoo.catalogue import Network


def check_keras_witness(net: Network, seed: int = 0):
    """keras.applications' network with weights loaded into both our twins: outputs equal."""
    from conformance.lib import parity, transfer
    if net.name not in KERAS_WITNESSES:
        return CheckResult("witness_keras", SKIP, f"no keras.applications twin of {net.name}")
    w = KERAS_WITNESSES[net.name]
    sets = twins.parity_inputs(net, w.size, seed, images=2, randoms=0)
    x = sets[0][1]
    # non-trivial, calibrated weights for the witness: from our randomised twin
    _, donor_k = _prepare_with_opts(net, w, seed, x)
    witness = build_keras_witness(w)
    keras_witness.copy_by_position(donor_k, witness)
    # the path under test: their weights -> our fresh Keras twin -> our fresh torch twin
    ours_k = keras_models.build(net.name, input_size=w.size, **w.opts)
    pairs = keras_witness.copy_by_position(witness, ours_k)
    ours_t = torch_models.build(net.name, **w.opts)
    transfer.keras_to_torch(ours_k, ours_t)
    ref = np.asarray(witness(x, training=False))
    tol = net.tolerance
    vs_k = parity.compare(ref, parity.run_keras(ours_k, x), tol)
    vs_t = parity.compare(ref, parity.run_torch(ours_t, x), tol)
    ok = vs_k.passed and vs_t.passed
    summary = (f"keras.applications.{w.app}: {len(pairs)} layers loaded; vs our Keras rel {vs_k.max_rel:.1e}, "
               f"vs our torch rel {vs_t.max_rel:.1e}")
    return CheckResult("witness_keras", PASS if ok else FAIL, summary, {
        "witness": f"keras.applications.{w.app}", "keras_version": keras.__version__,
        "input_size": list(w.size), "inputs": sets[0][2], "layers": len(pairs),
        "vs_keras": vs_k.as_dict(), "vs_torch": vs_t.as_dict(),
    })


def _prepare_with_opts(net: Network, w: KerasWitness, seed: int, x: np.ndarray):
    """Randomised, calibrated twins built with the witness's options (e.g. 1000 classes)."""
    import torch
    from conformance.lib import inputs, trained_like, transfer
    torch.manual_seed(seed)
    tmodel = torch_models.build(net.name, **w.opts)
    trained_like.randomize(tmodel, seed, torch.from_numpy(inputs.nhwc_to_nchw(x)))
    kmodel = keras_models.build(net.name, input_size=w.size, **w.opts)
    transfer.torch_to_keras(tmodel, kmodel)
    return tmodel, kmodel


def check_witnesses(net: Network, seed: int = 0):
    """Every independent definition of ``net`` that exists here (keras.applications, torchvision),
    as one check: pass when each present witness agrees, skip when there is none."""
    results = [check_keras_witness(net, seed)]
    try:
        from conformance.lib.torchvision_witness import check_torchvision_witness
    except ImportError:            # pragma: no cover - module ships with the package
        pass
    else:
        results.append(check_torchvision_witness(net, seed))
    ran = [r for r in results if r.status != SKIP]
    data = {r.check: {"status": r.status, "summary": r.summary, **r.data} for r in results}
    if not ran:
        return CheckResult("witness", SKIP, "; ".join(r.summary for r in results), data)
    status = PASS if all(r.status == PASS for r in ran) else FAIL
    return CheckResult("witness", status, "; ".join(r.summary for r in ran), data)


def check_torchvision_witness(net: Network, seed: int = 0):
    from conformance.lib import inputs, parity, trained_like, transfer
    if net.name not in TORCHVISION_WITNESSES:
        return CheckResult("witness_torchvision", SKIP, f"no torchvision twin of {net.name}")
    tv, reason = torchvision_or_reason()
    if tv is None:
        return CheckResult("witness_torchvision", SKIP, f"skipped: {reason}")
    w = TORCHVISION_WITNESSES[net.name]
    x = twins.parity_inputs(net, w.size, seed, images=2, randoms=0)[0][1]
    witness = getattr(tv.models, w.ctor)(weights=None, num_classes=w.opts.get("num_classes", 1000),
                                         **w.ctor_kwargs).eval()
    trained_like.randomize(witness, seed, torch.from_numpy(inputs.nhwc_to_nchw(x)))
    ours_t = torch_models.build(net.name, **w.opts)
    layers = torchvision_witness.copy_by_position(witness, ours_t)
    ours_k = keras_models.build(net.name, input_size=w.size, **w.opts)
    transfer.torch_to_keras(ours_t, ours_k)
    ref = parity.run_torch(witness, x)
    vs_t = parity.compare(ref, parity.run_torch(ours_t, x), net.tolerance)
    vs_k = parity.compare(ref, parity.run_keras(ours_k, x), net.tolerance)
    ok = vs_t.passed and vs_k.passed
    return CheckResult(
        "witness_torchvision", PASS if ok else FAIL,
        f"torchvision.models.{w.ctor} ({tv.__version__}): {layers} layers loaded; vs our torch rel "
        f"{vs_t.max_rel:.1e}, vs our Keras rel {vs_k.max_rel:.1e}",
        {"witness": f"torchvision.models.{w.ctor}", "torchvision_version": tv.__version__,
         "torch_version": torch.__version__, "options": dict(w.opts), "input_size": list(w.size),
         "vs_torch": vs_t.as_dict(), "vs_keras": vs_k.as_dict()})
