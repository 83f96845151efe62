"""ONNX export (Keras's model.export through tf2onnx): ONNX Runtime gives Keras's outputs."""

import numpy as np
import pytest
from testutil import REPO, SHARED_DATA, requires_shared_data

from cnnlib import store
from cnnlib.data import datasets
from cnnlib.models import zoo

pytest.importorskip("tf2onnx")
pytest.importorskip("onnxruntime")
from cnnlib.export import onnx_model


@requires_shared_data
@pytest.mark.slow
@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_bundled_models_match_keras_on_real_test_images(name):
    model = store.load_model_file(REPO / "models" / f"{name}.keras")
    ds = datasets.load(name, data_dir=SHARED_DATA, n_train=10, n_test=48)
    x = datasets.to_float(ds.x_test)  # (48, H, W, C)
    data = onnx_model.to_onnx(model)
    out = onnx_model.run_onnx(data, x)
    assert out.shape == (48, 10)
    diff = onnx_model.max_difference(model, data, x)
    print(f"{name}: max |keras - onnxruntime| = {diff:.3g} on {len(x)} real test images")
    assert diff <= 1e-5


def test_zoo_model_matches_keras():
    model = zoo.build("cifar_small", (32, 32, 3), 10, standardize=(0.45, 0.25))
    x = np.random.default_rng(0).random((16, 32, 32, 3), dtype=np.float32)
    data = onnx_model.to_onnx(model)
    assert onnx_model.max_difference(model, data, x) <= 1e-5
    with pytest.raises(ValueError, match=r"images.shape=\(2, 28, 28, 1\)"):
        onnx_model.run_onnx(data, np.zeros((2, 28, 28, 1), np.float32))


def test_a_failed_export_is_a_sentence_and_the_other_format_stays(monkeypatch):
    from cnnlib.export import run_files

    def refuse(model):
        raise RuntimeError("Keras could not export model 'm' as ONNX: ImportError: no tf2onnx")

    monkeypatch.setattr(onnx_model, "to_onnx", refuse)
    model = zoo.build("logistic", (8, 8, 1), 3)
    files = run_files.convert(model, None, n_images=5)
    assert files.onnx.data is None and files.onnx.check_sentence() == (
        "No ONNX file: Keras could not export model 'm' as ONNX: ImportError: no tf2onnx.")
    assert files.tflite.data is not None and files.tflite.n_checked == 5
    assert files.tflite.check_sentence().endswith(
        "on 5 random images (the test images could not be read).")
    assert set(files.files("m")) == {"m.tflite"}
