"""The conformance suite: proofs that each network's torch and Keras twins are the same network.

A library of small checks (``conformance.checks``) that pytest and the CLI
(``python -m conformance``) both call. ``list_models()`` lists the catalogue.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from twinzoo.import_order import before_tensorflow  # noqa: E402

before_tensorflow()

from twinzoo.catalogue import UnknownModelError, get, names as list_models, networks  # noqa: E402

__all__ = ["UnknownModelError", "get", "list_models", "networks"]
