"""AppTest of the Classify page, one section per tab.

Models come from a temporary store of tiny untrained models (the bundled ones
are not needed); a drawing is injected into the digit canvas through session_state
(a component is not drivable under AppTest, see NOTES.md).
"""

import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest
from test_images import png_with_header_size, truncated_jpeg
from testutil import REPO, SHARED_DATA, requires_shared_data

from cnnlib import store
from cnnlib.data import datasets
from cnnlib.models import zoo
from pages.common import LAST_DIGIT_KEY


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("store")
    store.save_model(zoo.build("studio_cnn", (28, 28, 1), 10), "mnist", models_dir=folder,
                     card={"dataset": "mnist", "class_names": list(datasets.MNIST_CLASSES)})
    store.save_model(zoo.build("cifar_small", (32, 32, 3), 10), "cifar10", models_dir=folder,
                     card={"dataset": "cifar10", "class_names": list(datasets.CIFAR10_CLASSES)})
    store.save_model(zoo.build("cifar_small", (32, 32, 3), 3), "cifar3", models_dir=folder,
                     card={"dataset": "cifar10_3class"})
    return folder


@pytest.fixture(autouse=True)
def environment(models_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("CNN_STUDIO_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    monkeypatch.delenv("CNN_STUDIO_VGG16_WEIGHTS", raising=False)
    monkeypatch.delenv("CNN_STUDIO_IMAGENET_CLASS_INDEX", raising=False)


def open_tab(tab=None):
    """The app, switched to the Classify page and (before its first run) to ``tab``."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.switch_page("pages/classify.py")
    if tab is not None:
        at.session_state["classify_tab"] = tab
    at.run()
    assert not at.exception
    assert at.title[0].value == "Classify"
    return at


def chart_spec(at, i=0):
    return json.loads(at.get("plotly_chart")[i].proto.spec)


def values(v):
    """A Plotly array from the JSON spec: a list, or Plotly's typed array {dtype, bdata}."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v)


def canvas_state(img: Image.Image) -> dict:
    """The canvas component's state for a drawing ``img`` (RGBA)."""
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return {"drawing": {"data": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()}}


def drawn_canvas():
    """A 7 drawn in white on the black 280x280 canvas, as RGBA and as the component's state."""
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(img).line([(70, 60), (200, 60), (120, 230)], fill="white", width=18)
    return np.asarray(img), canvas_state(img)


# ---- Draw a digit ---------------------------------------------------------------------------

def test_empty_canvas_asks_for_a_drawing_and_predicts_nothing():
    at = open_tab()
    assert at.title[0].value == "Classify"
    assert [t.label for t in at.tabs] == ["Draw a digit", "CIFAR-10 samples", "Photo through VGG16",
                                       "Try it live", "Probe any model"]
    assert any("Draw a digit" in i.value for i in at.info)
    assert not at.metric and not at.get("plotly_chart")
    assert LAST_DIGIT_KEY not in at.session_state


def test_drawing_is_preprocessed_shown_step_by_step_and_predicted(models_dir):
    rgba, state = drawn_canvas()
    at = open_tab()
    at.session_state["classify_canvas_0"] = state
    at.run()
    assert not at.exception
    shown = at.session_state[LAST_DIGIT_KEY]  # the 28x28 the page classified
    assert shown.shape == (28, 28) and 0 <= shown.min() and shown.max() <= 1
    probs = np.asarray(store.load_model("mnist", models_dir)(shown[None, ..., None],
                                                             training=False))[0]
    (metric,) = at.metric
    assert metric.label == "Prediction" and metric.value == str(int(probs.argmax()))
    assert metric.delta == f"{probs.max():.1%} confidence"
    bars = chart_spec(at)["data"][0]
    assert bars["x"] == [str(d) for d in range(10)]
    np.testing.assert_allclose(values(bars["y"]), probs, atol=1e-5)
    captions = [c for img in at.image for c in img.captions]
    assert captions[:2] == ["Canvas 280x280 RGBA", "Grayscale"]
    assert captions[2].startswith("Bounding box") and "20x20" in captions[3]
    assert "28x28" in captions[4] and "Regions that drove" in captions[5]
    assert "Grad-CAM on layer block3_relu2 (7x7)" in [h.value for h in at.subheader]
    assert "layer block3_relu2, 7x7 upsampled to 28x28" in captions[5]
    assert not any("softmax" in c.value for c in at.caption)  # the model's own probabilities
    at.slider(key="classify_digit_opacity").set_value(0.9).run()  # the Grad-CAM overlay
    assert not at.exception and at.metric[0].value == metric.value


@requires_shared_data
@pytest.mark.skipif(not (REPO / "models" / "mnist.keras").exists(),
                    reason="the bundled MNIST model is not in models/")
def test_real_mnist_digits_drawn_on_the_canvas_come_out_as_themselves_and_their_label(
        monkeypatch):
    """An expectation that owes nothing to the page's code: MNIST test digits, enlarged 10x
    onto the 280x280 canvas, come out of the page's preprocessing as the 28x28 image they
    were (MNIST's own procedure made them: a 20x20 box centred by its centre of mass), and
    the bundled trained model reads each as its label."""
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(REPO / "models"))
    test = datasets.load("mnist", data_dir=SHARED_DATA)
    at = open_tab()
    box = at.selectbox(key="classify_digit_model")
    assert box.value == "mnist"  # the bundled, trained one
    for i in (0, 1, 2):  # a 7, a 2 and a 1
        digit, label = test.x_test[i, ..., 0], int(test.y_test[i])
        canvas = Image.fromarray(np.kron(digit, np.ones((10, 10), np.uint8))).convert("RGBA")
        at.session_state["classify_canvas_0"] = canvas_state(canvas)
        at.run()
        assert not at.exception
        assert at.metric[0].value == str(label), (i, label)
        shown = at.session_state[LAST_DIGIT_KEY]
        assert np.abs(shown - digit / 255.0).mean() < 0.03, i


def test_clear_gives_a_fresh_canvas():
    _, state = drawn_canvas()
    at = open_tab()
    at.session_state["classify_canvas_0"] = state
    at.run()
    assert at.metric
    at.button(key="classify_clear").click().run()
    assert at.session_state["classify_canvas_n"] == 1 and not at.metric
    assert any("Draw a digit" in i.value for i in at.info)


def test_a_blank_drawing_is_an_empty_canvas():
    at = open_tab()
    buf = io.BytesIO()
    Image.new("RGBA", (280, 280), (0, 0, 0, 255)).save(buf, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    at.session_state["classify_canvas_0"] = {"drawing": {"data": url}}
    at.run()
    assert not at.exception and not at.metric
    assert any("Draw a digit" in i.value for i in at.info)


# Stored models that a teacher may have in the store, with cards that say "mnist" and
# 28x28x1 (written by hand, or copied beside another file): the page checks the model itself.
def odd_models():
    import keras
    from keras import layers

    a, b = keras.Input((28, 28, 1), name="a"), keras.Input((28, 28, 1), name="b")
    x = layers.Flatten(name="flatten")(layers.Concatenate(name="both")([a, b]))
    pair = keras.Model([a, b], layers.Dense(10, activation="softmax", name="predictions")(x))
    inp = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(8, 3, activation="relu", name="conv")(inp)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    scores = keras.Model(inp, layers.Dense(10, name="scores")(x), name="from_logits")
    dark = zoo.build("lenet5", (28, 28, 1), 10)  # C3 all zeros: Grad-CAM's map is empty
    conv = dark.get_layer("c3_conv")
    conv.set_weights([np.zeros_like(w) for w in conv.get_weights()])
    return {"wide": zoo.build("cifar_small", (32, 32, 3), 10),
            "imagenet_head": zoo.build("logistic", (28, 28, 1), 1000),
            "pair": pair, "scores": scores, "lenet": zoo.build("lenet5", (28, 28, 1), 10),
            "dark": dark}


@pytest.fixture(scope="module")
def odd_store(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("odd_store")
    for name, model in odd_models().items():
        store.save_model(model, name, models_dir=folder, card={"dataset": "mnist"})
        card = folder / f"{name}.json"
        card.write_text(json.dumps({**json.loads(card.read_text()), "input_shape": [28, 28, 1]}))
    store.save_model(zoo.build("cifar_small", (32, 32, 3), 10), "honest_wide", models_dir=folder,
                     card={"dataset": "mnist"})  # its card says 32x32x3: not listed
    return folder


@pytest.mark.parametrize("name,problem", [
    ("wide", "The model takes 32x32x3 images, not 28x28x1."),
    ("imagenet_head", "The model gives 1000 scores per image, not one for each of the 10 classes."),
    ("pair", "pair.keras has 2 inputs; CNN Studio explores models with one input image and one output, so use such a model."),  # the intake refuses it
])
def test_a_stored_model_that_cannot_classify_digits_is_refused_with_a_sentence(
        odd_store, monkeypatch, name, problem):
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(odd_store))
    at = open_tab()
    at.selectbox(key="classify_digit_model").set_value(name).run()
    assert not at.exception
    expected = f"Model {name} cannot classify the drawn digits. {problem} Choose another model."
    assert [e.value for e in at.error] == [expected]
    at.session_state["classify_canvas_0"] = drawn_canvas()[1]
    at.run()
    assert not at.exception and [e.value for e in at.error] == [expected]
    assert not at.metric and not at.get("plotly_chart")


def test_a_model_for_other_images_is_listed_as_unusable_with_the_reason(odd_store, monkeypatch):
    """The model itself is checked, whatever its card says (honest_wide's card says 32x32x3,
    wide's lies)."""
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(odd_store))
    at = open_tab()
    box = at.selectbox(key="classify_digit_model")
    assert len(box.options) == 7
    for name in ("honest_wide", "wide"):
        assert f"{name} (unusable here: The model takes 32x32x3 images, not 28x28x1.)" in \
            box.options
    assert "pair (unusable here: pair.keras has 2 inputs; CNN Studio explores models with one input image and one output, so use such a model.)" in box.options
    assert not [o for o in box.options if o.startswith(("dark", "lenet", "scores")) and
                "unusable" in o]


def classify_drawing(odd_store, monkeypatch, model: str):
    """The digit tab over the odd models' store, with ``model`` chosen and a 7 drawn.

    Returns:
        ``(at, rgba)``: the page after the drawing's run, and the drawing's RGBA canvas.
    """
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(odd_store))
    rgba, state = drawn_canvas()
    at = open_tab()
    at.selectbox(key="classify_digit_model").set_value(model).run()
    at.session_state["classify_canvas_0"] = state
    at.run()
    return at, rgba


