"""SRGAN: the AI Benchmark generator, the paper's SRResNet, and the discriminator."""

from __future__ import annotations

from twinzoo.graphs import LEAF, GraphSpec, Rule
from twinzoo.network import AIB_2018, AIB_DESKTOP, EXPORT_JOB_VMHWM, MAIN_JOB_BUDGET, BenchPlan, Family, Figure, Network

FAMILY = Family(order=60)
register = FAMILY.register

# SRGAN — Ledig et al. 2017, Fig. 4 (SRResNet generator and the discriminator)
SRGAN_WIDTH = 64
SRGAN_BLOCKS = 16
# Discriminator convs (Fig. 4): (filters, stride); the first has no BN.
SRGAN_DISCRIMINATOR_CONVS = (
    (64, 1), (64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 2),
)
SRGAN_DISCRIMINATOR_FC = 1024


def _srgan_rules() -> tuple[Rule, ...]:
    """tensorlayer SRGAN_g scopes (see torch_models/srgan.py for the table)."""
    return (
        (r"SRGAN_g/(?P<s>n64s0|n64s1)/c/(?P<leaf>W_conv2d|b_conv2d)",
         lambda m: (f"stem.{m['s']}.conv", LEAF[m["leaf"]])),
        (r"SRGAN_g/n64s1/c(?P<j>[12])/(?P<i>\d+)/W_conv2d",
         lambda m: (f"blocks.{m['i']}.conv{m['j']}", "kernel")),
        (r"SRGAN_g/n64s1/b(?P<j>[12])/(?P<i>\d+)/(?P<leaf>beta|gamma|moving_mean|moving_variance)",
         lambda m: (f"blocks.{m['i']}.bn{m['j']}", m["leaf"])),
        (r"SRGAN_g/n64s1/c/m/W_conv2d", lambda m: ("m.conv", "kernel")),
        (r"SRGAN_g/n64s1/b/m/(?P<leaf>beta|gamma|moving_mean|moving_variance)",
         lambda m: ("m.bn", m["leaf"])),
        (r"SRGAN_g/n256s1/(?P<i>\d)/(?P<leaf>W_conv2d|b_conv2d)",
         lambda m: (f"upsample.{int(m['i']) - 1}.conv", LEAF[m["leaf"]])),
        (r"SRGAN_g/out/(?P<leaf>W_conv2d|b_conv2d)", lambda m: ("out.conv", LEAF[m["leaf"]])),
    )


PAPER_SRGAN = "Ledig et al. 2017, SRGAN (arXiv:1609.04802), Fig. 4"
register(Network(
    name="srgan", family="srgan", builder="srgan", task="enhancement",
    input_size=(512, 512), input_size_source=AIB_2018 + " (test 6: SRGAN 512x512; unverified) and " + AIB_DESKTOP,
    parity_sizes=((64, 64),), image_set="enhancement", input_range=(-1.0, 1.0),
    # the 7x7/4 'SAME' stem pads asymmetrically; the output is 4 x ceil(side / 4): 64x68
    second_size=(61, 67),
    figures=(
        Figure("params", 1_562_755, AIB_DESKTOP + " (srgan.meta trainable variables)", "trainable", 0.0),
        Figure("params", 1_566_979, AIB_DESKTOP + " (srgan.meta, with BN moving stats)", "trainable+stats", 0.0),
        Figure("macs", 525.1e9, "computed on the srgan.meta layer list (NETWORKS.md: '525.1 G at 512^2 LR', "
               "i.e. 512x512 after the stride-4 stem = a 2048x2048 input); no published MAC figure",
               "conv+fc", 0.001, (2048, 2048)),
    ),
    description="AI Benchmark's ResNet-SRGAN (tensorlayer layout): 7x7/4 stem, 16 ReLU blocks, "
                "two x2 pixel shuffles, 1x1 tanh output, same size in and out",
    graph=GraphSpec("srgan.meta", _srgan_rules(),
                    in_scale=127.5, in_shift=127.5,        # graph: x/127.5 - 1 ... (y + 1) * 127.5
                    out_scale=1 / 127.5, out_shift=-1.0),
    bench=BenchPlan(order=120, quick=(32, 32), size=(128, 128), why=f"{MAIN_JOB_BUDGET} (32.8 GMAC at 512x512)",
                    export_rank=14, export_peak_gib=1.6, export_peak_from=EXPORT_JOB_VMHWM),
))
register(Network(
    name="srgan_srresnet", family="srgan", builder="srresnet", task="super-resolution",
    input_size=(128, 128), input_size_source=AIB_2018 + " (512x512 output = 128x128 input at x4)",
    parity_sizes=((24, 24),), image_set="enhancement", input_range=(-1.0, 1.0),
    second_size=(23, 29),
    figures=(
        Figure("params", 1.55e6, PAPER_SRGAN + " (commonly cited ~1.55M)", "trainable", 0.01),
        Figure("params", 1_549_462, "computed: the paper's SRResNet with one PReLU slope per layer", "trainable", 0.0),
        Figure("macs", 1.278e9, "computed at a 24x24 LR input (96x96 HR training crop)", "conv+fc", 0.001, (24, 24)),
    ),
    description="the paper's SRResNet generator, x4 with two PixelShuffle x2 stages, PReLU",
))
register(Network(
    name="srgan_discriminator", family="srgan", builder="srgan_discriminator", task="discriminator",
    input_size=(96, 96), input_size_source=PAPER_SRGAN + " (96x96 HR crops)",
    parity_sizes=((96, 96),), image_set="enhancement", input_range=(-1.0, 1.0), fixed_size=True,
    figures=(
        Figure("params", 23_565_505, "computed from " + PAPER_SRGAN + " at 96x96 (FC 18432x1024 dominates)",
               "trainable", 0.0),
        Figure("macs", 0.884e9, "computed from " + PAPER_SRGAN + " at 96x96", "conv+fc", 0.001, (96, 96)),
    ),
    description="the paper's SRGAN discriminator (8 convs, LeakyReLU 0.2, FC 1024, sigmoid)",
))
