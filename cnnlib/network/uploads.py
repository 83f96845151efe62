"""An uploaded ``.keras`` file loaded safely: a size limit first, then the model
store's own loader (:func:`cnnlib.store.load_model_file`: the archive's
structure and checksums checked, then ``keras.saving.load_model`` in safe
mode, which refuses to deserialise Python code such as lambdas).
"""

from __future__ import annotations

import hashlib
import os
import tempfile

from cnnlib.store import ModelLoadError, load_model_file

#: The largest upload taken, in megabytes (the bundled models are ~2.5 MB each).
MAX_MODEL_MB = 25


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
            one, or one Keras cannot load in safe mode; the message is a sentence
            that names the file.
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
        try:
            return load_model_file(path)
        except ModelLoadError as e:  # the message names the temporary file: name the upload
            raise ModelLoadError(str(e).replace(os.path.basename(path), name)) from e
    finally:
        os.unlink(path)