def test_a_model_that_outputs_logits_gets_a_softmax_and_the_page_says_so(odd_store, monkeypatch):
    at, _ = classify_drawing(odd_store, monkeypatch, "scores")
    assert not at.exception and not at.error
    logits = np.asarray(store.load_model("scores", odd_store)(
        at.session_state[LAST_DIGIT_KEY][None, ..., None], training=False))[0]
    probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    (metric,) = at.metric
    assert metric.value == str(int(logits.argmax()))
    assert metric.delta == f"{probs.max():.1%} confidence"  # not the raw score as a percentage
    np.testing.assert_allclose(values(chart_spec(at)["data"][0]["y"]), probs, atol=1e-5)
    assert any("not probabilities" in c.value and "softmax" in c.value for c in at.caption)
    # Grad-CAM of a model without a "logits" layer: the output scores themselves
    assert any("gradients of the output scores" in c for img in at.image for c in img.captions)


def test_lenet5_grad_cam_names_its_10x10_layer(odd_store, monkeypatch):
    at, _ = classify_drawing(odd_store, monkeypatch, "lenet")
    assert not at.exception and not at.error and at.metric
    assert "Grad-CAM on layer c3_conv (10x10)" in [h.value for h in at.subheader]
    captions = [c for img in at.image for c in img.captions]
    assert any(c.startswith("Regions that drove") and "c3_conv, 10x10" in c for c in captions)
    assert not any("overlay is empty" in i.value for i in at.info)


