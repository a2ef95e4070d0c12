"""The certificate: both twins holding the file judged on the package's real images, against
the AI Benchmark graph and on top-1; written with the weight files it binds."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from conformance.lib.ports import PortError
from twinzoo import files
from twinzoo.catalogue import Network
from conformance.port.plans import Plan
from conformance.port.sources import EMA_SUFFIX, Source


def _first(out: Any) -> np.ndarray:
    return np.asarray(out[0] if isinstance(out, (list, tuple)) else out)


def _param_counts(net: Network, plan: Plan, tmodel: Any, kmodel: Any) -> dict[str, Any]:
    """Counts of the twins as built, and (when the file is for the catalogue's variant) every
    published parameter figure of the network under its convention (``conformance.checks.counts.check_params``)."""
    from conformance.checks import counts
    from conformance.lib import counting
    roles = counting.torch_param_roles(tmodel)
    k = counting.keras_param_counts(kmodel)
    t_train = counting.count_convention(roles, "trainable")
    out: dict[str, Any] = {"torch_trainable": t_train, "torch_stats": roles["stats"], "keras": k,
                           "twins_agree": t_train == k["trainable"] and t_train + roles["stats"] == k["total"]}
    if plan.opts == dict(net.opts):
        res = counts.check_params(net, kmodel)
        out["catalogue"] = {"status": res.status, "summary": res.summary, "published": res.data["published"]}
    else:
        out["catalogue"] = {"status": "skip", "summary": f"options {plan.opts} are not the catalogue's "
                            f"{dict(net.opts)}: the published figures are of the catalogue's variant"}
    return out


def _top1(net: Network, tmodel: Any, kmodel: Any, size: tuple[int, int], tol: Any,
          images: int | None = None) -> dict[str, Any]:
    """The twins' top-1 over every classification image of the package (the first ``images``
    if given); a disagreement is a failure unless torch's top two logits are within the parity
    tolerance of each other there (a tie float32 may break either way)."""
    from conformance.lib import inputs, parity
    files = inputs.image_files("classification")[:images]
    agree, ties, disagree = 0, [], []
    for start in range(0, len(files), 10):
        x = inputs.load_images(net, size, count=min(10, len(files) - start), offset=start)
        lt, lk = _first(parity.run_torch(tmodel, x)), _first(parity.run_keras(kmodel, x))
        lt, lk = lt.reshape(len(x), -1), lk.reshape(len(x), -1)
        for i in range(len(x)):
            name = files[start + i].name
            if lt[i].argmax() == lk[i].argmax():
                agree += 1
                continue
            top2 = np.sort(lt[i])[-2:]
            gap = float(top2[1] - top2[0])
            line = tol.atol + tol.rtol * float(np.abs(lt[i]).max())
            (ties if gap <= line else disagree).append({"image": name, "torch": int(lt[i].argmax()),
                                                        "keras": int(lk[i].argmax()), "torch_top2_gap": gap})
    return {"images": len(files), "size": list(size), "agree": agree, "near_ties": ties, "disagree": disagree,
            "status": "pass" if not disagree else "fail"}


def _reference(net: Network, plan: Plan, kmodel: Any, tmodel: Any, seed: int,
               source: Source | None = None) -> dict[str, Any]:
    """The AI Benchmark graph loaded with the ported weights against both twins, when the network
    has a graph and the file is for the graph's variant."""
    from conformance.lib import graphs as ref
    from conformance.lib import parity, twins
    spec = ref.GRAPHS.get(net.name)
    if spec is None:
        return {"status": "skip", "summary": f"AI Benchmark has no graph of {net.name}"}
    if plan.opts != dict(net.opts):
        return {"status": "skip", "summary": f"the file is for options {plan.opts}, the graph for {dict(net.opts)}"}
    try:
        ref.graph_path(spec)
    except ref.ReferenceUnavailable as exc:
        return {"status": "skip", "summary": str(exc)}
    size = spec.input_size or tuple(net.parity_sizes[0])
    x = twins.sample_inputs(net, size, seed)[1]
    k_at = keras_at(net, plan, kmodel, size)
    if source is not None and source.format == "tf-checkpoint":
        # a checkpoint in the graph's own names (a graph's network reads its graph's dialect): the
        # graph restores it by name, through none of our rules, so a rule that put a tensor in the
        # wrong place cannot hide on both sides
        by_base = {p["source"].removesuffix(EMA_SUFFIX): source.tensors[p["source"]] for p in plan.placements}
        loaded, how = by_base, "the checkpoint's own values by the graph's names (no mapping rule)"
    else:
        loaded, how = None, "the Keras twin's weights through the graph's mapping rules"
    mapping, graph_out = ref.run_graph(spec, k_at, x, loaded)
    if graph_out is None:
        return {"status": "fail", "summary": "the graph's variables do not map onto the twin",
                "problems": mapping.graph_leftovers + mapping.keras_leftovers + mapping.shape_mismatches}
    vs_k = parity.compare(graph_out, _first(parity.run_keras(k_at, x)), net.tolerance)
    vs_t = parity.compare(graph_out, _first(parity.run_torch(tmodel, x)), net.tolerance)
    ok = vs_k.passed and vs_t.passed
    return {"status": "pass" if ok else "fail", "graph": f"ai_benchmark/models/{spec.meta}",
            "loaded": how,
            "summary": f"{len(mapping.pairs)} graph variables loaded ({how}); graph vs Keras rel "
                       f"{vs_k.max_rel:.1e}, vs torch rel {vs_t.max_rel:.1e} at {size[0]}x{size[1]}",
            "vs_keras": vs_k.as_dict(), "vs_torch": vs_t.as_dict()}


