"""Shared test set-up: real data from ../shared/datasets, runs in a temp folder."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = (REPO.parent / "shared" / "datasets").resolve()
if (SHARED_DATA / "mnist.npz").exists():
    os.environ.setdefault("CNN_STUDIO_DATA_DIR", str(SHARED_DATA))

requires_shared_data = pytest.mark.skipif(
    not (SHARED_DATA / "mnist.npz").exists(),
    reason=f"real data not found at {SHARED_DATA}",
)


@pytest.fixture(autouse=True)
def _isolated_runs(tmp_path_factory, monkeypatch):
    """Training runs of the tests go to a temporary folder, never to <repo>/runs."""
    monkeypatch.setenv("CNN_STUDIO_RUNS_DIR", str(tmp_path_factory.mktemp("runs")))
