"""Load order of the frameworks' native libraries.

On torch's CUDA build, torchvision pulls in triton, whose bundled LLVM segfaults when it is
loaded after TensorFlow's (seen with torch 2.14.1 + torchvision 0.29.1 + tensorflow-cpu 2.21:
``import tensorflow; import torchvision`` crashes in ``triton/knobs.py``; the other order works).
Every module of ours that imports TensorFlow calls ``before_tensorflow()`` first.
"""

from __future__ import annotations

import importlib.util
import sys


def before_tensorflow() -> None:
    if "tensorflow" in sys.modules or importlib.util.find_spec("torchvision") is None:
        return
    try:
        import torchvision  # noqa: F401
    except Exception:  # noqa: BLE001 — the CPU build cannot import it; nothing to protect then
        pass
