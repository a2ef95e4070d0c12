"""The artifact cache of ``python -m export`` and the main job (``python -m benchmark``).

An entry is addressed by the sha256 of the canonical JSON of everything that can change what it
holds (its *ingredients*): for one (network, format) export and verification, the network and
format names, the export size, the seed, the weights' identity (``"random"`` or the sha256 of the
certified port's files), the versions of every converter, runtime and framework, Python's version,
the machine, and a digest of this project's own source (every ``.py`` file of the packages that
build, convert or judge an artifact). The main job keys its conformance rows, timing records and
witness rows the same way (``ingredients``), with what else they depend on.

Layout: ``<cache>/<key[:2]>/<key>/`` holding ``key.json`` (the ingredients: compare two of them
to see why two keys differ), ``record.json`` (the record, when it was made, and the sha256 of
every file of the entry), ``files/`` (the artifact and its side files, at their paths relative to
the export's output directory) and ``outputs/`` (a route's outputs on the verification samples,
``.npy`` without pickle, for the cross-route comparison of a partner route run later). An entry is
written in a temporary directory and renamed into place, so a crashed writer never leaves one that
looks complete; a restored file whose sha256 does not match is a miss and its entry is dropped.
Only JSON and raw files are read back: nothing is ever unpickled.
"""

from __future__ import annotations

import datetime as dt
import errno
import functools
import hashlib
import json
import os
import platform
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from export.common import sha256, tool_versions
from twinzoo import seal as sealing
from twinzoo.files import remove_stale, staging, temporary_prefix

SCHEMA = "twinzoo-cache/2"
ENV_VAR = "TWINZOO_CACHE"
ROOT = Path(__file__).resolve().parent.parent
# The packages whose code can change an artifact or its verdict (the benchmark's timing code is
# added to the keys of timing records only: ``TIMING_SOURCES``).
SOURCE_DIRS = ("twinzoo", "torch_models", "keras_models", "export", "conformance")
TIMING_SOURCES = ("benchmark/runtimes.py", "benchmark/timing.py", "benchmark/suite.py", "benchmark/peak.py")
WITNESS_SOURCES = (*TIMING_SOURCES, "benchmark/witnesses.py")

RECORD = "record.json"
INGREDIENTS = "key.json"


class CacheUnusable(Exception):
    """The cache directory cannot be created or written (the CLIs' usage error)."""