def keras_at(net: Network, plan: Plan, kmodel: Any, size: tuple[int, int]) -> Any:
    """The Keras twin at another input size, holding ``kmodel``'s weights."""
    import keras_models
    if tuple(kmodel.input_shape[1:3]) == tuple(size):
        return kmodel
    other = keras_models.build(net.name, input_size=size, **plan.opts)
    other.set_weights(kmodel.get_weights())
    return other


def certify(net: Network, plan: Plan, tmodel: Any, kmodel: Any, size: tuple[int, int], seed: int,
            source: Source | None = None, images: int | None = None) -> dict[str, Any]:
    """Parity at the network's parity size (where its tolerance was placed), the reference graph
    at the graph's size, top-1 at ``size``."""
    from conformance.lib import parity, twins
    tol = net.tolerance
    per_input = []
    psize = tuple(kmodel.input_shape[1:3])
    for kind, x, desc in twins.parity_inputs(net, psize, seed):
        err = parity.compare(parity.run_torch(tmodel, x), parity.run_keras(kmodel, x), tol)
        per_input.append({"kind": kind, "source": desc, "batch": int(x.shape[0]), **err.as_dict()})
    par_ok = all(p["passed"] for p in per_input)
    cert: dict[str, Any] = {
        "params": _param_counts(net, plan, tmodel, kmodel),
        "parity": {"status": "pass" if par_ok else "fail", "size": list(psize),
                   "tolerance": {"atol": tol.atol, "rtol": tol.rtol, "why": tol.why},
                   "max_rel": max(p["max_rel"] for p in per_input), "inputs": per_input},
        "reference": _reference(net, plan, kmodel, tmodel, seed, source),
    }
    if net.task == "classification":
        cert["top1"] = _top1(net, tmodel, keras_at(net, plan, kmodel, size), size, tol, images)
    judged = [cert["parity"]["status"], cert["reference"]["status"], cert.get("top1", {}).get("status", "pass"),
              "pass" if cert["params"]["twins_agree"] else "fail", cert["params"]["catalogue"]["status"]]
    cert["passed"] = all(s in ("pass", "skip") for s in judged)
    return cert


