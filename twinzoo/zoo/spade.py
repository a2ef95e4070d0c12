"""Nvidia SPADE generator (AI Benchmark spade.meta: taki0112/SPADE-Tensorflow layout, 128x128)."""

from __future__ import annotations

from twinzoo import tables
from twinzoo.graphs import GraphSpec, Rule
from twinzoo.network import AIB_DESKTOP, Family, Figure, Network

FAMILY = Family(order=170)
register = FAMILY.register


def _spade_rules() -> tuple[Rule, ...]:
    """spade.meta: ``generator/<scope path>[/conv2d]/<leaf>`` -> our ``<scope path>`` with '.'
    (the ``conv2d`` sub-scopes of the plain convs dropped); ``u`` is the spectral norm's vector."""
    return ((r"generator/(?P<path>.+?)(?:/conv2d)?/(?P<leaf>kernel|bias|u)",
             lambda m: (m["path"].replace("/", "."), m["leaf"])),)


register(Network(
    name="spade", family="spade", builder="spade", task="segmentation",
    input_size=(128, 128), input_size_source=AIB_DESKTOP + " (Nvidia-SPADE at 128x128; spade.meta placeholder)",
    parity_sizes=((128, 128),), image_set="segmentation", input_range=(-1.0, 1.0), fixed_size=True,
    figures=(
        Figure("params", 138_029_827, AIB_DESKTOP + " (spade.meta: every variable, the spectral norms' u "
               "vectors included)", "trainable+stats", 0.0),
        Figure("macs", 74_043_300_864, AIB_DESKTOP + ": spade.meta's own Conv2D/MatMul shapes summed at 128x128, the "
               "spectral norm's weight-only MatMuls left out (conformance.lib.graphs.graph_macs)", "conv+fc", 0.0,
               (128, 128)),
    ),
    description="Nvidia SPADE's generator as AI Benchmark's spade.meta: fixed latent z, 7 SPADE resblocks with "
                "spectral-norm convs, TF1 legacy resizes, 128x128 RGB -> RGB",
    graph=GraphSpec("spade.meta", _spade_rules(),
                    in_scale=127.5, in_shift=127.5,       # graph: x / 127.5 - 1 ... (tanh + 1) * 27.5
                    out_scale=1 / tables.SPADE_OUT_SCALE, out_shift=-1.0, input_size=(128, 128),
                    feeds=(("generator/random_normal:0", tables.spade_latent),),
                    note="output:0 is (tanh(logit) + 1) * 27.5; the graph's z draw is replaced by the twins' fixed "
                         "z (tables.spade_latent), fed to generator/random_normal"),
))
