"""DPED ResNet-12 generator and discriminator (aiff22/DPED models.py; AI Benchmark dped.meta)."""

from __future__ import annotations

import re

from twinzoo.graphs import GraphSpec
from twinzoo.network import AIB_2018, AIB_DESKTOP, EXPORT_JOB_VMHWM, BenchPlan, Family, Figure, Network, Tolerance

FAMILY = Family(order=50)
register = FAMILY.register

# DPED ResNet generator — Ignatov et al. 2017, aiff22/DPED models.py
DPED_WIDTH = 64
DPED_BLOCKS = 4
DPED_IN_EPS = 1e-3             # models.py _instance_norm: (var + 1e-3) ** 0.5
DPED_OUT_SCALE = 0.58          # tanh(x) * 0.58 + 0.5
DPED_OUT_SHIFT = 0.5

# DPED discriminator (models.py adversarial): (kernel, filters, stride, instance-norm?)
DPED_DISCRIMINATOR_CONVS = (
    (11, 48, 4, False),
    (5, 128, 2, True),
    (3, 192, 1, True),
    (3, 192, 1, True),
    (3, 128, 2, True),
)
DPED_DISCRIMINATOR_FC = 1024


def _dped_conv(m: re.Match) -> tuple[str, str]:
    """W1/b1 head, W2..W9 two per residual block, W10/W11 the plain convs, W12 the tail."""
    i = int(m["i"])
    weight = "kernel" if m["kind"] == "W" else "bias"
    if i == 1:
        return "head.conv", weight
    if 2 <= i <= 9:
        return f"blocks.{(i - 2) // 2}.conv{(i - 2) % 2 + 1}", weight
    if i in (10, 11):
        return f"convs.{i - 10}.conv", weight
    if i == 12:
        return "tail.conv", weight
    raise KeyError(f"no DPED conv W{i}")


def _dped_norm(m: re.Match) -> tuple[str, str]:
    """``Variable_k``: DPED's _instance_norm creates (shift, scale) per norm, in block order."""
    k = int(m["k"] or 0)
    norm = k // 2
    return f"blocks.{norm // 2}.norm{norm % 2 + 1}", "beta" if k % 2 == 0 else "gamma"


register(Network(
    name="dped", family="dped", builder="dped", task="enhancement",
    input_size=(128, 192), input_size_source=AIB_2018 + " (test 8: DPED ResNet-12, 128x192; unverified)",
    # 12x16 beside 48x64: an instance norm's statistics over few pixels make a biased/unbiased
    # variance mix-up visible (its effect is 1/(2n) of the normalised output, n = H*W: 1.6e-4 at
    # 48x64, below the float32 line; 2.6e-3 at 12x16; conformance.selftest.sensitivity's variance sweep)
    parity_sizes=((48, 64), (12, 16)), image_set="enhancement",
    # few pixels, as 12x16: an instance norm's biased/unbiased variance mix-up stays visible
    second_size=(13, 17),
    figures=(
        Figure("params", 401_475, AIB_DESKTOP + " (dped.meta: conv W+b and instance-norm scale/shift)",
               "trainable", 0.0),
        Figure("params", 400e3, AIB_2018 + " (model table '400K', unverified)", "trainable", 0.01),
        Figure("macs", 9.82e9, "computed: 399,744 MACs per pixel x 128x192; no published MAC figure",
               "conv+fc", 0.001, (128, 192)),
    ),
    description="DPED ResNet-12 generator with instance norm (eps 1e-3), tanh*0.58+0.5 output",
    graph=GraphSpec("dped.meta",
                    ((r"generator/(?P<kind>[Wb])(?P<i>\d+)", _dped_conv),
                     (r"generator/Variable(?:_(?P<k>\d+))?", _dped_norm)),
                    in_scale=255.0, out_scale=1 / 255.0),
    bench=BenchPlan(order=130, quick=(48, 64), export_rank=16, export_peak_gib=2.0, export_peak_from=EXPORT_JOB_VMHWM),
))
# Placed by the self-test (seeds 0-9, trained-like weights): its output is a 2-class softmax, so
# its scale is at most 1 and the correct twins agree to <= 4.9e-6 abs (0.04 of the default line).
# The smallest planted bug, the unbiased (n-1) variance in its third instance norm (13x13 maps),
# moves the probabilities by 2.4e-4 abs: 2.2x the default line, under the 3x margin goal.
# atol 1e-6 + rtol 2e-5 puts the correct twins 4.4x below the line and that bug 11.4x above it.
DPED_DISCRIMINATOR_TOLERANCE = Tolerance(atol=1e-6, rtol=2e-5, why="2-class softmax output (scale <= 1): "
                                         "correct twins <= 4.9e-6 abs (10 seeds), smallest planted bug 2.4e-4")
register(Network(
    name="dped_discriminator", family="dped", builder="dped_discriminator", task="discriminator",
    input_size=(100, 100), input_size_source="aiff22/DPED: 100x100 grayscale training patches",
    parity_sizes=((100, 100),), channels=1, image_set="enhancement", fixed_size=True,
    tolerance=DPED_DISCRIMINATOR_TOLERANCE,
    figures=(
        Figure("params", 7_361_122, "aiff22/DPED models.py adversarial(): conv W+b, IN, FC 6272->1024->2",
               "trainable", 0.0),
    ),
    description="DPED adversarial discriminator on 100x100 grayscale patches",
))