def write_port(net: Network, plan: Plan, cert: dict[str, Any], tmodel: Any, kmodel: Any, out: Path) -> dict[str, Any]:
    """The weight files (when certified) and the certificate sealed over them, staged in ``out``
    and moved in together; then re-read through ``certificate.open_port`` as every user of the
    port reads it. A failed write (a full disk) is a PortError and leaves nothing."""
    from conformance.lib import certificate, weights
    try:
        with files.staging(out, ".port-") as stage:
            bindings = []
            if cert["passed"]:
                for framework, model_ in (("torch", tmodel), ("keras", kmodel)):
                    path = stage / certificate.weight_file(net.name, framework)
                    weights.save(model_, net.name, path, framework, plan.opts)
                    bindings.append(certificate.bind(path).as_dict())
            cert["written"] = bindings
            cert["certificates"] = [certificate.certificate_file(net.name), f"{net.name}.certificate.md"]
            cert = certificate.seal(cert)
            files.atomic_write(stage / cert["certificates"][0], certificate.dumps(cert))
            files.atomic_write(stage / cert["certificates"][1], markdown(cert))
            # the weight files first, the certificate that binds them last: a reader never finds a
            # certificate naming files that are not in place yet
            for f in sorted(stage.iterdir(), key=lambda f: f.name.endswith(".json")):
                os.replace(f, out / f.name)
    except (weights.WeightFileError, files.WriteFailed) as exc:
        raise PortError(str(exc)) from None
    except OSError as exc:
        raise PortError(f"cannot write the port into {out}: {files.why(exc)}") from None
    if cert["passed"]:
        try:
            certificate.open_port(out, net.name, keep=False)
        except certificate.CertificateError as exc:
            raise PortError(f"the port just written does not read back: {exc}") from None
    return cert


def _json(v: Any) -> Any:
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def markdown(cert: dict[str, Any]) -> str:
    src, t, p = cert["source"], cert["tensors"], cert["params"]
    verdict = "**CERTIFIED**" if cert["passed"] else "**NOT CERTIFIED** (no weight files written)"
    lines = [f"# twinzoo port certificate: {cert['network']}", "", verdict, "",
             f"- source: `{src['path']}` ({src['format']}; dialect: {src['dialect']})"]
    lines += [f"  - `{f['path']}`: {f['bytes']:,} bytes, sha256 `{f['sha256']}`" for f in src["files"]]
    lines += [f"  - converted to float32: `{c['tensor']}` ({c['from']})" for c in src.get("conversions", [])]
    lines += [f"- vouches for `{b['name']}`: {b['bytes']:,} bytes, sha256 `{b['sha256']}`" for b in cert["written"]]
    lines += [f"- sealed: digest `{cert['digest']}` (sha256 of the JSON certificate's content)"] if "digest" in cert else []
    lines += [f"- options: `{json.dumps(cert['options'], sort_keys=True)}`",
              f"- tensors: {t['in_file']} in the file; {t['placed']} placed, {t['ignored']} ignored by rule, "
              f"{t['filled']} weights filled by rule; none left over, none missing",
              f"- params: torch {p['torch_trainable']:,} trainable (+{p['torch_stats']:,} BN statistics), Keras "
              f"{p['keras']['trainable']:,} trainable / {p['keras']['total']:,} total; twins "
              + ("agree" if p["twins_agree"] else "DISAGREE") + f"; catalogue: {p['catalogue']['status']} "
              f"({p['catalogue']['summary']})",
              f"- parity ({cert['parity']['status']}): max rel {cert['parity']['max_rel']:.2e} at "
              f"{cert['parity']['size'][0]}x{cert['parity']['size'][1]} over "
              + ", ".join(f"{i['kind']} x{i['batch']}" for i in cert["parity"]["inputs"])
              + f" (tolerance {cert['parity']['tolerance']['atol']:g} + {cert['parity']['tolerance']['rtol']:g}*scale)",
              f"- reference graph ({cert['reference']['status']}): {cert['reference']['summary']}"]
    if "top1" in cert:
        t1 = cert["top1"]
        lines.append(f"- top-1 ({t1['status']}): the twins agree on {t1['agree']}/{t1['images']} package images at "
                     f"{t1['size'][0]}x{t1['size'][1]}; near ties {len(t1['near_ties'])}, disagreements "
                     f"{len(t1['disagree'])}")
    lines += ["", "## Where every tensor went", "", "| source | shape | target | how |", "|---|---|---|---|"]
    lines += [f"| `{x['source']}` | {x['shape']} | `{x['target']}` | {x['how']} |" for x in t["placements"]]
    if t["ignored_tensors"]:
        lines += ["", "## Ignored by rule", "", "| source | shape | reason |", "|---|---|---|"]
        lines += [f"| `{x['source']}` | {x['shape']} | {x['reason']} |" for x in t["ignored_tensors"]]
    if t["filled_weights"]:
        lines += ["", "## Filled by rule", "", "| target | value | reason |", "|---|---|---|"]
        lines += [f"| `{x['target']}` | {x['value']} | {x['reason']} |" for x in t["filled_weights"]]
    return "\n".join(lines) + "\n"
