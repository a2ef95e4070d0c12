"""Android NNAPI: the torch NNAPI conversion, and a delegate-compatibility report for every .tflite.

NNAPI is deprecated from Android 15: "With the release of Android 15, NNAPI will be deprecated.
While you can continue to use NNAPI, we expect the majority of devices in the future to use the
CPU backend" (Android NDK guide, https://developer.android.com/ndk/guides/neuralnetworks, and its
migration guide https://developer.android.com/ndk/guides/neuralnetworks/migration-guide, which
points to LiteRT in Google Play services). Both reports below say so.

torch route: ``torch.backends._nnapi.prepare.convert_model_to_nnapi`` on a trace with an NHWC
("nnapi_nhwc") input. It runs on the host and serialises the NNAPI model into a TorchScript
module; executing that needs Android's libneuralnetworks, so the artifact is recorded as not
verifiable here (no host runtime exists), which is not a verification failure.

TFLite route: the table ``NNAPI_DELEGATE_OPS`` transcribes ``NNAPIDelegateKernel::Validate()``
of the TFLite NNAPI delegate (tensorflow/tensorflow, tensorflow/lite/delegates/nnapi/
nnapi_delegate.cc; the constants kMinSdkVersionForNNAPI = 27, ..11 = 28, ..12 = 29, ..13 = 30 are
in nnapi_delegate_kernel.h beside it). For each op: the lowest Android API level at which the
delegate accepts it with float32 inputs, with quantised (int8/uint8) inputs, and as a hybrid op
(float activations, int8 weights: dynamic-range models). int8 tensors are accepted where the op
takes quantised types: the delegate converts int8 to uint8 itself before API 30
(``NeedInt8Conversion``); NNAPI has signed int8 tensors from API 30 (NNAPI 1.3). Constant fp16
weights behind a DEQUANTIZE (float16 models) are absorbed by the delegate
(``IsDequantizeConstFloat16``) and handed to NNAPI as float32. Not checked here: op-version limits
(``ExpectMaxOpVersion``) and driver-specific support — the delegate accepting an op means NNAPI
gets it, not that a vendor driver accelerates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from export.common import ExportContext

DEPRECATION = ("NNAPI is deprecated from Android 15 (Android NDK Neural Networks API guide: "
               "https://developer.android.com/ndk/guides/neuralnetworks; migration guide: "
               "https://developer.android.com/ndk/guides/neuralnetworks/migration-guide). It still "
               "runs, but Google expects most devices to use its CPU backend and recommends "
               "alternatives such as LiteRT's GPU delegate for performance-critical work.")
TABLE_SOURCE = ("tensorflow/tensorflow tensorflow/lite/delegates/nnapi/nnapi_delegate.cc, "
                "NNAPIDelegateKernel::Validate() (API-level constants in nnapi_delegate_kernel.h: "
                "NNAPI 1.0 = 27, 1.1 = 28, 1.2 = 29, 1.3 = 30)")
API_NAMES = {27: "Android 8.1 (NNAPI 1.0)", 28: "Android 9 (NNAPI 1.1)", 29: "Android 10 (NNAPI 1.2)",
             30: "Android 11 (NNAPI 1.3)"}


@dataclass(frozen=True)
class OpRule:
    float_api: int | None          # lowest API level accepting float32 inputs (None: never)
    quant_api: int | None          # ... quantised int8/uint8 inputs
    hybrid_api: int | None = None  # ... float activations with int8 weights (dynamic range)
    note: str = ""


# Transcribed from NNAPIDelegateKernel::Validate() (see the module docstring for the file).
NNAPI_DELEGATE_OPS: dict[str, OpRule] = {
    "ADD": OpRule(27, 27, note="int32 from API 30, without fused activation"),
    "MUL": OpRule(27, 27, note="int32 from API 30, without fused activation"),
    "SUB": OpRule(28, 29, note="int32 from API 30"),
    "DIV": OpRule(28, None, note="float32 only"),
    "AVERAGE_POOL_2D": OpRule(27, 27),
    "MAX_POOL_2D": OpRule(27, 27),
    "L2_POOL_2D": OpRule(27, None),
    "CONV_2D": OpRule(27, 29, 29, note="needs a bias; dilation from API 29; int8 and per-channel "
                                        "quantised weights from API 29 (uint8 per-tensor from 27)"),
    "DEPTHWISE_CONV_2D": OpRule(27, 29, 29, note="dilation and int8 from API 29 (uint8 from 27)"),
    "FULLY_CONNECTED": OpRule(27, 29, 29, note="keep_num_dims from API 30; int8 from API 29"),
    "HARD_SWISH": OpRule(27, 27, note="decomposed into basic ops before API 29"),
    "SOFTMAX": OpRule(27, 27, note="rank 2 or 4 only before API 29"),
    "RESHAPE": OpRule(27, 27, note="target shape must be constant"),
    "RESIZE_BILINEAR": OpRule(27, 29, note="width == height before API 29; align_corners / "
                                           "half_pixel_centers from API 30"),
    "RESIZE_NEAREST_NEIGHBOR": OpRule(29, 29, note="align_corners / half_pixel_centers from API 30"),
    "SQUEEZE": OpRule(28, 28),
    "L2_NORMALIZATION": OpRule(27, 29, note="rank 4 only before API 29"),
    "CONCATENATION": OpRule(27, 27, note="uint8 inputs must share scale/zero point before API 29"),
    "DEQUANTIZE": OpRule(27, 27, note="constant fp16 weights absorbed by the delegate; int8 input "
                                      "from API 29 (symmetric only at 29)"),
    "QUANTIZE": OpRule(29, 29, note="uint8 output from API 29, int8 output from API 30"),
    "RELU": OpRule(27, 27), "RELU_N1_TO_1": OpRule(27, 27), "RELU6": OpRule(27, 27),
    "LOGISTIC": OpRule(27, 27),
    "TANH": OpRule(27, 29),
    "PAD": OpRule(28, 29), "PADV2": OpRule(29, 29),
    "STRIDED_SLICE": OpRule(28, 28), "TRANSPOSE": OpRule(28, 28, note="permutation must be constant"),
    "SPACE_TO_BATCH_ND": OpRule(28, 28), "BATCH_TO_SPACE_ND": OpRule(28, 28, note="crops must be 0"),
    "MEAN": OpRule(28, 29),
    "ABS": OpRule(29, None), "EXP": OpRule(29, None), "LOG": OpRule(29, None),
    "RSQRT": OpRule(29, None), "POW": OpRule(29, None), "SQRT": OpRule(29, None),
    "SIN": OpRule(29, None),
    "SLICE": OpRule(29, 29),
    "TRANSPOSE_CONV": OpRule(29, 29, note="output shape and weights must be constant"),
    "SPACE_TO_DEPTH": OpRule(27, 27), "DEPTH_TO_SPACE": OpRule(27, 27),
    "MAXIMUM": OpRule(29, 29), "MINIMUM": OpRule(29, 29),
    "CAST": OpRule(29, 29, note="int8 from API 30"),
    "LEAKY_RELU": OpRule(29, 29), "PRELU": OpRule(29, 29),
    "GATHER": OpRule(29, 29), "EXPAND_DIMS": OpRule(29, 29), "TILE": OpRule(29, 29),
    "ARG_MAX": OpRule(29, 29), "ARG_MIN": OpRule(29, 29),
    "SPLIT": OpRule(29, 29, note="int8 from API 30"), "SPLIT_V": OpRule(30, 30),
    "REDUCE_MAX": OpRule(29, 29), "REDUCE_MIN": OpRule(29, 29),
    "SUM": OpRule(29, None), "REDUCE_PROD": OpRule(29, None),
    "SQUARED_DIFFERENCE": OpRule(28, 30, note="uint8 from API 29, int8 from API 30"),
    "PACK": OpRule(30, 30), "ELU": OpRule(30, None), "FILL": OpRule(30, None),
    "LOG_SOFTMAX": OpRule(29, None), "FLOOR": OpRule(27, None),
    # Validate: API 29, op version <= 2, 20 or 24 inputs, not the hybrid form; NNAPI's own
    # ANEURALNETWORKS_UNIDIRECTIONAL_SEQUENCE_LSTM takes float16/float32 tensors only (NDK reference)
    "UNIDIRECTIONAL_SEQUENCE_LSTM": OpRule(29, None, note="float only; not the dynamic-range (hybrid) form; "
                                                          "op version <= 2; 20 or 24 inputs"),
}
# ops with a hybrid form (float activations, int8 weights), which the delegate tells apart
HYBRID_CAPABLE = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "UNIDIRECTIONAL_SEQUENCE_LSTM"}
# int8 needs API 30 for these (signed int8 operands; no int8->uint8 conversion in the delegate)
INT8_FROM_30 = {"QUANTIZE", "CAST", "SPLIT", "SQUARED_DIFFERENCE"}


def classify(op: dict[str, Any]) -> str:
    """float | quant | hybrid | fp16-weights, from the dtypes of the op's tensors."""
    ins = op["inputs"]
    first = ins[0]["dtype"] if ins else None
    if op["op"] == "DEQUANTIZE" and first == "float16":
        return "fp16-weights"
    if first in ("int8", "uint8"):
        return "quant"
    if op["op"] in HYBRID_CAPABLE and any(t["dtype"] in ("int8", "uint8") for t in ins[1:]):
        return "hybrid"
    if op["op"] == "QUANTIZE":
        return "quant"
    return "float"


