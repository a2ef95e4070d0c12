"""Building blocks shared by the Keras twins; each mirrors the torch block of the same name in
``torch_models/layers.py`` and creates layers named ``<block>.<child>`` like torch's module paths."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers


@keras.saving.register_keras_serializable(package="twinzoo")
class SubPixelConv2D(layers.Conv2D):
    """A 'same' conv followed by ``depth_to_space`` of factor ``upscale`` (TF's native pixel
    shuffle; see torch_models.layers.SubPixelConv2d for the channel-order difference)."""

    def __init__(self, filters: int, kernel_size: int, upscale: int, **kwargs) -> None:
        kwargs.setdefault("padding", "same")
        super().__init__(filters * upscale * upscale, kernel_size, **kwargs)
        self.upscale = upscale

    def call(self, inputs):
        return tf.nn.depth_to_space(super().call(inputs), self.upscale)

    def compute_output_shape(self, input_shape):
        n, h, w, c = super().compute_output_shape(input_shape)
        r = self.upscale
        return (n, None if h is None else h * r, None if w is None else w * r, c // (r * r))

    def get_config(self):
        config = super().get_config()
        config["filters"] = config["filters"] // (self.upscale * self.upscale)
        config["upscale"] = self.upscale
        return config


@keras.saving.register_keras_serializable(package="twinzoo")
class SNConv2D(layers.Conv2D):
    """A conv with spectral normalisation computed at every call from the stored ``u`` (one power
    iteration, taki0112's ``spectral_norm`` without the assignment back to ``u``); see
    torch_models.layers.SNConv2d. ``u`` is a non-trainable weight [1, filters]."""

    def __init__(self, filters: int, kernel_size: int, sn_eps: float = 1e-12, **kwargs) -> None:
        super().__init__(filters, kernel_size, **kwargs)
        self.sn_eps = sn_eps

    def build(self, input_shape) -> None:
        super().build(input_shape)
        self.u = self.add_weight(name="u", shape=(1, self.filters), initializer="random_normal", trainable=False)

    def call(self, inputs):
        w = tf.reshape(self.kernel, [-1, self.filters])
        v = tf.nn.l2_normalize(tf.matmul(self.u, w, transpose_b=True), epsilon=self.sn_eps)
        u = tf.nn.l2_normalize(tf.matmul(v, w), epsilon=self.sn_eps)
        sigma = tf.matmul(tf.matmul(v, w), u, transpose_b=True)
        y = tf.nn.conv2d(inputs, self.kernel / sigma, self.strides, self.padding.upper())
        return y if self.bias is None else tf.nn.bias_add(y, self.bias)

    def get_config(self):
        return {**super().get_config(), "sn_eps": self.sn_eps}


@keras.saving.register_keras_serializable(package="twinzoo")
class ScalarBias(layers.Layer):
    """One bias shared by all channels (AI Benchmark's srcnn.meta ``b3`` of shape [1])."""

    def build(self, input_shape) -> None:
        self.bias = self.add_weight(name="bias", shape=(1,), initializer="zeros")

    def call(self, inputs):
        return inputs + self.bias


def spatial_size(x):
    """(H, W) of an NHWC tensor: Python ints where static, scalar tensors where not."""
    dynamic = tf.shape(x)
    return tuple(x.shape[i] if x.shape[i] is not None else dynamic[i] for i in (1, 2))


def activation(kind: str, name: str) -> layers.Layer:
    kinds = {
        "relu": lambda: layers.ReLU(name=name),
        "relu6": lambda: layers.ReLU(max_value=6.0, name=name),
        "tanh": lambda: layers.Activation("tanh", name=name),
        "sigmoid": lambda: layers.Activation("sigmoid", name=name),
        "lrelu0.2": lambda: layers.LeakyReLU(negative_slope=0.2, name=name),
        "prelu": lambda: layers.PReLU(shared_axes=[1, 2, 3], name=name),
    }
    try:
        return kinds[kind]()
    except KeyError:
        raise ValueError(f"unknown activation {kind!r}; known: {', '.join(kinds)}") from None


def batch_norm(name: str, eps: float, scale: bool = True) -> layers.BatchNormalization:
    # momentum 0.9 mirrors torch's momentum=0.1 convention; it only matters in training.
    return layers.BatchNormalization(epsilon=eps, momentum=0.9, scale=scale, name=name)


def conv_act(x, filters: int, kernel_size: int, act: str, *, name: str, stride: int = 1):
    """'same' conv with bias -> activation (no norm); layers ``<name>.conv``, ``<name>.act``."""
    x = layers.Conv2D(filters, kernel_size, stride, padding="same", use_bias=True, name=f"{name}.conv")(x)
    return activation(act, f"{name}.act")(x)


def logits(x, num_classes: int, name: str = "logits"):
    """Global average pool -> 1x1 conv with bias (slim's ``Logits/Conv2d_1c_1x1``) -> flatten."""
    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}.pool")(x)
    x = layers.Conv2D(num_classes, 1, use_bias=True, name=f"{name}.conv")(x)
    return layers.Flatten(name=f"{name}.flatten")(x)


def conv_bn_act(x, filters: int, kernel_size: int, stride: int = 1, *, name: str,
                depthwise: bool = False, act: str | None = "relu6", bn_eps: float = 1e-3,
                bias: bool = False, bn_scale: bool = True, padding: str = "same"):
    """conv -> BN -> activation; layers ``<name>.conv``, ``<name>.bn``, ``<name>.act``. With
    ``padding="symmetric"`` (torch's (k-1)//2 on every side) a ``<name>.pad`` ZeroPadding2D
    precedes a 'valid' conv."""
    conv_padding = "same"
    if padding == "symmetric":
        pad = (kernel_size - 1) // 2
        if pad:
            x = layers.ZeroPadding2D(pad, name=f"{name}.pad")(x)
        conv_padding = "valid"
    elif padding != "same":
        raise ValueError(f"unknown padding {padding!r}; known: same, symmetric")
    if depthwise:
        x = layers.DepthwiseConv2D(kernel_size, stride, padding=conv_padding, use_bias=bias, name=f"{name}.conv")(x)
    else:
        x = layers.Conv2D(filters, kernel_size, stride, padding=conv_padding, use_bias=bias, name=f"{name}.conv")(x)
    x = batch_norm(f"{name}.bn", bn_eps, bn_scale)(x)
    if act is not None:
        x = activation(act, f"{name}.act")(x)
    return x


# ------------------------------------------------------------------------------------------
# Pixel-RNN (carpedm20's layers as ai_benchmark/model_utils.py has them); see the torch twins
# of the same names in torch_models/layers.py
# ------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="twinzoo")
class MaskedConv2D(layers.Conv2D):
    """A 'same' conv whose kernel is multiplied at every call by a fixed spatial mask
    (``pixel_rnn_spec.pixel_rnn_mask``: "a" or "b")."""

    def __init__(self, filters: int, kernel_size: int, mask_type: str, **kwargs) -> None:
        kwargs.setdefault("padding", "same")
        super().__init__(filters, kernel_size, **kwargs)
        self.mask_type = mask_type

    def build(self, input_shape) -> None:
        from twinzoo.zoo import pixel_rnn as pixel_rnn_spec
        super().build(input_shape)
        self.mask = pixel_rnn_spec.pixel_rnn_mask(self.kernel_size[0], self.mask_type)[:, :, None, None]

    def call(self, inputs):
        y = tf.nn.conv2d(inputs, self.kernel * self.mask, 1, "SAME")
        return y if self.bias is None else tf.nn.bias_add(y, self.bias)

    def get_config(self):
        return {**super().get_config(), "mask_type": self.mask_type}


@keras.saving.register_keras_serializable(package="twinzoo")
class DiagonalLSTMScan(layers.Layer):
    """The recurrence of a Diagonal LSTM over the columns of a skewed map; ``kernel`` [k, 1, h, 4h]
    and ``bias`` [4h] are the state-to-state conv ``s_to_s``. Input [N, H, W', 4h], output
    [N, H, W', h]. See torch_models.layers.DiagonalLSTMScan."""

    def __init__(self, hidden: int, kernel: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.hidden, self.kernel_rows = hidden, kernel

    def build(self, input_shape) -> None:
        c4 = 4 * self.hidden
        self.kernel = self.add_weight(name="kernel", shape=(self.kernel_rows, 1, self.hidden, c4))
        self.bias = self.add_weight(name="bias", shape=(c4,), initializer="zeros")

    def call(self, x):
        _, height, width, c4 = x.shape
        hid = self.hidden
        columns = tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [-1, width, height * c4])
        state = tf.zeros_like(x[:, :, :1, :hid])
        cell = tf.zeros_like(columns[:, 0, :height * hid])
        outs = []
        for t in range(width):
            s = tf.nn.bias_add(tf.nn.conv2d(state, self.kernel, 1, "SAME"), self.bias)
            gates = tf.sigmoid(tf.reshape(s, [-1, height * c4]) + columns[:, t])
            i, g, f, o = tf.split(gates, 4, axis=1)
            cell = f * cell + i * g
            h = o * tf.tanh(cell)
            outs.append(h)
            state = tf.reshape(h, [-1, height, 1, hid])
        return tf.transpose(tf.reshape(tf.stack(outs, 1), [-1, width, height, hid]), [0, 2, 1, 3])

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], self.hidden)

    def twinzoo_macs(self) -> int:
        """The state-to-state conv once per column: H x 4h outputs x (k x h) taps, x W' columns."""
        _, height, width, c4 = self.input.shape
        return int(width * height * c4 * self.kernel_rows * self.hidden)

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden, "kernel": self.kernel_rows}


