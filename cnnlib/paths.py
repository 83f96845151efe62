"""Where CNN Studio keeps its files: each location is an environment variable,
else a default.

The library does not know where it is installed or what lies beside it; the
caller says where the files are. Two kinds of folders:

- the bundled models (``$CNN_STUDIO_MODELS_DIR``, else ``./models`` of the
  current working directory): models shipped with the app, read-only for the
  app and the command line (see :mod:`cnnlib.store`). ``app.py`` sets it to the
  ``models`` folder beside itself, so ``streamlit run /path/to/app.py`` finds
  them from any folder and the training processes it spawns inherit it;
- the user data folder (``$CNN_STUDIO_HOME``, else ``~/.cnn-studio``): the
  models people save (``models``) and the training runs (``runs``, unless
  ``$CNN_STUDIO_RUNS_DIR`` says otherwise). It lies outside any checkout, so
  saving never writes into the repository.

Every function reads the environment on every call; none creates a folder.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_MODELS_DIR = "CNN_STUDIO_MODELS_DIR"
ENV_HOME = "CNN_STUDIO_HOME"
ENV_RUNS_DIR = "CNN_STUDIO_RUNS_DIR"


def models_dir() -> Path:
    """The bundled models: ``$CNN_STUDIO_MODELS_DIR`` as given, else the absolute
    ``models`` folder of the current working directory (it may not exist)."""
    return Path(os.environ.get(ENV_MODELS_DIR) or Path.cwd() / "models")


def home() -> Path:
    """The user data folder: ``$CNN_STUDIO_HOME`` as given, else ``~/.cnn-studio``
    (it may not exist yet)."""
    return Path(os.environ.get(ENV_HOME) or Path.home() / ".cnn-studio")


def user_models_dir() -> Path:
    """The models people save: ``<home>/models`` (it may not exist yet)."""
    return home() / "models"


def runs_dir() -> Path:
    """Training run directories: ``$CNN_STUDIO_RUNS_DIR`` as given, else
    ``<home>/runs`` (it may not exist yet)."""
    return Path(os.environ.get(ENV_RUNS_DIR) or home() / "runs")
