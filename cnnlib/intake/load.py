"""The intake's entry point: every model file nobody vouches for is read here.

:func:`check_untrusted` is the cheap part (the archive and its configuration, no
TensorFlow, milliseconds) for listings; :func:`load_untrusted` adds the load in a
limited child process (:mod:`.sandbox`) and only then the server's own
``keras.saving.load_model(..., safe_mode=True)``.
"""

from __future__ import annotations

import collections
import hashlib
import threading
from pathlib import Path

from cnnlib.intake.archive import ArchiveReport, inspect_archive
from cnnlib.intake.config_check import ConfigReport, check_config
from cnnlib.intake.errors import ModelLoadError
from cnnlib.intake.limits import Limits
from cnnlib.intake.sandbox import check_in_child

#: How many child verdicts (a file's SHA-256 -> loaded within budget, or the refusal)
#: this process remembers.
VERDICTS_KEPT = 256
_verdicts: collections.OrderedDict = collections.OrderedDict()
_lock = threading.Lock()


def file_sha256(path) -> str:
    """The SHA-256 of a file, hex, read in 1 MB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            h.update(block)
    return h.hexdigest()


def check_untrusted(path, name: str | None = None,
                    limits: Limits | None = None) -> tuple[ArchiveReport, ConfigReport]:
    """The cheap check: the archive (:func:`.archive.inspect_archive`) then its
    configuration (:func:`.config_check.check_config`); builds nothing, imports no
    TensorFlow.

    Raises:
        ModelLoadError: the file is refused; one sentence naming it, ``detail`` apart.
    """
    limits = limits or Limits.from_env()
    name = name or Path(path).name
    report = inspect_archive(path, limits, name)
    return report, check_config(report.config, limits, name)


def sandbox_verdict(path, name: str, limits: Limits, sha256: str | None = None) -> None:
    """Load the file in the limited child unless a file of the same bytes (and limits)
    was checked before in this process; raise its refusal again if it was refused.

    Raises:
        ModelLoadError: the child's refusal (:func:`.sandbox.check_in_child`).
    """
    key = (sha256 or file_sha256(path), limits)
    with _lock:
        known = _verdicts.get(key, False)
        if key in _verdicts:
            _verdicts.move_to_end(key)
    if known is None:
        return
    if known:  # the refusal names the file as it was named then: name it as now
        raise ModelLoadError(known[1].replace(known[0], name), known[2])
    try:
        check_in_child(path, name, limits)
        verdict = None
    except ModelLoadError as e:
        verdict = (name, str(e), e.detail)
    with _lock:
        _verdicts[key] = verdict
        while len(_verdicts) > VERDICTS_KEPT:
            _verdicts.popitem(last=False)
    if verdict:
        raise ModelLoadError(verdict[1], verdict[2])


def load_untrusted(path, name: str | None = None, limits: Limits | None = None,
                   sha256: str | None = None):
    """Load a ``.keras`` file nobody vouches for: the cheap check, the limited child,
    then the server's ``keras.saving.load_model(path, compile=False, safe_mode=True)``.

    Args:
        path: the file.
        name: its name for sentences (default: the path's).
        limits: the budget (default :meth:`Limits.from_env`).
        sha256: the file's SHA-256 if known (the key of the child's verdict).

    Returns:
        The ``keras.Model``, not compiled.

    Raises:
        ModelLoadError: refused or unloadable; one sentence naming the file and what
            to do, the technical text in ``detail``.
    """
    limits = limits or Limits.from_env()
    name = name or Path(path).name
    check_untrusted(path, name, limits)
    sandbox_verdict(path, name, limits, sha256)
    import keras

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as e:  # Keras raises many types for bad files
        raise ModelLoadError(f"{name} cannot be loaded: Keras cannot build it in safe mode; save "
                             "the model again with model.save('name.keras').",
                             f"{type(e).__name__}: {str(e)[:2000]}") from e