# ------------------------------------------------------------------------------------------
# where the cache lives
# ------------------------------------------------------------------------------------------
def default_dir() -> Path:
    """``$TWINZOO_CACHE`` (``off``: no cache, see ``resolve_dir``), else
    ``$XDG_CACHE_HOME/twinzoo/artifacts``, else ``~/.cache/twinzoo/artifacts``."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "twinzoo" / "artifacts"


def resolve_dir(requested: Path | None, disabled: bool) -> Path | None:
    """The cache directory to use (None: ``--no-cache``, or ``$TWINZOO_CACHE`` set to ``off`` and
    no ``--cache``), created and proved writable before any work."""
    if disabled or (requested is None and os.environ.get(ENV_VAR) == "off"):
        return None
    from twinzoo.files import UnusableDir, writable_dir
    origin = "--cache" if requested else f"cache directory (${ENV_VAR})" if os.environ.get(ENV_VAR) else "cache directory"
    try:
        return writable_dir(requested or default_dir(), origin, "; choose another with --cache DIR or run with --no-cache")
    except UnusableDir as exc:
        raise CacheUnusable(str(exc)) from None


# ------------------------------------------------------------------------------------------
# keys
# ------------------------------------------------------------------------------------------
def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def key_of(ingredients: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(ingredients).encode()).hexdigest()


@functools.cache
def source_digest(paths: tuple[str, ...] = SOURCE_DIRS, root: Path = ROOT) -> str:
    """sha256 over the ``.py`` files under ``paths`` (directories or files, relative to ``root``),
    sorted by path: each file's path and bytes. Computed once per process."""
    files: list[Path] = []
    for rel in paths:
        p = root / rel
        files += [p] if p.is_file() else [f for f in p.rglob("*.py") if "__pycache__" not in f.parts]
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.relative_to(root).as_posix()):
        data = f.read_bytes()
        h.update(f"{f.relative_to(root).as_posix()}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


@functools.cache
def environment() -> dict[str, Any]:
    """Versions of every converter, runtime and framework (numpy among them), Python, the machine
    (its architecture and memory in GiB: a route the memory guard killed is cached for this
    memory only). Computed once per process (``environment.cache_clear()`` after changing what it
    reads)."""
    from twinzoo.memory import meminfo
    mem = meminfo()
    return {"versions": tool_versions(), "python": sys.version.split()[0], "machine": platform.machine(),
            "memory_gib": round(mem[0] / 2 ** 30) if mem else None}


def weights_identity(network: str, weights_dir: Path | None) -> str | dict[str, str]:
    """``"random"`` (seeded random weights), or the sha256 of each file of the certified port that
    ``conformance.lib.ports.ported_twins`` reads for ``network`` (None for a file that is missing)."""
    if weights_dir is None:
        return "random"
    d = Path(weights_dir).expanduser()
    names = (f"{network}.certificate.json", f"{network}.torch.safetensors", f"{network}.keras.safetensors")
    return {n: sha256(d / n) if (d / n).is_file() else None for n in names}


def ingredients(kind: str, sources: tuple[str, ...] = SOURCE_DIRS, **fields: Any) -> dict[str, Any]:
    """What a key of ``kind`` is made of: ``fields`` plus the environment and the source digest."""
    return {"schema": SCHEMA, "kind": kind, **fields, "environment": environment(),
            "source_digest": source_digest(sources)}


def export_ingredients(network: str, fmt: str, size: tuple[int, int], seed: int,
                       weights: str | dict[str, str]) -> dict[str, Any]:
    return ingredients("export", network=network, format=fmt, size=list(size), seed=seed, weights=weights)


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _safe_rel(rel: str) -> bool:
    """A path recorded in an entry must stay inside the directory it is restored to."""
    p = Path(rel)
    return bool(rel) and not p.is_absolute() and ".." not in p.parts


def _well_formed(meta: dict[str, Any], key: str) -> bool:
    """The parts of an entry's record.json this module reads, of the types it reads them as."""
    files, outputs = meta.get("files"), meta.get("outputs")
    return (meta.get("schema") == SCHEMA and meta.get("key") == key and isinstance(meta.get("stored"), str)
            and isinstance(files, dict) and all(_safe_rel(rel) and isinstance(d, str) for rel, d in files.items())
            and (outputs is None or (isinstance(outputs, dict) and isinstance(outputs.get("layout"), str)
                                     and isinstance(outputs.get("heads"), list)
                                     and all(type(h) is int and h >= 0 for h in outputs["heads"]))))


def _link_or_copy(src: Path, dst: Path) -> None:
    """Hard link (no copy of a GB artifact) where both sit on one filesystem, else a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _place(src: Path, final: Path) -> None:
    """``src`` at ``final``, atomically (a temporary name in ``final``'s directory, then rename).
    ``final`` already a hard link of ``src`` (a warm run restoring into the same --out) is left as
    it is: rename(2) onto another link of the same file does nothing and would leave the temporary
    name behind. What a killed restore left for ``final`` is removed first."""
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(final.parent, final.name, ".restore")
    if final.exists() and os.path.samefile(src, final):
        return
    tmp = final.with_name(f"{temporary_prefix(final.name)}{uuid.uuid4().hex[:8]}.restore")
    try:
        _link_or_copy(src, tmp)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------
# the store
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hit:
    record: Any
    stored: str          # ISO date of the run that made the entry
    entry: Path


class ArtifactCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def entry(self, key: str) -> Path:
        return self.root / key[:2] / key

    def drop(self, key: str) -> None:
        """Remove an entry (renamed away first, so no reader sees it half-deleted)."""
        d = self.entry(key)
        trash = d.with_name(f".drop-{key[:12]}-{uuid.uuid4().hex[:8]}")
        try:
            os.rename(d, trash)
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    def _meta(self, key: str) -> dict[str, Any] | None:
        d = self.entry(key)
        if not d.exists():
            return None
        try:
            meta = json.loads((d / RECORD).read_text())
            ok = sealing.intact(meta, "seal") and _well_formed(meta, key)
        except (OSError, ValueError, RecursionError):
            ok = False
        if not ok:                   # not written by this code, edited or damaged: a miss
            self.drop(key)
            return None
        return meta

    def _verified(self, key: str, meta: dict[str, Any], prefix: str) -> bool:
        """Every file of the entry under ``prefix`` is there with its recorded sha256; else the
        entry is dropped."""
        d = self.entry(key)
        for rel, digest in meta["files"].items():
            if rel.startswith(prefix) and (not (d / rel).is_file() or sha256(d / rel) != digest):
                self.drop(key)
                return False
        return True

    def get(self, key: str) -> Hit | None:
        """A JSON-only entry (conformance row, timing record, witness rows)."""
        meta = self._meta(key)
        return Hit(meta["record"], meta["stored"], self.entry(key)) if meta else None

    def restore(self, key: str, out_dir: Path) -> Hit | None:
        """An export entry: its files checked against their sha256 (a mismatch drops the entry:
        a miss) and placed under ``out_dir`` at their recorded paths, then its record."""
        meta = self._meta(key)
        if meta is None or not self._verified(key, meta, "files/"):
            return None
        rec = meta["record"]
        if rec.get("path") and meta["files"].get(f"files/{rec['path']}") != rec.get("sha256"):
            self.drop(key)
            return None
        d = self.entry(key)
        for rel in meta["files"]:
            if rel.startswith("files/"):
                _place(d / rel, out_dir / rel[len("files/"):])
        return Hit(rec, meta["stored"], d)

    def outputs(self, key: str) -> tuple[str, list[list[np.ndarray]]] | None:
        """A route's stored outputs on the verification samples (layout, per sample per head)."""
        meta = self._meta(key)
        if meta is None or not meta.get("outputs") or not self._verified(key, meta, "outputs/"):
            return None
        d = self.entry(key)
        got = [[np.load(d / f"outputs/s{i}_o{j}.npy", allow_pickle=False) for j in range(n)]
               for i, n in enumerate(meta["outputs"]["heads"])]
        return meta["outputs"]["layout"], got

    def put(self, key: str, ingredients: dict[str, Any], record: Any, files: dict[str, Path] | None = None,
            outputs: tuple[str, list[list[np.ndarray]]] | None = None, stored: str | None = None,
            replace: bool = False) -> None:
        """Write an entry: ``files`` (path relative to the export's out dir -> the file) are linked
        or copied in, ``outputs`` saved as ``.npy``; everything in a temporary directory renamed
        into place at the end. An entry already there (another process stored it) is kept,
        unless ``replace`` (a timing measured again)."""
        if replace:
            self.drop(key)
        parent = self.root / key[:2]
        parent.mkdir(parents=True, exist_ok=True)
        with staging(parent, f".tmp-{key[:12]}-") as tmp:
            digests: dict[str, str] = {}
            for rel, src in (files or {}).items():
                if not _safe_rel(rel):
                    raise ValueError(f"refusing to cache a file outside the output directory: {rel}")
                dst = tmp / "files" / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(src, dst)
                digests[f"files/{rel}"] = sha256(dst)
            meta: dict[str, Any] = {"schema": SCHEMA, "key": key, "stored": stored or now(), "files": digests,
                                    "record": record}
            if outputs is not None:
                layout, per_sample = outputs
                (tmp / "outputs").mkdir()
                for i, heads in enumerate(per_sample):
                    for j, arr in enumerate(heads):
                        rel = f"outputs/s{i}_o{j}.npy"
                        np.save(tmp / rel, np.asarray(arr), allow_pickle=False)
                        digests[rel] = sha256(tmp / rel)
                meta["outputs"] = {"layout": layout, "heads": [len(h) for h in per_sample]}
            (tmp / INGREDIENTS).write_text(json.dumps(ingredients, indent=1, sort_keys=True, default=str) + "\n")
            # record.json last, and the directory renamed into place only after it: an entry
            # that exists under its key is complete
            (tmp / RECORD).write_text(json.dumps(sealing.seal(meta, "seal"), indent=1) + "\n")
            try:
                os.rename(tmp, self.entry(key))
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise


def open_cache(path: Path | str | None) -> ArtifactCache | None:
    return ArtifactCache(Path(path)) if path else None
