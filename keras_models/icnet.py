"""ICNet (Zhao et al. 2018, arXiv:1704.08545) as AI Benchmark runs it (``icnet.meta``): the
official Caffe model (hszhao/ICNet) with BN merged, plus AI Benchmark's 1x1 conv 19 -> 3 + tanh.
Mirrors ``torch_models/icnet.py`` layer for layer (same names; the graph-scope table, the resize
and pyramid-pooling rules and the folded / unfolded forms are documented there).

The graph's resizes are TF1 ``ResizeBilinear(align_corners=True, half_pixel_centers=False)``,
which neither Keras 3's ``Resizing`` nor TF2's ``tf.image.resize`` can express: the ``Resize`` /
``ResizeLike`` layers below call ``tf.raw_ops.ResizeBilinear`` with those attributes (torch:
``F.interpolate(align_corners=True)``, the same sampling). ``BinAvgPool`` is the graph's
pyramid ``AvgPool`` (VALID, kernel = stride = floor(map / divisor)) for any map size.

Input: the graph's ``sub`` output ([0, 255] pixels minus [103.939, 116.779, 123.68]); output:
tanh in [-1, 1] (``output:0``), or the class logits at the input size with ``aib_head=False``.
Constants and tables (stages, pyramid bins, ...): ``twinzoo.zoo.icnet`` (``ICNET_*``).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from keras_models.layers import activation, batch_norm, spatial_size
from twinzoo.zoo import icnet as spec

# short local names for the twinzoo.zoo.icnet entries used throughout
BN_EPS = spec.ICNET_BN_EPS
NUM_CLASSES = spec.ICNET_NUM_CLASSES


# ------------------------------------------------------------------------------------------
# parameter-free layers (each mirrors the torch module of the same class name)
# ------------------------------------------------------------------------------------------
def _resize(x, size):
    """TF1 ``ResizeBilinear(align_corners=True, half_pixel_centers=False)``."""
    return tf.raw_ops.ResizeBilinear(images=x, size=size, align_corners=True, half_pixel_centers=False)


@keras.saving.register_keras_serializable(package="twinzoo")
class Resize(layers.Layer):
    """Bilinear resize (align_corners=True) to ``int(size * factor)``."""

    def __init__(self, factor: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.factor = factor

    def _scaled(self, n):
        if n is None:
            return None
        if isinstance(n, int):
            return int(n * self.factor)
        return tf.cast(tf.cast(n, tf.float32) * self.factor, tf.int32)

    def call(self, x):
        h, w = spatial_size(x)
        return _resize(x, tf.stack([self._scaled(h), self._scaled(w)]))

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, self._scaled(h), self._scaled(w), c)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="twinzoo")
class ResizeLike(layers.Layer):
    """Bilinear resize (align_corners=True) of ``inputs[0]`` to the spatial size of ``inputs[1]``."""

    def call(self, inputs):
        x, like = inputs
        h, w = spatial_size(like)
        return _resize(x, tf.stack([h, w]))

    def compute_output_shape(self, input_shapes):
        (n, _, _, c), (_, h, w, _) = input_shapes
        return (n, h, w, c)


@keras.saving.register_keras_serializable(package="twinzoo")
class BinAvgPool(layers.Layer):
    """Average pool, kernel = stride = floor(map size / divisor), 'VALID' (the graph's
    ``conv5_3_pool{1,2,3,6}``). A static map uses the graph's own ``AvgPool`` op; an unknown
    size crops to whole bins and averages them."""

    def __init__(self, divisor: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.divisor = divisor

    def _kernel(self, n):
        return max(n // self.divisor, 1)

    def call(self, x):
        h, w = x.shape[1], x.shape[2]
        if h is not None and w is not None:
            kh, kw = self._kernel(h), self._kernel(w)
            return tf.nn.avg_pool2d(x, (kh, kw), (kh, kw), "VALID")
        h, w = spatial_size(x)
        kh, kw = tf.maximum(h // self.divisor, 1), tf.maximum(w // self.divisor, 1)
        oh, ow = h // kh, w // kw
        c = tf.shape(x)[3]
        x = x[:, : oh * kh, : ow * kw, :]
        x = tf.reshape(x, tf.stack([-1, oh, kh, ow, kw, c]))
        return tf.reduce_mean(x, axis=(2, 4))

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, None if h is None else h // self._kernel(h), None if w is None else w // self._kernel(w), c)

    def get_config(self):
        return {**super().get_config(), "divisor": self.divisor}


# ------------------------------------------------------------------------------------------
# conv blocks
# ------------------------------------------------------------------------------------------
def conv_unit(x, filters: int, kernel_size: int, stride: int = 1, dilation: int = 1, *, name: str,
               act: str | None = None, folded: bool = True, norm: bool = True, padding: str = "same",
               bn_eps: float = BN_EPS):
    """One graph conv scope: ``<name>.conv`` (+ ``<name>.bn`` when unfolded) (+ ``<name>.act``)."""
    x = layers.Conv2D(filters, kernel_size, stride, padding=padding, dilation_rate=dilation,
                      use_bias=folded or not norm, name=f"{name}.conv")(x)
    if norm and not folded:
        x = batch_norm(f"{name}.bn", bn_eps)(x)
    if act is not None:
        x = activation(act, f"{name}.act")(x)
    return x


def bottleneck(x, mid: int, out_channels: int, stride: int, dilation: int, folded: bool, name: str,
               bn_eps: float = BN_EPS):
    """PSPNet bottleneck: 1x1 reduce (strided) + ReLU, 3x3 (dilated) + ReLU, 1x1 increase; plus
    the input or a 1x1 ``proj``; ReLU."""
    kw = {"folded": folded, "bn_eps": bn_eps}
    shortcut = x
    if stride != 1 or x.shape[-1] != out_channels:
        shortcut = conv_unit(x, out_channels, 1, stride, name=f"{name}.proj", padding="valid", **kw)
    y = conv_unit(x, mid, 1, stride, name=f"{name}.reduce", act="relu", padding="valid", **kw)
    y = conv_unit(y, mid, 3, dilation=dilation, name=f"{name}.conv3x3", act="relu", **kw)
    y = conv_unit(y, out_channels, 1, name=f"{name}.increase", padding="valid", **kw)
    y = layers.Add(name=f"{name}.add")([shortcut, y])
    return layers.ReLU(name=f"{name}.relu")(y)


def _add_relu(x, y, name: str):
    x = layers.Add(name=f"{name}.add")([x, y])
    return layers.ReLU(name=f"{name}.relu")(x)


# ------------------------------------------------------------------------------------------
# the network
# ------------------------------------------------------------------------------------------
def icnet(input_shape=(1024, 1536, 3), num_classes: int = NUM_CLASSES, folded: bool = True,
          aib_head: bool = True) -> keras.Model:
    """AI Benchmark's ICNet (``icnet.meta``). ``folded=True``: BN merged into conv biases as in
    the graph, 6,685,775 parameters; ``folded=False``: conv (no bias) + BN (gamma, beta, eps
    1e-5), 6,700,047 trainable. ``aib_head=False`` drops the 1x1 conv 19 -> 3 + tanh (the
    official net's logits at the input size: 6,685,715 / 6,699,987)."""
    f = {"folded": folded}
    inputs = keras.Input(input_shape, name="input")
    # sub2: the input shrunk x2
    x = Resize(0.5, name="data_sub2")(inputs)
    x = conv_unit(x, 32, 3, 2, name="conv1_1_3x3_s2", act="relu", **f)
    x = conv_unit(x, 32, 3, name="conv1_2_3x3", act="relu", **f)
    x = conv_unit(x, 64, 3, name="conv1_3_3x3", act="relu", **f)
    x = layers.MaxPooling2D(3, 2, padding="valid", name="pool1_3x3_s2")(x)
    sub2 = None
    for stage, blocks, mid, cout, dilation, stride in spec.ICNET_STAGES:
        for j in range(1, blocks + 1):
            if (stage, j) == (3, 2):
                sub2 = x
                x = Resize(0.5, name="conv3_1_sub4")(x)       # sub4: conv3_1 shrunk x2
            x = bottleneck(x, mid, cout, stride if j == 1 else 1, dilation, folded, f"conv{stage}_{j}")
    pooled = {}
    for name, divisor in spec.ICNET_PYRAMID:
        p = BinAvgPool(divisor, name=f"conv5_3_pool{name}")(x)
        pooled[name] = ResizeLike(name=f"conv5_3_pool{name}_interp")([p, x])
    x = layers.Add(name="conv5_3_sum")([x, pooled[6], pooled[3], pooled[2], pooled[1]])   # AddN order
    x = conv_unit(x, 256, 1, name="conv5_4_k1", act="relu", padding="valid", **f)
    # CFF sub4 -> sub2
    x = ResizeLike(name="conv5_4_interp")([x, sub2])
    x = conv_unit(x, 128, 3, dilation=2, name="conv_sub4", **f)
    y = conv_unit(sub2, 128, 1, name="conv3_1_sub2_proj", padding="valid", **f)
    sub24 = _add_relu(x, y, "sub24_sum")
    # sub1: the full-size input
    s = conv_unit(inputs, 32, 3, 2, name="conv1_sub1", act="relu", **f)
    s = conv_unit(s, 32, 3, 2, name="conv2_sub1", act="relu", **f)
    sub1 = conv_unit(s, 64, 3, 2, name="conv3_sub1", act="relu", **f)
    # CFF sub2 -> sub1
    x = ResizeLike(name="sub24_sum_interp")([sub24, sub1])
    x = conv_unit(x, 128, 3, dilation=2, name="conv_sub2", **f)
    y = conv_unit(sub1, 128, 1, name="conv3_sub1_proj", padding="valid", **f)
    x = _add_relu(x, y, "sub12_sum")
    x = Resize(2.0, name="sub12_sum_interp")(x)
    x = conv_unit(x, num_classes, 1, name="conv6_cls", norm=False, padding="valid")
    x = ResizeLike(name="conv6_interp")([x, inputs])
    if aib_head:
        x = conv_unit(x, spec.ICNET_HEAD_CHANNELS, 1, name="final", act="tanh", norm=False)
    return keras.Model(inputs, x, name="icnet" if folded else "icnet_train")
