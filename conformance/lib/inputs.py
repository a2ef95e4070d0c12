"""Parity inputs: the real test images shipped in the ``ai-benchmark`` package, and seeded random
tensors, both in the catalogue entry's input range."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

from twinzoo.catalogue import Network


class MissingImagesError(RuntimeError):
    pass


def ai_benchmark_data_dir() -> Path:
    """``ai_benchmark/data`` located without importing the package (its ``__init__`` needs
    ``pkg_resources``, which current setuptools no longer ships)."""
    spec = importlib.util.find_spec("ai_benchmark")
    if spec is None or not spec.submodule_search_locations:
        raise MissingImagesError("the ai-benchmark package is not installed: "
                                 "`pip install ai-benchmark==0.1.2` provides the real test images")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def image_files(image_set: str) -> list[Path]:
    folder = ai_benchmark_data_dir() / image_set
    # numbered photos only: the segmentation set also holds "<n>_segmented.jpg" label maps
    files = sorted((p for p in folder.glob("*.jpg") if p.stem.isdigit()), key=lambda p: int(p.stem))
    if not files:
        raise MissingImagesError(f"no test images in {folder}")
    return files


def load_images(net: Network, size: tuple[int, int], count: int = 2, offset: int = 0) -> np.ndarray:
    """``count`` real images for ``net`` as float32 NHWC in ``net.input_range``: centre-cropped
    to the target aspect ratio, then resized with Pillow's bicubic filter."""
    if net.image_set is None:
        raise MissingImagesError(f"{net.name} takes {net.channels}-channel feature maps, not images")
    h, w = size
    out = []
    for path in image_files(net.image_set)[offset:offset + count]:
        with Image.open(path) as img:
            img = img.convert("L" if net.channels == 1 else "RGB")
            iw, ih = img.size
            scale = min(iw / w, ih / h)
            cw, ch = round(w * scale), round(h * scale)
            left, top = (iw - cw) // 2, (ih - ch) // 2
            img = img.resize((w, h), Image.Resampling.BICUBIC, box=(left, top, left + cw, top + ch))
            arr = np.asarray(img, dtype=np.float32) / 255.0
        if arr.ndim == 2:
            arr = arr[..., None]
        out.append(arr)
    lo, hi = net.input_range
    return (np.stack(out) * (hi - lo) + lo).astype(np.float32)


def random_inputs(net: Network, size: tuple[int, int], count: int, seed: int) -> np.ndarray:
    """Uniform random float32 inputs over ``net.input_range``, in the Keras twin's layout; for a
    network on token ids, ids drawn uniformly from the vocabulary (int32)."""
    rng = np.random.default_rng(seed)
    if net.layout == "tokens":
        return rng.integers(0, size[1], size=net.batch_shape(size, count)).astype(np.int32)
    lo, hi = net.input_range
    return rng.uniform(lo, hi, size=net.batch_shape(size, count)).astype(np.float32)


def nhwc_to_nchw(x: np.ndarray) -> np.ndarray:
    """A Keras-layout batch in torch layout: NHWC -> NCHW for 4-D tensors, unchanged otherwise
    (a sequence batch is (N, steps, features) in both twins)."""
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2) if x.ndim == 4 else x)


def to_nhwc(y: np.ndarray) -> np.ndarray:
    """A torch activation in Keras layout: NCHW -> NHWC for 4-D tensors, unchanged otherwise."""
    return np.ascontiguousarray(y.transpose(0, 2, 3, 1)) if y.ndim == 4 else y
