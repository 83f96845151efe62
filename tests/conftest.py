"""Shared test set-up: real data from ../shared/datasets, the repository's bundled
models (read-only), saved models and runs in temp folders; the fixtures more than
one module uses: an empty bundled folder (``no_bundled_models``) and a VGG16
weights file of random values (``vgg16_weights``)."""

import atexit
import os
import shutil
import tempfile

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
# The user data folder (saved models, default runs) of the whole session, subprocesses
# and servers included: a temporary one, never ~/.cnn-studio nor the developer's own.
os.environ["CNN_STUDIO_HOME"] = tempfile.mkdtemp(prefix="cnn-studio-home-")
atexit.register(shutil.rmtree, os.environ["CNN_STUDIO_HOME"], ignore_errors=True)


@pytest.fixture(autouse=True)
def _isolated_runs(tmp_path_factory, monkeypatch):
    """Training runs and saved models of each test go to temporary folders of its own,
    never to <repo>/runs or ~/.cnn-studio."""
    monkeypatch.setenv("CNN_STUDIO_RUNS_DIR", str(tmp_path_factory.mktemp("runs")))
    monkeypatch.setenv("CNN_STUDIO_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture
def no_bundled_models(tmp_path_factory, monkeypatch):
    """An empty bundled folder: the user folder under $CNN_STUDIO_HOME alone is in play
    (a store module uses it with ``pytestmark = pytest.mark.usefixtures(...)``)."""
    folder = tmp_path_factory.mktemp("no-bundled")
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def vgg16_weights(tmp_path_factory):
    """A local VGG16 weights file (random values, the official file's layout), shared by
    one module's slow tests; afterwards the ~2 GB VGG16 a page holds is freed."""
    import streamlit as st
    from vgg16_files import random_weights_file

    path = random_weights_file(tmp_path_factory.mktemp("vgg16"))
    yield path
    st.cache_resource.clear()
    path.unlink()
