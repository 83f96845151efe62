"""VGG16 on ImageNet: the model, its input preparation and its top-k answer.

Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale
Image Recognition", ICLR 2015; the Keras implementation and weights
(``keras.applications.VGG16``, 138,357,544 parameters, input 224x224 RGB).

The files it needs offline (weights, class index: where they are looked up,
what is said when one is missing, their download) are
:mod:`cnnlib.models.vgg16_files`; its names are re-exported here
(``vgg16.find_weights``, ``vgg16.WeightsUnavailableError``, ...).
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from cnnlib.data.prefetch import IMAGENET_CLASS_INDEX, VGG16_WEIGHTS
from cnnlib.models.vgg16_files import (
    ENV_CLASS_INDEX,
    ENV_WEIGHTS,
    ClassIndexUnavailableError,
    FileUnavailableError,
    WeightsUnavailableError,
    download,
    find_class_index,
    find_weights,
    how_to_get,
    keras_models_dir,
    load_class_index,
)

__all__ = ["BGR_MEANS", "ENV_CLASS_INDEX", "ENV_WEIGHTS", "IMAGENET_CLASS_INDEX", "INPUT_SIZE",
           "LAST_CONV_LAYER", "PREPROCESS_LAYER", "RESIZE_MODES", "VGG16_WEIGHTS", "ClassIndexUnavailableError",
           "FileUnavailableError", "Prediction", "WeightsUnavailableError", "build", "build_unit_input", "download",
           "find_class_index", "find_weights", "fit_to_input", "keras_models_dir",
           "load_class_index", "preprocess", "preprocess_steps", "top_k"]

INPUT_SIZE = 224
#: The last convolutional layer, whose feature maps Grad-CAM uses (14x14x512).
LAST_CONV_LAYER = "block5_conv3"


class Prediction(NamedTuple):
    """One row of a top-k list."""

    rank: int  # 1-based
    index: int  # ImageNet class index 0..999
    wnid: str  # WordNet id, e.g. "n01440764"
    name: str  # readable name, e.g. "great white shark"
    probability: float  # in [0, 1]


def build(weights: str | os.PathLike | None = "auto", input_tensor=None):
    """Build VGG16 with its 1000-way softmax head.

    Args:
        weights: ``"auto"`` for :func:`find_weights`; a path to a weights
            file (the official ``.h5``, or a Keras ``.weights.h5``); or
            ``None`` for random weights (for timing and tests).
        input_tensor: a Keras tensor to build on (:func:`build_unit_input`'s);
            default a new ``(224, 224, 3)`` input.

    Returns:
        An uncompiled ``keras.Model`` named ``vgg16``: input float32
        ``(N, 224, 224, 3)`` as :func:`preprocess` makes it, output softmax
        probabilities ``(N, 1000)``. About 2 GB of memory once built.

    Raises:
        WeightsUnavailableError: no weights file (``"auto"``), or the file
            does not load (wrong file, truncated download).
    """
    import keras

    path = find_weights() if weights == "auto" else weights
    if path is not None:
        import h5py

        if not h5py.is_hdf5(str(path)):  # checked before spending seconds on building
            summary = f"The VGG16 weights file {path} is not an HDF5 file (.h5)."
            raise WeightsUnavailableError(
                f"{summary} {how_to_get(VGG16_WEIGHTS, ENV_WEIGHTS)}", summary)
    try:
        return keras.applications.VGG16(weights=None if path is None else str(path),
                                        input_tensor=input_tensor)
    except Exception as e:  # h5py, shape mismatch or a truncated file
        raise WeightsUnavailableError(
            f"The VGG16 weights file {path} cannot be loaded ({type(e).__name__}: {e}). "
            f"{how_to_get(VGG16_WEIGHTS, ENV_WEIGHTS)}",
            f"The VGG16 weights file {path} cannot be loaded (a wrong or truncated file?).") from e


#: The ImageNet channel means that ``preprocess_input`` subtracts, in BGR order.
BGR_MEANS = (103.939, 116.779, 123.68)


#: The first layer of :func:`build_unit_input`: pixels in [0, 1] to VGG16's input range.
PREPROCESS_LAYER = "imagenet_preprocess"


def build_unit_input(weights: str | os.PathLike | None = "auto"):
    """VGG16 taking RGB pixels in [0, 1], as every other model of this app does: one flat
    chain of standard layers (the model reader, Inside the network, Grad-CAM and the
    probes read it as any model), the server's one VGG16.

    :func:`preprocess` (``preprocess_input``: RGB to BGR, the ImageNet means
    :data:`BGR_MEANS` subtracted) is done by the model itself:

    - a ``Rescaling`` layer :data:`PREPROCESS_LAYER` gives ``255 x - mean`` for each
      channel, the means in RGB order (no weights, so Keras's loader of the official
      weights file, which matches weighted layers by their order, is not disturbed);
    - VGG16's layers follow, with ``block1_conv1``'s kernel reversed along its input
      channels once the weights are loaded: a convolution of the BGR picture with kernel
      ``K`` sums the same products as one of the RGB picture with ``K[:, :, ::-1, :]``
      (in another order: equal up to float32 rounding).

    The probes (:mod:`cnnlib.explain`, :mod:`cnnlib.probe`) then work in [0, 1] units
    on every model: an epsilon of 1/255 is one grey level.

    Args:
        weights: as :func:`build`.

    Returns:
        A ``keras.Model``: float32 ``(N, 224, 224, 3)`` RGB in [0, 1] -> softmax
        probabilities ``(N, 1000)``; ``model(x / 255)`` equals ``build()(preprocess(x))``
        up to float rounding; 138,357,544 weights, as :func:`build`'s.

    Raises:
        WeightsUnavailableError: as :func:`build`.
    """
    import keras

    inp = keras.Input((INPUT_SIZE, INPUT_SIZE, 3), name="rgb_unit")
    rgb_means = [-m for m in reversed(BGR_MEANS)]
    x = keras.layers.Rescaling(255.0, offset=rgb_means, name=PREPROCESS_LAYER)(inp)
    model = build(weights, input_tensor=x)
    conv = model.get_layer("block1_conv1")
    conv.kernel.assign(keras.ops.flip(conv.kernel, axis=2))  # (3, 3, C_in=3, 64): BGR -> RGB
    return model


RESIZE_MODES = ("center_crop", "squash")


def fit_to_input(rgb: np.ndarray, mode: str = "center_crop",
                 size: int = INPUT_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Make a photo of any shape into the network's ``size`` x ``size`` input.

    Two modes:

    - ``"center_crop"``: the largest centred square, resized (bicubic; Pillow
      pre-reduces large images by box filtering). The same pixels as resizing
      the shorter side to ``size`` and cropping the centre, but the crop comes
      first so that a long, thin image is never enlarged as a whole. The
      aspect ratio is kept; the sides of a non-square photo are cut off.
    - ``"squash"``: the whole photo resized to ``size`` x ``size``, aspect
      ratio not kept, with nearest-neighbour resampling. This is what tutorial
      001 ("Convolution Neural Network for image classification: CIFAR10")
      does: its loader calls ``keras.utils.load_img(path, target_size=(224,
      224))``, whose ``interpolation`` defaults to ``"nearest"``; nearest is
      kept so that the app feeds VGG16 the tutorial's pixels, aliasing
      included. (Same pixels as ``load_img`` for an upright photo of at most
      2048 pixels a side; :func:`cnnlib.data.images.decode_image` applies EXIF
      orientation and downscales larger ones first.)

    Args:
        rgb: uint8 ``(H, W, 3)``, any ``H, W >= 1``.
        mode: ``"center_crop"`` or ``"squash"``.
        size: the model's input side.

    Returns:
        ``(region, resized)``: uint8 ``(h, w, 3)``, the part of the photo that
        reaches the network (the centre square, ``h = w = min(H, W)``; or the
        whole photo for ``"squash"``); and uint8 ``(size, size, 3)``, that
        region resized.

    Raises:
        ValueError: ``mode`` is not one of :data:`RESIZE_MODES`.
    """
    if mode not in RESIZE_MODES:
        raise ValueError(f"mode must be one of {RESIZE_MODES}. Received: mode={mode!r}")
    from PIL import Image

    img = Image.fromarray(np.asarray(rgb, dtype=np.uint8))
    if mode == "squash":
        return np.asarray(img), np.asarray(img.resize((size, size), Image.Resampling.NEAREST))
    w, h = img.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    square = img.crop((left, top, left + s, top + s))
    resized = square.resize((size, size), Image.Resampling.BICUBIC, reducing_gap=3.0)
    return np.asarray(square), np.asarray(resized)


def preprocess(crop: np.ndarray) -> np.ndarray:
    """``keras.applications.vgg16.preprocess_input`` on one crop.

    Args:
        crop: uint8 ``(224, 224, 3)`` RGB.

    Returns:
        float32 ``(1, 224, 224, 3)``: channels reordered to BGR and the
        ImageNet channel means (B 103.939, G 116.779, R 123.68) subtracted;
        values in about [-124, 152]. No scaling to [0, 1].
    """
    from keras.applications.vgg16 import preprocess_input

    x = np.asarray(crop, dtype=np.float32)[None]  # (1, 224, 224, 3) RGB 0..255
    return np.asarray(preprocess_input(x), dtype=np.float32)


def preprocess_steps(rgb: np.ndarray, mode: str = "center_crop"
                     ) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray]]]:
    """The whole preprocessing, with an image per step for display.

    Args:
        rgb: uint8 ``(H, W, 3)`` photo, as :func:`cnnlib.data.images.decode_image` returns it.
        mode: how the photo becomes 224x224, as in :func:`fit_to_input`.

    Returns:
        ``(x, resized, steps)``: ``x`` as :func:`preprocess` returns it;
        ``resized``, the uint8 ``(224, 224, 3)`` RGB image ``x`` was made from
        (for overlays); and ``(title, uint8 (H, W, 3) image)`` pairs: the
        photo, its centre square and that square at 224x224 (``"center_crop"``)
        or the squashed photo (``"squash"``), then the network's input shown as
        an image (its BGR channels displayed as RGB, rescaled to 0..255).

    Raises:
        ValueError: an unknown ``mode``.
    """
    region, resized = fit_to_input(rgb, mode)
    x = preprocess(resized)
    view = x[0] - x[0].min()
    view = (255 * view / max(float(view.max()), 1e-6)).astype(np.uint8)
    steps = [(f"Photo {rgb.shape[1]}x{rgb.shape[0]}", np.asarray(rgb))]
    if mode == "squash":
        steps.append(("Squashed to 224x224 (aspect ratio not kept)", resized))
    else:
        steps += [(f"Centre square {region.shape[1]}x{region.shape[0]}", region),
                  ("Resized to 224x224", resized)]
    steps.append(("preprocess_input: BGR, ImageNet mean subtracted (rescaled to view)", view))
    return x, resized, steps


def top_k(probs: np.ndarray, class_index: list[tuple[str, str]], k: int = 5) -> list[Prediction]:
    """The ``k`` most probable classes of one image.

    Args:
        probs: float ``(1000,)`` (or ``(1, 1000)``) probabilities.
        class_index: from :func:`load_class_index`.
        k: how many, an integer with ``1 <= k <= len(class_index)`` (1000).

    Returns:
        ``k`` :class:`Prediction` rows, most probable first.

    Raises:
        TypeError: ``k`` is not an integer (``bool`` and floats included).
        ValueError: ``k`` is out of range, or ``probs`` does not have one
            entry per class.
    """
    n = len(class_index)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an integer from 1 to {n}. Received: k={k!r}")
    if not 1 <= k <= n:
        raise ValueError(f"k must be from 1 to {n}. Received: k={k}")
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    if p.shape != (n,):
        raise ValueError(f"Expected {n} probabilities. Received: shape={p.shape}")
    order = np.argsort(-p, kind="stable")[:k]
    return [Prediction(r, int(i), class_index[i][0], class_index[i][1], float(p[i]))
            for r, i in enumerate(order, start=1)]


