"""Writing files so that a reader never sees half of one: through a temporary file in the same
directory and an ``os.replace``. On any error (a full disk, a read-only or vanished directory) or
Ctrl-C the temporary file is removed and the target left as it was."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

_CHUNK = 1 << 20


class WriteFailed(Exception):
    """A file that could not be written; the message names it and why, and nothing was left."""


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


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` (text is UTF-8) to ``path`` atomically; raises ``WriteFailed`` naming the file."""
    path = Path(path).expanduser()
    blob = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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
