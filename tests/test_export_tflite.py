"""TensorFlow Lite export: the converted model gives Keras's outputs on real test images."""

import numpy as np
import pytest
from testutil import REPO, SHARED_DATA, requires_shared_data

from cnnlib import store
from cnnlib.data import datasets
from cnnlib.export import tflite
from cnnlib.models import zoo


def real_test_images(name: str, n: int = 48) -> np.ndarray:
    """``n`` shared real test images of ``name``, float32 (n, H, W, C) in [0, 1]."""
    ds = datasets.load(name, data_dir=SHARED_DATA, n_train=10, n_test=n)
    return datasets.to_float(ds.x_test)


@requires_shared_data
def test_zoo_model_with_standardize_matches_keras():
    # lenet5 on MNIST covers padding, conv, batch norm, average pooling, dropout, dense,
    # softmax, and the Normalization layer of a standardized run
    model = zoo.build("lenet5", (28, 28, 1), 10, standardize=(0.13, 0.31))
    x = real_test_images("mnist")
    data = tflite.to_tflite(model)
    assert data[4:8] == b"TFL3"  # the flatbuffer's file identifier
    diff = tflite.max_difference(model, data, x)
    print(f"lenet5 (random weights): max |keras - tflite| = {diff:.3g} on {len(x)} images")
    assert diff <= 1e-5


@pytest.mark.slow
@requires_shared_data
@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_bundled_models_match_keras_on_real_test_images(name):
    model = store.load_model_file(REPO / "models" / f"{name}.keras")
    x = real_test_images(name)
    data = tflite.to_tflite(model)
    lite = tflite.run_tflite(data, x)
    assert lite.shape == (len(x), 10) and lite.dtype == np.float32
    np.testing.assert_allclose(lite.sum(1), 1.0, atol=1e-5)  # still softmax probabilities
    diff = tflite.max_difference(model, data, x)
    print(f"{name}: max |keras - tflite| = {diff:.3g} on {len(x)} real test images")
    assert diff <= 1e-5


def test_wrong_image_shape_is_named():
    model = zoo.build("logistic", (8, 8, 1), 3)
    data = tflite.to_tflite(model)
    with pytest.raises(ValueError, match=r"\(8, 8, 1\).*images.shape=\(2, 9, 9, 1\)"):
        tflite.run_tflite(data, np.zeros((2, 9, 9, 1), np.float32))
    with pytest.raises(ValueError, match="built keras.Model"):
        tflite.to_tflite("not a model")
