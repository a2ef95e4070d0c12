"""The conformance suite: proofs that each network's torch and Keras twins are the same network.

A library of small checks (``conformance.checks``) that pytest and the CLI
(``python -m conformance``) both call. ``list_models()`` lists the catalogue.
"""

from __future__ import annotations

from twinzoo import environment

environment.prepare()

from twinzoo.catalogue import UnknownModelError, get, names as list_models, networks  # noqa: E402

# the checks' names in report order, here where a command line can check them before any framework
# loads (``conformance.checks.RUNNERS`` runs them, under these names)
CHECK_NAMES = ("params", "macs", "parity", "fold", "train", "reference", "witness")

__all__ = ["CHECK_NAMES", "UnknownModelError", "get", "list_models", "networks"]
