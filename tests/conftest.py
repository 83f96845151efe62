"""Shared test set-up: real data from ../shared/datasets, the repository's bundled
models, runs in a temp folder."""

import os

import pytest

from testutil import REPO, SHARED_DATA

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# AppTest sessions create job managers freely; a warm worker each (TensorFlow imported,
# ~0.8 GB) would pile up. tests/test_jobs.py turns them on where it tests them.
os.environ.setdefault("CNN_STUDIO_WARM_WORKERS", "0")
if (SHARED_DATA / "mnist.npz").exists():
    os.environ.setdefault("CNN_STUDIO_DATA_DIR", str(SHARED_DATA))
# cnnlib.paths defaults to ./models of the working folder; the tests mean the repository's
os.environ.setdefault("CNN_STUDIO_MODELS_DIR", str(REPO / "models"))


@pytest.fixture(autouse=True)
def _isolated_runs(tmp_path_factory, monkeypatch):
    """Training runs of the tests go to a temporary folder, never to <repo>/runs."""
    monkeypatch.setenv("CNN_STUDIO_RUNS_DIR", str(tmp_path_factory.mktemp("runs")))
