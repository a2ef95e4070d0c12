"""``python -m conformance port``: a user's checkpoint into both twins, with a certificate.

    python -m conformance port --model NAME --from PATH [--format auto|tf-checkpoint|keras-h5|
                               torch-state-dict|twinzoo] [--ema auto|use|ignore] [--size HxW] --out DIR

The file is read as tensors only, never as code:

=====================  ==========================================================================
``tf-checkpoint``      TF1/TF2 name-based checkpoints (``tf.train.load_checkpoint``: the index and
                       data files, no graph): TF-slim's released checkpoints, FaceNet's, DPED's and
                       any checkpoint saved from an AI Benchmark graph, each read by its naming
                       dialect (``conformance.lib.graphs``'s rules, the same that map the graphs)
``keras-h5``           keras.applications weight files: legacy ``.h5`` (weights only, or a whole
                       model's ``model_weights``; its config is never read) and Keras 3
                       ``.weights.h5``, read with h5py into keras.applications' architecture as
                       Keras itself builds it, then into our twin by position (``witnesses``)
``torch-state-dict``   ``torch.load(weights_only=True)`` only: our torch twin's names, or
                       torchvision's (paired by position as the torchvision witness pairs them)
``twinzoo``            our own safetensors (``conformance.lib.weights``: network, variant, framework
                       in its metadata)
=====================  ==========================================================================

The twin the file speaks to is filled first (a TF checkpoint or Keras file: the Keras twin; a
torch file: the torch twin), the other twin by ``conformance.lib.transfer``. Every source tensor is
accounted for: placed (with the target weight), or ignored by a stated rule (``global_step``,
optimiser slots, a training-only head); an unplaced tensor or an unfed weight is an error naming
them, before anything is written. The certificate then judges the two twins on the package's
real images under the network's parity tolerance, the AI Benchmark graph (when the network has
one and the file is for the graph's variant) against both, and for classifiers the twins' top-1
agreement over every classification image of the package.

Output (``DIR``): ``<network>.torch.safetensors``, ``<network>.keras.safetensors`` (only when the
certificate passes) and ``<network>.certificate.{json,md}`` (named by network, so ports of several
networks share one ``DIR``, which ``export --weights DIR`` and ``benchmark --weights DIR`` read);
staged in a temporary directory and moved in at the end, so an error leaves nothing half-written.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.lib.ports import PortError
from conformance.port.certify import certify, markdown, write_port
from conformance.port.plans import (PLANNERS, Plan, keras_app_for, plan_tf_checkpoint, refuse_placed, tf_dialect,
                                    twins_from_plan)
from conformance.port.sources import EMA_MODES, FORMATS, Source, admit, detect_format, read_source
from twinzoo import catalogue

__all__ = ["EMA_MODES", "FORMATS", "PLANNERS", "Plan", "PortError", "Source", "admit", "certify", "detect_format",
           "keras_app_for", "markdown", "plan_tf_checkpoint", "port", "read_source", "tf_dialect", "twins_from_plan",
           "write_port"]


def port(model: str, src: str | Path, out: str | Path, fmt: str = "auto", ema: str = "auto",
         size: tuple[int, int] | None = None, seed: int = 0, images: int | None = None) -> dict[str, Any]:
    """Read ``src``, fill both twins of ``model``, certify them, write ``out``. Raises PortError
    (nothing written) when the file does not fit; returns the certificate (``passed`` says
    whether the weight files were written)."""
    import keras

    net = catalogue.get(model)
    if ema not in EMA_MODES:
        raise PortError(f"unknown --ema {ema!r}; known: {', '.join(EMA_MODES)}")
    out = Path(out).expanduser()
    if net.fixed_size and size is not None and tuple(size) != tuple(net.input_size):
        raise PortError(f"{net.name} runs at {net.input_size[0]}x{net.input_size[1]} only (--size {size[0]}x{size[1]})")
    size = tuple(size or net.input_size)
    keras.backend.clear_session()
    source = read_source(src, fmt)
    psize = tuple(net.input_size if net.fixed_size else net.parity_sizes[0])
    if source.format == "tf-checkpoint":
        import keras_models
        plan = plan_tf_checkpoint(net, source, keras_models.build(net.name, input_size=psize), ema)
    else:
        plan = PLANNERS[source.format](net, source)
    conversions = refuse_placed(source, plan)
    tmodel, kmodel = twins_from_plan(net, plan, psize)
    cert = {
        "tool": "twinzoo conformance port", "network": net.name, "options": plan.opts,
        "source": {"path": str(source.path), "format": source.format, "dialect": plan.dialect,
                   "files": source.files, "meta": {k: v for k, v in source.meta.items() if k != "shapes"},
                   "conversions": conversions},
        "tensors": {"in_file": len(source.tensors), "placed": len({p["source"] for p in plan.placements}), "ignored": len(plan.ignored),
                    "filled": len(plan.filled), "placements": plan.placements, "ignored_tensors": plan.ignored,
                    "filled_weights": plan.filled},
        **certify(net, plan, tmodel, kmodel, size, seed, source, images),
        "seed": seed,
    }
    return write_port(net, plan, cert, tmodel, kmodel, out)
