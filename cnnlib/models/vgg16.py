"""VGG16 on ImageNet, offline first: weights, class index, preprocessing, top-k.

Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale
Image Recognition", ICLR 2015; the Keras implementation and weights
(``keras.applications.VGG16``, 138,357,544 parameters, input 224x224 RGB).

Files, looked up in this order (nothing is downloaded implicitly):

- weights: ``$CNN_STUDIO_VGG16_WEIGHTS`` (a path), then the Keras cache
  ``$KERAS_HOME/models/vgg16_weights_tf_dim_ordering_tf_kernels.h5``
  (``KERAS_HOME`` defaults to ``~/.keras``); else
  :class:`WeightsUnavailableError`, whose message says how to get the file.
- class index: ``$CNN_STUDIO_IMAGENET_CLASS_INDEX``, then
  ``$KERAS_HOME/models/imagenet_class_index.json``; else
  :class:`ClassIndexUnavailableError`. The file is read here and never
  through ``keras.applications.imagenet_utils.decode_predictions``, which
  downloads the file (and deletes a cached copy whose hash differs).

:func:`download` fetches either file into the Keras cache with a progress
callback (what ``python -m cnnlib prefetch --vgg16`` does, for the page).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from cnnlib.data.prefetch import IMAGENET_CLASS_INDEX, VGG16_WEIGHTS
from cnnlib.keras_home import keras_home

ENV_WEIGHTS = "CNN_STUDIO_VGG16_WEIGHTS"
ENV_CLASS_INDEX = "CNN_STUDIO_IMAGENET_CLASS_INDEX"
INPUT_SIZE = 224
#: The last convolutional layer, whose feature maps Grad-CAM uses (14x14x512).
LAST_CONV_LAYER = "block5_conv3"


class FileUnavailableError(RuntimeError):
    """A file VGG16 needs is missing or unusable.

    ``str(error)`` is the whole story (what, why, how to get the file), for the
    command line and logs; ``summary`` is its first sentence, for a page that
    shows the ways to get the file itself and folds the rest away.
    """

    def __init__(self, message: str, summary: str | None = None):
        super().__init__(message)
        self.summary = summary or message


class WeightsUnavailableError(FileUnavailableError):
    """The VGG16 ImageNet weights are not on this machine; the message says how to get them."""


class ClassIndexUnavailableError(FileUnavailableError):
    """The ImageNet class index is missing or unreadable; the message says how to get it."""


class Prediction(NamedTuple):
    """One row of a top-k list."""

    rank: int  # 1-based
    index: int  # ImageNet class index 0..999
    wnid: str  # WordNet id, e.g. "n01440764"
    name: str  # readable name, e.g. "great white shark"
    probability: float  # in [0, 1]


def keras_models_dir() -> Path:
    """``$KERAS_HOME/models``, where Keras caches application weights (default ``~/.keras``)."""
    return keras_home() / "models"


def _how_to_get(item: dict, env: str) -> str:
    return (f"Either run `python -m cnnlib prefetch --vgg16` once on a machine with internet "
            f"access (it saves the file into {keras_models_dir()}), or download "
            f"{item['origin']} ({item['size_mb']} MB) yourself and set the environment "
            f"variable {env} to the downloaded file's path, then restart the app.")


def _find(env: str, item: dict, error: type[RuntimeError], what: str) -> Path:
    path = os.environ.get(env)
    if path:
        p = Path(path).expanduser()
        if p.is_file() and p.stat().st_size > 0:
            return p
        summary = f"{what}: {env} is set to {path}, but there is no such file (or it is empty)."
        raise error(f"{summary} {_how_to_get(item, env)}", summary)
    cached = keras_models_dir() / item["fname"]
    if cached.is_file() and cached.stat().st_size > 0:
        return cached
    raise error(f"{what} are not on this machine: neither {env} is set nor is "
                f"{item['fname']} in the Keras cache. {_how_to_get(item, env)}",
                f"{what} are not on this machine.")


def find_weights() -> Path:
    """The weights file to load. Raises :class:`WeightsUnavailableError` if there is none."""
    return _find(ENV_WEIGHTS, VGG16_WEIGHTS, WeightsUnavailableError, "The VGG16 ImageNet weights")


def find_class_index() -> Path:
    """The class index file. Raises :class:`ClassIndexUnavailableError` if there is none."""
    return _find(ENV_CLASS_INDEX, IMAGENET_CLASS_INDEX, ClassIndexUnavailableError,
                 "The ImageNet class names (imagenet_class_index.json)")


def build(weights: str | os.PathLike | None = "auto"):
    """Build VGG16 with its 1000-way softmax head.

    Args:
        weights: ``"auto"`` for :func:`find_weights`; a path to a weights
            file (the official ``.h5``, or a Keras ``.weights.h5``); or
            ``None`` for random weights (for timing and tests).

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
                f"{summary} {_how_to_get(VGG16_WEIGHTS, ENV_WEIGHTS)}", summary)
    try:
        return keras.applications.VGG16(weights=None if path is None else str(path))
    except Exception as e:  # h5py, shape mismatch or a truncated file
        raise WeightsUnavailableError(
            f"The VGG16 weights file {path} cannot be loaded ({type(e).__name__}: {e}). "
            f"{_how_to_get(VGG16_WEIGHTS, ENV_WEIGHTS)}",
            f"The VGG16 weights file {path} cannot be loaded (a wrong or truncated file?).") from e


