"""Own datasets in and out of a ``.zip`` in the layout ``keras.utils.image_dataset_from_directory``
reads: one folder per class with its pictures inside, the folders at the top of the zip
or inside one enclosing folder (``flowers/rose/1.jpg``).

Reading (:func:`read_classes`) judges the zip by its central directory first, as
:mod:`cnnlib.intake.archive` does for model archives (whose member check itself fits
only a Keras archive's fixed member names), and decompresses nothing until the whole
layout and every declared size have passed: at most
:data:`cnnlib.data.images.MAX_FILE_BYTES` (25 MB) a member, at most the person's
``CNN_STUDIO_MAX_OWN_MB`` declared in all, no more pictures than the person may still
add, no encrypted member. Then the members are read one at a time, each with a bound
(its declared size, its CRC checked), and handed to the caller's ``convert`` (the
bounded decoder), so an import holds one member's bytes at a time. There is no
compression-ratio rule (the model intake's 200:1): a plain BMP legitimately
compresses 800:1, and the declared sizes already bound the work.

The rule for other files, one for all: what a computer leaves by itself
(``__MACOSX/``, hidden files and folders such as ``.DS_Store``, ``Thumbs.db``,
``desktop.ini``) is **skipped**; any other file that is not named as a picture
(``.jpg``, ``.jpeg``, ``.png``, ``.webp``, ``.bmp``, ``.gif``) is **refused**, with
its name. A file named as a picture that the bounded decoder refuses (a picture
bomb, a corrupt file) is refused too, later, with the decoder's sentence.

Writing (:func:`write_zip`): ``<dataset>/<class>/<id>.png``, stored (PNG is already
compressed), members sorted and dated 1980-01-01, so the same dataset always gives
the same bytes.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from cnnlib.data.images import MAX_FILE_BYTES
from cnnlib.owndata.errors import OwnDataError, OwnLimitError
from cnnlib.owndata.limits import OwnLimits
from cnnlib.owndata.pictures import (
    MAX_CLASSES,
    MIN_CLASSES,
    MIN_PER_CLASS,
    validate_name,
)

PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif")
#: Names a computer leaves in a folder by itself; skipped wherever they are.
CLUTTER = frozenset({"thumbs.db", "desktop.ini"})
T = TypeVar("T")
LAYOUT = ("one folder per class with its pictures inside (cat/1.jpg, dog/2.jpg), "
          "optionally inside one enclosing folder")


def _refuse(reason: str) -> OwnDataError:
    return OwnDataError(f"The zip cannot be imported: {reason}.")


def _is_clutter(parts: list[str]) -> bool:
    return (parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts)
            or parts[-1].lower() in CLUTTER)


def _layout(infos: list[zipfile.ZipInfo]) -> dict[str, list[zipfile.ZipInfo]]:
    """Each class folder's picture members, from the names alone (nothing read).

    Raises:
        OwnDataError: a non-picture file, a picture outside a class folder, folders
            nested deeper than one enclosing folder, no class folders.
    """
    files, folders = [], []
    for info in infos:
        parts = [p for p in info.filename.split("/") if p]
        if not parts or _is_clutter(parts):
            continue
        if info.is_dir():
            folders.append(parts)
            continue
        if not parts[-1].lower().endswith(PICTURE_SUFFIXES):
            raise _refuse(f"it holds {info.filename[:80]!r}, which is not a picture (JPEG, PNG, "
                          "WebP, BMP or GIF); remove it from the zip and try again")
        files.append((parts, info))
    tops = {p[0] for p, _ in files} | {p[0] for p in folders}
    enclosed = len(tops) == 1 and files and all(len(p) >= 3 for p, _ in files)
    if enclosed:
        files = [(p[1:], i) for p, i in files]
        folders = [p[1:] for p in folders if len(p) > 1]
    classes: dict[str, list[zipfile.ZipInfo]] = {p[0]: [] for p in folders if len(p) == 1}
    for parts, info in files:
        if len(parts) == 1:
            raise _refuse(f"the picture {info.filename[:80]!r} lies outside any class folder; "
                          f"the zip needs {LAYOUT}")
        if len(parts) > 2:
            raise _refuse(f"{info.filename[:80]!r} lies in folders nested deeper than allowed; "
                          f"the zip needs {LAYOUT}")
        classes.setdefault(parts[0], []).append(info)
    for parts in folders:
        if len(parts) > 1:
            raise _refuse(f"the folder {'/'.join(parts)[:80]!r} is nested deeper than allowed; "
                          f"the zip needs {LAYOUT}")
    if not classes:
        raise _refuse(f"it has no class folders; it needs {LAYOUT}")
    return classes


def _check_classes(classes: dict[str, list]) -> None:
    """Raises OwnDataError unless there are 2-10 validly named classes of at least
    :data:`MIN_PER_CLASS` pictures each."""
    if not MIN_CLASSES <= len(classes) <= MAX_CLASSES:
        shown = ", ".join(sorted(classes)[:12])
        raise _refuse(f"it has {len(classes)} class folder{'s' * (len(classes) != 1)} ({shown}); "
                      f"a dataset has {MIN_CLASSES} to {MAX_CLASSES} classes")
    for name, members in classes.items():
        try:
            validate_name(name)
        except OwnDataError as e:
            raise _refuse(f"the class folder {name[:60]!r} has a name a class cannot have "
                          f"({str(e).split('.')[0].lower()})") from None
        if len(members) < MIN_PER_CLASS:
            raise _refuse(f"the class {name!r} has {len(members)} picture"
                          f"{'s' * (len(members) != 1)}; each class needs at least "
                          f"{MIN_PER_CLASS}")
    lower = [n.lower() for n in classes]
    for n in classes:
        if lower.count(n.lower()) > 1:
            raise _refuse(f"two class folders are both named {n!r} (ignoring case)")


def _check_sizes(classes: dict[str, list[zipfile.ZipInfo]], limits: OwnLimits,
                 images_left: int) -> None:
    """Raises before anything is decompressed: an encrypted member, a member declaring
    more than a picture may be, more pictures than the person may still add, more
    megabytes declared than a person may keep."""
    total = count = 0
    for members in classes.values():
        for info in members:
            if info.flag_bits & 0x1:
                raise _refuse(f"{info.filename[:80]!r} is encrypted")
            if info.file_size > MAX_FILE_BYTES:
                raise _refuse(f"{info.filename[:80]!r} declares {info.file_size / 2**20:,.0f} MB; "
                              f"a picture may be {MAX_FILE_BYTES / 2**20:.0f} MB")
            total += info.file_size
            count += 1
    if count > images_left:
        raise OwnLimitError(f"The zip holds {count:,} pictures; you may add {max(images_left, 0):,} "
                            f"more (a person may keep {limits.max_images:,} on this server, "
                            f"CNN_STUDIO_MAX_OWN_IMAGES={limits.max_images}).")
    if total > limits.max_bytes:
        raise OwnLimitError(f"The zip's pictures declare {total / 2**20:,.1f} MB once unpacked; "
                            f"an import may be {limits.max_mb:,} MB "
                            f"(CNN_STUDIO_MAX_OWN_MB={limits.max_mb}).")


def read_classes(data: bytes, limits: OwnLimits, images_left: int,
                 convert: Callable[[str, bytes], T]) -> dict[str, list[T]]:
    """The class folders of a zip and their pictures, every bound checked before
    anything is decompressed (see the module docstring).

    Args:
        data: the zip file's bytes.
        limits: the person's budget.
        images_left: pictures the person may still add.
        convert: called with each picture member's name and bytes, one member at a
            time; what it returns is kept (its exceptions pass through).

    Returns:
        ``{class name: [convert(member name, bytes), ...]}``, classes in sorted order
        (the order ``image_dataset_from_directory`` gives them labels), members sorted
        by name.

    Raises:
        OwnDataError: not a zip, a bad layout, a non-picture file, a bad class name,
            fewer than 2 or more than 10 classes, a class under 2 pictures, a member
            out of bounds, a damaged member (one sentence each).
        OwnLimitError: more pictures or declared megabytes than allowed.
    """
    if not data:
        raise _refuse("the file is empty")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return _read_layout(z.infolist(), limits, images_left, convert,
                                lambda info: _read_member(z, info))
    except zipfile.BadZipFile as e:  # also a failing CRC
        raise _refuse(f"it is not a zip file, or a damaged one ({str(e)[:120]})") from None
    except (EOFError, OSError, NotImplementedError) as e:  # an unknown compression method
        raise _refuse(f"a member cannot be read ({type(e).__name__}: {str(e)[:120]})") from None


def _read_layout(infos: list[zipfile.ZipInfo], limits: OwnLimits, images_left: int,
                 convert: Callable[[str, bytes], T],
                 read: Callable[[zipfile.ZipInfo], bytes]) -> dict[str, list[T]]:
    """The layout of ``infos`` checked (names, classes, declared sizes), then each
    picture ``read`` and converted, one at a time, classes and members sorted."""
    classes = _layout(infos)
    _check_classes(classes)
    _check_sizes(classes, limits, images_left)
    out = {}
    for name in sorted(classes):
        members = sorted(classes[name], key=lambda i: i.filename)
        out[name] = [convert(i.filename, read(i)) for i in members]
    return out


def read_folder_classes(folder, limits: OwnLimits, images_left: int,
                        convert: Callable[[str, bytes], T]) -> dict[str, list[T]]:
    """:func:`read_classes` for a folder on disk in the same layout (the folder
    ``image_dataset_from_directory`` reads: one sub-folder per class), with the same
    rules: the folder's files are listed as a zip's members would be (paths relative
    to ``folder``), judged by name and size first, then read one at a time.

    Args:
        folder: the folder (``str`` or path); symbolic links to folders are not followed.
        limits, images_left, convert: as :func:`read_classes`.

    Returns:
        As :func:`read_classes`; member names are paths relative to ``folder``.

    Raises:
        OwnDataError: not a folder, a bad layout (the sentences say "the folder"), a
            file that cannot be read.
        OwnLimitError: as :func:`read_classes`.
    """
    root = Path(folder)
    if not root.is_dir():
        raise OwnDataError(f"The folder cannot be imported: {str(root)[:120]!r} is not a folder.")
    infos = []
    for here, dirs, files in os.walk(root):
        dirs.sort()
        for d in dirs:
            infos.append(zipfile.ZipInfo(f"{(Path(here) / d).relative_to(root).as_posix()}/"))
        for f in sorted(files):
            path = Path(here) / f
            info = zipfile.ZipInfo(path.relative_to(root).as_posix())
            info.file_size = path.stat().st_size
            infos.append(info)

    def read(info: zipfile.ZipInfo) -> bytes:
        with open(root / info.filename, "rb") as f:
            raw = f.read(info.file_size + 1)
        if len(raw) > info.file_size:
            raise OwnDataError(f"The folder cannot be imported: {info.filename[:80]!r} grew "
                               "while it was read.")
        return raw

    try:
        return _read_layout(infos, limits, images_left, convert, read)
    except OwnDataError as e:
        raise type(e)(str(e).replace("The zip cannot be imported", "The folder cannot be "
                                     "imported").replace("the zip needs", "the folder needs")
                      .replace("from the zip", "from the folder")) from None
    except OSError as e:
        raise OwnDataError(f"The folder cannot be imported: a file cannot be read "
                           f"({type(e).__name__}: {str(e)[:120]}).") from None


def _read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with z.open(info) as f:
        raw = f.read(info.file_size + 1)
    if len(raw) > info.file_size:
        raise _refuse(f"{info.filename[:80]!r} is larger than it declares")
    return raw


def write_zip(name: str, classes: dict[str, list[tuple[str, bytes]]]) -> bytes:
    """A zip of ``<name>/<class>/<file>`` members, stored, sorted, dated 1980-01-01.

    Args:
        name: the enclosing folder (the dataset's name).
        classes: ``{class name: [(file name, bytes), ...]}``.

    Returns:
        The zip file's bytes.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for cls in sorted(classes):
            for file_name, payload in sorted(classes[cls]):
                info = zipfile.ZipInfo(f"{name}/{cls}/{file_name}", date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                z.writestr(info, payload)
    return buf.getvalue()
