"""The dataset contract on the real shared data, subsets, and the offline error."""

import numpy as np
import pytest
from testutil import SHARED_DATA, requires_shared_data

from cnnlib.data import datasets


@requires_shared_data
@pytest.mark.parametrize("name,shape,n_classes", [
    ("mnist", (28, 28, 1), 10), ("cifar10", (32, 32, 3), 10), ("cifar10_3class", (32, 32, 3), 3)])
def test_contract_on_real_data(name, shape, n_classes):
    ds = datasets.load(name, data_dir=SHARED_DATA)
    for x, y in ((ds.x_train, ds.y_train), (ds.x_test, ds.y_test)):
        assert x.dtype == np.uint8 and x.ndim == 4 and x.shape[1:] == shape
        assert y.dtype == np.int64 and y.shape == (len(x),)
        assert set(np.unique(y)) == set(range(n_classes))
    assert len(ds.class_names) == n_classes == ds.num_classes
    assert ds.source == str(SHARED_DATA / datasets.DATASETS[name].file_name)
    assert ds.x_train.max() > 200  # real images, not scaled


@requires_shared_data
def test_real_sizes_and_3class_subset():
    full = datasets.load("cifar10", data_dir=SHARED_DATA)
    sub = datasets.load("cifar10_3class", data_dir=SHARED_DATA)
    assert len(full.x_train) == 4660 and len(full.x_test) == 646
    assert sub.class_names == ("airplane", "automobile", "bird")
    assert len(sub.x_train) == int(np.isin(full.y_train, [0, 1, 2]).sum())
    birds = full.x_train[full.y_train == 2]
    np.testing.assert_array_equal(sub.x_train[sub.y_train == 2], birds)
    mnist = datasets.load("mnist", data_dir=SHARED_DATA)
    assert mnist.x_train.shape == (14262, 28, 28, 1) and mnist.x_test.shape == (8000, 28, 28, 1)


@requires_shared_data
def test_env_var_lookup(monkeypatch):
    monkeypatch.setenv(datasets.ENV_DATA_DIR, str(SHARED_DATA))
    assert datasets.load("mnist", n_train=50, n_test=10).source.startswith(str(SHARED_DATA))
    assert datasets.availability()["mnist"] == str(SHARED_DATA / "mnist.npz")


@requires_shared_data
def test_stratified_subset_keeps_class_proportions():
    ds = datasets.load("mnist", data_dir=SHARED_DATA, n_train=1000, seed=3)
    assert len(ds.x_train) == 1000
    full = datasets.load("mnist", data_dir=SHARED_DATA)
    expected = np.bincount(full.y_train) / len(full.y_train) * 1000
    assert np.all(np.abs(np.bincount(ds.y_train) - expected) <= 1)
    again = datasets.load("mnist", data_dir=SHARED_DATA, n_train=1000, seed=3)
    np.testing.assert_array_equal(ds.x_train, again.x_train)


def test_to_float_range():
    x = np.array([[0, 128, 255]], dtype=np.uint8)
    f = datasets.to_float(x)
    assert f.dtype == np.float32 and f.min() == 0.0 and f.max() == 1.0


def test_offline_error_names_both_fixes(monkeypatch, tmp_path):
    """No local file and no network: one exception type, a sentence with both fixes."""
    import keras

    monkeypatch.delenv(datasets.ENV_DATA_DIR, raising=False)

    def offline():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- "
                        "[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    with pytest.raises(datasets.DatasetUnavailableError) as err:
        datasets.load("fashion_mnist", data_dir=tmp_path)
    msg = str(err.value)
    assert datasets.ENV_DATA_DIR in msg and "python -m cnnlib prefetch" in msg
    assert "fashion_mnist.npz" in msg


def test_corrupt_local_file_is_reported(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"not an npz")
    with pytest.raises(datasets.DatasetUnavailableError, match="Could not read"):
        datasets.load("mnist", data_dir=tmp_path)


def test_unknown_name_and_bad_subset():
    with pytest.raises(ValueError, match="name='svhn'"):
        datasets.load("svhn")
    with pytest.raises(ValueError, match="n=0"):
        datasets.stratified_indices(np.zeros(10, int), 0)


@pytest.mark.parametrize("kwargs,match", [
    ({"n_train": 0}, "Received: n_train=0$"),
    ({"n_test": 0}, "Received: n_test=0$"),
    ({"n_train": -5, "n_test": 10}, "Received: n_train=-5$"),
    ({"n_train": 10, "n_test": -1}, "Received: n_test=-1$"),
    ({"n_train": 2.5}, "Received: n_train=2.5$"),
    ({"n_test": True}, "Received: n_test=True$"),
])
def test_a_bad_subset_size_names_its_argument(kwargs, match, monkeypatch, tmp_path):
    """Checked before any file is read: no dataset is needed to be told."""
    monkeypatch.delenv(datasets.ENV_DATA_DIR, raising=False)
    monkeypatch.setattr(datasets, "_read_keras", lambda info: pytest.fail("a file was read"))
    with pytest.raises(ValueError, match=match):
        datasets.load("mnist", data_dir=tmp_path, **kwargs)
