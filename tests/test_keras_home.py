"""One KERAS_HOME lookup: the dataset cache check and the VGG16 files follow it alike."""

from pathlib import Path

import pytest

import cnnlib as cnnlib_package
from cnnlib.data import datasets
from cnnlib.keras_home import keras_home
from cnnlib.models import vgg16


@pytest.fixture
def home(monkeypatch, tmp_path):
    """A fake user home without a Keras cache and no local dataset folder."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.delenv(datasets.ENV_DATA_DIR, raising=False)
    monkeypatch.delenv(vgg16.ENV_WEIGHTS, raising=False)
    return tmp_path


def test_default_is_dot_keras_in_the_home_folder(home):
    assert keras_home() == home / ".keras"
    assert vgg16.keras_models_dir() == home / ".keras" / "models"


@pytest.mark.parametrize("setting", ["{home}/kh", "~/kh"], ids=["absolute", "tilde"])
def test_every_reader_follows_keras_home(home, monkeypatch, setting):
    monkeypatch.setenv("KERAS_HOME", setting.format(home=home))
    assert keras_home() == home / "kh"
    assert datasets.availability(data_dir=home / "no_data")["mnist"] is None
    (home / "kh" / "datasets").mkdir(parents=True)
    (home / "kh" / "datasets" / "mnist.npz").write_bytes(b"cached")
    assert datasets.availability(data_dir=home / "no_data")["mnist"] == \
        "Keras cache (keras.datasets.mnist)"
    weights = home / "kh" / "models" / vgg16.VGG16_WEIGHTS["fname"]
    weights.parent.mkdir()
    weights.write_bytes(b"x")
    assert vgg16.keras_models_dir() == weights.parent
    assert vgg16.find_weights() == weights


def test_no_other_module_reads_the_variable():
    cnnlib = Path(cnnlib_package.__file__).parent
    readers = sorted(p.name for p in cnnlib.rglob("*.py")
                     if '"KERAS_HOME"' in p.read_text(encoding="utf-8"))
    assert readers == ["keras_home.py"]
