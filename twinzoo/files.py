"""Writing files so that a reader never sees half of one: through a temporary file in the same
directory and an ``os.replace``. On any error (a full disk, a read-only or vanished directory) or
Ctrl-C the temporary file is removed and the target left as it was."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

_CHUNK = 1 << 20


class NotAnObject(ValueError):
    """Bytes that are not a JSON object; the message says which: "not JSON" or "not a JSON object"."""


def json_object(raw: bytes) -> dict:
    """``raw`` parsed as a JSON object (the form of every JSON file twinzoo reads)."""
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise NotAnObject("not JSON") from None
    if not isinstance(obj, dict):
        raise NotAnObject("not a JSON object")
    return obj


class WriteFailed(Exception):
    """A file that could not be written; the message names it and why, and nothing was left."""


def sha256(path: str | Path) -> str:
    """The sha256 of a file, read as a stream (artifacts and weight files run to GBs)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def why(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno == errno.EDQUOT:
        return "disk quota exceeded"
    return exc.strerror or str(exc)


def temporary_prefix(name: str) -> str:
    """The start of a temporary file's name for ``name``, carrying this process's pid: a later run
    removes what a killed one left (``remove_stale``) and leaves a live writer's file alone."""
    return f".{name}.{os.getpid()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(directory: Path, name: str, suffix: str, dead_only: bool = True) -> list[Path]:
    """Remove the temporary files made for ``name`` in ``directory`` (``temporary_prefix``, any
    ``suffix``) whose writer is no longer running (every one with ``dead_only=False``: the caller
    knows the writer was killed); the removed."""
    gone = []
    for p in Path(directory).glob(f".{name}.*{suffix}"):
        pid = p.name[len(name) + 2:].split(".", 1)[0]
        if not pid.isdigit():               # another file's temporary whose name starts like ours
            continue
        if p.is_file() and not (dead_only and _alive(int(pid))):
            p.unlink(missing_ok=True)
            gone.append(p)
    return gone


def atomic_write(path: str | Path, data: bytes | str, mkdir: bool = False) -> Path:
    """Write ``data`` (text is UTF-8) to ``path`` atomically (its directory made first with
    ``mkdir``); raises ``WriteFailed`` naming the file. Temporaries a killed writer left for
    ``path`` are removed first."""
    path = Path(path).expanduser()
    if mkdir:
        path.parent.mkdir(parents=True, exist_ok=True)
    blob = data.encode("utf-8") if isinstance(data, str) else data
    try:
        remove_stale(path.parent, path.name, ".tmp")
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temporary_prefix(path.name), suffix=".tmp")
    except OSError as exc:
        raise WriteFailed(f"cannot write {path}: {why(exc)} (nothing was written)") from None
    try:
        try:
            view = memoryview(blob)
            while view:
                written = os.write(fd, view[:_CHUNK])
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o666 & ~umask())          # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise WriteFailed(f"cannot write {path}: {why(exc)} (nothing was written)") from None
        raise
    return path


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
        os.chmod(tmp_path, 0o666 & ~umask())     # mkstemp makes 0600; give the usual mode
        os.replace(tmp_path, final)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def remove_leftovers(final: Path) -> list[Path]:
    """Remove the temporary files ``atomic_path`` made for ``final`` that a killed process (the
    OOM killer, the memory guard, a time budget: no ``finally`` runs) left behind; the removed."""
    return remove_stale(final.parent, final.stem, final.suffix, dead_only=False)


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


@contextlib.contextmanager
def staging(parent: Path, prefix: str) -> Iterator[Path]:
    """A fresh directory in ``parent`` (so a rename out of it stays on one file system) with the
    usual mode, for writing several files that must appear together; removed afterwards with
    whatever the caller did not move out of it, on success, error or Ctrl-C alike."""
    stage = Path(tempfile.mkdtemp(dir=parent, prefix=prefix))
    try:
        os.chmod(stage, 0o777 & ~umask())          # mkdtemp makes 0700
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)
