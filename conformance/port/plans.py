"""Where each source tensor goes: a plan per file format (the TF checkpoint dialects, the
keras.applications and torchvision pairings by position, our own names), and both twins filled
from it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from conformance.lib import dtypes
from conformance.lib.ports import PortError
from twinzoo.graphs import Dialect
from twinzoo import catalogue
from twinzoo.catalogue import Network
from conformance.port.sources import EMA_SUFFIX, Source


def refuse_placed(source: Source, plan: "Plan") -> list[dict[str, str]]:
    """Refuse a placed tensor whose dtype the policy refuses (PortError naming it); the
    conversions made to the placed tensors, for the certificate."""
    conversions = []
    for name in dict.fromkeys(p["source"] for p in plan.placements):
        dtype = source.dtypes.get(name, "float32")
        try:
            dtypes.check(name, dtype, f"{source.path}: ")
        except dtypes.DtypeRefused as exc:
            raise PortError(str(exc)) from None
        if (c := dtypes.conversion(name, dtype)) is not None:
            conversions.append(c)
    return conversions


@dataclass
class Plan:
    """What a file puts into which twin: ``values`` by target (Keras ``(layer, weight)`` or torch
    state-dict key) in the twin ``framework`` speaks to, built with ``opts``."""
    framework: str                                   # "keras" | "torch"
    opts: dict[str, Any]
    dialect: str
    values: dict[Any, np.ndarray]
    placements: list[dict[str, Any]]                 # source, shape, target, how
    ignored: list[dict[str, Any]] = field(default_factory=list)     # source, shape, reason
    filled: list[dict[str, Any]] = field(default_factory=list)      # target, value, reason


# variables of any TF training checkpoint that are not the network's
TRAINING_STATE = (
    (r"global_step", "the training step counter"),
    (r".+/(Momentum|RMSProp(_1)?|Adam(_1)?|Adagrad|Adadelta(_1)?|Ftrl(_1)?)", "an optimiser slot"),
    (r"beta[12]_power(_\d+)?", "Adam's running powers of beta1/beta2"),
)


def _dialect_of(net: Network) -> Dialect | None:
    """``net``'s own TF checkpoint dialect: its spec's ``checkpoint`` (released checkpoints whose
    names the graph does not give: MobileNet v1's slim ones, FaceNet's Inception-ResNet-v1, slim's
    VGG-16 with its extra ``mean_rgb``), else its AI Benchmark graph's (TF-slim's own scopes for
    the slim networks, so slim's released checkpoints read the same)."""
    if net.checkpoint is not None:
        return net.checkpoint
    if net.graph is not None:
        return Dialect(f"{net.graph.meta} / its authors' scopes", net.graph.rules)
    return None


def tf_dialect(net: Network) -> Dialect:
    """The naming of a TF checkpoint of ``net``: its own dialect, else its family's (the network
    named as the family: a width or resolution variant reads the base network's names)."""
    d = _dialect_of(net)
    if d is None and net.family in catalogue.names():
        d = _dialect_of(catalogue.get(net.family))
    if d is None:
        with_one = sorted(n.name for n in catalogue.networks() if _dialect_of(n) is not None)
        raise PortError(f"no TF checkpoint dialect for {net.name}: the networks with one are "
                        f"{', '.join(with_one)} (and their variants)")
    return d


def _reason(name: str, rules: tuple[tuple[str, str], ...]) -> str | None:
    return next((why for pat, why in rules if re.fullmatch(pat, name)), None)


def _problems(kind: str, items: list[str]) -> str:
    shown = "; ".join(items[:8]) + (f"; ... {len(items) - 8} more" if len(items) > 8 else "")
    return f"{len(items)} {kind}: {shown}"


