"""Inception-ResNet-v1 (FaceNet: davidsandberg/facenet src/models/inception_resnet_v1.py)."""

from __future__ import annotations

from collections.abc import Sequence

from twinzoo.graphs import LEAF, Dialect, slim_rules
from twinzoo.network import (AIB_2018, EXPORT_JOB_VMHWM, MAIN_JOB_BUDGET, BenchPlan, Family, Figure, Network,
                             rounding_tol)

FAMILY = Family(order=80)
register = FAMILY.register

# Inception-ResNet-v1 — Szegedy et al. 2016 (arXiv:1602.07261), Figs. 10-16, as FaceNet builds
# it: davidsandberg/facenet src/models/inception_resnet_v1.py (with the Bottleneck layer)
# A branch op: (scope, filters, kernel, stride, padding); filters None is a max pool, "avg" a
# stride-1 'SAME' average pool (Inception-ResNet-v2's Mixed_5b uses the same format).
InceptionResnetV1Op = tuple
InceptionResnetV1Branches = Sequence[tuple[str, Sequence[InceptionResnetV1Op]]]

INCEPTION_RESNET_V1_BN_EPS = 1e-3     # facenet batch_norm_params['epsilon']
INCEPTION_RESNET_V1_L2_EPS = 1e-10    # tf.nn.l2_normalize(prelogits, 1, 1e-10, name='embeddings')

INCEPTION_RESNET_V1_STEM: tuple[InceptionResnetV1Op, ...] = (
    ("Conv2d_1a_3x3", 32, 3, 2, "VALID"),
    ("Conv2d_2a_3x3", 32, 3, 1, "VALID"),
    ("Conv2d_2b_3x3", 64, 3, 1, "SAME"),
    ("MaxPool_3a_3x3", None, 3, 2, "VALID"),
    ("Conv2d_3b_1x1", 80, 1, 1, "VALID"),
    ("Conv2d_4a_3x3", 192, 3, 1, "VALID"),
    ("Conv2d_4b_3x3", 256, 3, 2, "VALID"),
)


def _ir_conv(scope: str, filters: int, kernel: int | tuple[int, int], stride: int = 1,
             padding: str = "SAME") -> InceptionResnetV1Op:
    return (scope, filters, kernel, stride, padding)


def _ir_block35(b0: int, b1: tuple[int, int], b2: tuple[int, int, int]) -> InceptionResnetV1Branches:
    """block35 (Inception-ResNet-A): 1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 -> 3x3."""
    return (
        ("Branch_0", (_ir_conv("Conv2d_1x1", b0, 1),)),
        ("Branch_1", (_ir_conv("Conv2d_0a_1x1", b1[0], 1), _ir_conv("Conv2d_0b_3x3", b1[1], 3))),
        ("Branch_2", (_ir_conv("Conv2d_0a_1x1", b2[0], 1), _ir_conv("Conv2d_0b_3x3", b2[1], 3),
                      _ir_conv("Conv2d_0c_3x3", b2[2], 3))),
    )


def _ir_block_factorised(b0: int, b1: tuple[int, int, int], scopes: tuple[str, str],
                         kernels: tuple[tuple[int, int], tuple[int, int]]) -> InceptionResnetV1Branches:
    """block17 (Inception-ResNet-B: 1x7, 7x1) and block8 (Inception-ResNet-C: 1x3, 3x1)."""
    return (
        ("Branch_0", (_ir_conv("Conv2d_1x1", b0, 1),)),
        ("Branch_1", (_ir_conv("Conv2d_0a_1x1", b1[0], 1), _ir_conv(scopes[0], b1[1], kernels[0]),
                      _ir_conv(scopes[1], b1[2], kernels[1]))),
    )


def _ir_block17(b0: int, b1: tuple[int, int, int]) -> InceptionResnetV1Branches:
    return _ir_block_factorised(b0, b1, ("Conv2d_0b_1x7", "Conv2d_0c_7x1"), ((1, 7), (7, 1)))


def _ir_block8(b0: int, b1: tuple[int, int, int]) -> InceptionResnetV1Branches:
    return _ir_block_factorised(b0, b1, ("Conv2d_0b_1x3", "Conv2d_0c_3x1"), ((1, 3), (3, 1)))


def _ir_reduction_a(k: int, lw: int, m: int, n: int) -> InceptionResnetV1Branches:
    """Reduction-A (Mixed_6a) with the paper's k, l, m, n (Szegedy et al. 2016, Table 1)."""
    return (
        ("Branch_0", (_ir_conv("Conv2d_1a_3x3", n, 3, 2, "VALID"),)),
        ("Branch_1", (_ir_conv("Conv2d_0a_1x1", k, 1), _ir_conv("Conv2d_0b_3x3", lw, 3),
                      _ir_conv("Conv2d_1a_3x3", m, 3, 2, "VALID"))),
        ("Branch_2", (("MaxPool_1a_3x3", None, 3, 2, "VALID"),)),
    )


