"""A stored model's two files, ``NAME.keras`` and its card ``NAME.json``, written
together and read together.

Writing (:func:`replace_pair`, :func:`remove_pair`):

1. the new files are written in a temporary directory of the target folder,
   ``.NAME~XXXXXXXX.tmp`` (``tempfile.mkdtemp``: a unique name per call, hidden,
   not ending in ``.keras``, so no listing shows it and two writers never share
   it), and flushed to disk;
2. holding an exclusive ``fcntl.flock`` on the folder's lock file ``.NAME.lock``,
   the caller's ``check`` runs (is the name free, is the model theirs) and both
   files are moved into place with ``os.replace``. If the second move fails,
   the first is undone (the old model was hard-linked aside first), so the
   folder keeps both old files or both new ones;
3. the temporary directory is removed on every path, success or error.

Reading (:func:`read_pair`): the caller's ``read`` runs under a shared flock on
the same lock file, so it never takes one version's card with another version's
model. Readers never create files (a bundled folder may be read-only, and the
app must not write into it): where no lock file exists, no writer of this
module has touched that name in that folder, and ``read`` runs unlocked; if the
lock file appears meanwhile (a first writer), ``read`` runs again under it.

Rewriting a card alone (:func:`rewrite_card`: an older version's card brought up
to date) writes the new text to a temporary file of the folder and moves it into
place with ``os.replace`` under the same exclusive flock.

Lock files stay when a model is deleted: removing one would let a later writer
lock a new file while an earlier one still holds the old. The locks are
advisory: they order the writers and readers of this module, in any thread or
process of one machine (each call opens its own file description, so threads
exclude each other too); a local file system is assumed, not NFS.

The last defence, for a process killed between the two moves: the store puts
the model file's SHA-256 in its card (see :func:`sha256_file`), and a listing
flags a card that does not describe its file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from cnnlib.intake.load import file_sha256 as sha256_file  # noqa: F401 (one home: the intake's)

T = TypeVar("T")

MODEL_SUFFIX, CARD_SUFFIX, LOCK_SUFFIX = ".keras", ".json", ".lock"


def model_path(folder: Path, name: str) -> Path:
    return folder / f"{name}{MODEL_SUFFIX}"


def card_path(folder: Path, name: str) -> Path:
    return folder / f"{name}{CARD_SUFFIX}"


def _lock_path(folder: Path, name: str) -> Path:
    return folder / f".{name}{LOCK_SUFFIX}"


@contextlib.contextmanager
def _exclusive(folder: Path, name: str) -> Iterator[None]:
    """Hold the name's exclusive flock, creating its lock file if needed.

    Raises:
        OSError: the lock file cannot be created (the folder cannot be written).
    """
    fd = os.open(_lock_path(folder, name), os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the file description releases its flock


def _shared(folder: Path, name: str) -> int | None:
    """A file descriptor holding the name's shared flock (close it to release), or
    None where the lock file does not exist. Raises OSError if it cannot be opened."""
    try:
        fd = os.open(_lock_path(folder, name), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_pair(folder: Path, name: str, read: Callable[[], T]) -> T:
    """``read()`` while no writer of this module replaces ``name``'s files in ``folder``.

    Args:
        folder: the folder that holds the model.
        name: the model's name.
        read: reads the card and/or the model file; may be called twice (see the
            module docstring), so it must have no side effects.

    Returns:
        What ``read`` returns; its exceptions pass through.
    """
    for _ in range(2):
        try:
            fd = _shared(folder, name)
        except OSError:  # the lock file is there but cannot be opened: no better choice
            return read()
        if fd is None:  # never written here: read, then make sure it still was not
            value = read()
            if not _lock_path(folder, name).exists():
                return value
            continue
        try:
            return read()
        finally:
            os.close(fd)
    return read()  # the lock file came and went: someone removed it by hand


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _keep_aside(path: Path, aside: Path) -> None:
    """A second name for ``path``'s file: a hard link, else (no links here) a copy."""
    try:
        os.link(path, aside)
    except OSError:
        shutil.copyfile(path, aside)