def plan_tf_checkpoint(net: Network, source: Source, kmodel: Any, ema: str) -> Plan:
    from conformance.lib import graphs as ref
    d = tf_dialect(net)
    names = list(source.tensors)
    shadows = {n[: -len(EMA_SUFFIX)] for n in names if n.endswith(EMA_SUFFIX)}
    if ema == "use" and not shadows:
        raise PortError(f"{source.path}: --ema use, but the checkpoint holds no '{EMA_SUFFIX}' shadow variables")
    use_ema = bool(shadows) and ema in ("auto", "use")
    ignored, candidates = [], []
    for n in names:
        if n.endswith(EMA_SUFFIX):
            continue                                   # accounted for with the variable it shadows
        why = _reason(n, TRAINING_STATE + d.ignore)
        if why:
            ignored.append({"source": n, "shape": list(source.tensors[n].shape), "reason": why})
        else:
            candidates.append(n)
    mapping = ref.map_variables(d, [(n, source.tensors[n].shape) for n in candidates], kmodel)
    fill_rules = {leaf: (value, why) for leaf, value, why in d.fill}
    filled, keras_left = [], []
    for item in mapping.keras_leftovers:
        target = item.split(" ")[0]
        layer, _, leaf = target.rpartition("/")
        if leaf in fill_rules:
            filled.append({"target": target, "value": fill_rules[leaf][0], "reason": fill_rules[leaf][1]})
        else:
            keras_left.append(item)
    problems = []
    if mapping.graph_leftovers:
        problems.append(_problems(f"checkpoint variable(s) with no place in {net.name}", mapping.graph_leftovers))
    if keras_left:
        problems.append(_problems(f"weight(s) of {net.name} the checkpoint does not hold", keras_left))
    if mapping.shape_mismatches:
        problems.append(_problems("shape mismatch(es)", mapping.shape_mismatches))
    if problems:
        raise PortError(f"{source.path} does not fit {net.name} (dialect: {d.name}): " + " | ".join(problems))
    values, placements = {}, []
    placed = set()
    for n in dict.fromkeys(p["graph"] for p in mapping.pairs):
        shadow = use_ema and n in shadows
        src = n + EMA_SUFFIX if shadow else n
        how = "its ExponentialMovingAverage shadow, as TF-slim evaluates" if shadow else "as is"
        if n in mapping.splits:
            how = f"{how}; {mapping.splits[n].how}"
        for (layer, weight), value in mapping.keras_values(n, source.tensors[src]).items():
            values[(layer, weight)] = value
            placements.append({"source": src, "shape": list(source.tensors[n].shape),
                               "target": f"keras:{layer}/{weight}", "how": how})
        placed.add(n)
    for n in sorted(shadows):
        if n in placed and use_ema:
            ignored.append({"source": n, "shape": list(source.tensors[n].shape),
                            "reason": "the raw value of a variable whose ExponentialMovingAverage shadow is used"})
        elif n in placed:
            ignored.append({"source": n + EMA_SUFFIX, "shape": list(source.tensors[n + EMA_SUFFIX].shape),
                            "reason": "an ExponentialMovingAverage shadow (--ema ignore: the raw value is used)"})
        else:
            ignored.append({"source": n + EMA_SUFFIX, "shape": list(source.tensors[n + EMA_SUFFIX].shape),
                            "reason": "the shadow of a variable that is not the network's"})
    for f in filled:
        layer, _, leaf = f["target"].rpartition("/")
        w = next(v for v in kmodel.get_layer(layer).weights if v.path.rsplit("/", 1)[-1] == leaf)
        values[(layer, leaf)] = np.full(tuple(w.shape), f["value"], dtype=np.float32)
        f["target"] = f"keras:{f['target']}"
    return Plan("keras", dict(net.opts), d.name, values, placements, ignored, filled)


def keras_app_for(net: Network):
    """The keras.applications model whose weight files fit ``net`` (``witnesses.KERAS_WITNESSES``;
    the MobileNets' other widths and sizes by the family's witness with this variant's alpha)."""
    import dataclasses

    from conformance.lib.keras_witness import KERAS_WITNESSES
    w = KERAS_WITNESSES.get(net.name)
    if w is None and net.family in ("mobilenet_v1", "mobilenet_v2") and net.family in KERAS_WITNESSES:
        base = KERAS_WITNESSES[net.family]
        w = dataclasses.replace(base, model=net.name, size=tuple(net.input_size),
                                app_kwargs={**base.app_kwargs, "alpha": net.opts.get("alpha", 1.0)})
    if w is None:
        raise PortError(f"no keras.applications model matches {net.name}; Keras weight files are read for "
                        f"{', '.join(sorted(KERAS_WITNESSES))} and the MobileNets' variants")
    return w


def _keras3_names(model: Any) -> dict[str, Any]:
    """The names Keras 3's ``save_weights`` gives a functional model's layers in a
    ``.weights.h5``: the class name in snake case, numbered ``_1``, ``_2`` ... in layer order
    (``keras.src.saving.saving_lib``'s container naming; checked against the file's own groups,
    so a Keras that names otherwise fails loudly, not silently)."""
    from keras.src.utils import naming
    used: dict[str, int] = {}
    out = {}
    for layer in model.layers:
        base = naming.to_snake_case(layer.__class__.__name__)
        n = used.get(base, -1) + 1
        used[base] = n
        out[base if n == 0 else f"{base}_{n}"] = layer
    return out


