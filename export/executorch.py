"""torch -> ExecuTorch (.pte) lowered to the XNNPACK backend, run by the ExecuTorch runtime
(``executorch.runtime``) on the host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from export.common import ExportContext, Outputs, as_outputs


def _tensor(x):
    """A torch tensor with canonical (row-major) strides. numpy gives size-1 axes arbitrary
    strides, e.g. (256, 1, 16, 1) for a 1-channel NCHW image, which torch still calls contiguous
    but ExecuTorch reads as a channels-last dim order: XNNPACK then fails to propagate the input
    shape (every 1-channel network: vdsr_y, dped_discriminator)."""
    import torch

    return torch.empty(x.shape, dtype=torch.from_numpy(x).dtype).copy_(torch.from_numpy(x))


def torch_to_pte(ctx: ExportContext, path: Path) -> dict[str, Any]:
    # in a child process: lowering a recurrent twin unrolls every step, and LSTM-Sentiment's 1024
    # steps grow the export process past 23 GB; an OOM kill there fails this route only, the other
    # routes and networks go on
    from twinzoo.workers import run_isolated
    return run_isolated(_lower, ctx.torch_model, ctx.samples[0].nchw, str(path), threads=2)


def _lower(model, x_nchw, path: str) -> dict[str, Any]:
    """torch.export, XNNPACK lowering and the .pte file: plain arguments, for a child process."""
    import torch
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    from export.torch_lstm import scan_lstms

    model, looped = scan_lstms(model)
    exported = torch.export.export(model, (_tensor(x_nchw),), strict=False)
    edge = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()])
    program = edge.to_executorch()
    Path(path).write_bytes(program.buffer)
    graph = edge.exported_program().graph
    delegated = sum(1 for n in graph.nodes if n.op == "call_function" and "executorch_call_delegate" in str(n.target))
    leftover = sorted({str(n.target) for n in graph.nodes if n.op == "call_function"
                       and not any(k in str(n.target) for k in ("executorch_call_delegate", "getitem", "alloc"))})
    return {"lowering": "to_edge_transform_and_lower(partitioner=[XnnpackPartitioner()])",
            "xnnpack_partitions": delegated, "ops_outside_xnnpack": leftover, "input_layout": "NCHW",
            **({"lstm_as_loop": f"{', '.join(looped)} exported as a scan loop (export/torch_lstm.py)"} if looped else {}),
            "isolated": "lowered in a child process (a recurrent twin's unrolled steps can exhaust memory)"}


def run_pte(path: Path, inputs: list) -> list[Outputs]:
    from executorch.runtime import Runtime

    method = Runtime.get().load_program(str(path)).load_method("forward")
    return [as_outputs(method.execute([_tensor(x)])) for x in inputs]
