"""A certified port's output, as ``export --weights`` and ``benchmark --weights`` read it: both
twins loaded from the files ``python -m conformance port`` wrote, each file checked against the
sealed certificate first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twinzoo.catalogue import Network


class PortError(ValueError):
    """The file cannot be ported into this network; the message names the problem (exit 2)."""


def ported_twins(net: Network, weights_dir: str | Path, size: tuple[int, int]) -> tuple[Any, Any, dict[str, Any]]:
    """Both twins of ``net`` holding the weights ``port`` wrote into ``weights_dir`` (built with
    the options in the files' metadata, the Keras twin at ``size``), and what was loaded. Each file
    is checked against the certificate (``certificate.open_port``) and the checked bytes are what
    is loaded; "certified" in the record is that check's outcome. A network with no port there, or
    one whose files do not check out, is a PortError naming the file."""
    import keras_models
    import torch_models
    from conformance.lib import certificate, weights
    d = Path(weights_dir).expanduser()
    if not (d / certificate.certificate_file(net.name)).exists():
        raise PortError(f"no certified port of {net.name} in {d} (expected {net.name}.certificate.json and "
                        f"{net.name}.{{torch,keras}}.safetensors: python -m conformance port --model {net.name} ...)")
    try:
        opened = certificate.open_port(d, net.name)
    except certificate.CertificateError as exc:
        raise PortError(str(exc)) from None
    tpath, kpath = opened.path("torch"), opened.path("keras")
    try:
        opts = weights.file_options(tpath, weights.header_of(tpath, opened.data["torch"]))
        # each file's bytes let go once loaded (VGG-16's are 553 MB each)
        tmodel = weights.load_torch(torch_models.build(net.name, **opts), net.name, tpath, opts,
                                    opened.data.pop("torch")).eval()
        kmodel = weights.load_keras(keras_models.build(net.name, input_size=size, **opts), net.name, kpath, opts,
                                    opened.data.pop("keras"))
    except (weights.WeightFileError, TypeError, ValueError) as exc:
        raise PortError(f"{d}: the ported weights of {net.name} do not load: {exc}") from None
    cert = opened.certificate
    source = cert.get("source") if isinstance(cert.get("source"), dict) else {}
    info = {"dir": str(d), "options": opts, "source": source.get("path"), "dialect": source.get("dialect"),
            "certificate": str(opened.certificate_path), "certificate_sha256": opened.certificate_sha256,
            "certified": True, "verified": "every file's size and sha256 against the sealed certificate, at load",
            "files": {fw: {"path": str(opened.path(fw)), "sha256": b.sha256, "bytes": b.bytes}
                      for fw, b in opened.files.items()}}
    return tmodel, kmodel, info


def verify_ports(weights_dir: str | Path, networks: list[str]) -> dict[str, str]:
    """Each of ``networks`` that has a certificate in ``weights_dir`` checked against it; the
    sha256 of each certificate by network. Raises ``certificate.CertificateError`` on the first
    that does not check out (the CLIs' exit 2, before any work)."""
    from conformance.lib import certificate
    d = Path(weights_dir).expanduser()
    return {n: certificate.open_port(d, n, keep=False).certificate_sha256 for n in networks
            if (d / certificate.certificate_file(n)).exists()}
