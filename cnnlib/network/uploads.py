"""An uploaded ``.keras`` file loaded safely: a size limit first, then the intake
(:func:`cnnlib.intake.load.load_untrusted`: the archive's members and
configuration checked against the limits, a load in a limited child process,
then ``keras.saving.load_model`` in safe mode, which refuses to deserialise
Python code such as lambdas).
"""

from __future__ import annotations

import hashlib
import os
import tempfile

from cnnlib.intake.errors import ModelLoadError
from cnnlib.intake.limits import Limits
from cnnlib.intake.load import load_untrusted

#: The largest upload taken, in megabytes (the bundled models are ~2.5 MB each).
MAX_MODEL_MB = Limits().max_file_bytes // 2**20


def digest(data: bytes) -> str:
    """The SHA-256 of an upload, hex: the key its model is cached under."""
    return hashlib.sha256(data).hexdigest()


def load_keras_bytes(data: bytes, name: str = "upload.keras", max_mb: float = MAX_MODEL_MB):
    """Load a model from the bytes of a ``.keras`` file.

    Args:
        data: the file's bytes.
        name: its name, for the messages.
        max_mb: refuse larger files (megabytes, 2**20 bytes).

    Returns:
        The ``keras.Model`` (not compiled).

    Raises:
        ModelLoadError: an empty or too large file, not a Keras archive, a corrupt
            one, over a limit of :class:`cnnlib.intake.limits.Limits`, or one Keras cannot
            load in safe mode; the message is a sentence that names the file,
            ``detail`` the technical text.
    """
    if not data:
        raise ModelLoadError(f"{name} is empty. Upload a model saved with model.save('name.keras').")
    if len(data) > max_mb * 2**20:
        raise ModelLoadError(f"{name} is {len(data) / 2**20:.1f} MB; models up to {max_mb:g} MB "
                             "are taken here.")
    fd, path = tempfile.mkstemp(suffix=".keras", prefix="cnn-studio-upload-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return load_untrusted(path, name, sha256=digest(data))
    finally:
        os.unlink(path)