@keras.saving.register_keras_serializable(package="twinzoo")
class Skew(layers.Layer):
    """[N, H, W, C] -> [N, H, W + H - 1, C]: row i shifted right by i, zeros around."""

    def call(self, x):
        height = x.shape[1]
        return tf.stack([tf.pad(x[:, i], [[0, 0], [i, height - 1 - i], [0, 0]]) for i in range(height)], 1)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, h, w + h - 1, c)


@keras.saving.register_keras_serializable(package="twinzoo")
class Unskew(layers.Layer):
    """Row i keeps columns i .. i + H - 1 (model_utils' ``unskew``: the width taken equal to the height)."""

    def call(self, x):
        height = x.shape[1]
        return tf.stack([x[:, i, i:i + height] for i in range(height)], 1)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, h, h, c)


@keras.saving.register_keras_serializable(package="twinzoo")
class FlipWidth(layers.Layer):
    """The image mirrored left-right (``tf.reverse(x, [2])``)."""

    def call(self, x):
        return tf.reverse(x, [2])


@keras.saving.register_keras_serializable(package="twinzoo")
class ZeroLastRow(layers.Layer):
    """The last row replaced by zeros (model_utils' ``diagonal_bilstm`` on the backward output)."""

    def call(self, x):
        return tf.pad(x[:, :-1], [[0, 0], [0, 1], [0, 0], [0, 0]])


