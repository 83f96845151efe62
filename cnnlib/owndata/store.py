"""The store of people's own datasets, on disk under ``<root>/<owner tag>/<name>/``.

The root is ``$CNN_STUDIO_HOME/datasets`` (:func:`cnnlib.paths.home`) unless the
caller names another. A dataset's folder holds its card ``card.json`` (name, owner
tag, classes, side, colour) and one folder per class of PNG files named
``<id>.png``, the id being the first 16 hex digits of the file's SHA-256::

    datasets/99bb88401742848e/pets/card.json
    datasets/99bb88401742848e/pets/cat/3f2a...e1.png

Owners: the folder and the card hold the owner's tag (:func:`cnnlib.owners.owner_tag`),
never the token. Every call takes the caller's token and looks only in that tag's
folder, so another person's dataset is never listed, read, changed or deleted: it is
not found (and a card whose tag is not the caller's, moved by hand, is a
:class:`~cnnlib.owners.NotOwnerError`).

Writing is atomic. A new dataset (:meth:`OwnDataStore.create`,
:meth:`OwnDataStore.import_zip`) is built in a hidden temporary folder of the owner's
folder and renamed into place; a picture is written to a hidden temporary file of its
class folder, flushed, and moved into place with ``os.replace``; a deleted dataset is
renamed aside first. The checks and the moves of one owner run under an exclusive
``flock`` of the owner's folder (the model store's lock, :mod:`cnnlib.store.files`), so
two tabs of one person never exceed the limits together. Readers take no lock: a
picture is either wholly there or not; hidden names are never listed.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from cnnlib import paths
from cnnlib.data.datasets import Dataset
from cnnlib.owndata import pictures, zipfiles
from cnnlib.owndata.errors import (
    DatasetExistsError,
    DatasetNotFoundError,
    NotOwnerError,
    OwnDataError,
    OwnLimitError,
    write_error,
)
from cnnlib.owndata.limits import OwnLimits
from cnnlib.owners import owner_tag
from cnnlib.store.files import _exclusive, write_atomic  # the model store's flock and writes

CARD = "card.json"
CARD_FORMAT = 1
#: The lock file's stem in an owner's folder (``.datasets.lock``).
LOCK_NAME = "datasets"
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


class OwnDataStore:
    """People's own datasets under one root folder; every method takes the caller's
    owner token and works in that owner's folder only.

    Args:
        root: the folder (default :func:`default_root`, read when the store is made).
        limits: the per-person budget (default: :meth:`OwnLimits.from_env` on every call).
    """

    def __init__(self, root=None, limits: OwnLimits | None = None):
        self.root = Path(root) if root is not None else default_root()
        self._limits = limits

    # ---------------------------------------------------------------- reading --

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

    # ---------------------------------------------------------------- writing --

    def _check_room(self, owner: str, adding: int, adding_bytes: int) -> None:
        """OwnLimitError if ``owner`` may not add ``adding`` pictures of ``adding_bytes``."""
        limits = self.limits
        have, have_bytes = self.usage(owner)
        if have + adding > limits.max_images:
            raise OwnLimitError(limits.images_sentence(have, adding))
        if have_bytes + adding_bytes > limits.max_bytes:
            raise OwnLimitError(limits.bytes_sentence(have_bytes, adding_bytes))

    def create(self, owner: str, name: str, class_names, size: int = 64, gray: bool = False,
               _pictures: dict[str, list[bytes]] | None = None) -> OwnDataset:
        """Make an empty dataset.

        Args:
            owner: the owner's token (only its tag is written).
            name: the dataset's name: 1-40 letters, digits, spaces, ``_``, ``-``, ``.``.
            class_names: 2-10 class names of the same kind, distinct ignoring case;
                their order is the label order.
            size: the side of its pictures, 32, 64 or 96 pixels.
            gray: keep one channel (luminance) rather than RGB.

        Returns:
            The new :class:`OwnDataset` (counts all 0).

        Raises:
            OwnDataError: a bad name, classes or size.
            DatasetExistsError: ``owner`` has a dataset of that name already.
            OwnLimitError: (with pictures, from :meth:`import_zip`) over the limits.
            OwnDataWriteError: the folder cannot be written; nothing changed.
            TypeError: ``owner`` is not a string.
        """
        pictures.validate_name(name, "A dataset name")
        names = pictures.validate_classes(class_names)
        size = pictures.validate_size(size)
        owner_dir = self._owner_dir(owner)
        final = owner_dir / name
        if final.exists():
            raise DatasetExistsError(f"You already have a dataset named {name!r}; choose another "
                                     "name or delete that one first.")
        card = {"format": CARD_FORMAT, "name": name, "owner_tag": owner_tag(owner),
                "classes": list(names), "size": size, "gray": bool(gray)}
        tmp = None
        try:
            owner_dir.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{name}~", suffix=".tmp", dir=owner_dir))
            n_new = n_bytes = 0
            for c in names:
                (tmp / c).mkdir()
                for png in (_pictures or {}).get(c, []):
                    write_atomic(tmp / c / f"{pictures.picture_id(png)}.png", png)
                    n_new, n_bytes = n_new + 1, n_bytes + len(png)
            write_atomic(tmp / CARD, json.dumps(card, indent=1).encode())
            with _exclusive(owner_dir, LOCK_NAME):
                if final.exists():
                    raise DatasetExistsError(f"You already have a dataset named {name!r}; choose "
                                             "another name or delete that one first.")
                self._check_room(owner, n_new, n_bytes)
                os.rename(tmp, final)
        except OSError as e:  # NotOwnerError is one too, but it is never raised here
            raise write_error(e, owner_dir, f"the dataset {name!r} was not made") from None
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        return self.get(owner, name)

    def add_picture(self, owner: str, name: str, class_name: str, data: bytes) -> str:
        """Add one picture from a file's bytes (an upload or a camera frame).

        The bytes go through the bounded decoder (:func:`cnnlib.data.images.decode_image`),
        are centre-cropped to a square, resized to the dataset's side, made gray where
        the dataset is gray and stored as a PNG.

        Returns:
            The picture's id (16 hex digits). The same picture added twice to one
            class is kept once, under the same id.

        Raises:
            OwnDataError: the decoder refused the bytes (its sentence), an unknown class
                (and as :meth:`get`).
            OwnLimitError: the owner keeps as many pictures or megabytes as allowed.
            OwnDataWriteError: the folder cannot be written; nothing changed.
        """
        ds = self.get(owner, name)
        self._class(ds, class_name)
        png = pictures.encode_png(pictures.picture_from_bytes(data, ds.size, ds.gray))
        pid = pictures.picture_id(png)
        target = ds.path / class_name / f"{pid}.png"
        owner_dir = ds.path.parent
        try:
            with _exclusive(owner_dir, LOCK_NAME):
                if not (ds.path / CARD).is_file():
                    raise DatasetNotFoundError(f"You have no dataset named {name!r}.")
                if not target.exists():
                    self._check_room(owner, 1, len(png))
                    (ds.path / class_name).mkdir(exist_ok=True)
                    write_atomic(target, png)
        except OSError as e:
            raise write_error(e, ds.path, "the picture was not added") from None
        return pid

    def remove_picture(self, owner: str, name: str, class_name: str, picture_id: str) -> None:
        """Remove one picture.

        Raises:
            OwnDataError: an unknown class or picture (and as :meth:`get`).
            OwnDataWriteError: the folder cannot be written; nothing changed.
        """
        ds = self.get(owner, name)
        path = self._picture_path(ds, class_name, picture_id)
        try:
            with _exclusive(ds.path.parent, LOCK_NAME):
                path.unlink(missing_ok=True)
        except OSError as e:
            raise write_error(e, ds.path, "the picture was not removed") from None

    def delete(self, owner: str, name: str) -> None:
        """Delete a dataset and its pictures (renamed aside first, then removed).

        Raises:
            As :meth:`get`; OwnDataWriteError: the folder cannot be written.
        """
        ds = self.get(owner, name)
        owner_dir = ds.path.parent
        try:
            with _exclusive(owner_dir, LOCK_NAME):
                aside = Path(tempfile.mkdtemp(prefix=f".{name}~", suffix=".gone", dir=owner_dir))
                os.replace(ds.path, aside / name)
        except OSError as e:
            raise write_error(e, owner_dir, f"the dataset {name!r} was not deleted") from None
        shutil.rmtree(aside, ignore_errors=True)

    def import_zip(self, owner: str, name: str, data: bytes, size: int = 64,
                   gray: bool = False) -> OwnDataset:
        """Make a dataset from a zip in the layout ``image_dataset_from_directory`` reads
        (:mod:`cnnlib.owndata.zipfiles`); classes in sorted order, as Keras labels them.

        Every bound is checked before anything is decompressed, every picture goes
        through the bounded decoder, and the dataset appears whole or not at all.

        Returns:
            The new :class:`OwnDataset`.

        Raises:
            OwnDataError: a bad name or size, a bad zip (one sentence naming what is
                wrong: no class folders, too deep, a non-picture file, a class under 2
                pictures, not 2-10 classes, a picture the decoder refuses).
            DatasetExistsError, OwnLimitError, OwnDataWriteError: as :meth:`create`.
        """
        return self._import(owner, name, size, gray, "zip", functools.partial(
            zipfiles.read_classes, data))

    def import_folder(self, owner: str, name: str, folder, size: int = 64,
                      gray: bool = False) -> OwnDataset:
        """Make a dataset from a folder on disk in the layout ``image_dataset_from_directory``
        reads (one sub-folder per class), by the rules of :meth:`import_zip`
        (:func:`cnnlib.owndata.zipfiles.read_folder_classes`): the command line's
        ``train --images DIR``.

        Returns:
            The new :class:`OwnDataset`.

        Raises:
            As :meth:`import_zip`, the sentences saying "the folder".
        """
        return self._import(owner, name, size, gray, "folder", functools.partial(
            zipfiles.read_folder_classes, folder))

    def _import(self, owner: str, name: str, size: int, gray: bool, where: str,
                read) -> OwnDataset:
        """The import of :meth:`import_zip` and :meth:`import_folder`: ``read(limits,
        images_left, convert)`` gives ``{class: [PNG bytes]}``; ``where`` is ``"zip"`` or
        ``"folder"``, for the sentences."""
        pictures.validate_name(name, "A dataset name")
        size = pictures.validate_size(size)
        if (self._owner_dir(owner) / name).exists():
            raise DatasetExistsError(f"You already have a dataset named {name!r}; choose another "
                                     "name or delete that one first.")
        limits = self.limits
        have, _ = self.usage(owner)

        def convert(member: str, raw: bytes) -> bytes:
            return pictures.encode_png(pictures.picture_from_bytes(
                raw, size, gray, f"The picture {member[:80]!r} in the {where}"))

        classes = read(limits, limits.max_images - have, convert)
        pngs = {}
        for c, pngs_of_class in classes.items():
            unique = {pictures.picture_id(png): png for png in pngs_of_class}
            if len(unique) < pictures.MIN_PER_CLASS:
                raise OwnDataError(f"The {where} cannot be imported: the class {c!r} has "
                                   f"{len(unique)} different picture{'s' * (len(unique) != 1)} "
                                   f"once resized; each class needs at least "
                                   f"{pictures.MIN_PER_CLASS}.")
            pngs[c] = list(unique.values())
        return self.create(owner, name, list(classes), size, gray, _pictures=pngs)
