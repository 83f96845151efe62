"""An own dataset as training data: the one contract of :mod:`cnnlib.data.datasets`.

:func:`as_dataset` returns a :class:`cnnlib.data.datasets.Dataset` (uint8 NHWC images,
int64 labels), its test split held out stratified, so that the training engine can
take it like any other dataset and split its own validation images from ``x_train``
(``validation="holdout"``, :func:`cnnlib.training.engine.split_validation`).
:func:`three_way_split` gives train / validation / test indices for a caller that
wants all three at once.
"""

from __future__ import annotations

import numpy as np

from cnnlib.data.datasets import Dataset, stratified_indices
from cnnlib.owndata.errors import OwnDataError
from cnnlib.owners import owner_tag

#: The ``source`` of an own dataset's :class:`Dataset`: ``own:<owner tag>/<name>``.
SOURCE_PREFIX = "own:"


def _take(y: np.ndarray, pool: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A stratified ``round(len(pool) * fraction)`` (at least 1 if ``fraction > 0``) of
    ``pool``'s indices into ``y``, sorted."""
    if fraction <= 0 or len(pool) == 0:
        return np.arange(0, dtype=np.int64)
    n = max(1, round(len(pool) * fraction))
    return np.sort(pool[stratified_indices(y[pool], n, seed)])


def three_way_split(y: np.ndarray, val_fraction: float = 0.15, test_fraction: float = 0.15,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified train / validation / test indices of labels ``y``.

    Args:
        y: int labels ``(N,)``.
        val_fraction: of all pictures, for validation, in ``[0, 1)``.
        test_fraction: of all pictures, for the test, in ``[0, 1)``; the two together
            below 1.
        seed: of the random choice within each class (test with ``seed``, validation
            with ``seed + 1``).

    Returns:
        ``(train, val, test)``: disjoint, sorted int64 index arrays covering ``0..N-1``;
        each class keeps its proportion in each part up to rounding.

    Raises:
        OwnDataError: fractions out of range, or too few pictures to leave any for
            training.
    """
    y = np.asarray(y).reshape(-1)
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise OwnDataError("The validation and test fractions are each in [0, 1) and together "
                           f"below 1. Received: val_fraction={val_fraction}, "
                           f"test_fraction={test_fraction}.")
    everything = np.arange(len(y), dtype=np.int64)
    test = _take(y, everything, test_fraction, seed)
    rest = np.setdiff1d(everything, test)
    val = _take(y, rest, val_fraction * len(y) / max(len(rest), 1), seed + 1)
    train = np.setdiff1d(rest, val)
    if len(train) == 0:
        raise OwnDataError(f"{len(y)} pictures are too few to keep some for training; add more.")
    return train, val, test


def split_dataset(x: np.ndarray, y: np.ndarray, class_names, name: str, tag: str,
                  test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """An own dataset's arrays as a :class:`cnnlib.data.datasets.Dataset`, its test split
    held out stratified (:func:`three_way_split` without validation).

    Args:
        x: uint8 ``(N, S, S, C)`` NHWC, 0..255.
        y: int64 ``(N,)`` labels.
        class_names: in label order.
        name: the dataset's name.
        tag: its owner's tag.
        test_fraction: the share held out as ``x_test``, in ``[0, 1)``.
        seed: of the split.

    Returns:
        The ``Dataset``, ``source`` ``"own:<tag>/<name>"``.

    Raises:
        OwnDataError: too few pictures, a bad fraction.
    """
    train, _, test = three_way_split(y, 0.0, test_fraction, seed)
    return Dataset(name, x[train], y[train], x[test], y[test], tuple(class_names),
                   f"{SOURCE_PREFIX}{tag}/{name}")


def as_dataset(store, owner: str, name: str, test_fraction: float = 0.2,
               seed: int = 0) -> Dataset:
    """An own dataset as a :class:`cnnlib.data.datasets.Dataset`, by the owner's token:
    :meth:`cnnlib.owndata.store.OwnDataStore.dataset_for_training` with the token's tag.

    Args:
        store: a :class:`cnnlib.owndata.store.OwnDataStore`.
        owner: the caller's token (only their own datasets are found).
        name: the dataset's name.
        test_fraction: the stratified share held out as ``x_test``, in ``[0, 1)``.
        seed: of the split.

    Returns:
        A ``Dataset`` named ``name``: ``x_train`` / ``x_test`` uint8 ``(N, size, size, C)``
        NHWC 0..255 (``C`` 1 for gray, 3 for RGB), ``y_train`` / ``y_test`` int64 ``(N,)``,
        ``class_names`` in label order, ``source`` ``"own:<owner tag>/<name>"``.

    Raises:
        OwnDataError: too few pictures, a bad fraction, a damaged file;
        DatasetNotFoundError: no such dataset of ``owner``.
        TypeError: ``owner`` is not a string.
    """
    if not isinstance(owner, str):
        raise TypeError(f"An own dataset needs an owner token (a string). Received: owner={owner!r}")
    return store.dataset_for_training(owner_tag(owner), name, test_fraction, seed)
