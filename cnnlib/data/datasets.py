"""Image classification datasets with one contract, offline first.

Every loader returns a :class:`Dataset` whose images are ``uint8`` arrays in
NHWC layout ``(N, H, W, C)`` with values 0..255 and whose labels are ``int64``
arrays of shape ``(N,)``. Use :func:`to_float` to scale images to ``float32``
in ``[0, 1]`` for a model.

Lookup order for a dataset ``name``:

1. the ``data_dir`` argument: a folder holding ``<name>.npz``;
2. the ``CNN_STUDIO_DATA_DIR`` environment variable, the same kind of folder;
3. ``keras.datasets.<name>.load_data()``, which reads the Keras cache
   (``$KERAS_HOME/datasets``, :func:`cnnlib.keras_home.keras_home`) and
   downloads into it when online.

An ``.npz`` file uses the layout that ``keras.datasets.<name>.load_data()``
returns: arrays ``x_train, y_train, x_test, y_test`` (MNIST images ``(N, 28,
28)``, CIFAR-10 images ``(N, 32, 32, 3)`` and labels ``(N, 1)``).

``cifar10_3class`` is derived from ``cifar10``: the classes airplane,
automobile and bird (labels 0, 1, 2), as in the teaching material.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from cnnlib.keras_home import keras_home

ENV_DATA_DIR = "CNN_STUDIO_DATA_DIR"

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """Static facts about a dataset, known without loading it."""

    name: str
    title: str
    class_names: tuple[str, ...]
    image_shape: tuple[int, int, int]  # (H, W, C)
    file_name: str  # the .npz file looked up in a data directory
    keras_name: str  # the module in keras.datasets
    classes_kept: tuple[int, ...] | None = None  # subset of the parent's labels


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo("mnist", "MNIST handwritten digits", MNIST_CLASSES,
                         (28, 28, 1), "mnist.npz", "mnist"),
    "fashion_mnist": DatasetInfo("fashion_mnist", "Fashion-MNIST clothing",
                                 FASHION_MNIST_CLASSES, (28, 28, 1),
                                 "fashion_mnist.npz", "fashion_mnist"),
    "cifar10": DatasetInfo("cifar10", "CIFAR-10 photos", CIFAR10_CLASSES,
                           (32, 32, 3), "cifar10.npz", "cifar10"),
    "cifar10_3class": DatasetInfo("cifar10_3class",
                                  "CIFAR-10, 3 classes (airplane, automobile, bird)",
                                  CIFAR10_CLASSES[:3], (32, 32, 3),
                                  "cifar10.npz", "cifar10", classes_kept=(0, 1, 2)),
}


class DatasetUnavailableError(RuntimeError):
    """Raised when a dataset is neither in a local folder nor downloadable."""


@dataclasses.dataclass
class Dataset:
    """A loaded dataset.

    Attributes:
        name: key in :data:`DATASETS`, e.g. ``"mnist"``.
        x_train: uint8 array ``(N_train, H, W, C)``, values 0..255.
        y_train: int64 array ``(N_train,)``, values ``0..num_classes - 1``.
        x_test: uint8 array ``(N_test, H, W, C)``.
        y_test: int64 array ``(N_test,)``.
        class_names: one readable name per label.
        source: where the arrays were read from (a file path or
            ``"keras.datasets.<name>"``).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(H, W, C)`` of one image."""
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]


def to_float(images: np.ndarray) -> np.ndarray:
    """Scale uint8 images (any shape, 0..255) to float32 in ``[0, 1]``."""
    return np.asarray(images, dtype=np.float32) / np.float32(255.0)


def names() -> list[str]:
    """The dataset names :func:`load` accepts."""
    return list(DATASETS)


def _info(name: str) -> DatasetInfo:
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset. Expected one of {names()}. Received: name={name!r}")
    return DATASETS[name]


def find_local_file(name: str, data_dir: str | os.PathLike | None = None) -> Path | None:
    """Return the local ``.npz`` file that :func:`load` would read, or None.

    Looks in ``data_dir`` first, then in ``$CNN_STUDIO_DATA_DIR``.
    """
    info = _info(name)
    for folder in (data_dir, os.environ.get(ENV_DATA_DIR)):
        if folder:
            path = Path(folder).expanduser() / info.file_name
            if path.is_file():
                return path
    return None


def _keras_cache_has(info: DatasetInfo) -> bool:
    """Whether ``keras.datasets`` can load ``info`` without the network."""
    home = keras_home() / "datasets"
    candidates = {
        "mnist": [home / "mnist.npz"],
        "fashion_mnist": [home / "fashion-mnist"],
        "cifar10": [home / "cifar-10-batches-py", home / "cifar-10-batches-py-target"],
    }[info.keras_name]
    return any(p.exists() for p in candidates)


def availability(data_dir: str | os.PathLike | None = None) -> dict[str, str | None]:
    """Map each dataset name to where it would be loaded from offline, or None.

    Cheap: checks files only, loads nothing and imports no TensorFlow.
    """
    out: dict[str, str | None] = {}
    for name, info in DATASETS.items():
        local = find_local_file(name, data_dir)
        if local is not None:
            out[name] = str(local)
        elif _keras_cache_has(info):
            out[name] = f"Keras cache (keras.datasets.{info.keras_name})"
        else:
            out[name] = None
    return out


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as f:
            return f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    except (OSError, KeyError, ValueError) as e:
        raise DatasetUnavailableError(
            f"Could not read {path}: {e}. The file must hold x_train, y_train, "
            "x_test and y_test as keras.datasets returns them."
        ) from e


def _read_keras(info: DatasetInfo):
    try:
        import keras  # imported lazily: TensorFlow start-up is slow

        module = getattr(keras.datasets, info.keras_name)
        (x_tr, y_tr), (x_te, y_te) = module.load_data()
    except Exception as e:  # download failures surface as many exception types
        raise DatasetUnavailableError(
            f"Dataset {info.name!r} is not available offline and could not be "
            f"downloaded ({type(e).__name__}: {e}). Either put {info.file_name} "
            f"(keras.datasets layout) in a folder and set {ENV_DATA_DIR} to it "
            "(or pass data_dir), or run `python -m cnnlib prefetch` once with "
            "internet access to fill the Keras cache."
        ) from e
    return x_tr, y_tr, x_te, y_te


def _normalise(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.uint8)
    if x.ndim == 3:
        x = x[..., None]  # (N, H, W) -> (N, H, W, 1)
    y = np.asarray(y).reshape(-1).astype(np.int64)
    if len(x) != len(y):
        raise DatasetUnavailableError(f"{len(x)} images but {len(y)} labels")
    return x, y


def stratified_indices(labels: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Pick ``n`` indices with the class proportions of ``labels``.

    Args:
        labels: int array ``(N,)``.
        n: how many to keep, ``1 <= n``; values ``>= N`` keep everything.
        seed: for the random choice within each class.

    Returns:
        Sorted int64 indices ``(min(n, N),)``.

    Raises:
        ValueError: if ``n < 1``.
    """
    if n < 1:
        raise ValueError(f"A subset needs at least one sample. Received: n={n}")
    labels = np.asarray(labels)
    if n >= len(labels):
        return np.arange(len(labels), dtype=np.int64)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    quota = np.floor(counts / counts.sum() * n).astype(int)
    # hand out the remainder to the classes with the largest fractional parts
    rest = n - quota.sum()
    frac = counts / counts.sum() * n - quota
    quota[np.argsort(-frac)[:rest]] += 1
    picked = [rng.choice(np.flatnonzero(labels == c), size=q, replace=False)
              for c, q in zip(classes, quota)]
    return np.sort(np.concatenate(picked)).astype(np.int64)