def op_min_api(op: dict[str, Any]) -> tuple[int | None, str]:
    """The lowest API level at which the delegate accepts this op (None: never), and why."""
    rule = NNAPI_DELEGATE_OPS.get(op["op"])
    if rule is None:
        return None, "not mapped by the NNAPI delegate (Validate's default: unsupported operation type)"
    kind = classify(op)
    if kind == "fp16-weights":
        return 27, "constant fp16 weights: dequantised by the delegate, given to NNAPI as float32"
    if kind == "hybrid":
        api = rule.hybrid_api
    elif kind == "quant":
        api = rule.quant_api
        outs = [o["dtype"] for o in op["outputs"]]
        if api is not None and op["op"] in INT8_FROM_30 and ("int8" in outs or op["inputs"][0]["dtype"] == "int8"):
            api = max(api, 30)
    else:
        api = rule.float_api
    why = f"{kind} inputs" + (f"; {rule.note}" if rule.note else "")
    return api, why


def delegate_report(ops: list[dict[str, Any]]) -> dict[str, Any]:
    """Every op with whether the NNAPI delegate accepts it and from which Android API level; the
    level from which the whole graph is delegated (None: never, with the blocking ops)."""
    rows = []
    for op in ops:
        api, why = op_min_api(op)
        rows.append({"index": op["index"], "op": op["op"], "kind": classify(op),
                     "accepted": api is not None, "min_api": api,
                     "min_android": API_NAMES.get(api) if api else None, "why": why})
    blocking = sorted({r["op"] for r in rows if r["min_api"] is None})
    apis = [r["min_api"] for r in rows if r["min_api"] is not None]
    whole = None if blocking or not rows else max(apis)
    accepted_at = {str(a): sum(1 for r in rows if r["min_api"] is not None and r["min_api"] <= a)
                   for a in (27, 28, 29, 30)}
    return {
        "source": TABLE_SOURCE,
        "deprecation": DEPRECATION,
        "ops": len(rows),
        "accepted_ops_at_api": accepted_at,
        "whole_graph_from_api": whole,
        "whole_graph_from": API_NAMES.get(whole) if whole else None,
        "blocking_ops": blocking,
        "caveats": "op-version limits (ExpectMaxOpVersion) and vendor-driver support are not "
                   "checked; ops the delegate rejects run on the CPU, splitting the graph",
        "per_op": rows,
    }


