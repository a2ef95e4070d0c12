"""Recurrences exported as loops: a Keras LSTM becomes TFLite's fused sequence-LSTM op (one op,
whatever the sequence length), computing what the twin computes, cell clipping included."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch

from export import tflite
from export.tflite_lstm import fused_lstms, unclip_cells

FEATURES, UNITS = 3, 8


def _model(steps: int, units: int = UNITS, features: int = FEATURES):
    import keras

    from keras_models.layers import LastStep
    keras.utils.set_random_seed(0)
    inputs = keras.Input((steps, features), batch_size=1, name="input")
    x = keras.layers.LSTM(units, return_sequences=True, name="rnn")(inputs)
    x = LastStep(name="last_step")(x)
    return keras.Model(inputs, keras.layers.Dense(2, name="fc")(x))


def _tflite(model, tmp_path, steps: int, features: int = FEATURES, unclip: bool = True) -> tuple[bytes, list[str]]:
    import tensorflow as tf
    spec = [tf.TensorSpec((1, steps, features), tf.float32, name="input")]
    saved = str(tmp_path / f"saved{steps}")
    with fused_lstms(model) as fused:
        model.export(saved, format="tf_saved_model", input_signature=spec, verbose=False)
    buf = tf.lite.TFLiteConverter.from_saved_model(saved).convert()
    return (unclip_cells(buf)[0] if unclip else buf), fused


def _ops(buf: bytes, tmp_path) -> collections.Counter:
    path = tmp_path / "m.tflite"
    path.write_bytes(buf)
    return collections.Counter(op["op"] for op in tflite.op_list(path))


def _run(buf: bytes, x: np.ndarray, tmp_path) -> np.ndarray:
    path = tmp_path / "m.tflite"
    path.write_bytes(buf)
    return tflite.run_tflite(path, [x])[0][0]


def test_a_keras_lstm_is_one_fused_op_at_any_length(tmp_path):
    sizes = {}
    for steps in (8, 32):
        model = _model(steps)
        buf, fused = _tflite(model, tmp_path, steps)
        ops = _ops(buf, tmp_path)
        assert fused == ["rnn"] and ops == {"UNIDIRECTIONAL_SEQUENCE_LSTM": 1, "STRIDED_SLICE": 1,
                                            "FULLY_CONNECTED": 1}, ops
        x = np.random.default_rng(steps).standard_normal((1, steps, FEATURES)).astype(np.float32)
        np.testing.assert_allclose(_run(buf, x, tmp_path), np.asarray(model(x)), rtol=1e-5, atol=1e-6)
        sizes[steps] = len(buf)
    assert abs(sizes[8] - sizes[32]) <= 64              # the weights, not the steps (a shape or two differ)
    from export import nnapi                           # the op NNAPI runs: the whole graph delegable
    path = tmp_path / "m.tflite"
    path.write_bytes(buf)
    assert nnapi.delegate_report(tflite.op_list(path))["whole_graph_from_api"] == 29
    # outside the block the layer is its own again: Keras' loop, the same numbers
    model = _model(8)
    with fused_lstms(model):
        pass
    assert "call" not in vars(model.get_layer("rnn"))


def test_the_fused_op_does_not_clip_the_cell_where_the_twins_do_not(tmp_path):
    """A cell state driven to 30 and back to 5: Keras (and torch) follow it; the converter's fused
    op as emitted clips it at 10 and ends at -10, the sign of the output flipped. The exported
    model has the clipping turned off and follows the twin."""
    steps = 55
    model = _model(steps, units=1, features=1)
    cell = model.get_layer("rnn").cell
    big = 20.0                                         # gates saturated open: i, f, o = 1
    cell.kernel.assign(np.array([[0.0, 0.0, 5.0, 0.0]], np.float32))         # g = tanh(5 x)
    cell.recurrent_kernel.assign(np.zeros((1, 4), np.float32))
    cell.bias.assign(np.array([big, big, 0.0, big], np.float32))
    x = np.concatenate([np.ones(30), -np.ones(25)]).astype(np.float32).reshape(1, steps, 1)
    twin = np.asarray(model(x))
    exported, _ = _tflite(model, tmp_path, steps, features=1)
    clipped, _ = _tflite(model, tmp_path, steps, features=1, unclip=False)
    np.testing.assert_allclose(_run(exported, x, tmp_path), twin, rtol=1e-5, atol=1e-5)
    assert np.abs(_run(clipped, x, tmp_path) - twin).max() > 0.5 * np.abs(twin).max()


@pytest.mark.parametrize("kw", [{"stateful": True}, {"activation": "relu"}])
def test_a_layer_the_op_cannot_compute_keeps_its_own_loop(kw):
    import keras

    from export.tflite_lstm import fusable
    assert fusable(keras.layers.LSTM(4)) is None
    assert fusable(keras.layers.LSTM(4, **kw)) is not None
    assert fusable(keras.layers.GRU(4)) == "not a stock keras.layers.LSTM"


class _Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.rnn = torch.nn.LSTM(FEATURES, UNITS, batch_first=True)
        self.fc = torch.nn.Linear(UNITS, 2)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


def test_scan_lstm_computes_what_nn_lstm_does():
    from export.torch_lstm import ScanLSTM, scan_lstms
    model = _Tiny().eval()
    looped, names = scan_lstms(model)
    assert names == ["rnn"] and isinstance(looped.rnn, ScanLSTM) and type(model.rnn) is torch.nn.LSTM
    x = torch.randn(1, 40, FEATURES, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(looped(x), model(x), rtol=1e-5, atol=1e-6)
    assert scan_lstms(torch.nn.Sequential(torch.nn.LSTM(3, 4, bidirectional=True)))[1] == []    # not its form


def test_an_executorch_program_of_an_lstm_does_not_grow_with_the_sequence(tmp_path):
    """The stock layer's lowering unrolls every step (the program grows with them); the scan loop
    keeps one program for any length, and it runs in ExecuTorch's runtime as the twin does."""
    from export.executorch import _lower, run_pte
    model = _Tiny().eval()
    sizes = {}
    for steps in (8, 32):
        x = np.random.default_rng(steps).standard_normal((1, steps, FEATURES)).astype(np.float32)
        path = tmp_path / f"m{steps}.pte"
        notes = _lower(model, x, str(path))
        assert "rnn" in notes["lstm_as_loop"]
        with torch.no_grad():
            np.testing.assert_allclose(run_pte(path, [x])[0][0], model(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-6)
        sizes[steps] = path.stat().st_size
    assert abs(sizes[8] - sizes[32]) <= 256, sizes
