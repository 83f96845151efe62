"""Where CNN Studio keeps its files: each location is an environment variable,
else a folder of the current working directory.

The library does not know where it is installed or what lies beside it; the
caller says where the files are. ``app.py`` sets both variables to the folders
beside itself (so ``streamlit run /path/to/app.py`` finds the bundled models
from any folder, and the training processes it spawns inherit them); the
command line and scripts run from the repository get ``./models`` and
``./runs``. Both functions read the environment on every call.
"""

from __future__ import annotations

import os
from pathlib import Path


def models_dir() -> Path:
    """The model store: ``$CNN_STUDIO_MODELS_DIR`` as given, else the absolute
    ``models`` folder of the current working directory (it may not exist yet)."""
    return Path(os.environ.get("CNN_STUDIO_MODELS_DIR") or Path.cwd() / "models")


def runs_dir() -> Path:
    """Training run directories: ``$CNN_STUDIO_RUNS_DIR`` as given, else the
    absolute ``runs`` folder of the current working directory (it may not exist yet)."""
    return Path(os.environ.get("CNN_STUDIO_RUNS_DIR") or Path.cwd() / "runs")