def summary(report: dict[str, Any]) -> str:
    if report["whole_graph_from_api"]:
        return f"all {report['ops']} ops delegable from API {report['whole_graph_from_api']}"
    return (f"{report['accepted_ops_at_api']['30']}/{report['ops']} ops delegable at API 30; "
            f"not delegable: {', '.join(report['blocking_ops'])}")


# ------------------------------------------------------------------------------------------
# torch -> NNAPI
# ------------------------------------------------------------------------------------------
def static_same_padding(model: Any, x: Any) -> Any:
    """A copy of ``model`` whose TensorFlow-'SAME' strided convs pad by constants computed at
    ``x``'s size, in ops the NNAPI converter takes, and whose activations are not in place. The twins pad those convs from the input size
    at run time (``Conv2dSame``: ``aten::size`` + ``aten::pad``, neither of which the converter
    accepts). SAME pads ``total // 2`` before and the rest after, so the symmetric part goes into
    the conv's own ``padding`` and the odd extra row / column after is a constant zero tensor
    appended with ``aten::cat``, made as ``slice - slice`` (the converter has no op creating
    zeros and no tensor-by-scalar mul)."""
    import copy

    import torch
    from torch_models.layers import Conv2dSame, _same_pad

    model = copy.deepcopy(model).eval()
    for m in model.modules():       # the converter takes aten::relu / hardtanh, not their in-place forms
        if getattr(m, "inplace", False):
            m.inplace = False
    sizes: dict[int, tuple[int, ...]] = {}
    convs = [m for m in model.modules() if isinstance(m, Conv2dSame) and not m.static_same]
    hooks = [m.register_forward_pre_hook(lambda mod, inp: sizes.__setitem__(id(mod), tuple(inp[0].shape)))
             for m in convs]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    for m in convs:
        if id(m) not in sizes:
            continue
        h, w = sizes[id(m)][-2:]
        top, bottom = _same_pad(h, m.kernel_size[0], m.stride[0], m.dilation[0])
        left, right = _same_pad(w, m.kernel_size[1], m.stride[1], m.dilation[1])
        m.padding = (top, left)
        extra_h, extra_w = bottom - top, right - left

        def same_conv(t, m=m, extra_h=extra_h, extra_w=extra_w):
            if extra_h:
                t = torch.cat([t, t[:, :, :extra_h, :] - t[:, :, :extra_h, :]], dim=2)
            if extra_w:
                t = torch.cat([t, t[:, :, :, :extra_w] - t[:, :, :, :extra_w]], dim=3)
            return m._conv_forward(t, m.weight, m.bias)

        m.same_conv = same_conv
    return model


