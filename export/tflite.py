"""TFLite / LiteRT routes.

Keras -> TFLite with TensorFlow's converter (``tf.lite.TFLiteConverter``) in four precisions:

- ``fp32``: no optimisation;
- ``fp16``: weights stored as float16 (``supported_types=[float16]``), dequantised at load time
  by CPU kernels or used as fp16 by GPU/NNAPI delegates;
- ``int8_dynamic``: dynamic-range quantisation: int8 weights, activations quantised on the fly;
- ``int8``: full integer quantisation: int8 weights and activations with ranges calibrated on a
  representative dataset (the ai-benchmark package's images of the network's image set), int8
  input and output tensors and only int8 builtin kernels (``TFLITE_BUILTINS_INT8``), so a model
  that cannot be fully quantised fails to convert instead of silently keeping float ops.

torch -> TFLite directly with litert-torch (``litert_torch.convert``), beside the Keras path, so
the two routes can be compared on the same weights; that model keeps torch's NCHW interface.

Every .tflite runs in the LiteRT interpreter (``ai_edge_litert.interpreter``; XNNPACK delegate
on by default).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from export.common import ExportContext, Outputs
from export.tflite_lstm import fused_lstms, unclip_cells


def saved_model(ctx: ExportContext) -> str:
    """The Keras twin as a TF SavedModel with a batch-1 float32 signature (Keras' own
    ``model.export(format="tf_saved_model")``), written once per network to a temporary
    directory: every TFLite precision converts from it, with the weights as frozen constants. Its
    stock LSTM layers are traced as the converter's fused LSTM (``export.tflite_lstm``)."""
    if "saved_model" not in ctx.cache:
        import tensorflow as tf

        tmp = tempfile.TemporaryDirectory(prefix="twinzoo-savedmodel-")
        ctx.cache["saved_model_dir"] = tmp          # removed when the context goes
        spec = [tf.TensorSpec(ctx.net.batch_shape(ctx.size), getattr(tf, ctx.net.input_dtype), name="input")]
        path = str(Path(tmp.name) / "model")
        with fused_lstms(ctx.keras_model) as fused:
            ctx.keras_model.export(path, format="tf_saved_model", input_signature=spec, verbose=False)
        ctx.cache["saved_model"] = path
        ctx.cache["fused_lstm"] = fused
    return ctx.cache["saved_model"]


def keras_to_tflite(ctx: ExportContext, path: Path, precision: str) -> dict[str, Any]:
    if precision not in ("fp32", "fp16", "int8_dynamic", "int8"):
        raise ValueError(f"unknown TFLite precision {precision!r}")
    notes: dict[str, Any] = {"converter": "tf.lite.TFLiteConverter.from_saved_model "
                                          "(Keras model.export(format='tf_saved_model'))",
                             "input_layout": "NHWC"}
    saved = saved_model(ctx)
    if ctx.cache["fused_lstm"]:
        notes["fused_lstm"] = (f"layers {', '.join(ctx.cache['fused_lstm'])} traced as the converter's fused "
                               "UNIDIRECTIONAL_SEQUENCE_LSTM (export/tflite_lstm.py)"
                               + ("" if precision == "int8" else ", its cell clipping (10) turned off as in the twins"))
    if precision != "int8":
        _convert(saved, str(path), precision)
        return notes
    notes["representative_dataset"] = ctx.calibration_source
    notes["io_type"] = "int8"
    # full-integer calibration can crash the whole process (SIGSEGV converting LSTM-Sentiment):
    # it runs in a child, so a crash fails this format only
    from twinzoo.workers import run_isolated
    run_isolated(_convert, saved, str(path), precision, np.concatenate(list(ctx.calibration())),
                 threads=2)
    notes["isolated"] = "converted in a child process (the quantiser can crash natively)"
    return notes