def load_class_index(path: str | os.PathLike | None = None) -> list[tuple[str, str]]:
    """Read the ImageNet class index (the layout ``decode_predictions`` reads).

    Args:
        path: a JSON file ``{"0": ["n01440764", "tench"], ...}``; defaults to
            :func:`find_class_index`.

    Returns:
        1000 ``(wnid, readable name)`` pairs in class order; underscores in
        names become spaces ("great_white_shark" -> "great white shark").

    Raises:
        ClassIndexUnavailableError: missing file, bad JSON or a wrong layout.
    """
    path = Path(path) if path is not None else find_class_index()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        out = [(str(raw[str(i)][0]), str(raw[str(i)][1]).replace("_", " ")) for i in range(1000)]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
        raise ClassIndexUnavailableError(
            f"{path} is not an ImageNet class index (1000 entries '0'..'999' of [wnid, name]): "
            f"{type(e).__name__}: {e}. {_how_to_get(IMAGENET_CLASS_INDEX, ENV_CLASS_INDEX)}",
            f"{path} is not an ImageNet class index.") from e
    return out


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


def download(item: dict, progress: Callable[[int, int | None], None] | None = None,
             timeout: float = 30.0) -> Path:
    """Download ``VGG16_WEIGHTS`` or ``IMAGENET_CLASS_INDEX`` into the Keras cache.

    Args:
        item: one of :data:`cnnlib.data.prefetch.VGG16_WEIGHTS`,
            :data:`cnnlib.data.prefetch.IMAGENET_CLASS_INDEX` (origin, fname, md5).
        progress: called as ``progress(bytes_done, bytes_total or None)``
            after each chunk.
        timeout: seconds to wait for the server at each read.

    Returns:
        The path of the cached file (checked against its MD5 hash).

    Raises:
        WeightsUnavailableError / ClassIndexUnavailableError: the download or
            the hash check failed; the message says how to get the file instead.
    """
    import urllib.request

    is_weights = item["fname"] == VGG16_WEIGHTS["fname"]
    error = WeightsUnavailableError if is_weights else ClassIndexUnavailableError
    env = ENV_WEIGHTS if is_weights else ENV_CLASS_INDEX
    target = keras_models_dir() / item["fname"]
    part = target.with_name(target.name + ".part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        md5, done = hashlib.md5(), 0
        with urllib.request.urlopen(item["origin"], timeout=timeout) as r, open(part, "wb") as f:
            total = int(r.headers.get("Content-Length") or 0) or None
            while chunk := r.read(1 << 20):
                f.write(chunk)
                md5.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        if md5.hexdigest() != item["file_hash"]:
            raise ValueError(f"MD5 {md5.hexdigest()} differs from the expected {item['file_hash']}")
        part.replace(target)
    except Exception as e:  # URLError, timeouts, disk errors, the hash check
        part.unlink(missing_ok=True)
        raise error(f"Downloading {item['origin']} failed ({type(e).__name__}: {e}). "
                    f"{_how_to_get(item, env)}",
                    f"Downloading {item['fname']} failed ({type(e).__name__}: {e}).") from e
    return target
