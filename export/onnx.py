"""ONNX routes: torch -> ONNX with the dynamo exporter, Keras -> ONNX with tf2onnx; both run in
onnxruntime (CPU execution provider)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from export.common import ExportContext, Outputs

# Opset 18 for both routes: the default of torch's dynamo exporter in torch 2.13 and the newest
# tf2onnx 1.17 converts to; onnxruntime 1.31 runs it, and NNAPI's ONNX Runtime EP accepts it.
OPSET = 18


# The exporter's onnxscript optimizer is skipped above this many nodes: on Pixel-RNN's unrolled
# column scans (70,899 nodes) it runs for over 20 minutes without finishing, while the unoptimised
# graph exports in 4.4 min and runs in onnxruntime (which optimises a graph itself at load) within
# 2.4e-7 of the twin. The convolutional networks' graphs are far smaller.
OPTIMIZE_MAX_NODES = 20_000


def torch_to_onnx(ctx: ExportContext, path: Path) -> dict[str, Any]:
    import torch

    x = torch.from_numpy(ctx.samples[0].nchw)
    program = torch.onnx.export(ctx.torch_model, (x,), dynamo=True, opset_version=OPSET, input_names=["input"],
                                optimize=False)
    nodes = len(program.model.graph)
    optimized = nodes <= OPTIMIZE_MAX_NODES
    if optimized:
        program.optimize()
    program.save(str(path), external_data=False)
    return {"opset": OPSET, "exporter": "torch.onnx.export(dynamo=True)", "input_layout": "NCHW",
            "optimized": optimized if optimized else f"no: {nodes:,} nodes > {OPTIMIZE_MAX_NODES:,} "
                                                     "(the optimizer does not finish in time on such graphs)"}


def keras_to_onnx(ctx: ExportContext, path: Path) -> dict[str, Any]:
    import tensorflow as tf
    import tf2onnx

    spec = [tf.TensorSpec(ctx.net.batch_shape(ctx.size), getattr(tf, ctx.net.input_dtype), name="input")]
    model = ctx.keras_model

    @tf.function
    def forward(x):
        return model(x, training=False)

    tf2onnx.convert.from_function(forward, input_signature=spec, opset=OPSET, output_path=str(path))
    return {"opset": OPSET, "exporter": "tf2onnx.convert.from_function", "input_layout": "NHWC"}


def run_onnx(path: Path, inputs: list, threads: int = 2) -> list[Outputs]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return [[a for a in sess.run(None, {name: x})] for x in inputs]
