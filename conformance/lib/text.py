"""GNMT's string <-> id mapping, as gnmt.meta's own tables do it (docs/gnmt_graph.md, section 5).

The graph holds no vocabulary: its three ``HashTableV2``s are filled at run time from the
package's ``data/nlp/vocab.bpe.32000.en`` (id = 0-based line number; the target tables read the
same file). Source text is split on single ASCII spaces, empty pieces dropped
(``tf.string_split(delimiter=' ', skip_empty=True)``), with no lower-casing and no BPE
segmentation; a word not in the vocabulary is id 0 (``<unk>``). Ids go back to strings line by
line, an id outside the vocabulary to ``<unk>``; ``</s>`` is kept and ``@@`` markers are not
joined, as the graph's ``output:0``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from conformance.lib.inputs import ai_benchmark_data_dir
from twinzoo.zoo import gnmt as gnmt_spec
from twinzoo.catalogue import Network


@lru_cache(maxsize=1)
def vocabulary() -> tuple[str, ...]:
    """The package's vocabulary, one entry per line (TF's text-file initializer: split on '\\n',
    the trailing newline ends the last line)."""
    path = ai_benchmark_data_dir().parent / gnmt_spec.GNMT_VOCAB_FILE
    text = path.read_text(encoding="utf-8")
    words = tuple(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"))
    if len(words) != gnmt_spec.GNMT_VOCAB:
        raise ValueError(f"{path}: {len(words)} entries, GNMT's embeddings hold {gnmt_spec.GNMT_VOCAB}")
    return words


@lru_cache(maxsize=1)
def _index() -> dict[str, int]:
    return {w: i for i, w in enumerate(vocabulary())}


def encode(sentence: str) -> np.ndarray:
    """Source ids [T] (int32) of ``sentence`` as the graph's lookup gives them."""
    if not isinstance(sentence, str):
        raise TypeError(f"a sentence must be a str, got {type(sentence).__name__}")
    index = _index()
    return np.array([index.get(w, gnmt_spec.GNMT_UNK) for w in sentence.split(" ") if w], dtype=np.int32)


def decode(ids) -> list[str]:
    """The strings of ``ids`` (``<unk>`` for an id outside the vocabulary)."""
    words = vocabulary()
    return [words[i] if 0 <= i < len(words) else "<unk>" for i in np.asarray(ids).ravel().tolist()]


def truncate_at_eos(ids: np.ndarray) -> np.ndarray:
    """A greedy decode's ids [steps] up to and including the first ``</s>``: the graph's decoder
    loop stops once every sentence has emitted it (batch 1: after that step) and writes that
    step's id; with no ``</s>`` all steps are kept."""
    ids = np.asarray(ids)
    hits = np.flatnonzero(ids == gnmt_spec.GNMT_EOS)
    return ids[: hits[0] + 1] if hits.size else ids


def load_sentence(net: Network, size: tuple[int, int]) -> np.ndarray:
    """AI Benchmark's one sentence (``gnmt_spec.GNMT_SENTENCE``) as the graph's ids, batch 1, its
    first ``size[0]`` tokens (the package ships no other text)."""
    ids = encode(gnmt_spec.GNMT_SENTENCE)
    if size[0] > ids.size:
        raise ValueError(f"{net.name}: the benchmark sentence has {ids.size} tokens, {size[0]} asked")
    return ids[None, : size[0]]
