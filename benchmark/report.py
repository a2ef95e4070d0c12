"""The benchmark report: one dict (the JSON), rendered as Markdown tables and as one
self-contained HTML page with matplotlib plots embedded as base64 PNG.

Every value that depends on the run's timing lives under a key named ``timing`` (at any depth),
so ``strip_timing`` leaves what a given seed must reproduce exactly.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from typing import Any, Iterable

SCHEMA = "twinzoo-benchmark/1"
FAITHFUL_RULE = ("faithful = the artifact passes export's verification against its source twin on the same "
                 "inputs (float32: the network's parity tolerance; int8: export's SNR / top-1 criterion); "
                 "Keras/TF = the Keras twin against the torch twin under the parity tolerance; torch "
                 "channels_last and torch.compile = their outputs against the eager torch twin's under the "
                 "parity tolerance; torch eager is the reference")


# ------------------------------------------------------------------------------------------
# derived values
# ------------------------------------------------------------------------------------------
def strip_timing(obj: Any) -> Any:
    """``obj`` without any ``timing`` key: the deterministic part of a report."""
    if isinstance(obj, dict):
        return {k: strip_timing(v) for k, v in obj.items() if k != "timing"}
    if isinstance(obj, list):
        return [strip_timing(v) for v in obj]
    return obj


def median(r: dict[str, Any]) -> float | None:
    return (r.get("timing") or {}).get("median_ms") if r.get("status") == "ok" else None


def error_text(r: dict[str, Any]) -> str:
    """The runtime's output error against its source, as the verification states it."""
    v = r.get("verification") or {}
    if v.get("status") == "reference":
        return "reference"
    if "snr_db" in v and "max_rel" not in v:
        cell = f"SNR {v['snr_db']:.1f} dB"
        if "top1_agreement" in v:
            cell += f", top-1 {v['top1_agreement']:.2f}"
        return cell
    if "max_rel" in v:
        return f"rel {v['max_rel']:.1e}"
    return (v.get("error") or v.get("reason") or "-").splitlines()[0][:80]


def choose(net: dict[str, Any]) -> dict[str, Any]:
    """Fastest faithful runtime, smallest faithful artifact, unfaithful and failed runtimes."""
    rts = list(net.get("runtimes", {}).values())
    timed = [r for r in rts if r.get("faithful") and median(r) is not None]
    sized = [r for r in rts if r.get("faithful") and (r.get("artifact") or {}).get("bytes")]
    fastest = min(timed, key=median, default=None)
    fastest_fp32 = min((r for r in timed if r.get("precision", "fp32") == "fp32"), key=median, default=None)
    smallest = min(sized, key=lambda r: (r["artifact"]["bytes"], r["runtime"]), default=None)
    return {
        "fastest": {"runtime": fastest["runtime"], "median_ms": median(fastest),
                    "precision": fastest.get("precision", "fp32")} if fastest else None,
        "fastest_fp32": {"runtime": fastest_fp32["runtime"], "median_ms": median(fastest_fp32)} if fastest_fp32 else None,
        "smallest": {"runtime": smallest["runtime"], "bytes": smallest["artifact"]["bytes"]} if smallest else None,
        "unfaithful": [{"runtime": r["runtime"], "error": error_text(r)} for r in rts if r.get("faithful") is False],
        "failed": [{"runtime": r["runtime"], "stage": r.get("stage"), "error": r.get("error", "")}
                   for r in rts if r.get("status") == "error"],
    }


def choose_line(net: dict[str, Any]) -> str:
    c = choose(net)
    f, f32 = c["fastest"], c["fastest_fp32"]
    parts = [f"fastest: {f['runtime']} ({f['median_ms']:.1f} ms" + (f", {f['precision']}" if f["precision"] != "fp32" else "")
             + ")" if f else "fastest: none timed"]
    if f and f32 and f32["runtime"] != f["runtime"]:
        parts.append(f"fastest float32: {f32['runtime']} ({f32['median_ms']:.1f} ms)")
    parts.append(f"smallest: {c['smallest']['runtime']} ({c['smallest']['bytes'] / 1e6:.2f} MB)" if c["smallest"]
                 else "smallest: no faithful artifact")
    parts.append("not faithful: " + (", ".join(f"{u['runtime']} ({u['error']})" for u in c["unfaithful"]) or "none"))
    if c["failed"]:
        parts.append("failed: " + ", ".join(f"{f['runtime']} ({f['stage']})" for f in c["failed"]))
    return "; ".join(parts)


