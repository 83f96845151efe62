"""Reading people's own datasets from disk: the layout, the listing, pictures and arrays.

The layout (written by :class:`cnnlib.owndata.store.OwnDataStore`): under the root,
``<owner tag>/<name>/`` holds the dataset's card ``card.json`` (name, owner tag, classes,
side, colour) and one folder per class of PNG files named ``<id>.png``, the id being the
first 16 hex digits of the file's SHA-256::

    datasets/99bb88401742848e/pets/card.json
    datasets/99bb88401742848e/pets/cat/3f2a...e1.png

:class:`OwnDataReader` reads it: every method takes the caller's owner token and looks
only in that tag's folder (another person's dataset is not found), except
:meth:`OwnDataReader.dataset_for_training`, a training worker's read path, which is
given the tag written in the run's config. Readers take no lock: a picture is either
wholly there or not, and hidden names (the writer's temporary files) are never listed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import numpy as np

from cnnlib import paths
from cnnlib.data.datasets import Dataset
from cnnlib.owndata import pictures, zipfiles
from cnnlib.owndata.errors import DatasetNotFoundError, NotOwnerError, OwnDataError
from cnnlib.owndata.limits import OwnLimits
from cnnlib.owners import owner_tag

CARD = "card.json"
CARD_FORMAT = 1
_PICTURE_RE = re.compile(rf"^[0-9a-f]{{{pictures.ID_HEX}}}\.png$")


def default_root() -> Path:
    """``$CNN_STUDIO_HOME/datasets`` (read on every call; it may not exist yet)."""
    return paths.home() / "datasets"


@dataclasses.dataclass(frozen=True)
class OwnDataset:
    """One dataset as listed.

    Attributes:
        name: its name (:data:`cnnlib.owndata.pictures.NAME_RE`).
        owner_tag: its owner's tag (16 hex digits).
        class_names: the classes in label order (label ``i`` is ``class_names[i]``).
        size: the side of its square pictures, pixels (32, 64 or 96).
        gray: one channel (luminance) rather than RGB.
        counts: pictures per class, in label order.
        path: its folder.
    """

    name: str
    owner_tag: str
    class_names: tuple[str, ...]
    size: int
    gray: bool
    counts: tuple[int, ...]
    path: Path

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(H, W, C)`` of one picture."""
        return (self.size, self.size, 1 if self.gray else 3)

    @property
    def total(self) -> int:
        return sum(self.counts)

    def count_of(self, class_name: str) -> int:
        return self.counts[self.class_names.index(class_name)]


def _require_owner(owner) -> str:
    if not isinstance(owner, str):
        raise TypeError(f"An own dataset needs an owner token (a string). Received: owner={owner!r}")
    return owner_tag(owner)

