"""Writing people's own datasets: make, fill, remove, delete and import, atomically.

The layout on disk, and every read, is :mod:`cnnlib.owndata.reader`;
:class:`OwnDataStore` is its :class:`~cnnlib.owndata.reader.OwnDataReader` with the
writes. The root is ``$CNN_STUDIO_HOME/datasets`` (:func:`cnnlib.paths.home`) unless the
caller names another.

Owners: the folder and the card hold the owner's tag (:func:`cnnlib.owners.owner_tag`),
never the token. Every call takes the caller's token and works only in that tag's
folder, so another person's dataset is never listed, read, changed or deleted: it is
not found (and a card whose tag is not the caller's, moved by hand, is a
:class:`~cnnlib.owners.NotOwnerError`).

Writing is atomic. A new dataset (:meth:`OwnDataStore.create`,
:meth:`OwnDataStore.import_zip`) is built in a hidden temporary folder of the owner's
folder and renamed into place; a picture is written to a hidden temporary file of its
class folder, flushed, and moved into place with ``os.replace``; a deleted dataset is
renamed aside first. The checks and the moves of one owner run under an exclusive
``flock`` of the owner's folder (the model store's lock, :mod:`cnnlib.store.files`), so
two tabs of one person never exceed the limits together.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from pathlib import Path

from cnnlib.owndata import pictures, zipfiles
from cnnlib.owndata.errors import (
    DatasetExistsError,
    DatasetNotFoundError,
    OwnDataError,
    OwnLimitError,
    write_error,
)
from cnnlib.owndata.reader import (  # noqa: F401 (default_root, OwnDataset: re-exported)
    CARD,
    CARD_FORMAT,
    OwnDataReader,
    OwnDataset,
    default_root,
)
from cnnlib.owners import owner_tag
from cnnlib.store.files import _exclusive, write_atomic  # the model store's flock and writes

#: The lock file's stem in an owner's folder (``.datasets.lock``).
LOCK_NAME = "datasets"


class OwnDataStore(OwnDataReader):
    """People's own datasets under one root folder: :class:`OwnDataReader`'s reads and
    the writes; every method takes the caller's owner token and works in that owner's
    folder only.

    Args:
        root: the folder (default :func:`default_root`, read when the store is made).
        limits: the per-person budget (default: :meth:`OwnLimits.from_env` on every call).
    """

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