def runtime_names(report: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for net in report["networks"]:
        for name in net["runtimes"]:
            seen.setdefault(name, None)
    return list(seen)


# ------------------------------------------------------------------------------------------
# tables: (title, headers, rows), rendered to Markdown and to HTML from the same data
# ------------------------------------------------------------------------------------------
Table = tuple[str, list[str], list[list[str]]]


def _cell(r: dict[str, Any] | None) -> str:
    if r is None:
        return "–"
    if r.get("status") == "skipped":
        return "skipped"
    if r.get("status") == "error":
        return f"error ({r.get('stage', '?')})"
    t = r["timing"]
    mark = ("" if r.get("faithful", True) else " ✗") + (" ↺" if t.get("from_cache") else "")
    return f"{t['median_ms']:.1f} ms / {100 * t['peak_fraction']:.1f}%{mark}"


def size_text(rec: dict[str, Any]) -> str:
    """A record's input at batch 1: ``HxW`` for an image, as the catalogue words the others
    (``1024 steps x 300``, ``20 tokens``: one sequence or sentence per timed call)."""
    from twinzoo import catalogue
    size = tuple(rec["size"])
    try:
        net = catalogue.get(rec["network"])
    except catalogue.UnknownModelError:         # a witness row's placeholder
        net = None
    return net.shape_text(size) if net is not None and net.layout != "image" else f"{size[0]}x{size[1]}"


def summary_table(report: dict[str, Any]) -> Table:
    names = runtime_names(report)
    rows = [[f"{n['network']} {size_text(n)}", f"{n.get('macs', 0) / 1e9:.2f}"]
            + [_cell(n["runtimes"].get(rt)) for rt in names] for n in report["networks"]]
    reused, total = timings_from_cache(report)
    cached = f"; ↺ = timing reused from the artifact cache: {reused} of {total} records" if reused else ""
    return ("Summary: median latency at batch 1 (one image, sequence or sentence per call: the recurrent networks "
            f"are timed per whole sequence / translated sentence) / % of the float32 peak (✗ = output not faithful{cached})",
            ["network", "GMAC", *names], rows)


def timings_from_cache(report: dict[str, Any]) -> tuple[int, int]:
    """How many runtime records were reused from the cache, of how many."""
    rts = list(iter_records(report))
    return sum(bool((r.get("timing") or {}).get("from_cache")) for r in rts), len(rts)


def cache_text(report: dict[str, Any]) -> str:
    """The intro's sentence on what came from the artifact cache (``export.cache``)."""
    c = (report.get("timing") or {}).get("cache")
    reused, total = timings_from_cache(report)
    if not c:
        return f" {reused} of {total} timing records came from the artifact cache." if reused else ""
    if not c.get("dir"):
        return " Artifact cache off (--no-cache): everything was exported, verified and timed in this run."
    dates = sorted({(r.get("timing") or {}).get("from_cache", {}).get("measured", "") for r in iter_records(report)} - {""})
    when = f", measured {dates[0]}" + (f" to {dates[-1]}" if dates[-1] != dates[0] else "") if dates else ""
    text = (f" From the artifact cache ({c['dir']}): {reused} of {total} timing records (↺{when}; "
            + ("--retime re-measures them" if c.get("timing_reuse") else "--retime: none reused") + "), "
            f"{c['artifacts_from_cache']} of {c['artifacts']} exported artifacts with their verification, "
            + (f"{c['conformance_rows_from_cache']} of {c['conformance_rows']} conformance rows"
               if c.get("conformance_rows") else "no conformance rows")
            + (", the witness rows" if c.get("witnesses_from_cache") else "") + ".")
    if c.get("resumed_networks"):
        text += f" Resumed (--resume): {', '.join(c['resumed_networks'])} kept from the interrupted run."
    return text


def ratio_cells(net: dict[str, Any], names: list[str]) -> list[tuple[str, float | None]]:
    """Each runtime's median latency as a ratio to the best faithful runtime of the network, with
    the ratio (None where there is no faithful timed best, or the runtime has no timing)."""
    best = min((median(r) for r in net["runtimes"].values() if r.get("faithful") and median(r) is not None),
               default=None)
    cells: list[tuple[str, float | None]] = []
    for rt in names:
        r = net["runtimes"].get(rt)
        m = median(r) if r else None
        if r is None:
            cells.append(("–", None))
        elif m is None:
            cells.append((_cell(r), None))
        elif best is None:
            cells.append((f"{m:.1f} ms" + ("" if r.get("faithful", True) else " ✗"), None))
        else:
            ratio = m / best
            cells.append((("best" if r.get("faithful") and ratio == 1.0 else f"{ratio:.2f}x")
                          + ("" if r.get("faithful", True) else " ✗"), ratio))
    return cells


def ratio_table(report: dict[str, Any]) -> Table:
    names = runtime_names(report)
    rows = []
    for n in report["networks"]:
        best = (n.get("timing") or {}).get("fastest") or choose(n)["fastest"]
        rows.append([n["network"], f"{best['median_ms']:.1f} ms ({best['runtime']})" if best else "none faithful"]
                    + [c for c, _ in ratio_cells(n, names)])
    return ("Latency against the best: each runtime's median as a multiple of the fastest faithful runtime of the "
            "network (✗ = output not faithful: timed, never the best)", ["network", "best", *names], rows)


def ratio_colour(ratio: float | None, faithful: bool = True) -> str | None:
    """Green at the best, through yellow (about 3x) to red at 10x and beyond (log scale); grey
    for a runtime whose output is not faithful."""
    if ratio is None:
        return None
    if not faithful:
        return "#d9d9d9"
    t = min(math.log10(max(ratio, 1.0)), 1.0)
    return f"hsl({120 * (1 - t):.0f}, 70%, 80%)"


def ratio_colours(report: dict[str, Any]) -> list[list[str | None]]:
    names = runtime_names(report)
    return [[None, None] + [ratio_colour(ratio, (n["runtimes"].get(rt) or {}).get("faithful", True) is not False)
                            for rt, (_, ratio) in zip(names, ratio_cells(n, names))]
            for n in report["networks"]]


def network_table(net: dict[str, Any]) -> Table:
    rows = []
    for r in net["runtimes"].values():
        t = r.get("timing") or {}
        ok = r.get("status") == "ok"
        art = r.get("artifact") or {}
        rows.append([
            r["runtime"], r.get("label", ""),
            f"{t['median_ms']:.2f}" if ok else "-", f"{t['p90_ms']:.2f}" if ok else "-", str(t.get("runs", "-")),
            f"{t['gmacs_per_s']:.1f}" if ok else "-", f"{100 * t['peak_fraction']:.1f}%" if ok else "-",
            f"{art['bytes']:,}" if art else "-", error_text(r),
            {True: "yes", False: "NO", None: "-"}[r.get("faithful")],
            f"{t['export_seconds']:.1f}" if t.get("export_seconds") is not None else "-",
            f"{t['export_peak_rss_bytes'] / 2 ** 30:.1f}" if t.get("export_peak_rss_bytes") else "-",
            f"{t['first_call_seconds']:.2f}" if t.get("first_call_seconds") is not None else "-",
            r.get("status", "-") if r.get("status") != "error" else f"error: {r.get('error', '')[:120]}",
        ])
    return (f"{net['network']} at {size_text(net)} ({net.get('macs', 0) / 1e9:.3f} GMAC)",
            ["runtime", "what", "median ms", "p90 ms", "runs", "GMAC/s", "% peak", "artifact bytes",
             "error vs source", "faithful", "export s", "export peak GiB", "first call s (torch.compile: the compile)", "status"], rows)


def sizes_table(report: dict[str, Any]) -> Table:
    return ("Benchmark sizes", ["network", "size", "GMAC", "why this size"],
            [[n["network"], size_text(n), f"{n.get('macs', 0) / 1e9:.3f}", n["size_from"]]
             for n in report["networks"]])


def witness_table(report: dict[str, Any]) -> Table:
    rows = []
    for w in report.get("witnesses", []):
        t = w.get("timing") or {}
        if w.get("status") == "ok":
            flag = "over 5%" if t["over_5pct"] else "ok"
            cells = [f"{t['ours']['median_ms']:.2f}", f"{t['theirs']['median_ms']:.2f}", f"{t['ratio']:.3f}", flag]
        else:
            why = w.get("reason") or w.get("error", "")
            cells = ["-", "-", "-", f"{w.get('status')}: {why[:160]}"]
        rows.append([w["network"], w["witness"], w["runtime"], size_text(w), *cells])
    return ("Witnesses: our twin against an independent definition in the same runtime (ratio = ours/theirs, "
            "median; flagged above 1.05)",
            ["network", "witness", "runtime", "size", "ours ms", "theirs ms", "ratio", "verdict"], rows)


def conformance_table(report: dict[str, Any]) -> Table | None:
    conf = report.get("conformance")
    if not conf:
        return None
    rows = [[r["model"], "pass" if r["passed"] else "FAIL", ", ".join(f"{k} {v}" for k, v in r["checks"].items()),
             f"{r['parity_max_rel']:.1e}" if r.get("parity_max_rel") is not None else "-",
             "benchmarked" if r["model"] in {n["network"] for n in report["networks"]} else "conformance only"]
            for r in conf["rows"]]
    return (f"Conformance of the whole catalogue ({conf['passed']}/{len(conf['rows'])} pass; checks: "
            f"{', '.join(conf['checks'])})", ["network", "status", "checks", "parity max rel", "in benchmark"], rows)


def environment_rows(report: dict[str, Any]) -> list[list[str]]:
    env, peak, s = report["environment"], report["peak"], report["settings"]
    rows = [["CPU", env["cpu"]], ["cores (os.cpu_count)", str(env["cores"])], ["ISA", peak["isa"]],
            ["float32 peak", peak["formula"]], ["threads", json.dumps(s["thread_settings"])],
            ["timing plan", json.dumps(s["timing_plan"])], ["batch / input", s["input"]],
            ["export route budget", s.get("route_budget", "none")],
            *[[f"export jobs {how}", ", ".join(n for n, e in (s.get("export_schedule") or {}).items() if e[key])
               or "none"] for how, key in (("alone", "alone"), ("one per format", "per_format"))],
            ["python / platform", f"{env['python']} / {env['platform']}"]]
    rows += [[k, v or "not installed"] for k, v in env["versions"].items()]
    return rows


# ------------------------------------------------------------------------------------------
# Markdown
# ------------------------------------------------------------------------------------------
def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def md_table(table: Table) -> list[str]:
    title, headers, rows = table
    out = [f"### {title}", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]
    return out + [""]


def limits_table(report: dict[str, Any]) -> Table | None:
    """The routes that meet a known limit of their tool, with its minimal repro (``export.limits``)."""
    rows = [[n["network"], r["runtime"], r["tool_limit"]["what"], r["tool_limit"]["repro"]]
            for n in report["networks"] for r in n["runtimes"].values() if r.get("tool_limit")]
    return ("Tool limits met (each proven by a minimal repro)", ["network", "runtime", "limit", "repro"], rows) \
        if rows else None


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# twinzoo benchmark ({report['mode']})", "", intro(report), ""]
    lines += md_table(summary_table(report))
    lines += md_table(ratio_table(report))
    lines += ["## Choose", ""] + [f"- **{n['network']}**: {choose_line(n)}" for n in report["networks"]] + [""]
    lines += md_table(witness_table(report))
    if (limits := limits_table(report)) is not None:
        lines += md_table(limits)
    lines += ["## Networks", ""]
    for net in report["networks"]:
        lines += md_table(network_table(net))
    lines += md_table(sizes_table(report))
    conf = conformance_table(report)
    if conf:
        lines += md_table(conf)
    lines += ["## Environment", "", "| item | value |", "|---|---|"]
    lines += [f"| {_md_escape(k)} | {_md_escape(v)} |" for k, v in environment_rows(report)]
    return "\n".join(lines) + "\n"


def intro(report: dict[str, Any]) -> str:
    t = report.get("timing") or {}
    wall = f" Wall time of the run: {t['wall_seconds']:.0f} s." if t.get("wall_seconds") else ""
    if t.get("load_average_at_start"):
        wall += (f" System load average (1/5/15 min) at start {'/'.join(f'{x:.1f}' for x in t['load_average_at_start'])}, "
                 f"at end {'/'.join(f'{x:.1f}' for x in t.get('load_average_at_end') or [])}: a load above the "
                 "core count means other processes shared the cores and the latencies are inflated "
                 "(OpenMP-threaded torch suffers most).")
    return (f"Batch-1 latency after warm-up (median and p90 of timed runs; `time.perf_counter`), "
            f"{report['settings']['thread_settings']['threads']} threads, seed {report['seed']}. "
            f"% of peak = achieved GMAC/s (conv + FC MACs / median latency) over the CPU's float32 peak: "
            f"{report['peak']['formula']} (int8 runtimes are measured against the same float32 peak). "
            f"{FAITHFUL_RULE}. {report['scope']}{left_out_text(report)}{wall}{cache_text(report)}")


def left_out_text(report: dict[str, Any]) -> str:
    """What a default ``--quick`` run left out, and why (``BenchPlan.quick_skip``)."""
    left = report["settings"].get("left_out") or {}
    if not left:
        return ""
    return (" This first look (--quick) leaves out " + "; ".join(f"{n} ({why})" for n, why in left.items())
            + ": `--quick --model NAME` times one of them.")


# ------------------------------------------------------------------------------------------
# plots (matplotlib, Agg) and HTML
# ------------------------------------------------------------------------------------------
def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def plot_latency(report: dict[str, Any]) -> str:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 5))
    markers = "osD^v<>ph*XP8d"      # with tab20's colours: a distinct pair for each of up to 14 runtimes
    colours = plt.get_cmap("tab20").colors
    for i, rt in enumerate(runtime_names(report)):
        pts = [(n["macs"] / 1e9, median(n["runtimes"][rt])) for n in report["networks"]
               if rt in n["runtimes"] and median(n["runtimes"][rt]) is not None and n.get("macs")]
        if pts:
            ax.scatter(*zip(*pts), label=rt, marker=markers[i % len(markers)], color=colours[(2 * i) % 20 + (2 * i) // 20],
                       alpha=0.8)
    for n in report["networks"]:        # each network's column of points, labelled under its fastest
        lat = [median(r) for r in n["runtimes"].values() if median(r) is not None]
        if lat and n.get("macs"):
            ax.annotate(n["network"], (n["macs"] / 1e9, min(lat)), xytext=(0, -4), textcoords="offset points",
                        fontsize=6, rotation=-60, ha="left", va="top", color="dimgrey")
    macs = [n["macs"] / 1e9 for n in report["networks"] if n.get("macs")]
    if macs:
        lo, hi = min(macs) * 0.7, max(macs) * 1.4
        for frac in (1.0, 0.3, 0.1):      # latency at a given fraction of the peak
            ax.plot([lo, hi], [lo / (frac * report["peak"]["gmacs_per_s"]) * 1e3, hi / (frac * report["peak"]["gmacs_per_s"]) * 1e3],
                    ls="--", lw=0.8, color="grey")
            ax.annotate(f"{frac:.0%} of peak", (hi, hi / (frac * report["peak"]["gmacs_per_s"]) * 1e3), fontsize=7, color="grey")
    ax.set(xscale="log", yscale="log", xlabel="GMAC (conv + FC) at the benchmark size", ylabel="median latency (ms)",
           title="Latency against MACs per runtime (batch 1)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(True, which="both", alpha=0.3)
    return _png(fig)


def _bars(report: dict[str, Any], value, xlabel: str, title: str, log: bool = True) -> str | None:
    import matplotlib.pyplot as plt
    rows = [(f"{n['network']} / {r['runtime']}", value(r), r.get("faithful") is False)
            for n in report["networks"] for r in n["runtimes"].values()]
    rows = [row for row in rows if row[1] is not None and row[1] > 0]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.22 * len(rows))))
    rows.reverse()
    ax.barh([k for k, _, _ in rows], [v for _, v, _ in rows],
            color=["tab:red" if bad else "tab:blue" for _, _, bad in rows])   # red: output not faithful
    ax.set(xscale="log" if log else "linear", xlabel=xlabel, title=title)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(True, axis="x", which="both", alpha=0.3)
    return _png(fig)


