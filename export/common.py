"""What every route shares: the context of one network's export, atomic artifact writes, file
digests and the versions of the tools involved."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from twinzoo.files import sha256  # noqa: F401 (export's name for it)

from twinzoo.catalogue import Network

# One network output: a list of arrays (one per head), one list per input sample.
Outputs = list[np.ndarray]


@dataclass
class Sample:
    """One verification input (batch 1) in both layouts, with where it came from."""

    kind: str            # "images" | "random"
    source: str
    nhwc: np.ndarray     # (1, H, W, C) float32
    nchw: np.ndarray     # (1, C, H, W) float32


def artifact_stem(network: str, size: tuple[int, int]) -> str:
    """The name every artifact of ``network`` at ``size`` starts with (``Format.filename``)."""
    return f"{network}_{size[0]}x{size[1]}"


@dataclass
class ExportContext:
    """Everything the routes of one network need: the two twins holding the same random weights,
    the verification samples and each twin's outputs on them (the references)."""

    net: Network
    size: tuple[int, int]
    seed: int
    out_dir: Path
    torch_model: Any
    keras_model: Any
    samples: list[Sample]
    torch_ref: list[Outputs]          # per sample, torch layout (NCHW for 4-D outputs)
    keras_ref: list[Outputs]          # per sample, Keras layout (NHWC)
    calibration: Callable[[], Iterator[np.ndarray]]   # representative NHWC batches of 1 for int8
    calibration_source: str
    cache: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, Any] | None = None     # ported weights (conformance.lib.ports.ported_twins); None: random

    def stem(self) -> str:
        return artifact_stem(self.net.name, self.size)


def as_outputs(y: Any) -> Outputs:
    """A model's result (tensor, array, tuple/list of them) as a list of float arrays."""
    if isinstance(y, (tuple, list)):
        return [a for t in y for a in as_outputs(t)]
    if hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    return [np.asarray(y)]


def version_of(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def tool_versions() -> dict[str, str | None]:
    """Versions of every converter and runtime the routes use (None: not installed)."""
    return {d: version_of(d) for d in (
        "torch", "tensorflow-cpu", "tensorflow", "keras", "onnx", "onnxruntime", "onnxscript",
        "tf2onnx", "ai-edge-litert", "litert-torch", "executorch", "numpy")}
