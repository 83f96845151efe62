"""The errors of people's own datasets: each message is one sentence to show as it is."""

from __future__ import annotations

from pathlib import Path

from cnnlib.owners import NotOwnerError
from cnnlib.store.errors import why_not_written


class OwnDataError(ValueError):
    """A request about an own dataset that cannot be done (a bad name, a bad zip, a
    picture that cannot be read); ``str()`` is a sentence for the user."""


class DatasetNotFoundError(OwnDataError):
    """No dataset of that name among the person's own (another person's is never
    found: it lies in another folder)."""


class DatasetExistsError(OwnDataError):
    """A new dataset under a name the person already uses."""


class OwnLimitError(OwnDataError):
    """More pictures or more megabytes than a person may keep; the sentence names the
    limit and its environment variable."""


class OwnDataWriteError(OSError):
    """The datasets folder cannot be written (full disk, read-only, ...); nothing
    changed. ``str()`` is a sentence for the user; ``errno`` is the cause's."""

    def __init__(self, sentence: str, cause_errno: int | None = None):
        super().__init__(sentence)
        self.errno = cause_errno


#: Every error raised on purpose; ``st.error(str(e))`` shows each as it is.
ERRORS = (OwnDataError, NotOwnerError, OwnDataWriteError)


def write_error(e: OSError, folder: Path, what: str) -> OwnDataWriteError:
    """The sentence for ``e``, met while writing in ``folder``; ``what``: what was not done
    ("the picture was not added")."""
    why, fix = why_not_written(e, folder)
    return OwnDataWriteError(f"{why}: {what}. {fix}", e.errno)