def test_an_empty_grad_cam_map_is_said_not_just_painted(odd_store, monkeypatch):
    at, _ = classify_drawing(odd_store, monkeypatch, "dark")
    assert not at.exception and at.metric
    assert "Grad-CAM on layer c3_conv (10x10)" in [h.value for h in at.subheader]
    assert any(i.value.startswith("No region of this drawing raises the score of")
               and "overlay is empty" in i.value for i in at.info)


# ---- CIFAR-10 samples -----------------------------------------------------------------------

def gallery(at):
    """(truth, predicted, colour) of each gallery caption."""
    out = []
    for md in at.markdown:
        m = re.match(r"true \*\*(.+?)\*\*\s+predicted :(green|red)\[\*\*(.+?)\*\*\]", md.value)
        if m:
            out.append((m.group(1), m.group(3), m.group(2)))
    return out


@requires_shared_data
def test_cifar_gallery_shows_truth_prediction_and_top3(models_dir):
    from pages.classify_parts import gallery_indices  # the page's choice of images

    at = open_tab("CIFAR-10 samples")
    shown = gallery(at)
    assert len(shown) == 12
    ds = datasets.load("cifar10", data_dir=SHARED_DATA)
    idx = gallery_indices(ds.y_test, None, 12, seed=0)
    model = store.load_model("cifar10", models_dir)
    probs = np.asarray(model(datasets.to_float(ds.x_test[idx]), training=False))
    names = datasets.CIFAR10_CLASSES
    for (truth, pred, colour), i, p in zip(shown, idx, probs):
        assert truth == names[ds.y_test[i]] and pred == names[int(p.argmax())]
        assert colour == ("green" if truth == pred else "red")
    top3 = [m.group(1) for md in at.markdown if (m := re.search(r":gray\[(.+)\]$", md.value))]
    assert len(top3) == 12 and all(t.count("%") == 3 for t in top3)
    assert top3[0].startswith(f"{names[int(probs[0].argmax())]} ")
    at.button(key="classify_cifar_pick_4").click().run()
    assert gallery(at) == shown  # enlarging keeps the same samples
    assert at.subheader[0].value.startswith(f"Image 5: a {shown[4][0]}, predicted {shown[4][1]}")
    bars = chart_spec(at)["data"][0]
    np.testing.assert_allclose(values(bars["y"]), probs[4], atol=1e-5)