class OwnDataReader:
    """Reading people's own datasets under one root folder; every method takes the
    caller's owner token and reads in that owner's folder only (but
    :meth:`dataset_for_training`, given a tag).

    Args:
        root: the folder (default :func:`default_root`, read when the store is made).
        limits: the per-person budget (default: :meth:`OwnLimits.from_env` on every call).
    """

    def __init__(self, root=None, limits: OwnLimits | None = None):
        self.root = Path(root) if root is not None else default_root()
        self._limits = limits

    @property
    def limits(self) -> OwnLimits:
        return self._limits or OwnLimits.from_env()

    def _owner_dir(self, owner: str) -> Path:
        return self.root / _require_owner(owner)

    def _card(self, folder: Path, tag: str) -> dict:
        """The card of the dataset in ``folder``; raises OwnDataError if unreadable,
        NotOwnerError if it names an owner other than the one of ``tag``."""
        try:
            card = json.loads((folder / CARD).read_text())
            names = tuple(card["classes"])
            int(card["size"]), bool(card["gray"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise OwnDataError(f"The dataset {folder.name!r} cannot be read (its card is missing "
                               f"or damaged: {type(e).__name__}); delete it and make it again.") from None
        if card.get("owner_tag") != tag:
            raise NotOwnerError(f"The dataset {folder.name!r} belongs to someone else.")
        card["classes"] = names
        return card

    def _folder(self, owner: str, name: str) -> Path:
        pictures.validate_name(name, "A dataset name")
        folder = self._owner_dir(owner) / name
        if not (folder / CARD).is_file():
            raise DatasetNotFoundError(f"You have no dataset named {name!r}.")
        return folder

    @staticmethod
    def _ids(class_dir: Path) -> list[str]:
        try:
            return sorted(p.name[:-4] for p in os.scandir(class_dir) if _PICTURE_RE.match(p.name))
        except FileNotFoundError:
            return []

    def _describe(self, folder: Path, tag: str) -> OwnDataset:
        card = self._card(folder, tag)
        counts = tuple(len(self._ids(folder / c)) for c in card["classes"])
        return OwnDataset(folder.name, card["owner_tag"], card["classes"], int(card["size"]),
                          bool(card["gray"]), counts, folder)

    def get(self, owner: str, name: str) -> OwnDataset:
        """The dataset ``name`` of ``owner``, with its counts per class.

        Raises:
            OwnDataError: a bad name, or a damaged card.
            DatasetNotFoundError: ``owner`` has no dataset of that name.
            NotOwnerError: its card names another owner (moved by hand).
            TypeError: ``owner`` is not a string.
        """
        return self._describe(self._folder(owner, name), owner_tag(owner))

    def list(self, owner: str) -> list[OwnDataset]:
        """``owner``'s datasets, sorted by name (datasets with a damaged card or another
        owner's card are left out); [] when there are none."""
        folder = self._owner_dir(owner)
        out = []
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except FileNotFoundError:
            return []
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            try:
                out.append(self._describe(Path(entry.path), owner_tag(owner)))
            except (OwnDataError, NotOwnerError):
                continue
        return out

    def counts(self, owner: str, name: str) -> dict[str, int]:
        """Pictures per class, ``{class name: count}`` in label order (raises as :meth:`get`)."""
        ds = self.get(owner, name)
        return dict(zip(ds.class_names, ds.counts))

    def picture_ids(self, owner: str, name: str, class_name: str) -> list[str]:
        """The ids of one class's pictures, sorted (raises as :meth:`get`, and OwnDataError
        for an unknown class)."""
        ds = self.get(owner, name)
        return self._ids(ds.path / self._class(ds, class_name))

    def read_picture(self, owner: str, name: str, class_name: str, picture_id: str) -> np.ndarray:
        """One stored picture, uint8 ``(size, size, C)`` 0..255.

        Raises:
            OwnDataError: an unknown class or picture id (and as :meth:`get`).
        """
        ds = self.get(owner, name)
        return pictures.read_png(self._picture_path(ds, class_name, picture_id), ds.size, ds.gray)

    def usage(self, owner: str) -> tuple[int, int]:
        """``(pictures, bytes)`` that ``owner`` keeps over all their datasets."""
        n = size = 0
        for ds in self.list(owner):
            for c in ds.class_names:
                for pid in self._ids(ds.path / c):
                    try:
                        size += (ds.path / c / f"{pid}.png").stat().st_size
                        n += 1
                    except FileNotFoundError:  # removed meanwhile
                        pass
        return n, size

    def arrays(self, owner: str, name: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        """The whole dataset as arrays, classes in label order, each class's pictures by id.

        Returns:
            ``(x, y, class_names)``: ``x`` uint8 ``(N, size, size, C)`` NHWC, 0..255, ``C`` 1
            (gray) or 3 (RGB); ``y`` int64 ``(N,)`` in ``0..len(class_names) - 1``.

        Raises:
            As :meth:`get`; OwnDataError for a stored file changed by hand.
        """
        return self._arrays(self.get(owner, name))

    def _arrays(self, ds: OwnDataset) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        xs, ys = [], []
        for label, c in enumerate(ds.class_names):
            for pid in self._ids(ds.path / c):
                xs.append(pictures.read_png(ds.path / c / f"{pid}.png", ds.size, ds.gray))
                ys.append(label)
        x = np.stack(xs) if xs else np.zeros((0, *ds.image_shape), np.uint8)  # (N, H, W, C)
        return x, np.asarray(ys, dtype=np.int64), ds.class_names

    def dataset_for_training(self, tag: str, name: str, test_fraction: float = 0.2,
                             seed: int = 0) -> Dataset:
        """The dataset ``name`` of the owner whose tag is ``tag``, as training data: the
        read path of a training worker, which is given the tag (written in the run's
        config) and never the token. Nothing is changed.

        Args:
            tag: the owner's tag, 16 hex digits (:func:`cnnlib.owners.owner_tag`).
            name: the dataset's name.
            test_fraction: the stratified share held out as ``x_test``, in ``[0, 1)``.
            seed: of the split.

        Returns:
            A :class:`cnnlib.data.datasets.Dataset` named ``name``: ``x_train`` / ``x_test``
            uint8 ``(N, size, size, C)`` NHWC 0..255 (``C`` 1 gray, 3 RGB), ``y_train`` /
            ``y_test`` int64 ``(N,)``, ``class_names`` in label order, ``source``
            ``"own:<tag>/<name>"``.

        Raises:
            OwnDataError: a malformed tag or name, too few pictures, a bad fraction, a
                damaged file.
            DatasetNotFoundError: the owner of ``tag`` has no dataset of that name.
            NotOwnerError: its card names another owner (moved by hand).
        """
        from cnnlib.owndata.refs import check_tag
        from cnnlib.owndata.split import split_dataset

        pictures.validate_name(name, "A dataset name")
        folder = self.root / check_tag(tag) / name
        if not (folder / CARD).is_file():
            raise DatasetNotFoundError(f"You have no dataset named {name!r}.")
        x, y, class_names = self._arrays(self._describe(folder, tag))
        return split_dataset(x, y, class_names, name, tag, test_fraction, seed)

    def export_zip(self, owner: str, name: str) -> bytes:
        """The dataset as a zip ``<name>/<class>/<id>.png`` (:func:`cnnlib.owndata.zipfiles.write_zip`),
        which :meth:`import_zip` and ``keras.utils.image_dataset_from_directory`` read.

        Raises:
            As :meth:`get`.
        """
        ds = self.get(owner, name)
        classes = {c: [(f"{pid}.png", (ds.path / c / f"{pid}.png").read_bytes())
                       for pid in self._ids(ds.path / c)] for c in ds.class_names}
        return zipfiles.write_zip(ds.name, classes)

    @staticmethod
    def _class(ds: OwnDataset, class_name: str) -> str:
        if class_name not in ds.class_names:
            raise OwnDataError(f"The dataset {ds.name!r} has no class {class_name!r:.60}; its classes "
                               f"are {', '.join(ds.class_names)}.")
        return class_name

    def _picture_path(self, ds: OwnDataset, class_name: str, picture_id: str) -> Path:
        path = ds.path / self._class(ds, class_name) / f"{picture_id}.png"
        if not isinstance(picture_id, str) or not _PICTURE_RE.match(path.name) or not path.is_file():
            raise OwnDataError(f"The class {class_name!r} of {ds.name!r} has no picture "
                               f"{picture_id!r:.40}.")
        return path