def plan_keras_h5(net: Network, source: Source) -> Plan:
    import keras

    import keras_models
    from conformance.lib.keras_witness import WitnessMismatch, build_keras_witness, copy_by_position
    w = keras_app_for(net)
    app = build_keras_witness(w)
    by_layer: dict[str, list[str]] = {}
    for key in source.tensors:
        lname = key.split("/")[1] if key.startswith("layers/") and "/vars/" in key else key.split("/")[0]
        by_layer.setdefault(lname, []).append(key)
    names = _keras3_names(app) if source.meta["layout"].startswith("Keras 3") else {layer.name: layer for layer in app.layers}
    problems, app_of_key = [], {}
    for lname, keys in by_layer.items():
        layer = names.get(lname)
        if layer is None:
            problems.append(f"{lname} ({len(keys)} tensors): no such layer in keras.applications.{w.app}")
            continue
        if len(keys) != len(layer.weights):
            problems.append(f"{lname}: {len(keys)} tensors in the file, {len(layer.weights)} weights in the layer")
            continue
        for key, var in zip(keys, layer.weights):
            if tuple(source.tensors[key].shape) != tuple(var.shape):
                problems.append(f"{key} {list(source.tensors[key].shape)} -> {layer.name}/{var.name} {list(var.shape)}")
            app_of_key[key] = (layer, var)
    fed = {id(v) for _, v in app_of_key.values()}
    unfed = [f"{layer.name}/{v.name} {list(v.shape)}" for layer in app.layers for v in layer.weights if id(v) not in fed]
    if unfed:
        problems.append(_problems(f"weight(s) of keras.applications.{w.app} the file does not hold "
                                  "(an include_top=False file?)", unfed))
    if problems:
        raise PortError(f"{source.path} does not fit keras.applications.{w.app} (the architecture of "
                        f"{net.name}): " + " | ".join(problems[:8]))
    for key, (_, var) in app_of_key.items():
        var.assign(source.tensors[key])
    ours = keras_models.build(net.name, input_size=w.size, **w.opts)
    try:
        pairs = copy_by_position(app, ours)
    except WitnessMismatch as exc:
        raise PortError(f"keras.applications.{w.app} does not pair with our {net.name}: {exc}") from None
    ours_of = {}
    for (theirs_name, ours_name) in pairs:
        for tv, ov in zip(app.get_layer(theirs_name).weights, ours.get_layer(ours_name).weights):
            ours_of[id(tv)] = (ours_name, ov.path.rsplit("/", 1)[-1], tuple(ov.shape))
    values, placements = {}, []
    for key, (layer, var) in app_of_key.items():
        ol, ow, oshape = ours_of[id(var)]
        value = np.asarray(var.numpy())
        how = "as is" if value.shape == oshape else f"reshaped {list(value.shape)} -> {list(oshape)} (Dense -> our conv)"
        values[(ol, ow)] = value.reshape(oshape)
        placements.append({"source": key, "shape": list(value.shape), "target": f"keras:{ol}/{ow}",
                           "how": f"keras.applications.{w.app} {layer.name}/{var.name}, {how}"})
    keras.backend.clear_session()
    return Plan("keras", {**net.opts, **w.opts}, f"keras.applications.{w.app} ({source.meta['layout']})",
                values, placements)