def plots(report: dict[str, Any]) -> list[tuple[str, str]]:
    out = [("Latency against MACs", plot_latency(report))]
    sizes = _bars(report, lambda r: (r.get("artifact") or {}).get("bytes", 0) / 1e6, "MB", "Artifact sizes")
    errs = _bars(report, lambda r: (r.get("verification") or {}).get("max_rel"),
                 "max |out - source| / max |source| (log)",
                 "Parity error against the source twin (float32 paths; red: not faithful)")
    out += [(t, p) for t, p in (("Artifact sizes", sizes), ("Parity errors", errs)) if p]
    return out


def html_table(table: Table, colours: list[list[str | None]] | None = None) -> str:
    """``colours``: a background per cell (None: none), row by row as ``table``'s rows."""
    title, headers, rows = table
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)

    def td(c: str, colour: str | None) -> str:
        return f"<td style='background:{colour}'>" if colour else "<td>"
    colours = colours or [[None] * len(row) for row in rows]
    body = "".join("<tr>" + "".join(f"{td(c, k)}{html.escape(str(c))}</td>" for c, k in zip(row, ks)) + "</tr>"
                   for row, ks in zip(rows, colours))
    return f"<h3>{html.escape(title)}</h3><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_CSS = ("body{font-family:sans-serif;max-width:1400px;margin:1em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}"
        "th{background:#f0f0f0}img{max-width:100%;margin:.5em 0}li{margin:.2em 0}")


