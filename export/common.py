"""What every route shares: the context of one network's export, atomic artifact writes, file
digests and the versions of the tools involved."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from twinzoo.files import atomic_write, remove_stale, sha256, temporary_prefix  # noqa: F401 (sha256: export's name for it)

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


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """A temporary path in ``final``'s directory (same file-name suffix, so converters that look at
    it are content); on success it is renamed onto ``final`` with ``os.replace``, on any failure or
    Ctrl-C (``BaseException``) it is removed, so no half-written artifact is ever left behind. What
    a killed run left for ``final`` (its pid in the name, no longer running) is removed first."""
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(final.parent, final.stem, final.suffix)
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=temporary_prefix(final.stem), suffix=final.suffix)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if not tmp_path.exists() or tmp_path.stat().st_size == 0:
            raise RuntimeError(f"the converter wrote nothing to {final.name}")
        os.chmod(tmp_path, 0o666 & ~_umask())     # mkstemp makes 0600; give the usual mode
        os.replace(tmp_path, final)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def remove_leftovers(final: Path) -> list[Path]:
    """Remove the temporary files ``atomic_path`` made for ``final`` that a killed process (the
    OOM killer, the memory guard, a time budget: no ``finally`` runs) left behind; the removed."""
    return remove_stale(final.parent, final.stem, final.suffix, dead_only=False)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class UnusableDir(Exception):
    """A directory the command must write to is not a directory or not writable (a usage error)."""


def writable_dir(path: Path, label: str, hint: str = "") -> Path:
    """``path`` created if needed and proved writable by writing a file there, before any work;
    ``label`` names it in the error (``--out``), ``hint`` ends the message."""
    path = path.expanduser()
    if path.exists() and not path.is_dir():
        raise UnusableDir(f"{label} {path}: exists and is not a directory{hint}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test."):
            pass
    except OSError as exc:
        raise UnusableDir(f"{label} {path}: not writable ({exc.strerror or exc}){hint}") from None
    return path.resolve()


def write_bytes_atomic(final: Path, data: bytes) -> None:
    """A manifest or report written atomically; a full disk is ``twinzoo.files.WriteFailed``."""
    final.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(final, data)


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
