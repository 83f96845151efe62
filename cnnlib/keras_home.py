"""Where Keras keeps its cache: the one place the library reads ``KERAS_HOME``.

Keras caches downloaded datasets in ``<keras home>/datasets`` and application
weights (VGG16) in ``<keras home>/models``. The library looks there for files
without importing Keras (which would load TensorFlow).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_KERAS_HOME = "KERAS_HOME"


def keras_home() -> Path:
    """The Keras home folder, as Keras itself finds it.

    Returns:
        ``$KERAS_HOME`` when the variable is set, else ``~/.keras``; a leading
        ``~`` is expanded. Unlike Keras, no fall-back to ``/tmp/.keras`` when
        the home folder is not writable. The folder may not exist.
    """
    home = os.environ.get(ENV_KERAS_HOME)
    return Path(home if home is not None else Path.home() / ".keras").expanduser()