@keras.saving.register_keras_serializable(package="twinzoo")
class LastStep(layers.Layer):
    """A sequence's last step: [N, T, C] -> [N, C] (the graph's gather of the last time step)."""

    def call(self, x):
        return x[:, -1]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package="twinzoo")
class NormedBahdanauAttention(layers.Layer):
    """tensorflow/nmt's normalised Bahdanau attention (Salimans & Kingma's weight norm on v):
    score_j = sum_k (g v_k / ||v||) tanh(keys_jk + query_k + b_k), softmax over the source
    positions, the context = alignments @ memory. ``query`` comes already through the query layer
    (a bias-free Dense of the twin), ``keys`` through the memory layer. Weights as the graph's
    ``bahdanau_attention/attention_{v,g,b}``: g starts at sqrt(1 / units), b at zero."""

    def __init__(self, units: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.units = units

    def build(self, query_shape, keys_shape, memory_shape) -> None:
        u = self.units
        self.source_length = keys_shape[1]          # for the MAC count
        self.attention_v = self.add_weight(shape=(u,), initializer=keras.initializers.RandomUniform(-0.1, 0.1),
                                           name="attention_v")
        self.attention_g = self.add_weight(shape=(), initializer=keras.initializers.Constant((1.0 / u) ** 0.5),
                                           name="attention_g")
        self.attention_b = self.add_weight(shape=(u,), initializer="zeros", name="attention_b")

    def call(self, query, keys, memory):
        ops = keras.ops
        v = self.attention_g * self.attention_v * ops.rsqrt(ops.sum(ops.square(self.attention_v)))
        score = ops.sum(v * ops.tanh(keys + query[:, None, :] + self.attention_b), axis=-1)   # [N, T]
        alignments = ops.softmax(score, axis=-1)
        return ops.matmul(alignments[:, None, :], memory)[:, 0, :]                           # [N, units]

    def compute_output_shape(self, query_shape, keys_shape, memory_shape):
        return (query_shape[0], self.units)

    def twinzoo_macs(self) -> int:
        """Per call: the context's alignments [1, T] x memory [T, units] (the score's tanh and
        weighted sum are elementwise, left out as activations are)."""
        return int(self.source_length * self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="twinzoo")
class GreedyToken(layers.Layer):
    """A decoding step's greedy choice: argmax over the vocabulary, int32 (the graph's ArgMax).
    ``tf.argmax`` itself: ``keras.ops.argmax`` guards against flushed negative zeros with
    ``tf.bitwise_and``, an op TFLite's builtins lack (GNMT's conversion failed on it)."""

    def call(self, logits):
        return tf.argmax(logits, axis=-1, output_type=tf.int32)

    def compute_output_shape(self, input_shape):
        return input_shape[:-1]

    def compute_output_spec(self, logits):
        return keras.KerasTensor(logits.shape[:-1], dtype="int32")