def plan_torch_state_dict(net: Network, source: Source) -> Plan:
    import torch

    import torch_models
    from conformance.lib.torchvision_witness import TORCHVISION_WITNESSES, position_plan, state_dict_groups
    counters = [k for k in source.tensors if k.endswith("num_batches_tracked")]
    ignored = [{"source": k, "shape": list(source.tensors[k].shape), "reason": "BN's batch counter (not a weight)"}
               for k in counters]
    state = {k: v for k, v in source.tensors.items() if k not in counters}
    ours = {k: v for k, v in torch_models.build(net.name).state_dict().items() if not k.endswith("num_batches_tracked")}
    if state.keys() == ours.keys():
        bad = [f"{k} {list(state[k].shape)} vs ours {list(ours[k].shape)}" for k in ours
               if tuple(state[k].shape) != tuple(ours[k].shape)]
        if bad:
            raise PortError(f"{source.path}: our {net.name} names, other shapes (another variant?): "
                            + _problems("shape mismatch(es)", bad))
        return Plan("torch", dict(net.opts), "twinzoo torch names", dict(state),
                    [{"source": k, "shape": list(v.shape), "target": f"torch:{k}", "how": "as is"}
                     for k, v in state.items()], ignored)
    w = TORCHVISION_WITNESSES.get(net.name)
    if w is None:
        missing = sorted(ours.keys() - state.keys())
        unexpected = sorted(state.keys() - ours.keys())
        raise PortError(f"{source.path}: its names are not {net.name}'s ("
                        + _problems("missing", missing) + " | " + _problems("unexpected", unexpected)
                        + f"), and {net.name} has no torchvision counterpart to pair it with by position")
    target = torch_models.build(net.name, **w.opts)
    groups = state_dict_groups({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    try:
        plan = position_plan(groups, target)
    except ValueError as exc:
        raise PortError(f"{source.path}: not torchvision.models.{w.ctor}'s state dict for {net.name}: {exc}") from None
    values, placements = {}, []
    for src_key, dst_key, tgt, value in plan:
        values[dst_key] = value.numpy()
        how = "as is" if tuple(state[src_key].shape) == tuple(tgt.shape) else \
            f"reshaped {list(state[src_key].shape)} -> {list(tgt.shape)} (Linear -> our conv)"
        placements.append({"source": src_key, "shape": list(state[src_key].shape), "target": f"torch:{dst_key}",
                           "how": f"torchvision.models.{w.ctor} by position, {how}"})
    return Plan("torch", {**net.opts, **w.opts}, f"torchvision.models.{w.ctor} state dict", values, placements, ignored)


def plan_twinzoo(net: Network, source: Source) -> Plan:
    from conformance.lib import weights
    meta = source.meta
    if meta.get("network") != net.name:
        raise PortError(f"{source.path}: twinzoo weights of {meta.get('network')!r}, not {net.name!r}")
    framework = meta.get("framework")
    if framework not in ("torch", "keras"):
        raise PortError(f"{source.path}: unknown framework {framework!r} in its metadata")
    opts = weights.file_options(source.path, {"__metadata__": meta})
    values = {tuple(k.split("/", 1)) if framework == "keras" else k: v for k, v in source.tensors.items()}
    return Plan(framework, opts, f"twinzoo safetensors ({framework})", values,
                [{"source": k, "shape": list(v.shape), "target": f"{framework}:{k}", "how": "as is"}
                 for k, v in source.tensors.items()])


PLANNERS = {"keras-h5": plan_keras_h5, "torch-state-dict": plan_torch_state_dict, "twinzoo": plan_twinzoo}


def _require_fit(twin: str, values: dict[Any, Any], targets: dict[Any, tuple[int, ...]]) -> None:
    """Every target fed exactly once with its shape, or a PortError naming what is not."""
    def name(k: Any) -> str:
        return "/".join(k) if isinstance(k, tuple) else k
    missing = sorted(name(k) for k in targets.keys() - values.keys())
    extra = sorted(name(k) for k in values.keys() - targets.keys())
    bad = [f"{name(k)} {list(np.shape(v))} vs {list(targets[k])}" for k, v in values.items()
           if k in targets and tuple(np.shape(v)) != tuple(targets[k])]
    if missing or extra or bad:
        raise PortError(f"{twin}: " + " | ".join(
            _problems(k, v) for k, v in (("unfed", missing), ("unknown", extra), ("misshapen", bad)) if v))


def twins_from_plan(net: Network, plan: Plan, size: tuple[int, int]) -> tuple[Any, Any]:
    """The torch and Keras twins built with ``plan.opts``, the plan's twin filled from the file,
    the other through ``conformance.lib.transfer`` (a TransferError is a PortError: nothing fits)."""
    import torch

    import keras_models
    import torch_models
    from conformance.lib import transfer
    tmodel = torch_models.build(net.name, **plan.opts)
    kmodel = keras_models.build(net.name, input_size=size, **plan.opts)
    try:
        if plan.framework == "keras":
            variables = {(layer.name, v.path.rsplit("/", 1)[-1]): v for layer in kmodel.layers for v in layer.weights}
            _require_fit(f"{net.name}'s Keras twin", plan.values, {k: tuple(v.shape) for k, v in variables.items()})
            for key, var in variables.items():
                var.assign(np.asarray(plan.values[key], dtype=np.float32))
            transfer.keras_to_torch(kmodel, tmodel)
        else:
            state = {k: v for k, v in tmodel.state_dict().items() if not k.endswith("num_batches_tracked")}
            _require_fit(f"{net.name}'s torch twin", plan.values, {k: tuple(v.shape) for k, v in state.items()})
            tmodel.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in plan.values.items()},
                                   strict=False)        # every key proven above; counters not stored
            transfer.torch_to_keras(tmodel, kmodel)
    except transfer.TransferError as exc:
        raise PortError(f"the twins do not take these weights: {exc}") from None
    return tmodel.eval(), kmodel
