"""Parameters and MACs, each framework counted on its own, against each other and the published
figures."""

from __future__ import annotations

import keras

import keras_models
from conformance.checks.result import FAIL, PASS, CheckResult, judge_figure
from conformance.lib import counting
from twinzoo.catalogue import Network


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