@requires_shared_data
def test_cifar_tab_refuses_a_model_with_1000_outputs_with_a_sentence(monkeypatch, tmp_path):
    store.save_model(zoo.build("logistic", (32, 32, 3), 1000), "imagenet_head",
                     models_dir=tmp_path, card={"dataset": "cifar10"})
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(tmp_path))
    at = open_tab("CIFAR-10 samples")
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Model imagenet_head cannot classify the cifar10 test images. The model gives 1000 "
        "scores per image, not one for each of the 10 classes. Choose another model."]
    assert not gallery(at) and not at.get("plotly_chart")


@requires_shared_data
def test_new_samples_button_draws_other_images():
    at = open_tab("CIFAR-10 samples")
    before = gallery(at)
    at.button(key="classify_cifar_shuffle").click().run()
    assert at.session_state["classify_cifar_seed"] == 1
    assert len(gallery(at)) == 12 and gallery(at) != before


@requires_shared_data
def test_cifar_gallery_of_one_class_and_a_3_class_model():
    at = open_tab("CIFAR-10 samples")
    at.selectbox(key="classify_cifar_class").set_value("cat").run()
    assert {truth for truth, _, _ in gallery(at)} == {"cat"}
    at.selectbox(key="classify_cifar_model").set_value("cifar3").run()
    assert not at.exception
    shown = gallery(at)
    assert len(shown) == 12
    assert {t for t, p, _ in shown} | {p for t, p, _ in shown} <= {"airplane", "automobile", "bird"}
    assert len(values(chart_spec(at)["data"][0]["y"])) == 3


# ---- Photo through VGG16 --------------------------------------------------------------------

def jpeg(size=(300, 200), colour=(200, 40, 40)):
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG")
    return buf.getvalue()