def torch_to_nnapi(ctx: ExportContext, path: Path) -> dict[str, Any]:
    import torch
    from torch.backends._nnapi.prepare import convert_model_to_nnapi

    x = torch.from_numpy(ctx.samples[0].nchw)
    image = x.ndim == 4
    if image:
        x = x.contiguous(memory_format=torch.channels_last)
        x.nnapi_nhwc = True      # the converter's flag: the model's input arrives in NHWC order
    model = static_same_padding(ctx.torch_model, torch.from_numpy(ctx.samples[0].nchw))
    # the rewrite runs on the host: it must give the torch twin's outputs on every sample
    from conformance.lib import parity
    from export.common import as_outputs

    with torch.no_grad():
        got = [as_outputs(model(torch.from_numpy(smp.nchw))) for smp in ctx.samples]
    errs = [parity.compare(r, g, ctx.net.tolerance) for r, g in zip(ctx.torch_ref, got)]
    if not all(e.passed for e in errs):
        raise RuntimeError(f"static-padding rewrite changed the outputs (max rel {max(e.max_rel for e in errs):.2e})")
    traced = torch.jit.trace(model, (x,))
    nnapi_model = convert_model_to_nnapi(traced, x)
    path.write_bytes(nnapi_model._save_to_buffer_for_lite_interpreter())   # native writer aborts on a full disk
    return {"converter": "torch.backends._nnapi.prepare.convert_model_to_nnapi (trace, NHWC input)",
            "preparation": "strided 'SAME' convs given constant padding at the export size; the "
                           "prepared torch model equals the twin on every sample (max rel "
                           f"{max(e.max_rel for e in errs):.1e}, host check; NNAPI itself needs Android)",
            "input_layout": "NHWC (nnapi_nhwc)" if image else "as the twin's (not an image)", "deprecation": DEPRECATION,
            "host_runtime": "none: running the NNAPI model needs Android's libneuralnetworks"}
