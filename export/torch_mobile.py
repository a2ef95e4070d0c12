"""torch -> PyTorch Mobile Lite (.ptl), run by the lite interpreter.

``torch.utils.mobile_optimizer.optimize_for_mobile`` needs XNNPACK, which the available torch
builds lack ("Mobile optimization only available with XNNPACK"). The route detects it: where it
is enabled it is used; otherwise the optimisations that work without it are applied —
``torch.jit.freeze`` (inlines the weights, propagates constants and folds conv + BN) — and the
manifest says which were applied and why the other was skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from export.common import ExportContext, Outputs


def xnnpack_enabled() -> bool:
    import torch
    import torch.backends.xnnpack

    try:
        return bool(torch.backends.xnnpack.enabled)
    except Exception:  # noqa: BLE001 — a build without the query has no XNNPACK either
        return False


def _count(graph, kind: str) -> int:
    return sum(1 for n in graph.nodes() if n.kind() == kind)


def scripted(ctx: ExportContext):
    """TorchScript of the torch twin: ``torch.jit.script`` (keeps the module's real code), or a
    trace at the export size where scripting fails; which one is recorded."""
    import torch

    if "torchscript" not in ctx.cache:
        try:
            ctx.cache["torchscript"] = (torch.jit.script(ctx.torch_model), "torch.jit.script")
        except Exception as exc:  # noqa: BLE001 — recorded; tracing is the documented fallback
            x = torch.from_numpy(ctx.samples[0].nchw)
            ctx.cache["torchscript"] = (torch.jit.trace(ctx.torch_model, (x,)),
                                        f"torch.jit.trace (script failed: {type(exc).__name__})")
    return ctx.cache["torchscript"]


def torch_to_ptl(ctx: ExportContext, path: Path) -> dict[str, Any]:
    import torch

    module, how = scripted(ctx)
    module = module.eval()
    notes: dict[str, Any] = {"torchscript": how, "input_layout": "NCHW"}
    if xnnpack_enabled():
        from torch.utils.mobile_optimizer import optimize_for_mobile

        opt = optimize_for_mobile(module)
        notes["optimisations"] = ["optimize_for_mobile (XNNPACK present)"]
    else:
        before = _count(module.inlined_graph, "aten::batch_norm")
        opt = torch.jit.freeze(module)
        after = _count(opt.graph, "aten::batch_norm")
        notes["optimisations"] = ["torch.jit.freeze: weights inlined, constants propagated, "
                                  f"conv+BN folded ({before} batch_norm nodes before, {after} after)"]
        notes["skipped"] = ("optimize_for_mobile: this torch build has no XNNPACK "
                            "(torch.backends.xnnpack.enabled is False)")
    # to a buffer, written from Python: the native file writer aborts the whole process (c10::Error)
    # on a full disk, where a Python write raises and the route is recorded as failed
    path.write_bytes(opt._save_to_buffer_for_lite_interpreter())
    return notes


def run_ptl(path: Path, inputs: list) -> list[Outputs]:
    import torch
    from torch.jit.mobile import _load_for_lite_interpreter

    from export.common import as_outputs

    module = _load_for_lite_interpreter(str(path))
    with torch.no_grad():
        return [as_outputs(module(torch.from_numpy(x))) for x in inputs]
