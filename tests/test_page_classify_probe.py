"""AppTest of Classify's "Probe any model" tab on the bundled models and real test
images: the top-k, the five explanations, an attack checked against the library, the
robustness curves, an uploaded .keras model on a picture, and VGG16 (a fixture weights
file) through every explanation and the attack."""

import io
import json

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest
from testutil import REPO, SHARED_DATA

from cnnlib import store
from cnnlib.data import datasets
from cnnlib.probe import attacks

KEY = "classify_probe"


@pytest.fixture(autouse=True)
def environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(REPO / "models"))
    monkeypatch.setenv("CNN_STUDIO_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    monkeypatch.delenv("CNN_STUDIO_VGG16_WEIGHTS", raising=False)


def open_probe(**state):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    at.switch_page("pages/classify.py")
    at.session_state["classify_tab"] = "Probe any model"
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


@pytest.mark.parametrize("name,shape,label", [("mnist", "28x28 gray", "7"),
                                              ("cifar10", "32x32 colour", "cat")])
def test_a_bundled_model_on_a_test_image_gets_its_top_k_and_five_explanations(name, shape, label):
    at = open_probe(**{f"{KEY}_model": name})
    assert at.radio(key=f"{KEY}_input").value == "test"
    assert not at.error
    text = captions(at)
    for source in ("Simonyan et al. 2014", "Smilkov et al. 2017", "Sundararajan et al. 2017",
                   "Zeiler & Fergus 2014", "Selvaraju et al. 2017"):
        assert source in text
    assert "The shares add up to" in text and f"{shape}, label {label}" in text
    assert len(at.get("image")) == 1 + 5  # the input and one picture per method


def test_fgsm_on_the_page_is_the_librarys_and_the_smallest_epsilon_is_found():
    at = open_probe(**{f"{KEY}_model": "mnist", f"{KEY}_section": "Fool it",
                       f"{KEY}_fool_eps": 40})
    model = store.load_model("mnist")
    data = datasets.load("mnist", n_train=10)
    x, y = datasets.to_float(data.x_test[:1]), data.y_test[:1]
    adv = attacks.fgsm(model, x, y, 40 / 255)
    probs = np.asarray(model(adv, training=False))[0]
    top = int(probs.argmax())
    text = captions(at)
    verdict = "Fooled: " if top != int(y[0]) else "Not fooled: "
    assert f"{verdict}{top} {probs[top]:.1%}" in text, text
    assert "40 grey levels at most" in text
    at.button(key=f"{KEY}_fool_bisect").click().run()
    eps = attacks.smallest_flipping_epsilon(model, x[0], int(y[0]), hi_epsilon=0.5)
    assert f"from epsilon {eps:.3g}" in at.success[0].value


def test_where_it_breaks_draws_the_curves_of_two_models(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_HOME", str(tmp_path / "home"))
    store.save_model(store.load_model("mnist"), "mnist-copy", card={"dataset": "mnist"})
    at = open_probe(**{f"{KEY}_model": "mnist", f"{KEY}_section": "Where it breaks",
                       f"{KEY}_compare": "mnist-copy"})
    assert not at.error
    assert len(at.get("plotly_chart")) == 3  # top-k, the curves, one change per class
    assert "200 test images of mnist" in captions(at)


def test_an_uploaded_keras_file_is_classified_on_an_uploaded_picture():
    data = datasets.load("mnist", n_train=10)
    png = io.BytesIO()
    Image.fromarray(255 - data.x_test[0, :, :, 0]).resize((84, 84)).save(png, "PNG")  # dark ink
    at = open_probe(**{f"{KEY}_source": "upload"})
    at.get("file_uploader")[0].set_value(
        ("mnist.keras", (REPO / "models" / "mnist.keras").read_bytes(), "application/octet-stream")).run()
    assert not at.exception
    at.radio(key=f"{KEY}_input").set_value("upload").run()
    at.file_uploader(key=f"{KEY}_upload").set_value(("seven.png", png.getvalue(), "image/png")).run()
    at.radio(key=f"{KEY}_fit").set_value("mnist").run()
    assert not at.exception and not at.error
    assert at.radio(key=f"{KEY}_range").value == "unit"
    assert "As the model takes it: 28x28 gray\n" in captions(at)  # a picture: no label
    top_k = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert top_k["y"][-1] == "7"  # the most probable class at the top: the drawn seven


def test_vgg16_goes_through_every_explanation_and_the_attack(vgg16_weights, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_VGG16_WEIGHTS", str(vgg16_weights))
    photo = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)).save(
        photo, "PNG")
    small = {f"{KEY}_why_sg_n": 2, f"{KEY}_why_ig_steps": 4, f"{KEY}_why_occ_patch": 112,
             f"{KEY}_why_occ_stride": 112}
    at = open_probe(**{f"{KEY}_source": "VGG16", f"{KEY}_input": "upload", **small})
    at.file_uploader(key=f"{KEY}_upload").set_value(("photo.png", photo.getvalue(), "image/png")).run()
    assert not at.exception and not at.error
    assert len(at.get("image")) == 1 + 5 and "The shares add up to" in captions(at)
    at.radio(key=f"{KEY}_section").set_value("Fool it").run()
    assert not at.exception and not at.error
    assert "grey levels at most" in captions(at)


def test_an_uploaded_model_that_reads_0_to_255_is_rebuilt_behind_a_rescaling():
    import keras

    from cnnlib.probe.input_range import with_unit_input

    model = store.load_model("mnist")
    rebuilt = with_unit_input(model, 255.0)
    x = datasets.to_float(datasets.load("mnist", n_train=10).x_test[:4])
    np.testing.assert_allclose(np.asarray(rebuilt(x)), np.asarray(model(255 * x)), atol=1e-6)
    assert isinstance(rebuilt.layers[1], keras.layers.Rescaling)
    at = open_probe(**{f"{KEY}_source": "upload", f"{KEY}_range": "byte"})
    at.get("file_uploader")[0].set_value(
        ("mnist.keras", (REPO / "models" / "mnist.keras").read_bytes(), "application/octet-stream")).run()
    assert not at.exception and not at.error
    assert "Trained on" in [s.label for s in at.selectbox]


def test_the_classes_that_keep_the_least_accuracy_are_all_named():
    from pages.probe_breaks import least_kept

    accuracy = np.array([0.9, 0.0, 0.5, 0.0, np.nan])  # (K,): a class with no picture is NaN
    assert least_kept(accuracy, list("abcde")) == "the classes b and d keep the least accuracy (0%)"
    assert least_kept(accuracy[[0, 2]], ["x", "y"]) == "the class y keeps the least accuracy (50%)"
    assert least_kept(np.array([0.1, 0.1, 0.1]), [0, 1, 2]).startswith("the classes 0, 1 and 2 keep")