def _ir_reduction_b(b0: tuple[int, int], b1: tuple[int, int], b2: tuple[int, int, int]) -> InceptionResnetV1Branches:
    """Reduction-B (Mixed_7a): three conv branches ending in a 3x3/2 'VALID' conv, and a max pool."""
    return (
        ("Branch_0", (_ir_conv("Conv2d_0a_1x1", b0[0], 1), _ir_conv("Conv2d_1a_3x3", b0[1], 3, 2, "VALID"))),
        ("Branch_1", (_ir_conv("Conv2d_0a_1x1", b1[0], 1), _ir_conv("Conv2d_1a_3x3", b1[1], 3, 2, "VALID"))),
        ("Branch_2", (_ir_conv("Conv2d_0a_1x1", b2[0], 1), _ir_conv("Conv2d_0b_3x3", b2[1], 3),
                      _ir_conv("Conv2d_1a_3x3", b2[2], 3, 2, "VALID"))),
        ("Branch_3", (("MaxPool_1a_3x3", None, 3, 2, "VALID"),)),
    )


INCEPTION_RESNET_V1_BLOCK35 = _ir_block35(32, (32, 32), (32, 32, 32))
INCEPTION_RESNET_V1_BLOCK17 = _ir_block17(128, (128, 128, 128))
INCEPTION_RESNET_V1_BLOCK8 = _ir_block8(192, (192, 192, 192))
INCEPTION_RESNET_V1_MIXED_6A = _ir_reduction_a(192, 192, 256, 384)
INCEPTION_RESNET_V1_MIXED_7A = _ir_reduction_b((256, 384), (256, 256), (256, 256, 256))
# (container scope, block scope prefix, branches, repeats, residual scale)
INCEPTION_RESNET_V1_REPEATS = (("Repeat", "block35", INCEPTION_RESNET_V1_BLOCK35, 5, 0.17),
                               ("Repeat_1", "block17", INCEPTION_RESNET_V1_BLOCK17, 10, 0.10),
                               ("Repeat_2", "block8", INCEPTION_RESNET_V1_BLOCK8, 5, 0.20))
# The reduction after each repeat, (scope, branches), None after the last; then one more Block8
# (scale 1.0, no activation), Logits, Bottleneck, embeddings.
INCEPTION_RESNET_V1_REDUCTIONS = (("Mixed_6a", INCEPTION_RESNET_V1_MIXED_6A),
                                  ("Mixed_7a", INCEPTION_RESNET_V1_MIXED_7A),
                                  None)

FACENET = "davidsandberg/facenet src/models/inception_resnet_v1.py"
register(Network(
    name="inception_resnet_v1", family="inception_resnet_v1", builder="inception_resnet_v1",
    task="embedding", input_size=(512, 512),
    input_size_source=AIB_2018 + " (test 3: Inception-ResNet-V1, 512x512, 128-d embedding)",
    parity_sizes=((160, 160),), input_range=(-1.0, 1.0), image_set="classification",
    second_size=(167, 181),
    opts={"embedding_size": 128},
    figures=(
        Figure("params", 22_779_312, FACENET + " with 128-d bottleneck (2017 models): W + b + BN beta",
               "trainable", 0.0),
        Figure("params", 22_808_144, FACENET + " 128-d, with BN moving stats", "trainable+stats", 0.0),
        Figure("params", 22.8e6, AIB_2018 + " (model table '22.8M', unverified)", "trainable",
               rounding_tol(22.8e6, 0.1e6)),
        Figure("macs", 1.417e9, "computed on " + FACENET + " at 160x160 (FaceNet's training size) with "
               "the 128-d bottleneck (NETWORKS.md's 1.418 G is the 512-d count); no published MAC figure",
               "conv+fc", 0.001, (160, 160)),
        Figure("macs", 19.35e9, "computed on " + FACENET + " at 512x512 (AI Benchmark's size); "
               "no published MAC figure", "conv+fc", 0.001, (512, 512)),
    ),
    description="FaceNet's Inception-ResNet-v1, 128-d L2-normalised embedding (AI Benchmark's face test)",
    checkpoint=Dialect(
        "FaceNet InceptionResnetV1 (davidsandberg/facenet src/models/inception_resnet_v1.py)", (
            (r"InceptionResnetV1/(?P<path>Repeat(?:_\d)?/block\d+_\d+|Block8)/Conv2d_1x1/(?P<leaf>weights|biases)",
             lambda m: (f"{m['path'].replace('/', '.')}.Conv2d_1x1", LEAF[m["leaf"]])),
            (r"InceptionResnetV1/Bottleneck/weights", lambda m: ("Bottleneck.fc", "kernel")),
            *slim_rules("InceptionResnetV1", {})),
        ((r"Logits/(weights|biases)", "the training run's identity classifier (softmax over its training "
                                      "identities), not part of the embedding network"),
         (r"centers", "the center loss's class centres, a training-only state"))),
    bench=BenchPlan(order=50, quick=(96, 96), size=(160, 160),
                    why=f"{MAIN_JOB_BUDGET} (19.4 GMAC at 512x512); 160x160 is FaceNet's own input size",
                    export_rank=9, export_peak_gib=3.1, export_peak_from=EXPORT_JOB_VMHWM),
))
register(Network(
    name="inception_resnet_v1_512", family="inception_resnet_v1", builder="inception_resnet_v1",
    task="embedding", input_size=(160, 160), input_size_source="FaceNet 20180402/20180408 models (160x160)",
    parity_sizes=((160, 160),), input_range=(-1.0, 1.0), image_set="classification",
    second_size=(167, 181),
    opts={"embedding_size": 512},
    figures=(
        Figure("params", 23_467_824, FACENET + " with 512-d bottleneck (20180402 models)", "trainable", 0.0),
        Figure("params", 23_497_424, FACENET + " 512-d, with BN moving stats", "trainable+stats", 0.0),
    ),
    description="FaceNet's Inception-ResNet-v1 with the 512-d embedding of the 2018 models",
))