def bordered_png(size=(400, 200), border=40):
    """A gray photo with a red left and a blue right border, which a centre crop cuts off."""
    w, h = size
    rgb = np.full((h, w, 3), 128, np.uint8)
    rgb[:, :border], rgb[:, w - border:] = (255, 0, 0), (0, 0, 255)
    rgb[h // 4:3 * h // 4, w // 2 - 30:w // 2 + 30] = (20, 160, 20)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


PREPROCESS_STEP = "preprocess_input: BGR, ImageNet mean subtracted (rescaled to view)"


MISSING_WEIGHTS = ("The VGG16 ImageNet weights are not on this machine. "
                   "VGG16 cannot look at the photo without them.")


def ways_to_get(at):
    """The page's list of the two ways to get a missing file."""
    (ways,) = [m.value for m in at.markdown if m.value.startswith("Two ways to get the file:")]
    return ways


def test_photo_without_weights_says_how_to_get_them_and_still_shows_the_steps():
    at = open_tab("Photo through VGG16")
    assert any("Upload a photo" in i.value for i in at.info)
    at.file_uploader(key="classify_upload").set_value(("cat.jpg", jpeg(), "image/jpeg")).run()
    assert not at.exception
    assert [e.value for e in at.error] == [MISSING_WEIGHTS]  # one short sentence
    ways = ways_to_get(at)
    assert "1. **Download it here** with the button below (528 MB" in ways
    assert "2. **Or**" in ways and "`python -m cnnlib prefetch --vgg16`" in ways
    assert "`CNN_STUDIO_VGG16_WEIGHTS`" in ways
    assert "(https://storage.googleapis.com/tensorflow/keras-applications/vgg16/" in ways
    (details,) = at.expander
    assert details.label == "Details"
    (full,) = details.text
    assert full.value.startswith("The VGG16 ImageNet weights are not on this machine: neither")
    assert "https://storage.googleapis.com" in full.value
    captions = [c for img in at.image for c in img.captions]
    assert captions == ["Photo 300x200", "Centre square 200x200", "Resized to 224x224",
                        "preprocess_input: BGR, ImageNet mean subtracted (rescaled to view)"]
    assert any("Download vgg16_weights" in b.label for b in at.button)


def test_resize_mode_switches_the_preprocessing_steps():
    at = open_tab("Photo through VGG16")
    mode, k = at.radio(key="classify_photo_resize"), at.slider(key="classify_photo_top_k")
    assert mode.value == "center_crop"
    assert mode.options == ["Centre crop", "Squash to 224x224, as tutorial 001 does"]
    assert (k.value, k.min, k.max) == (5, 1, 10) and "tutorial 001 prints the top 3" in k.label
    assert any("stretches a non-square one" in c.value and "cuts off" in c.value
               for c in at.caption)
    at.file_uploader(key="classify_upload").set_value(("b.png", bordered_png(), "image/png")).run()
    captions = [c for img in at.image for c in img.captions]
    assert captions == ["Photo 400x200", "Centre square 200x200", "Resized to 224x224",
                        PREPROCESS_STEP]
    at.radio(key="classify_photo_resize").set_value("squash").run()
    assert not at.exception
    captions = [c for img in at.image for c in img.captions]
    assert captions == ["Photo 400x200", "Squashed to 224x224 (aspect ratio not kept)",
                        PREPROCESS_STEP]
    at.radio(key="classify_photo_resize").set_value("center_crop").run()
    assert [c for img in at.image for c in img.captions][1] == "Centre square 200x200"


def test_camera_photo_goes_through_the_same_pipeline():
    at = open_tab("Photo through VGG16")
    at.radio(key="classify_photo_source").set_value("Take one with the camera").run()
    at.camera_input(key="classify_camera").set_value(("shot.jpg", jpeg((640, 480)), "image/jpeg")).run()
    assert not at.exception
    assert [c for img in at.image for c in img.captions][0] == "Photo 640x480"


@pytest.mark.parametrize("name,data,message", [
    ("empty.jpg", b"", "The file is empty"),
    ("notes.jpg", b"Just some text, renamed to .jpg\n" * 10, "not an image"),
    ("cut.jpg", truncated_jpeg(), "truncated or corrupt"),
    ("bomb.png", png_with_header_size(100_000, 100_000), "too large"),
    ("big.png", png_with_header_size(9_000, 8_000), "megapixels"),
], ids=["empty", "non-image", "truncated", "bomb", "too-many-pixels"])
def test_bad_photos_are_refused_with_a_sentence(name, data, message):
    at = open_tab("Photo through VGG16")
    at.file_uploader(key="classify_upload").set_value((name, data, "image/jpeg")).run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value
    assert not at.image  # nothing shown for a bad file


@pytest.mark.parametrize("size,note", [((1, 1), "only 1x1 pixels"),
                                       ((4000, 3000), "Downscaled from 4000x3000")])
def test_tiny_and_huge_photos_are_used_with_a_note(size, note):
    at = open_tab("Photo through VGG16")
    at.file_uploader(key="classify_upload").set_value(("p.jpg", jpeg(size), "image/jpeg")).run()
    assert not at.exception
    assert any(note in c.value for c in at.caption)
    assert len(at.image) == 4  # the preprocessing steps


def test_download_button_offline_explains_instead_of_crashing(monkeypatch):
    import urllib.error

    from cnnlib.data import prefetch

    def offline(url, timeout):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    at = open_tab("Photo through VGG16")
    at.file_uploader(key="classify_upload").set_value(("cat.jpg", jpeg(), "image/jpeg")).run()
    for _ in range(2):  # a second click fails the same way: still one short sentence
        next(b for b in at.button if b.label.startswith("Download vgg16")).click().run()
        assert not at.exception
        fname = prefetch.VGG16_WEIGHTS["fname"]
        assert [e.value for e in at.error] == [
            f"Downloading {fname} failed (URLError: <urlopen error [Errno -3] Temporary failure "
            "in name resolution>). VGG16 cannot look at the photo without them."]
        assert "prefetch --vgg16" in ways_to_get(at)
        texts = [t.value for t in at.expander[0].text]  # the download's story, then the file's
        assert len(texts) == 2 and texts[0].startswith("Downloading https://storage.googleapis.com")
        assert texts[1].startswith("The VGG16 ImageNet weights are not on this machine")


def test_download_button_fills_the_keras_cache(monkeypatch, tmp_path):
    """The download lands in $KERAS_HOME/models; the page then tries to load it (here a
    fake file, so the next message is about that file, not about a missing one)."""
    import hashlib

    from cnnlib.data import prefetch

    body = b"not really 528 MB of weights" * 1000
    monkeypatch.setitem(prefetch.VGG16_WEIGHTS, "file_hash", hashlib.md5(body).hexdigest())

    class Response(io.BytesIO):
        headers = {"Content-Length": str(len(body))}

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr("urllib.request.urlopen", lambda url, timeout: Response(body))
    at = open_tab("Photo through VGG16")
    at.file_uploader(key="classify_upload").set_value(("cat.jpg", jpeg(), "image/jpeg")).run()
    next(b for b in at.button if b.label.startswith("Download vgg16")).click().run()
    assert not at.exception
    cached = tmp_path / "empty_keras_home" / "models" / prefetch.VGG16_WEIGHTS["fname"]
    assert cached.read_bytes() == body
    assert [e.value for e in at.error] == [f"The VGG16 weights file {cached} is not an HDF5 file "
                                           "(.h5). VGG16 cannot look at the photo without them."]


@requires_shared_data
@pytest.mark.slow
def test_photo_with_local_weights_gives_top5_and_gradcam(monkeypatch, vgg16_weights):
    """VGG16 loaded from a local weights file; first without the class index (a message,
    numbered classes), then with it."""
    monkeypatch.setenv("CNN_STUDIO_VGG16_WEIGHTS", str(vgg16_weights))
    at = open_tab("Photo through VGG16")
    at.file_uploader(key="classify_upload").set_value(("p.png", jpeg(), "image/jpeg")).run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The ImageNet class names (imagenet_class_index.json) are not on this machine. "
        "The classes are shown by number."]
    assert "`CNN_STUDIO_IMAGENET_CLASS_INDEX`" in ways_to_get(at)
    assert all(name.startswith("class ") for name in chart_spec(at)["data"][0]["y"])
    monkeypatch.setenv("CNN_STUDIO_IMAGENET_CLASS_INDEX",
                       str(SHARED_DATA / "imagenet_class_index.json"))
    at.run()
    assert not at.exception and not at.error
    bars = chart_spec(at)["data"][0]
    assert len(bars["y"]) == 5 and bars["orientation"] == "h"
    assert all("_" not in name for name in bars["y"])  # readable names
    assert list(values(bars["x"])) == sorted(values(bars["x"]))  # most probable at the top
    captions = [c for img in at.image for c in img.captions]
    assert any(c.startswith("Regions that drove") and "block5_conv3, 14x14" in c for c in captions)
    assert "Grad-CAM on layer block5_conv3 (14x14)" in [h.value for h in at.subheader]
    at.slider(key="classify_photo_opacity").set_value(0.2).run()
    assert not at.exception


