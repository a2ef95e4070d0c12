"""The runtimes a network is timed in, each with the session object it is timed through.

A runtime either runs a twin in its framework (torch eager, Keras through a compiled
``tf.function``) or runs an artifact of an export route (``export.formats``): the artifact is
written and verified by ``export.pipeline.run_format`` (so its faithfulness is export's verdict),
then loaded ONCE into the runtime's own session/interpreter, and only the inference call is timed.

Three runtimes run the torch twin itself, as a PyTorch user would first try it: eager in the
default (contiguous NCHW) memory format, eager in ``channels_last`` (the twin and its input moved
to NHWC strides: what oneDNN's convolutions prefer), and ``torch.compile`` (inductor, default
mode). The last two are judged like any artifact: their outputs on the verification samples
against the eager twin's, under the network's parity tolerance (``twin_session``); the compile
(the first call, which traces and builds the kernels) is timed apart from the latency.

Thread settings (the caller's ``threads``; all stated in the report):

- torch eager, channels_last, torch.compile and the lite interpreter (.ptl): ``torch.set_num_threads`` (intra-op), set once by
  ``configure_threads``; the lite interpreter uses the same ATen (OpenMP) thread pool, whose
  ``OMP_WAIT_POLICY`` the CLI sets to PASSIVE before torch loads (see ``benchmark.cli``);
- Keras/TF: ``tf.config.threading`` intra-op = threads, inter-op = 1, set before TF initialises;
- LiteRT: ``Interpreter(num_threads=threads)`` (XNNPACK delegate, the default);
- onnxruntime: ``SessionOptions.intra_op_num_threads = threads``, inter-op 1, sequential execution;
- ExecuTorch: the XNNPACK delegate's pthreadpool, resized with
  ``portable_lib._unsafe_reset_threadpool(threads)``.
"""

from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from export.common import ExportContext
from twinzoo.registry import Registry, UnknownNameError

# A timed call: runs one inference on the bound input and returns when the result is ready.
Call = Callable[[], Any]


class NotApplicable(Exception):
    """The runtime does not apply to this network (recorded as skipped, with this reason)."""


# A torch twin prepared for one runtime: the module to call and how a verification sample (NCHW
# numpy, or token ids) becomes its input tensor.
TorchVariant = tuple[Any, Callable[[np.ndarray], Any]]


@dataclass(frozen=True)
class Runtime:
    name: str
    label: str
    source: str                    # "torch" | "keras": the twin it runs
    format: str | None             # export format whose artifact it runs (None: the twin itself)
    open: Callable[[ExportContext, Path | None, int, str], Call] | None = None   # (ctx, artifact, threads, layout)
    precision: str = "fp32"
    # a torch twin run as is, in another memory format or compiled (``twin_session``)
    variant: Callable[[ExportContext], TorchVariant] | None = None

    @property
    def layout(self) -> str:
        return "NCHW" if self.source == "torch" else "NHWC"


def _input(ctx: ExportContext, layout: str) -> np.ndarray:
    """The timed input: the first verification sample (a real image where the network has a set)."""
    s = ctx.samples[0]
    return np.ascontiguousarray(s.nchw if layout == "NCHW" else s.nhwc)


def eager(ctx: ExportContext) -> TorchVariant:
    import torch
    return ctx.torch_model.eval(), torch.from_numpy


def channels_last(ctx: ExportContext) -> TorchVariant:
    """A copy of the twin with its parameters in ``channels_last`` and inputs converted once,
    outside the timed call (the eager twin itself stays as it is)."""
    import torch

    if ctx.net.layout != "image":
        raise NotApplicable(f"channels_last is a layout of 4-D image tensors; {ctx.net.name} takes "
                            f"{ctx.net.shape_text(ctx.size)}")
    model = copy.deepcopy(ctx.torch_model).eval().to(memory_format=torch.channels_last)
    return model, lambda a: torch.from_numpy(a).contiguous(memory_format=torch.channels_last)


def compiled(ctx: ExportContext) -> TorchVariant:
    """``torch.compile`` with its defaults (TorchDynamo + inductor, C++/OpenMP kernels built with
    the system compiler) and static shapes (the timed input is fixed); compiled lazily, by the
    first call. Dynamo's caches are cleared first: its frame cache is keyed by code object, and the
    twins share ``nn.Sequential.forward``, so a second network would otherwise be a recompile of
    the first one's frame, with its input dimensions made dynamic (MobileNet v2 after SRCNN
    compiles for minutes in sympy), and past the recompile limit, silently eager."""
    import torch
    torch._dynamo.reset()
    return torch.compile(ctx.torch_model.eval(), dynamic=False), torch.from_numpy


