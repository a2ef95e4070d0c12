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
