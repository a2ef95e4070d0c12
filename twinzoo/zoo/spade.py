"""Nvidia SPADE generator (AI Benchmark spade.meta: taki0112/SPADE-Tensorflow layout, 128x128)."""

from __future__ import annotations

from twinzoo.graphs import GraphSpec, Rule
from twinzoo.network import AIB_DESKTOP, GUARD_READINGS, BenchPlan, Family, Figure, Network

FAMILY = Family(order=170)
register = FAMILY.register

# Nvidia SPADE — Park et al. 2019, "Semantic Image Synthesis with Spatially-Adaptive
# Normalization" (arXiv:1903.07291): the generator as AI Benchmark's spade.meta has it (taki0112's
# SPADE-Tensorflow layout: a 2x2 latent start, spectral-norm convs, 128x128 output)
SPADE_Z_DIM = 256               # generator/random_normal [1, 256], N(0, 1)
SPADE_LATENT = (2, 2, 1024)     # linear_x: dense 256 -> 4096, reshaped to [1, 2, 2, 1024] (H, W, C)
# (scope, output channels, upsample after): the residual blocks in order; a block whose input
# width differs from its output has a SPADE'd 1x1 spectral-norm shortcut (spade_shortcut,
# conv_shortcut); the middle conv has min(in, out) channels.
SPADE_BLOCKS: tuple[tuple[str, int, bool], ...] = (
    ("spade_resblock_fix_0", 1024, True),
    ("spade_resblock_fix_1", 1024, True),
    ("spade_resblock_fix_2", 1024, True),
    ("spade_resblock_0", 512, True),
    ("spade_resblock_1", 256, True),
    ("spade_resblock_2", 128, True),
    ("spade_resblock_3", 64, False),
)
SPADE_HIDDEN = 128              # conv_128: the segmentation map's shared 5x5 conv before gamma/beta
SPADE_KERNEL = 5                # conv_128, conv_gamma, conv_beta: 5x5, zero pad 2
SPADE_NORM_EPS = 1e-5           # param_free_norm: (x - mean) / sqrt(var + 1e-5), moments over H, W
SPADE_LRELU = 0.2               # lrelu: max(x, 0.2 x)
SPADE_SN_EPS = 1e-12            # tf.nn.l2_normalize's epsilon in the spectral norm's power iteration
SPADE_OUT_SCALE = 27.5          # spade.meta: output = (tanh(logit) + 1) * 27.5 (sic: not 127.5)
SPADE_Z_SEED = 0                # the twins' fixed draw of z (the graph draws a new one every run)


def spade_latent(seed: int = SPADE_Z_SEED):
    """The fixed latent vector z [1, 256] both SPADE twins use in place of the graph's
    ``RandomStandardNormal`` (N(0, 1), float32), from numpy's PCG64 with ``seed``."""
    import numpy as np
    return np.random.default_rng(seed).standard_normal((1, SPADE_Z_DIM)).astype(np.float32)


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
                    out_scale=1 / SPADE_OUT_SCALE, out_shift=-1.0, input_size=(128, 128),
                    feeds=(("generator/random_normal:0", spade_latent),),
                    note="output:0 is (tanh(logit) + 1) * 27.5; the graph's z draw is replaced by the twins' fixed "
                         "z (spade_latent), fed to generator/random_normal"),
    bench=BenchPlan(order=150, export_rank=2, quick_skip="74 GMAC a call at its fixed 128x128",
                    export_peak_gib=20.0, export_peak_from=GUARD_READINGS),
))
