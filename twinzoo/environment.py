"""The process environment every entry point sets before the frameworks load: TensorFlow's C++
log level, optionally OpenMP's wait policy, and the load order of the native libraries.

Load order: On torch's CUDA builds, triton's bundled LLVM aborts the process when it is loaded after
TensorFlow's (seen with torch 2.14.1 + torchvision 0.29.1 + tensorflow-cpu 2.21: ``import
tensorflow; import torchvision`` crashes in ``triton/knobs.py``; and with torch 2.15.0 + tensorflow-cpu
2.21 on Python 3.12, where torch's FLOP counter and torch.compile import triton lazily: ``Fatal
Python error: Aborted`` in the same file). The other order works. Every module of ours that
imports TensorFlow calls ``before_tensorflow()`` first.
"""

from __future__ import annotations

import importlib.util
import os
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


def prepare(omp_passive: bool = False, load_order: bool = True) -> None:
    """Set what must be set before torch or TensorFlow load (a value the user set wins).

    ``omp_passive``: torch's OpenMP threads spin-wait between parallel regions by default; on a
    machine whose cores are shared with other processes a descheduled thread then stalls every
    region (MobileNet v2 at 2 threads: seconds instead of tens of milliseconds). libgomp reads
    OMP_WAIT_POLICY when torch loads, so the benchmark asks for PASSIVE here, first.
    ``load_order``: ``before_tensorflow()`` now (the benchmark calls it later itself, after its
    own arguments are read)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if omp_passive:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if load_order:
        before_tensorflow()
