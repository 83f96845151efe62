"""The prefetch command: every download is attempted, failures are reported, exit code;
the VGG16 files come through the one download path (prefetch.download_file), which
the Classify page's button uses too."""

import hashlib
import io
import urllib.error

import keras
import pytest

from cnnlib.data import prefetch
from cnnlib.models import vgg16_files


class Response(io.BytesIO):
    """What urllib.request.urlopen returns, enough for download_file."""

    def __init__(self, body: bytes):
        super().__init__(body)
        self.headers = {"Content-Length": str(len(body))}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def served(monkeypatch, tmp_path):
    """A fake internet that serves a small body for each VGG16 file, the items' hashes
    set to those bodies; KERAS_HOME in a temporary folder."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    bodies = {}
    for item in (prefetch.VGG16_WEIGHTS, prefetch.IMAGENET_CLASS_INDEX):
        body = item["fname"].encode() * 100_000  # a few MB: several 1 MiB chunks
        bodies[item["origin"]] = body
        monkeypatch.setitem(item, "file_hash", hashlib.md5(body).hexdigest())
    monkeypatch.setattr("urllib.request.urlopen", lambda url, timeout: Response(bodies[url]))
    return bodies


def test_prefetch_downloads_everything_asked(monkeypatch, capsys, served, tmp_path):
    calls = []
    for name in ("mnist", "fashion_mnist", "cifar10"):
        monkeypatch.setattr(getattr(keras.datasets, name), "load_data",
                            lambda name=name: calls.append(name))
    assert prefetch.main(vgg16=True) == 0
    assert calls == ["mnist", "fashion_mnist", "cifar10"]
    for item in (prefetch.VGG16_WEIGHTS, prefetch.IMAGENET_CLASS_INDEX):
        path = tmp_path / "keras_home" / "models" / item["fname"]
        assert path.read_bytes() == served[item["origin"]]
    assert vgg16_files.find_weights() == tmp_path / "keras_home" / "models" / \
        prefetch.VGG16_WEIGHTS["fname"]
    assert capsys.readouterr().out.count("ok") == 5


def test_a_wrong_hash_leaves_no_file(served, tmp_path, monkeypatch):
    monkeypatch.setitem(prefetch.IMAGENET_CLASS_INDEX, "file_hash", "0" * 32)
    with pytest.raises(ValueError, match="differs from the expected"):
        prefetch.download_file(prefetch.IMAGENET_CLASS_INDEX, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_prefetch_offline_reports_each_failure(monkeypatch, capsys, tmp_path):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    monkeypatch.setattr("urllib.request.urlopen", offline)
    assert prefetch.main(datasets=["mnist"], vgg16=True) == 1
    captured = capsys.readouterr()
    assert captured.out.count("FAILED") == 3
    assert "internet connection" in captured.err
    assert not (tmp_path / "models").exists() or list((tmp_path / "models").iterdir()) == []
