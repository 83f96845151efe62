"""Where CNN Studio keeps its files. Each location can be moved by an
environment variable; defaults are folders of the repository."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def models_dir() -> Path:
    """The model store: ``$CNN_STUDIO_MODELS_DIR`` or ``<repo>/models``."""
    return Path(os.environ.get("CNN_STUDIO_MODELS_DIR", REPO_ROOT / "models"))


def runs_dir() -> Path:
    """Training run directories: ``$CNN_STUDIO_RUNS_DIR`` or ``<repo>/runs``."""
    return Path(os.environ.get("CNN_STUDIO_RUNS_DIR", REPO_ROOT / "runs"))