def twin_session(ctx: ExportContext, rt: Runtime) -> tuple[Call, dict[str, Any] | None, float]:
    """A torch-twin runtime ready to time: its call on the first sample; its verdict on every
    verification sample against the eager twin's outputs (None for torch_eager, the reference
    itself); and the seconds of its first call (for torch.compile: the compile, plus one run)."""
    import torch

    from export.common import as_outputs
    from export.metrics import judge

    model, to_input = rt.variant(ctx)
    xs = [to_input(s.nchw) for s in ctx.samples]

    def forward(x: Any) -> Any:
        with torch.inference_mode():
            return model(x)
    t0 = time.perf_counter()
    first = forward(xs[0])
    first_seconds = time.perf_counter() - t0
    verdict = None
    if rt.name != "torch_eager":
        got = [as_outputs(first)] + [as_outputs(forward(x)) for x in xs[1:]]
        verdict = judge(ctx.net, rt.precision, ctx.torch_ref, got, [s.kind for s in ctx.samples])
        verdict = {"status": "pass" if verdict["passed"] else "fail",
                   "reference": "the torch twin (eager, default memory format) on the same inputs",
                   "inputs": [f"{s.kind}: {s.source}" for s in ctx.samples], **verdict}
    return (lambda: forward(xs[0])), verdict, first_seconds


def keras_tf(ctx: ExportContext, _path: Path | None, _threads: int, layout: str) -> Call:
    import tensorflow as tf

    model = ctx.keras_model
    # One concrete graph for the fixed batch-1 input (traced once, by the warm-up call).
    fn = tf.function(lambda t: model(t, training=False), reduce_retracing=True)
    x = tf.constant(_input(ctx, layout))
    return lambda: fn(x)


def tflite(ctx: ExportContext, path: Path | None, threads: int, layout: str) -> Call:
    from export.tflite import _quantize, interpreter

    interp = interpreter(path, threads)
    interp.allocate_tensors()
    detail = interp.get_input_details()[0]
    x = _quantize(_input(ctx, layout), detail)      # int8 models take int8: quantised once, not timed
    index = detail["index"]

    def call() -> None:
        interp.set_tensor(index, x)
        interp.invoke()
    return call


def onnxruntime(ctx: ExportContext, path: Path | None, threads: int, layout: str) -> Call:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    feed = {inp.name: _input(ctx, layout)}
    return lambda: sess.run(None, feed)


def lite_interpreter(ctx: ExportContext, path: Path | None, _threads: int, layout: str) -> Call:
    import torch
    from torch.jit.mobile import _load_for_lite_interpreter

    module = _load_for_lite_interpreter(str(path))
    x = torch.from_numpy(_input(ctx, layout))

    def call() -> Any:
        with torch.no_grad():
            return module(x)
    return call


def executorch(ctx: ExportContext, path: Path | None, threads: int, layout: str) -> Call:
    from executorch.extension.pybindings import portable_lib
    from executorch.runtime import Runtime as EtRuntime

    from export.executorch import _tensor

    portable_lib._unsafe_reset_threadpool(threads)
    method = EtRuntime.get().load_program(str(path)).load_method("forward")
    x = [_tensor(_input(ctx, layout))]
    return lambda: method.execute(x)


_RUNTIMES = (
    Runtime("torch_eager", "torch eager", "torch", None, variant=eager),
    Runtime("torch_channels_last", "torch eager, channels_last", "torch", None, variant=channels_last),
    Runtime("torch_compile", "torch.compile (inductor)", "torch", None, variant=compiled),
    Runtime("ptl", "PyTorch lite interpreter (.ptl)", "torch", "ptl", lite_interpreter),
    Runtime("pte", "ExecuTorch XNNPACK (.pte)", "torch", "pte", executorch),
    Runtime("keras_tf", "Keras/TF tf.function", "keras", None, keras_tf),
    Runtime("tflite_fp32", "LiteRT fp32 (from Keras)", "keras", "tflite_fp32", tflite),
    Runtime("tflite_int8", "LiteRT int8 (from Keras)", "keras", "tflite_int8", tflite, "int8"),
    Runtime("tflite_torch", "LiteRT fp32 (from torch, litert-torch)", "torch", "tflite_torch", tflite),
    Runtime("onnx_torch", "onnxruntime (torch ONNX)", "torch", "onnx_torch", onnxruntime),
    Runtime("onnx_keras", "onnxruntime (Keras ONNX, tf2onnx)", "keras", "onnx_keras", onnxruntime),
)


class UnknownRuntimeError(UnknownNameError):
    pass


RUNTIMES: Registry[Runtime] = Registry("runtime", error=UnknownRuntimeError, items=((r.name, r) for r in _RUNTIMES))


def get(name: str) -> Runtime:
    return RUNTIMES[name]


def configure_threads(threads: int) -> dict[str, Any]:
    """Set the frameworks' global thread pools (``twinzoo.workers.configure_threads``) and report
    what each runtime uses."""
    import tensorflow as tf
    import torch

    from twinzoo.workers import configure_threads as set_pools
    set_pools(threads)
    return {
        "threads": threads,
        "torch": {"intra_op": torch.get_num_threads(), "inter_op": torch.get_num_interop_threads(),
                  "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "unset (libgomp default: spin, then sleep)"),
                  "applies_to": "torch eager, channels_last, torch.compile, PyTorch lite interpreter"},
        "tensorflow": {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                       "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
                       "applies_to": "Keras tf.function, AI Benchmark graphs (tf.compat.v1 Session)"},
        "litert": {"num_threads": threads, "delegate": "XNNPACK (default)"},
        "onnxruntime": {"intra_op_num_threads": threads, "inter_op_num_threads": 1,
                        "execution_mode": "sequential", "provider": "CPUExecutionProvider"},
        "executorch": {"xnnpack_threadpool": threads,
                       "set_with": "executorch.extension.pybindings.portable_lib._unsafe_reset_threadpool"},
    }
