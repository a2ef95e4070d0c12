"""A port's certificate, bound to the files it vouches for.

``conformance port`` writes ``<network>.certificate.json`` beside the two weight files. The
certificate records each weight file it vouches for (``written``: name, bytes, sha256) and seals
itself: ``digest`` is the sha256 of its own canonical JSON without that field, so an edit to any
verdict, figure or binding is seen. Every use of a port (``export --weights``, ``benchmark
--weights``, ``port``'s re-read of what it wrote) goes through ``open_port``, which re-checks the
seal, the network, the verdict and every file's size and sha256, and hands back the bytes it
checked, so what is loaded is what was checked. A mismatch is a ``CertificateError`` naming the file.

The seal catches a changed certificate, a flipped byte, a truncated copy and a file swapped in
from another port; it is not a signature: whoever rewrites both the files and a fresh seal is not
stopped by it. The manifest and report record the certificate's own sha256, so a reader can compare
it with the certificate they were given.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twinzoo import files
from twinzoo import seal as sealing

FORMAT = "twinzoo-port-certificate/1"
FRAMEWORKS = ("torch", "keras")
MAX_BYTES = 256 * 2 ** 20           # a certificate is text: refuse reading a huge file as one
_HEX64 = re.compile(r"[0-9a-f]{64}")


class CertificateError(ValueError):
    """A certificate or a file it binds that does not check out; the message names the file."""


@dataclass(frozen=True)
class Binding:
    name: str                       # a file name in the port's directory
    bytes: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "bytes": self.bytes, "sha256": self.sha256}


@dataclass(frozen=True)
class OpenedPort:
    """A port whose certificate and files were checked; ``data`` holds the checked bytes."""
    network: str
    directory: Path
    certificate: dict[str, Any]
    certificate_path: Path
    certificate_sha256: str
    data: dict[str, bytes]          # by framework (empty when opened with keep=False)
    files: dict[str, Binding]       # by framework

    def path(self, framework: str) -> Path:
        return self.directory / self.files[framework].name


def weight_file(network: str, framework: str) -> str:
    return f"{network}.{framework}.safetensors"


def certificate_file(network: str) -> str:
    return f"{network}.certificate.json"


def bind(path: Path) -> Binding:
    return Binding(path.name, path.stat().st_size, files.sha256(path))


def seal(cert: dict[str, Any]) -> dict[str, Any]:
    """``cert`` as plain JSON values with its ``format`` and ``digest`` set."""
    return sealing.seal({**cert, "format": FORMAT}, "digest")


def dumps(cert: dict[str, Any]) -> bytes:
    return (json.dumps(cert, indent=2) + "\n").encode()


def read(path: Path) -> tuple[dict[str, Any], str]:
    """A certificate file, parsed and its seal checked, with the sha256 of its bytes."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise CertificateError(f"{path}: {size:,} bytes is not a certificate (over {MAX_BYTES:,})")
        raw = path.read_bytes()
    except OSError as exc:
        raise CertificateError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        cert = files.json_object(raw)
    except files.NotAnObject as exc:
        raise CertificateError(f"{path}: not a certificate ({exc})") from None
    if cert.get("format") != FORMAT:
        raise CertificateError(f"{path}: not a sealed port certificate (format {cert.get('format')!r}, expected "
                               f"{FORMAT!r}); a certificate from before files were bound to it: port again")
    if not sealing.intact(cert, "digest"):
        raise CertificateError(f"{path}: the certificate was changed after it was written (its content does "
                               "not match its digest)")
    return cert, hashlib.sha256(raw).hexdigest()


def _bindings(path: Path, cert: dict[str, Any], network: str) -> dict[str, Binding]:
    written = cert.get("written")
    if not isinstance(written, list):
        raise CertificateError(f"{path}: malformed certificate: 'written' is not a list")
    out: dict[str, Binding] = {}
    for entry in written:
        ok = (isinstance(entry, dict) and isinstance(entry.get("name"), str) and type(entry.get("bytes")) is int
              and isinstance(entry.get("sha256"), str) and _HEX64.fullmatch(entry["sha256"]))
        if not ok:
            raise CertificateError(f"{path}: malformed certificate: a 'written' entry is not "
                                   "{name, bytes, sha256}")
        fw = next((f for f in FRAMEWORKS if entry["name"] == weight_file(network, f)), None)
        if fw is None:
            raise CertificateError(f"{path}: the certificate binds {entry['name']!r}, not a weight file of {network}")
        out[fw] = Binding(entry["name"], entry["bytes"], entry["sha256"])
    return out


def open_port(directory: str | Path, network: str, keep: bool = True) -> OpenedPort:
    """The certified port of ``network`` in ``directory``, every binding checked (see the module
    doc), with the checked bytes in ``data`` (``keep=False``: checked as a stream and not kept,
    for a check with no load after it; VGG-16's two files are 1.1 GB). Raises CertificateError
    naming the file that does not check out."""
    d = Path(directory).expanduser()
    cpath = d / certificate_file(network)
    cert, cert_sha = read(cpath)
    if cert.get("network") != network:
        raise CertificateError(f"{cpath}: a certificate of {cert.get('network')!r}, not {network!r}")
    if cert.get("passed") is not True:
        raise CertificateError(f"{cpath}: the port of {network} was not certified")
    bound = _bindings(cpath, cert, network)
    missing = [f for f in FRAMEWORKS if f not in bound]
    if missing:
        raise CertificateError(f"{cpath}: the certificate binds no {' or '.join(missing)} weight file")
    data = {}
    for fw, b in bound.items():
        fpath = d / b.name
        try:
            size = fpath.stat().st_size
            if size == b.bytes:
                blob = fpath.read_bytes() if keep else None
                digest = hashlib.sha256(blob).hexdigest() if blob is not None else files.sha256(fpath)
        except OSError as exc:
            raise CertificateError(f"{fpath}: cannot read a file the certificate binds: {exc.strerror or exc}") from None
        if size != b.bytes:
            raise CertificateError(f"{fpath}: {size:,} bytes, the certificate binds {b.bytes:,}: not the file "
                                   "that was certified")
        if digest != b.sha256:
            raise CertificateError(f"{fpath}: its sha256 is not the one the certificate binds: the file was "
                                   "changed or replaced after it was certified")
        if blob is not None:
            data[fw] = blob
    return OpenedPort(network, d, cert, cpath, cert_sha, data, bound)
