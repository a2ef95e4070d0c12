"""Load order of the frameworks' native libraries.

On torch's CUDA builds, triton's bundled LLVM aborts the process when it is loaded after
TensorFlow's (seen with torch 2.14.1 + torchvision 0.29.1 + tensorflow-cpu 2.21: ``import
tensorflow; import torchvision`` crashes in ``triton/knobs.py``; and with torch 2.15.0 + tensorflow-cpu
2.21 on Python 3.12, where torch's FLOP counter and torch.compile import triton lazily: ``Fatal
Python error: Aborted`` in the same file). The other order works. Every module of ours that
imports TensorFlow calls ``before_tensorflow()`` first.
"""

from __future__ import annotations

import importlib.util
import sys

# imported before TensorFlow where installed: torchvision pulls in triton; triton on its own for
# a CUDA build of torch without torchvision (the CPU build has neither, or a torchvision that
# cannot import: nothing to protect then)
FIRST = ("torchvision", "triton")


def before_tensorflow() -> None:
    if "tensorflow" in sys.modules:
        return
    for name in FIRST:
        if importlib.util.find_spec(name) is None:
            continue
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 — see FIRST
            pass
