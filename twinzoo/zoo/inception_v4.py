"""inception_v4."""

from __future__ import annotations

from twinzoo.graphs import GraphSpec, slim_fc_rules, slim_rules
from twinzoo.network import AIB_DESKTOP, DEEP_TOLERANCE, SECOND_INCEPTION, Family, Figure, Network

FAMILY = Family(order=120)
register = FAMILY.register


register(Network(
    name="inception_v4", family="inception_v4", builder="inception_v4", task="classification",
    input_size=(346, 346), input_size_source=AIB_DESKTOP + " (Inception-V4 at 346; inception_v4.meta placeholder)",
    # 299: the aux head's fixed 5x5 'VALID' conv needs a 5x5 pooled map (inputs of ~299..350)
    parity_sizes=((299, 299),), input_range=(-1.0, 1.0), second_size=SECOND_INCEPTION,
    opts={"num_classes": 1001, "aux_logits": True}, tolerance=DEEP_TOLERANCE,
    figures=(
        Figure("params", 46_074_066, AIB_DESKTOP + " (inception_v4.meta: every model variable, aux head, BN "
               "beta + moving stats, no gamma)", "trainable+stats", 0.0),
        Figure("macs", 15_627_127_552, AIB_DESKTOP + ": inception_v4.meta's own Conv2D/MatMul shapes "
               "summed at 346x346, aux head included (conformance.lib.graphs.graph_macs)", "conv+fc", 0.0, (346, 346)),
    ),
    description="Inception-v4 as AI Benchmark's inception_v4.meta: TF-slim layout, aux head, 1001 classes",
    graph=GraphSpec("inception_v4.meta",
                    (*slim_fc_rules("InceptionV4", ("AuxLogits/Aux_logits", "Logits/Logits")),
                     *slim_rules("InceptionV4", {})),
                    in_scale=127.5, in_shift=127.5, output="InceptionV4/Logits/Logits/BiasAdd:0",
                    heads=("InceptionV4/AuxLogits/Aux_logits/BiasAdd:0",), input_size=(346, 346),
                    note="output:0 is softmax(logits); the main logits and the aux head's logits (a sink of the graph "
                         "that output:0 does not reach) are compared"),
))
