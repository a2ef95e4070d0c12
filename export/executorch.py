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
    shape (seen with every 1-channel network: vdsr_y, dped_discriminator)."""
    import torch

    return torch.empty(x.shape, dtype=torch.from_numpy(x).dtype).copy_(torch.from_numpy(x))


def torch_to_pte(ctx: ExportContext, path: Path) -> dict[str, Any]:
    import torch
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    x = _tensor(ctx.samples[0].nchw)
    exported = torch.export.export(ctx.torch_model, (x,))
    edge = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()])
    program = edge.to_executorch()
    path.write_bytes(program.buffer)
    graph = edge.exported_program().graph
    delegated = sum(1 for n in graph.nodes if n.op == "call_function" and "executorch_call_delegate" in str(n.target))
    leftover = sorted({str(n.target) for n in graph.nodes if n.op == "call_function"
                       and not any(k in str(n.target) for k in ("executorch_call_delegate", "getitem", "alloc"))})
    return {"lowering": "to_edge_transform_and_lower(partitioner=[XnnpackPartitioner()])",
            "xnnpack_partitions": delegated, "ops_outside_xnnpack": leftover, "input_layout": "NCHW"}


def run_pte(path: Path, inputs: list) -> list[Outputs]:
    from executorch.runtime import Runtime

    method = Runtime.get().load_program(str(path)).load_method("forward")
    return [as_outputs(method.execute([_tensor(x)])) for x in inputs]