def replace_pair(folder: Path, name: str, write_model: Callable[[Path], None],
                 card_text: Callable[[Path], str], check: Callable[[], None]) -> Path:
    """Put a new ``NAME.keras`` and ``NAME.json`` in ``folder``, both or neither.

    Args:
        folder: the target folder (created if missing).
        name: the model's name (already validated: no ``/``, no leading ``.``).
        write_model: writes the model file at the path it is given (a ``.keras`` path
            inside the temporary directory).
        card_text: given the written model file, returns the card's JSON text.
        check: called under the exclusive lock just before the files move into place
            (after a first call before anything is written, to fail fast); raises to
            refuse, and then nothing changes.

    Returns:
        The path of the model file in ``folder``.

    Raises:
        OSError: the folder cannot be created or written (full disk, read-only,
            ...); nothing changed and no temporary file is left.
        Whatever ``check``, ``write_model`` or ``card_text`` raise; likewise.
    """
    check()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}~", suffix=".tmp", dir=folder))
    try:
        new_model, new_card, old_model = tmp / f"new{MODEL_SUFFIX}", tmp / "new.json", tmp / "old"
        write_model(new_model)
        new_card.write_text(card_text(new_model))
        _fsync(new_model)
        _fsync(new_card)
        target_model, target_card = model_path(folder, name), card_path(folder, name)
        with _exclusive(folder, name):
            check()
            had_model = target_model.exists()
            if had_model:  # kept aside to undo the first move
                _keep_aside(target_model, old_model)
            os.replace(new_model, target_model)
            try:
                os.replace(new_card, target_card)
            except BaseException:
                if had_model:
                    os.replace(old_model, target_model)
                else:
                    target_model.unlink(missing_ok=True)
                raise
        return target_model
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def remove_pair(folder: Path, name: str, check: Callable[[], None]) -> Path:
    """Remove ``NAME.keras`` and ``NAME.json`` from ``folder``, both or neither.

    Both files are first moved into a temporary directory under the exclusive
    lock (the first move is undone if the second fails), then deleted.

    Args:
        folder: the folder that holds the model.
        name: the model's name.
        check: called under the exclusive lock first; raises to refuse.

    Returns:
        The path the model file had.

    Raises:
        FileNotFoundError: there is no ``NAME.keras`` in ``folder``.
        OSError: the folder cannot be written; nothing changed.
        Whatever ``check`` raises; nothing changed.
    """
    target_model, target_card = model_path(folder, name), card_path(folder, name)
    if not target_model.exists():
        raise FileNotFoundError(target_model)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}~", suffix=".tmp", dir=folder))
    try:
        with _exclusive(folder, name):
            if not target_model.exists():  # another call removed it meanwhile
                raise FileNotFoundError(target_model)
            check()
            os.replace(target_model, tmp / "old.keras")
            try:
                if target_card.exists():
                    os.replace(target_card, tmp / "old.json")
            except BaseException:
                os.replace(tmp / "old.keras", target_model)
                raise
        return target_model
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def rewrite_card(folder: Path, name: str, rewrite: Callable[[str], str | None]) -> bool:
    """Replace ``NAME.json`` in ``folder`` by ``rewrite(its text)``, atomically, under
    the name's exclusive lock (the model file is not touched, so the card's
    ``model_sha256`` still describes it).

    Args:
        folder: the folder that holds the model.
        name: the model's name.
        rewrite: given the card's current text (read under the lock), returns the new
            text, or None to leave the card as it is (someone rewrote it first).

    Returns:
        Whether the card was rewritten.

    Raises:
        OSError: the card cannot be read, or the folder cannot be written (read-only,
            full disk); the card is then unchanged and no temporary file is left.
    """
    target = card_path(folder, name)
    with _exclusive(folder, name):
        new = rewrite(target.read_text())
        if new is None:
            return False
        write_atomic(target, new.encode(), prefix=f".{name}~")
    return True


def write_atomic(path: Path, data: bytes, prefix: str = ".") -> None:
    """``data`` at ``path``, whole or not at all: a hidden temporary file (``prefix``...)
    in the same folder, flushed and synced, then moved into place (``os.replace``).

    Raises:
        OSError: the folder cannot be written; ``path`` is unchanged and the temporary
            file removed.
    """
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
