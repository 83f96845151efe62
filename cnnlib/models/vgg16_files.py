"""VGG16's offline files: the ImageNet weights and class index, where they are looked
up, what is said when one is missing, and their download into the Keras cache.

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
callback (for the page), through the one download path of
:func:`cnnlib.data.prefetch.download_file`, which ``python -m cnnlib prefetch
--vgg16`` uses too. The model itself is :mod:`cnnlib.models.vgg16`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

from cnnlib.data.prefetch import IMAGENET_CLASS_INDEX, VGG16_WEIGHTS, download_file
from cnnlib.keras_home import keras_home

ENV_WEIGHTS = "CNN_STUDIO_VGG16_WEIGHTS"
ENV_CLASS_INDEX = "CNN_STUDIO_IMAGENET_CLASS_INDEX"


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


def keras_models_dir() -> Path:
    """``$KERAS_HOME/models``, where Keras caches application weights (default ``~/.keras``)."""
    return keras_home() / "models"


def how_to_get(item: dict, env: str) -> str:
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
        raise error(f"{summary} {how_to_get(item, env)}", summary)
    cached = keras_models_dir() / item["fname"]
    if cached.is_file() and cached.stat().st_size > 0:
        return cached
    raise error(f"{what} are not on this machine: neither {env} is set nor is "
                f"{item['fname']} in the Keras cache. {how_to_get(item, env)}",
                f"{what} are not on this machine.")


def find_weights() -> Path:
    """The weights file to load. Raises :class:`WeightsUnavailableError` if there is none."""
    return _find(ENV_WEIGHTS, VGG16_WEIGHTS, WeightsUnavailableError, "The VGG16 ImageNet weights")


def find_class_index() -> Path:
    """The class index file. Raises :class:`ClassIndexUnavailableError` if there is none."""
    return _find(ENV_CLASS_INDEX, IMAGENET_CLASS_INDEX, ClassIndexUnavailableError,
                 "The ImageNet class names (imagenet_class_index.json)")


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
            f"{type(e).__name__}: {e}. {how_to_get(IMAGENET_CLASS_INDEX, ENV_CLASS_INDEX)}",
            f"{path} is not an ImageNet class index.") from e
    return out


def download(item: dict, progress: Callable[[int, int | None], None] | None = None,
             timeout: float = 30.0) -> Path:
    """Download ``VGG16_WEIGHTS`` or ``IMAGENET_CLASS_INDEX`` into the Keras cache
    (:func:`cnnlib.data.prefetch.download_file` into :func:`keras_models_dir`).

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
    is_weights = item["fname"] == VGG16_WEIGHTS["fname"]
    error = WeightsUnavailableError if is_weights else ClassIndexUnavailableError
    env = ENV_WEIGHTS if is_weights else ENV_CLASS_INDEX
    try:
        return download_file(item, keras_models_dir(), progress, timeout)
    except Exception as e:  # URLError, timeouts, disk errors, the hash check
        raise error(f"Downloading {item['origin']} failed ({type(e).__name__}: {e}). "
                    f"{how_to_get(item, env)}",
                    f"Downloading {item['fname']} failed ({type(e).__name__}: {e}).") from e