def top_bars(at):
    """(subheaders, chart title, class names, probabilities) of the photo's top-k chart."""
    spec = chart_spec(at)
    bars = spec["data"][0]
    return ([h.value for h in at.subheader], spec["layout"]["title"]["text"], list(bars["y"]),
            values(bars["x"]))


@requires_shared_data
@pytest.mark.slow
def test_photo_top_k_and_resize_mode_change_the_chart(monkeypatch, vgg16_weights):
    monkeypatch.setenv("CNN_STUDIO_VGG16_WEIGHTS", str(vgg16_weights))
    monkeypatch.setenv("CNN_STUDIO_IMAGENET_CLASS_INDEX",
                       str(SHARED_DATA / "imagenet_class_index.json"))
    at = open_tab("Photo through VGG16")
    at.file_uploader(key="classify_upload").set_value(("b.png", bordered_png(), "image/png")).run()
    assert not at.exception and not at.error
    heads, title, names5, crop5 = top_bars(at)
    assert "ImageNet top-5" in heads and "top-5" in title and len(names5) == 5
    at.slider(key="classify_photo_top_k").set_value(3).run()
    heads, title, names3, crop3 = top_bars(at)
    assert "ImageNet top-3" in heads and "top-3" in title
    assert names3 == names5[2:]  # the three most probable (drawn last: at the top)
    np.testing.assert_array_equal(crop3, crop5[2:])
    at.radio(key="classify_photo_resize").set_value("squash").run()
    assert not at.exception
    captions = [c for img in at.image for c in img.captions]
    assert "Squashed to 224x224 (aspect ratio not kept)" in captions
    assert any(c.startswith("Regions that drove") for c in captions)  # Grad-CAM of the squash
    heads, title, names, squash3 = top_bars(at)
    assert "ImageNet top-3" in heads and len(names) == 3
    assert not np.array_equal(squash3, crop3)  # another input, not the centre crop's cache entry
    at.slider(key="classify_photo_top_k").set_value(10).run()
    assert len(top_bars(at)[2]) == 10


def test_a_hostile_file_in_the_store_shows_its_sentence_with_the_detail_folded(tmp_path, monkeypatch):
    """A config bomb put in the models folder by hand (with a card naming MNIST) is
    listed as unusable with the intake's sentence; chosen, the page shows that sentence
    and the intake's technical detail in a folded "Details" section, never loaded."""
    from tests.support import hostile

    from cnnlib.intake import load as intake_load

    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "bomb.keras").write_bytes(hostile.hostile("config bomb", tmp_path,
                                                        hostile.base_archive(tmp_path)))
    (folder / "bomb.json").write_text(json.dumps({"dataset": "mnist"}))
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(folder))
    try:
        intake_load.check_untrusted(folder / "bomb.keras")
    except store.ModelLoadError as e:
        sentence, detail = str(e), e.detail
    assert "this server takes models up to" in sentence and detail
    at = open_tab()
    box = at.selectbox(key="classify_digit_model")
    assert f"bomb (unusable here: {sentence})" in box.options
    at.selectbox(key="classify_digit_model").set_value("bomb").run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        f"Model bomb cannot classify the drawn digits. {sentence} Choose another model."]
    assert [x.label for x in at.expander] == ["Details"]
    assert [c.value for c in at.expander[0].code] == [detail]
