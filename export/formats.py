"""The registry of export formats: one ``Format`` per route, like the catalogue's networks.

A format names its source twin (torch or Keras), its precision, the converter that writes it, the
runtime that verifies it, and the command a user runs on a device to benchmark it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from export import executorch as et
from export import nnapi, onnx, tflite, torch_mobile
from export.common import ExportContext, Outputs
from twinzoo.registry import Registry, UnknownNameError


@dataclass(frozen=True)
class Format:
    name: str
    source: str                    # "torch" | "keras": the twin it is converted from
    precision: str                 # "fp32" | "fp16" | "int8_dynamic" | "int8"
    suffix: str
    converter: str                 # human name of the converter
    converter_dists: tuple[str, ...]   # distributions whose versions the manifest records
    runtime: str | None            # what verifies it (None: no host runtime exists)
    runtime_dist: str | None
    export: Callable[[ExportContext, Path], dict[str, Any]]
    run: Callable[[Path, list], list[Outputs]] | None
    requires: tuple[str, ...]      # modules the route imports (checked before running it)
    description: str = ""

    @property
    def layout(self) -> str:
        return "NCHW" if self.source == "torch" else "NHWC"

    def filename(self, stem: str) -> str:
        return f"{stem}.{self.name}{self.suffix}"


class UnknownFormatError(UnknownNameError):
    pass


FORMATS: Registry[Format] = Registry("format", error=UnknownFormatError)


def register(fmt: Format) -> Format:
    return FORMATS.add(fmt.name, fmt)


def get(name: str) -> Format:
    return FORMATS[name]


def names() -> list[str]:
    return list(FORMATS)


def benchmark_command(fmt: Format, device_path: str, input_shape: tuple[int, ...]) -> list[str]:
    """Commands a user runs on an Android device (after ``adb push``) to benchmark the artifact."""
    dims = ",".join(str(d) for d in input_shape)
    if fmt.suffix == ".tflite":
        base = f"adb shell /data/local/tmp/benchmark_model --graph={device_path} --num_threads=4 --num_runs=50"
        return [f"{base} --use_xnnpack=true", f"{base} --use_xnnpack=false --use_nnapi=true"]
    if fmt.suffix == ".onnx":
        return [f"adb shell /data/local/tmp/onnxruntime_perf_test -e cpu -x 4 -r 50 {device_path}",
                f"adb shell /data/local/tmp/onnxruntime_perf_test -e nnapi -r 50 {device_path}"]
    if fmt.suffix == ".pte":
        return [f"adb shell /data/local/tmp/executor_runner --model_path={device_path} --num_executions=50"]
    if fmt.name == "nnapi_torch":
        return [f"adb shell /data/local/tmp/speed_benchmark_torch --model={device_path} "
                f"--input_dims={dims} --input_type=float --input_memory_format=channels_last "
                f"--warmup=5 --iter=50"]
    return [f"adb shell /data/local/tmp/speed_benchmark_torch --model={device_path} "
            f"--input_dims={dims} --input_type=float --warmup=5 --iter=50"]


_TORCH = ("torch",)
_TF = ("tensorflow", "keras")
register(Format("onnx_torch", "torch", "fp32", ".onnx", "torch.onnx.export(dynamo=True)",
                ("torch", "onnxscript", "onnx"), "onnxruntime (CPU EP)", "onnxruntime",
                onnx.torch_to_onnx, onnx.run_onnx, _TORCH + ("onnxscript", "onnxruntime"),
                f"torch -> ONNX opset {onnx.OPSET}, dynamo exporter"))
register(Format("onnx_keras", "keras", "fp32", ".onnx", "tf2onnx.convert.from_function",
                ("tf2onnx", "tensorflow-cpu", "onnx"), "onnxruntime (CPU EP)", "onnxruntime",
                onnx.keras_to_onnx, onnx.run_onnx, _TF + ("tf2onnx", "onnxruntime"),
                f"Keras -> ONNX opset {onnx.OPSET}, tf2onnx"))
for _prec, _what in (("fp32", "float32"), ("fp16", "float16 weights"),
                     ("int8_dynamic", "dynamic-range int8"), ("int8", "full int8, int8 I/O")):
    register(Format(f"tflite_{_prec}", "keras", _prec, ".tflite", "tf.lite.TFLiteConverter",
                    ("tensorflow-cpu", "keras"), "LiteRT interpreter (ai_edge_litert, XNNPACK)",
                    "ai-edge-litert",
                    (lambda p: lambda ctx, path: tflite.keras_to_tflite(ctx, path, p))(_prec),
                    tflite.run_tflite, _TF + ("ai_edge_litert",), f"Keras -> TFLite, {_what}"))
register(Format("tflite_torch", "torch", "fp32", ".tflite", "litert_torch.convert",
                ("litert-torch", "torch"), "LiteRT interpreter (ai_edge_litert, XNNPACK)", "ai-edge-litert",
                tflite.torch_to_tflite, tflite.run_tflite, _TORCH + ("litert_torch", "ai_edge_litert"),
                "torch -> TFLite directly (litert-torch), float32"))
register(Format("ptl", "torch", "fp32", ".ptl", "torch.jit + _save_for_lite_interpreter", ("torch",),
                "PyTorch lite interpreter (_load_for_lite_interpreter)", "torch",
                torch_mobile.torch_to_ptl, torch_mobile.run_ptl, _TORCH,
                "torch -> PyTorch Mobile Lite interpreter"))
register(Format("pte", "torch", "fp32", ".pte", "executorch.exir (XnnpackPartitioner)",
                ("executorch", "torch"), "ExecuTorch runtime (executorch.runtime)", "executorch",
                et.torch_to_pte, et.run_pte, _TORCH + ("executorch",),
                "torch -> ExecuTorch, XNNPACK delegate"))
register(Format("nnapi_torch", "torch", "fp32", ".ptl", "torch.backends._nnapi", ("torch",),
                None, None, nnapi.torch_to_nnapi, None, _TORCH,
                "torch -> NNAPI-serialised TorchScript (runs only on Android)"))