def html_page(report: dict[str, Any]) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>twinzoo benchmark</title>"
             f"<style>{_CSS}</style></head><body>",
             f"<h1>twinzoo benchmark ({html.escape(report['mode'])})</h1><p>{html.escape(intro(report))}</p>",
             html_table(summary_table(report)), html_table(ratio_table(report), ratio_colours(report)),
             "<h2>Choose</h2><ul>"]
    parts += [f"<li><b>{html.escape(n['network'])}</b>: {html.escape(choose_line(n))}</li>" for n in report["networks"]]
    parts += ["</ul>", html_table(witness_table(report))]
    if (limits := limits_table(report)) is not None:
        parts.append(html_table(limits))
    parts += ["<h2>Plots</h2>"]
    parts += [f"<h3>{html.escape(t)}</h3><img alt='{html.escape(t)}' src='data:image/png;base64,{p}'>" for t, p in plots(report)]
    parts += ["<h2>Networks</h2>"] + [html_table(network_table(n)) for n in report["networks"]]
    parts.append(html_table(sizes_table(report)))
    conf = conformance_table(report)
    if conf:
        parts.append(html_table(conf))
    parts.append(html_table(("Environment", ["item", "value"], environment_rows(report))))
    return "\n".join(parts) + "\n</body></html>\n"


# ------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------
def clean(obj: Any) -> Any:
    """JSON has no inf/nan: write them as strings; numpy scalars as Python numbers."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    return obj


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(clean(report), indent=1) + "\n"


def finalise(report: dict[str, Any]) -> dict[str, Any]:
    """Add the derived choose lines (deterministic part outside ``timing``, fastest inside)."""
    for net in report["networks"]:
        c = choose(net)
        net["choose"] = {"smallest": c["smallest"], "unfaithful": c["unfaithful"], "failed": c["failed"]}
        net.setdefault("timing", {}).update(fastest=c["fastest"], fastest_fp32=c["fastest_fp32"])
        net["timing"]["choose_line"] = choose_line(net)
    return report


def iter_records(report: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for net in report["networks"]:
        yield from net["runtimes"].values()
