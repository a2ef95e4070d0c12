"""GNMT's pieces that the whole-network checks (test_conformance, test_reference) do not isolate:
the graph's string <-> id mapping, the stop-after-</s> rule, the normalised attention, and the
decoding length."""

import os
import signal

import numpy as np
import pytest
import torch

import keras_models
import torch_models
from conformance.lib import text, transfer
from twinzoo.zoo import gnmt as gnmt_spec
from twinzoo.workers import IsolatedJobFailed, run_isolated, run_jobs


def test_the_benchmark_sentence_maps_as_the_graph_maps_it():
    ids = text.encode(gnmt_spec.GNMT_SENTENCE)
    # read off gnmt.meta's own lookup (docs/gnmt_graph.md, section 6): 20 tokens, 3 unknown
    assert ids.tolist() == [108, 14, 13, 6068, 7, 396, 13, 0, 284, 23, 0, 8, 1132, 5357, 1917, 8, 3218, 1107,
                            23973, 0]
    assert text.decode([0, 1, 2, 5, 99999]) == ["<unk>", "<s>", "</s>", "the", "<unk>"]
    # only single ASCII spaces split (runs collapse), a tab does not: the graph gave [[5, 0]]
    assert text.encode("  the  house\tis ").tolist() == [5, 0]
    with pytest.raises(TypeError, match="must be a str"):
        text.encode(b"the")


def test_decoding_stops_after_the_first_end_token():
    assert text.truncate_at_eos(np.array([7, 9, 2, 5, 2])).tolist() == [7, 9, 2]
    assert text.truncate_at_eos(np.array([7, 9, 5])).tolist() == [7, 9, 5]
    assert gnmt_spec.gnmt_decoding_steps(20) == 40 and gnmt_spec.gnmt_decoding_steps(7) == 14


def test_normalised_attention_twins_agree_and_the_norm_matters():
    from keras_models.layers import NormedBahdanauAttention as KA
    from torch_models.layers import NormedBahdanauAttention as TA
    rng = np.random.default_rng(0)
    q, keys, mem = (rng.standard_normal(s).astype(np.float32) for s in ((2, 6), (2, 5, 6), (2, 5, 6)))
    t = TA(6)
    with torch.no_grad():
        t.attention_g.fill_(0.7)
        t.attention_b.uniform_(-0.1, 0.1)
        want = t(*map(torch.from_numpy, (q, keys, mem))).numpy()
    k = KA(6)
    k(q, keys, mem)
    k.set_weights([p.detach().numpy() for p in (t.attention_v, t.attention_g, t.attention_b)])
    np.testing.assert_allclose(np.asarray(k(q, keys, mem)), want, atol=1e-6)
    # scaling v changes nothing once normalised: only g sets the score's scale
    with torch.no_grad():
        t.attention_v.mul_(5.0)
        np.testing.assert_allclose(t(*map(torch.from_numpy, (q, keys, mem))).numpy(), want, atol=1e-6)


def test_teacher_forcing_replays_greedy_decoding():
    """Feeding the greedy ids back (after <s>) gives the greedy logits: the reference check's
    replay of the graph's ids compares the same computation."""
    tm = torch_models.build("gnmt", vocab=40, units=8, encoder_layers=2, decoder_layers=3)
    for p in tm.parameters():
        torch.nn.init.uniform_(p, -0.5, 0.5)
    src = np.array([[3, 4, 5]], np.int32)
    km = keras_models.build("gnmt", input_size=(3, 40), vocab=40, units=8, encoder_layers=2, decoder_layers=3)
    forced = keras_models.build("gnmt", input_size=(3, 40), vocab=40, units=8, encoder_layers=2, decoder_layers=3,
                                teacher_forcing=True)
    transfer.torch_to_keras(tm, km)
    transfer.torch_to_keras(tm, forced)
    greedy = np.asarray(km(src))
    assert greedy.shape == (1, 6, 40)
    replay = np.concatenate([[[gnmt_spec.GNMT_SOS]], greedy.argmax(-1)[:, :-1]], 1).astype(np.int32)
    np.testing.assert_allclose(np.asarray(forced([src, replay])), greedy, atol=1e-5)
    with torch.no_grad():
        np.testing.assert_allclose(tm(torch.from_numpy(src), torch.from_numpy(replay)).numpy(), greedy, atol=1e-5)


def _crash() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def _crash_inside() -> str:
    try:
        run_isolated(_crash)
    except IsolatedJobFailed as exc:
        return str(exc)
    return "no crash"


def test_a_native_crash_in_an_isolated_job_is_an_error_not_the_end():
    # inside a worker of the main job's pool, as its export jobs run it (a daemonic worker could
    # not start the child: every full-int8 and ExecuTorch route failed so); a job that returns
    # is every full-int8 TFLite export of test_export
    out: list = []
    run_jobs([(_crash_inside, ())], 1, lambda i, r: out.append(r), lambda job, why: why)
    assert len(out) == 1 and "SIGSEGV" in out[0], out
