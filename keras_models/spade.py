"""Nvidia SPADE's generator as AI Benchmark's ``spade.meta``; the Keras twin of
``torch_models/spade.py`` (see there for the facts read from the graph: the spectral-norm
MatMuls, the fixed z, SPADE's parameter-free instance norm and ``x * (1 + gamma) + beta``
modulation, TF1 nearest and legacy-bilinear resizes, the 27.5 output constant).

TF1's resizes (align_corners=False, half_pixel_centers=False) are what TF2's ``tf.image.resize``
and Keras' ``UpSampling2D`` / ``Resizing`` cannot express (they sample at half-pixel centres): the
layers below call ``tf.raw_ops.ResizeNearestNeighbor`` / ``ResizeBilinear`` with those attributes.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from keras_models.layers import SNConv2D, spatial_size
from twinzoo.zoo import spade as spec


@keras.saving.register_keras_serializable(package="twinzoo")
class LatentDense(layers.Dense):
    """``linear_x``'s dense layer on the fixed latent z (``spec.spade_latent``): 256 -> 4096, one
    row [1, 4096] (the ``linear_x`` Reshape makes it [1, 2, 2, 1024]). Called on the model input
    only to sit in the functional graph (the input is ignored)."""

    def __init__(self, z_seed: int = spec.SPADE_Z_SEED, **kwargs) -> None:
        h, w, c = spec.SPADE_LATENT
        kwargs.setdefault("units", h * w * c)
        super().__init__(**kwargs)
        self.z_seed = z_seed

    def build(self, input_shape) -> None:
        super().build((None, spec.SPADE_Z_DIM))
        self.input_spec = None          # its input (the map) is not what the kernel multiplies

    def call(self, inputs):
        return super().call(tf.constant(spec.spade_latent(self.z_seed)))

    def compute_output_shape(self, input_shape):
        return (1, self.units)

    def twinzoo_macs(self) -> int:
        """The MACs of one dense product on the single z (conformance.lib.counting's Keras walk)."""
        return spec.SPADE_Z_DIM * self.units

    def get_config(self):
        return {**super().get_config(), "z_seed": self.z_seed}


@keras.saving.register_keras_serializable(package="twinzoo")
class ResizeNearestLike(layers.Layer):
    """TF1 nearest-neighbour resize of ``inputs[0]`` to the size of ``inputs[1]``."""

    def call(self, inputs):
        x, like = inputs
        return tf.raw_ops.ResizeNearestNeighbor(images=x, size=tf.stack(spatial_size(like)), align_corners=False,
                                                half_pixel_centers=False)

    def compute_output_shape(self, input_shapes):
        (n, _, _, c), (_, h, w, _) = input_shapes
        return (n, h, w, c)


@keras.saving.register_keras_serializable(package="twinzoo")
class ResizeBilinearTF1(layers.Layer):
    """TF1 ``ResizeBilinear`` by ``factor``, align_corners=False, half_pixel_centers=False."""

    def __init__(self, factor: int = 2, **kwargs) -> None:
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return tf.raw_ops.ResizeBilinear(images=x, size=tf.stack(spatial_size(x)) * self.factor, align_corners=False,
                                         half_pixel_centers=False)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, None if h is None else h * self.factor, None if w is None else w * self.factor, c)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="twinzoo")
class Modulate(layers.Layer):
    """SPADE's ``x * (1 + gamma) + beta`` (x may be the latent's batch of 1: it broadcasts)."""

    def call(self, inputs):
        x, gamma, beta = inputs
        return x * (1.0 + gamma) + beta

    def compute_output_shape(self, input_shapes):
        return (None, *input_shapes[1][1:])


def spade_layer(x, segmap, channels: int, *, name: str):
    """norm (parameter-free instance norm), resize, conv_128 + ReLU, conv_gamma, conv_beta, modulate."""
    k, hidden = spec.SPADE_KERNEL, spec.SPADE_HIDDEN
    n = layers.GroupNormalization(groups=-1, center=False, scale=False, epsilon=spec.SPADE_NORM_EPS,
                                  name=f"{name}.norm")(x)
    s = ResizeNearestLike(name=f"{name}.resize")([segmap, x])
    a = layers.Conv2D(hidden, k, padding="same", use_bias=True, name=f"{name}.conv_128")(s)
    a = layers.ReLU(name=f"{name}.relu")(a)
    gamma = layers.Conv2D(channels, k, padding="same", use_bias=True, name=f"{name}.conv_gamma")(a)
    beta = layers.Conv2D(channels, k, padding="same", use_bias=True, name=f"{name}.conv_beta")(a)
    return Modulate(name=f"{name}.modulate")([n, gamma, beta])


def resblock(x, segmap, out_channels: int, *, name: str):
    in_channels = x.shape[-1]
    middle, slope, eps = min(in_channels, out_channels), spec.SPADE_LRELU, spec.SPADE_SN_EPS
    dx = spade_layer(x, segmap, in_channels, name=f"{name}.spade_1")
    dx = layers.LeakyReLU(negative_slope=slope, name=f"{name}.lrelu_1")(dx)
    dx = SNConv2D(middle, 3, sn_eps=eps, padding="same", use_bias=True, name=f"{name}.conv_1")(dx)
    dx = spade_layer(dx, segmap, middle, name=f"{name}.spade_2")
    dx = layers.LeakyReLU(negative_slope=slope, name=f"{name}.lrelu_2")(dx)
    dx = SNConv2D(out_channels, 3, sn_eps=eps, padding="same", use_bias=True, name=f"{name}.conv_2")(dx)
    shortcut = x
    if in_channels != out_channels:
        shortcut = spade_layer(x, segmap, in_channels, name=f"{name}.spade_shortcut")
        shortcut = SNConv2D(out_channels, 1, sn_eps=eps, use_bias=False, name=f"{name}.conv_shortcut")(shortcut)
    return layers.Add(name=f"{name}.add")([dx, shortcut])


def spade(input_shape=(128, 128, 3), z_seed: int = spec.SPADE_Z_SEED,
          input_size: tuple[int, int] = (128, 128)) -> keras.Model:
    """SPADE's generator as AI Benchmark's spade.meta: [-1, 1] 128x128 map -> tanh RGB 128x128."""
    if tuple(input_shape[:2]) != (128, 128) or tuple(input_size) != (128, 128):
        raise ValueError(f"SPADE's generator takes 128x128 maps, got {tuple(input_shape)}")
    segmap = keras.Input(input_shape, name="input")
    x = LatentDense(z_seed, name="linear_x.dense")(segmap)
    x = layers.Reshape(spec.SPADE_LATENT, name="linear_x")(x)          # (H, W, C) order, as the graph
    ups = 0
    for scope, out, up in spec.SPADE_BLOCKS:
        x = resblock(x, segmap, out, name=scope)
        if up:
            x = ResizeBilinearTF1(2, name="ResizeBilinear" + (f"_{ups}" if ups else ""))(x)
            ups += 1
    x = layers.LeakyReLU(negative_slope=spec.SPADE_LRELU, name="lrelu")(x)
    x = layers.Conv2D(3, 3, padding="same", use_bias=True, name="logit")(x)
    x = layers.Activation("tanh", name="Tanh")(x)
    return keras.Model(segmap, x, name="spade")
