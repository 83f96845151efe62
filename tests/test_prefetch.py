"""The prefetch command: every download is attempted, failures are reported, exit code."""

import keras

from cnnlib.data import prefetch


def test_prefetch_downloads_everything_asked(monkeypatch, capsys):
    calls = []
    for name in ("mnist", "fashion_mnist", "cifar10"):
        monkeypatch.setattr(getattr(keras.datasets, name), "load_data",
                            lambda name=name: calls.append(name))
    monkeypatch.setattr(keras.utils, "get_file",
                        lambda fname, origin, cache_subdir, file_hash: calls.append(fname) or f"/cache/{fname}")
    assert prefetch.main(vgg16=True) == 0
    assert calls == ["mnist", "fashion_mnist", "cifar10", prefetch.VGG16_WEIGHTS["fname"],
                     prefetch.IMAGENET_CLASS_INDEX["fname"]]
    assert capsys.readouterr().out.count("ok") == 5


def test_prefetch_offline_reports_each_failure(monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    monkeypatch.setattr(keras.utils, "get_file", offline)
    assert prefetch.main(datasets=["mnist"], vgg16=True) == 1
    captured = capsys.readouterr()
    assert captured.out.count("FAILED") == 3
    assert "internet connection" in captured.err
