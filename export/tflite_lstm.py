"""Keras 3 ``LSTM`` layers as TFLite's fused ``UNIDIRECTIONAL_SEQUENCE_LSTM`` op.

Keras 3's ``LSTM`` converts to a ``WHILE`` loop of small ops, which NNAPI and LiteRT's GPU
delegate cannot run, where Keras 2's converted to the fused op (tensorflow/tensorflow#126061,
google-ai-edge/LiteRT#41). The converter still fuses what Keras 2 emitted: a function whose
``api_implements`` attribute starts with ``lstm_`` (TensorFlow's MLIR pass
``prepare_composite_functions_tf.cc``, ``ConvertKerasLSTMLayer`` in ``lstm_utils.cc``) with six
arguments ``(inputs, init_h, init_c, kernel, recurrent_kernel, bias)`` of static shape (but the
inputs' time axis), a ``time_major`` attribute, and five results ``(last_output, outputs, h, c,
runtime)`` of which only the first two are used. ``fused_lstms`` makes each stock LSTM layer of
a model call such a function while the model is traced for export; the function's body is the
same recurrence in plain TF ops (what TF itself runs; the converter replaces it by the op).
"""

from __future__ import annotations

import contextlib
import types
import uuid
from typing import Any, Iterator


def _composite(time_major: bool, go_backwards: bool):
    import tensorflow as tf

    @tf.function(autograph=False, experimental_attributes={
        "api_implements": f"lstm_{uuid.uuid4().hex}", "api_preferred_device": "CPU",
        "time_major": time_major, "go_backwards": go_backwards})
    def lstm(inputs, init_h, init_c, kernel, recurrent_kernel, bias):
        xs = inputs if time_major else tf.transpose(inputs, [1, 0, 2])
        if go_backwards:
            xs = tf.reverse(xs, [0])

        def step(carry, x_t):
            h, c = carry
            z = tf.matmul(x_t, kernel) + tf.matmul(h, recurrent_kernel) + bias
            i, f, g, o = tf.split(z, 4, axis=1)         # Keras' gate order
            c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            return tf.sigmoid(o) * tf.tanh(c), c

        hs, cs = tf.scan(step, xs, initializer=(init_h, init_c))
        outputs = hs if time_major else tf.transpose(hs, [1, 0, 2])
        return hs[-1], outputs, hs[-1], cs[-1], tf.constant(0.0)

    return lstm


def fusable(layer: Any) -> str | None:
    """Why ``layer`` cannot be the fused op (None: it can): the op computes a stock LSTM with
    sigmoid gates, a tanh cell, a zero initial state and no mask."""
    import keras

    if type(layer) is not keras.layers.LSTM:
        return "not a stock keras.layers.LSTM"
    cell = layer.cell
    checks = {"stateful": layer.stateful, "unroll": layer.unroll, "return_state": layer.return_state,
              "activation is not tanh": cell.activation is not keras.activations.tanh,
              "recurrent_activation is not sigmoid": cell.recurrent_activation is not keras.activations.sigmoid}
    why = [k for k, bad in checks.items() if bad]
    return ", ".join(why) or None


@contextlib.contextmanager
def fused_lstms(model: Any) -> Iterator[list[str]]:
    """While the block traces ``model`` (e.g. ``model.export``), each stock LSTM layer that can be
    the fused op calls the composite function instead of its own loop (a call with a mask or an
    initial state keeps its own). Yields the names of the layers it fused."""
    import tensorflow as tf

    fused: list[str] = []
    patched = []
    for layer in model._flatten_layers(include_self=False):
        if fusable(layer) is not None:
            continue
        fn = _composite(time_major=False, go_backwards=layer.go_backwards)
        own_call = layer.call

        def call(self, sequences, initial_state=None, mask=None, training=False, _fn=fn, _own=own_call):
            if initial_state is not None or mask is not None or sequences.shape[0] is None:
                return _own(sequences, initial_state=initial_state, mask=mask, training=training)
            cell = self.cell
            zeros = tf.zeros([sequences.shape[0], cell.units], sequences.dtype)
            weights = [tf.convert_to_tensor(w) for w in (cell.kernel, cell.recurrent_kernel)]   # reads: tensors
            bias = tf.convert_to_tensor(cell.bias) if cell.use_bias else tf.zeros([4 * cell.units], sequences.dtype)
            last, outputs, _, _, _ = _fn(sequences, zeros, zeros, *weights, bias)
            return outputs if self.return_sequences else last

        layer.call = types.MethodType(call, layer)
        patched.append(layer)
        fused.append(layer.name)
    try:
        yield fused
    finally:
        for layer in patched:
            del layer.call                  # back to the class's own


def unclip_cells(model: bytes) -> tuple[bytes, int]:
    """``model`` with no cell clipping in its fused LSTM ops, and how many it changed. The
    converter emits the fused op with ``cell_clip`` 10 (Keras 2's default), where Keras and torch
    clip nothing: a cell state past 10 (a long sequence with a forget gate near 1) would then
    diverge from the twin's. 0 turns the op's clipping off (LiteRT's kernels clip only when it is
    positive). Float models only: a fully integer LSTM's quantised cell state is sized from it."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    obj = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    changed = 0
    for graph in obj.subgraphs:
        for op in graph.operators:
            opts = op.builtinOptions
            if isinstance(opts, schema.UnidirectionalSequenceLSTMOptionsT) and opts.cellClip:
                opts.cellClip = 0.0
                changed += 1
    return (bytes(flatbuffer_utils.convert_object_to_bytearray(obj)) if changed else model), changed
