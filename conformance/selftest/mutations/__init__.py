"""A catalogue of planted porting bugs: the mutation self-test's data.

Each ``Mutation`` is one discrepancy of a kind that really happens when a network is ported or
converted between PyTorch and Keras/TensorFlow, applied to *one* twin (or to the weight transfer)
of *one* network, in memory: ``with mutation.applied(): ...`` wraps ``torch_models.build``,
``keras_models.build`` or the transfer's layout rules so that everything built inside the block
carries the bug, and undoes every patch on exit. No file is edited.

The self-test (``conformance.selftest``) runs the full conformance check under each mutation and
records which checks flag it and which layer they name; ``expect`` is the checks that must flag
it, ``layer`` the layer a localising check must name (None: no layer to name, e.g. a MAC-only
change), ``invisible`` the checks that by nature cannot see it, with the reason. A bug in a table
both twins walk (``twinzoo/zoo/<family>.py``) is planted in both (``twin`` "both"): the twins still agree
with each other, so only AI Benchmark's graph can show it, and such a mutation expects the
reference check, which the self-test then runs too.
"""

from __future__ import annotations

# imported for their registrations, in the self-test's report order
from conformance.selftest.mutations import classifiers  # noqa: F401, I001
from conformance.selftest.mutations import enhancement  # noqa: F401
from conformance.selftest.mutations import segmentation  # noqa: F401
from conformance.selftest.mutations import recurrent  # noqa: F401
from conformance.selftest.mutations.base import MUTATIONS, Mutation, Patches, layer_in_message
from twinzoo.registry import Registry

__all__ = ["MUTATIONS", "Mutation", "Patches", "by_name", "layer_in_message"]


def by_name(name: str) -> Mutation:
    """The mutation called ``name`` (an ``UnknownNameError`` offering close names otherwise); reads
    this package's ``MUTATIONS`` when called (a test may extend it)."""
    return Registry("mutation", items=((m.name, m) for m in MUTATIONS))[name]