def load(name: str, data_dir: str | os.PathLike | None = None,
         n_train: int | None = None, n_test: int | None = None,
         seed: int = 0) -> Dataset:
    """Load a dataset as uint8 NHWC images and int64 labels.

    Args:
        name: one of :func:`names`: ``mnist``, ``fashion_mnist``, ``cifar10``,
            ``cifar10_3class``.
        data_dir: folder with ``<name>.npz`` (keras.datasets layout). Falls back
            to ``$CNN_STUDIO_DATA_DIR``, then to ``keras.datasets``.
        n_train: if given, a stratified random subset of this many training
            images (for quick demos and tests), an integer ``>= 1``; values
            beyond the split's size keep all of it.
        n_test: the same for the test split.
        seed: seed of the subset choice.

    Returns:
        A :class:`Dataset`. MNIST-like images are ``(N, 28, 28, 1)``, CIFAR
        images ``(N, 32, 32, 3)``; labels ``(N,)`` int64.

    Raises:
        ValueError: unknown ``name``, or an ``n_train`` / ``n_test`` that is
            not an integer ``>= 1`` (the message names the argument).
        DatasetUnavailableError: no local file and the download failed; the
            message names both fixes.
    """
    info = _info(name)
    for arg, n in (("n_train", n_train), ("n_test", n_test)):
        if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
            raise ValueError(f"A subset needs at least one sample (an integer), or None for "
                             f"the whole split. Received: {arg}={n!r}")
    path = find_local_file(name, data_dir)
    if path is not None:
        x_tr, y_tr, x_te, y_te = _read_npz(path)
        source = str(path)
    else:
        x_tr, y_tr, x_te, y_te = _read_keras(info)
        source = f"keras.datasets.{info.keras_name}"
    x_tr, y_tr = _normalise(x_tr, y_tr)
    x_te, y_te = _normalise(x_te, y_te)
    if info.classes_kept is not None:
        # relabel the kept classes 0..k-1 in the order given
        lut = np.full(max(int(y_tr.max()), int(y_te.max())) + 1, -1, dtype=np.int64)
        lut[list(info.classes_kept)] = np.arange(len(info.classes_kept))
        keep_tr, keep_te = lut[y_tr] >= 0, lut[y_te] >= 0
        x_tr, y_tr = x_tr[keep_tr], lut[y_tr[keep_tr]]
        x_te, y_te = x_te[keep_te], lut[y_te[keep_te]]
    if n_train is not None:
        idx = stratified_indices(y_tr, n_train, seed)
        x_tr, y_tr = x_tr[idx], y_tr[idx]
    if n_test is not None:
        idx = stratified_indices(y_te, n_test, seed)
        x_te, y_te = x_te[idx], y_te[idx]
    return Dataset(name, x_tr, y_tr, x_te, y_te, info.class_names, source)
