"""The store's errors: each message is a sentence to show the user as it is."""

from __future__ import annotations

import errno
from pathlib import Path

from cnnlib import paths
from cnnlib.intake.errors import ModelLoadError  # the one error of an unusable model file
from cnnlib.owners import NotOwnerError  # the one refusal of owners, also the job manager's


class ModelNotFoundError(ModelLoadError):
    """No model of that name in the store."""


class NameTakenError(FileExistsError):
    """A save without ``overwrite`` under a name that is taken."""


class BundledModelError(PermissionError):
    """A save or delete of a bundled model without ``overwrite_bundled``."""


class StoreWriteError(OSError):
    """The store's folder cannot be written (full disk, read-only, ...); nothing
    changed. ``str()`` is a sentence for the user; ``errno`` is the cause's."""

    def __init__(self, sentence: str, cause_errno: int | None = None):
        super().__init__(sentence)
        self.errno = cause_errno


#: Every error the store raises on purpose: its message is a sentence to show the
#: user as it is (``st.error(str(e))``, or the command line's ``error:`` line).
ERRORS = (ValueError, ModelLoadError, NameTakenError, BundledModelError, NotOwnerError,
          StoreWriteError)
REFUSALS = (NameTakenError, BundledModelError, NotOwnerError)


def why_not_written(e: OSError, folder: Path,
                    space_fix: str = "Free some space and try again.") -> tuple[str, str]:
    """Why writing in ``folder`` failed with ``e``, and what to do: ``(why, fix)``, two
    sentences without their full stops joined (the store's and :mod:`cnnlib.owndata`'s
    one wording); ``space_fix``: what to do about a full disk."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"There is no space left on the disk of {folder}", space_fix
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"The folder {folder} cannot be written (it is read-only or belongs to another "
                "user)", f"Whoever runs CNN Studio can make it writable, or set "
                f"{paths.ENV_HOME} to a folder it may write in.")
    return (f"The folder {folder} cannot be written ({e.strerror or e})",
            "Try again; if it happens again, tell whoever runs CNN Studio.")


def write_error(e: OSError, folder: Path, done: str) -> StoreWriteError:
    """The sentence for ``e``, met while writing in ``folder``; ``done``: "saved" or "deleted"."""
    why, fix = why_not_written(
        e, folder, "Free some space (old training runs are a good start) and try again.")
    return StoreWriteError(f"{why}: the model was not {done}. {fix}", e.errno)
