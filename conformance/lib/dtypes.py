"""One dtype policy for every reader of weights (torch files, safetensors, Keras HDF5, TF
checkpoints).

The twins compute in float32. A float32 tensor is placed as it is; float16, bfloat16 and float64
are converted to float32 explicitly and each conversion is recorded (the certificate lists them:
float64 -> float32 rounds, float16/bfloat16 -> float32 is exact). Everything else is refused
naming the tensor: complex (the imaginary part would be dropped), integers and bool (a weight
stored as int8 or int32 is quantised or not a weight at all: placing it as it is would be a silent
change of meaning), strings, compound and object data (not a tensor of numbers).

Readers keep a refused numeric tensor as it is (a TF checkpoint's int64 ``global_step`` is read and
then ignored by rule); it is refused when it would be placed. Non-numeric data is refused at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

TARGET = "float32"
CONVERTED = ("float16", "bfloat16", "float64")
ADMITTED = (TARGET, *CONVERTED)

# safetensors' dtype codes by the names used here
SAFETENSORS = {"F16": "float16", "BF16": "bfloat16", "F32": "float32", "F64": "float64",
               "I8": "int8", "U8": "uint8", "I16": "int16", "U16": "uint16", "I32": "int32", "U32": "uint32",
               "I64": "int64", "U64": "uint64", "BOOL": "bool", "F8_E4M3": "float8_e4m3fn",
               "F8_E5M2": "float8_e5m2", "C64": "complex64", "C128": "complex128"}


class DtypeRefused(ValueError):
    """A tensor whose dtype the policy refuses; the message names the tensor and why."""


def name_of(dtype: Any) -> str:
    """A dtype's name: numpy's (``float32``, ``bfloat16`` from ml_dtypes) or torch's
    (``torch.bfloat16`` -> ``bfloat16``)."""
    text = getattr(dtype, "name", None) or str(dtype)
    return text.removeprefix("torch.")


def why_refused(dtype_name: str) -> str | None:
    """None when ``dtype_name`` is admitted, else the reason it is not."""
    if dtype_name in ADMITTED:
        return None
    if dtype_name.startswith("complex"):
        return f"{dtype_name}: complex weights have no float32 twin (the imaginary part would be dropped)"
    if dtype_name == "bool" or dtype_name.startswith(("int", "uint", "qint", "quint")):
        return (f"{dtype_name}: integer and bool tensors are not float weights (a quantised or int-stored "
                "weight placed as it is would change its meaning); dequantise it to float first")
    if dtype_name.startswith("float8"):
        return f"{dtype_name}: 8-bit floats are quantised storage; dequantise to float32 first"
    return f"{dtype_name}: not a tensor of real numbers"


def is_numeric(array: np.ndarray) -> bool:
    """Numbers of some kind (bfloat16 included), as opposed to strings, objects or records."""
    return name_of(array.dtype) == "bfloat16" or (array.dtype.kind in "biufc" and array.dtype.fields is None)


def check(name: str, dtype_name: str, where: str = "") -> None:
    reason = why_refused(dtype_name)
    if reason is not None:
        raise DtypeRefused(f"{where}tensor {name!r} is {reason}")


def to_float32(array: np.ndarray) -> np.ndarray:
    return array if array.dtype == np.float32 else np.asarray(array, dtype=np.float32)


def conversion(name: str, dtype_name: str) -> dict[str, str] | None:
    """The record of ``name``'s conversion to float32, or None when it is float32 already."""
    return {"tensor": name, "from": dtype_name, "to": TARGET} if dtype_name in CONVERTED else None