def _convert(saved: str, path: str, precision: str, calibration: np.ndarray | None = None) -> None:
    """Convert the SavedModel at ``saved`` to ``path`` at ``precision`` (``int8``: ranges
    calibrated on the batches of ``calibration``, one sample each); plain arguments only, so a
    child process can run it."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(saved)
    if precision == "fp16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif precision == "int8_dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif precision == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([calibration[i:i + 1]] for i in range(calibration.shape[0]))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    model = converter.convert()
    if precision != "int8":
        model, _ = unclip_cells(model)
    Path(path).write_bytes(model)


def torch_to_tflite(ctx: ExportContext, path: Path) -> dict[str, Any]:
    import litert_torch
    import torch

    x = torch.from_numpy(ctx.samples[0].nchw)
    edge = litert_torch.convert(ctx.torch_model, (x,))
    edge.export(str(path))
    return {"converter": "litert_torch.convert", "input_layout": "NCHW"}


# ------------------------------------------------------------------------------------------
# running
# ------------------------------------------------------------------------------------------
def _natural(key: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", key)]


def _quantize(x: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """``x`` as the interpreter's input tensor takes it: quantised for an int8 model's input,
    cast otherwise (a float input, or integer token ids: scale 0 means not quantised)."""
    dtype = detail["dtype"]
    scale, zero = detail["quantization"]
    if np.issubdtype(dtype, np.floating) or scale == 0:
        return x.astype(dtype)
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero, info.min, info.max).astype(dtype)


def _dequantize(y: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    scale, zero = detail["quantization"]
    if np.issubdtype(y.dtype, np.floating) or scale == 0:
        return y.astype(np.float32)
    return ((y.astype(np.float32) - zero) * scale).astype(np.float32)


def interpreter(path: Path, threads: int = 2):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_path=str(path), num_threads=threads)


def run_tflite(path: Path, inputs: list[np.ndarray], threads: int = 2) -> list[Outputs]:
    """Run a .tflite on each batch-1 input; quantised input/output tensors are (de)quantised with
    their own scale and zero point. Outputs come in the signature's order (output_0, output_1...)."""
    interp = interpreter(path, threads)
    sigs = interp.get_signature_list()
    results: list[Outputs] = []
    if sigs:
        runner = interp.get_signature_runner(next(iter(sigs)))
        in_details = runner.get_input_details()
        out_details = runner.get_output_details()
        (in_name, in_detail), = in_details.items()
        for x in inputs:
            got = runner(**{in_name: _quantize(x, in_detail)})
            results.append([_dequantize(got[k], out_details[k]) for k in sorted(got, key=_natural)])
        return results
    interp.allocate_tensors()
    in_detail = interp.get_input_details()[0]
    out_details = interp.get_output_details()
    for x in inputs:
        interp.set_tensor(in_detail["index"], _quantize(x, in_detail))
        interp.invoke()
        results.append([_dequantize(interp.get_tensor(d["index"]), d) for d in out_details])
    return results


def op_list(path: Path) -> list[dict[str, Any]]:
    """Every op of the model's main graph: its name and the dtypes, shapes and constness of its
    tensors (what the NNAPI delegate's validation looks at). A tensor is constant when no op
    produces it and it is not a graph input."""
    interp = interpreter(path, 1)
    tensors = {t["index"]: t for t in interp.get_tensor_details()}
    raw = interp._get_ops_details()   # the interpreter's own op table (no public API for it)
    produced = {int(i) for op in raw for i in op["outputs"]}
    produced |= {int(d["index"]) for d in interp.get_input_details()}

    def tinfo(idx: int) -> dict[str, Any]:
        t = tensors.get(idx)
        if t is None:
            return {"dtype": None, "shape": [], "const": idx not in produced}
        return {"dtype": np.dtype(t["dtype"]).name, "shape": [int(s) for s in t["shape"]],
                "const": idx not in produced}

    return [{"index": int(op["index"]), "op": op["op_name"],
             "inputs": [tinfo(int(i)) for i in op["inputs"] if int(i) >= 0],
             "outputs": [tinfo(int(i)) for i in op["outputs"]]} for op in raw]
