"""Classify page: a stored model that does not fit a tab (number of inputs or
outputs, input shape, number of scores) is listed there as unusable with the
reason, and choosing it shows that sentence, never a traceback.

The models are tiny untrained Keras models saved with Keras itself into a
temporary folder, each with a JSON card beside it that claims the tab's
dataset (as a card written by hand or copied beside another file would).
"""

import json

import pytest
from test_page_classify import drawn_canvas, gallery
from test_page_classify import open_tab as classify_page
from testutil import SHARED_DATA, requires_shared_data

REASONS = {
    # several inputs or outputs: refused by the store's intake (cnnlib.intake), its sentence
    "two_inputs": "two_inputs.keras has 2 inputs; CNN Studio explores models with one input image and one output, so use such a model.",
    "two_outputs": "two_outputs.keras has 2 outputs; CNN Studio explores models with one input image and one output, so use such a model.",
    "no_channels": "The model takes input of shape {h}x{w}, not images (height x width x "
                   "channels).",
    "other_images": "The model takes {other} images, not {given}.",
    "imagenet_head": "The model gives 1000 scores per image, not one for each of the {n} "
                     "classes.",
    "feature_map": "The model gives output of shape {h2}x{w2}x{n}, not one score per class.",
}


def odd_models(shape, classes):
    """One tiny model per way of not fitting a tab of ``shape`` images and ``classes``
    classes, and two that fit (one of them takes any image size)."""
    import keras
    from keras import layers

    h, w, c = shape
    other = (32, 32, 3) if shape == (28, 28, 1) else (28, 28, 1)

    def dense_head(inp, x, units=classes, outputs=1):
        x = layers.Flatten()(x)
        heads = [layers.Dense(units, activation="softmax")(x) for _ in range(outputs)]
        return keras.Model(inp, heads if outputs > 1 else heads[0])

    a, b = keras.Input(shape), keras.Input(shape)
    pair = dense_head([a, b], layers.Concatenate()([a, b]))
    inp = keras.Input(shape)
    fmap = keras.Model(inp, layers.Conv2D(classes, 3)(inp))
    open_inp = keras.Input((None, None, c))
    x = layers.GlobalAveragePooling2D()(layers.Conv2D(4, 3, activation="relu")(open_inp))
    any_size = keras.Model(open_inp, layers.Dense(classes, activation="softmax")(x))
    flat = keras.Input((h, w))
    other_inp = keras.Input(other)
    return {"two_inputs": pair,
            "two_outputs": dense_head(inp, inp, outputs=2),
            "no_channels": dense_head(flat, flat),
            "other_images": dense_head(other_inp, other_inp),
            "imagenet_head": dense_head(inp, inp, units=1000),
            "feature_map": fmap,
            "any_size": any_size,
            "fits": dense_head(inp, layers.Conv2D(4, 3, name="conv")(inp))}


def save_folder(folder, dataset, shape, classes):
    import keras

    keras.utils.set_random_seed(0)
    for name, model in odd_models(shape, classes).items():
        model.save(folder / f"{name}.keras")
        (folder / f"{name}.json").write_text(json.dumps({"name": name, "dataset": dataset}))
    h, w, c = shape
    other = "32x32x3" if shape == (28, 28, 1) else "28x28x1"
    return {name: reason.format(h=h, w=w, h2=h - 2, w2=w - 2, n=classes, other=other,
                                given=f"{h}x{w}x{c}") for name, reason in REASONS.items()}


@pytest.fixture(scope="module")
def digit_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("digit_store")
    return folder, save_folder(folder, "mnist", (28, 28, 1), 10)


@pytest.fixture(scope="module")
def cifar_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cifar_store")
    return folder, save_folder(folder, "cifar10", (32, 32, 3), 10)


@pytest.fixture(autouse=True)
def environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CNN_STUDIO_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))


def open_tab(monkeypatch, folder, tab=None):
    """The Classify page (test_page_classify.open_tab) over the store in ``folder``."""
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(folder))
    return classify_page(tab)


def test_digit_tab_lists_each_model_that_does_not_fit_with_its_reason(digit_store, monkeypatch):
    folder, reasons = digit_store
    at = open_tab(monkeypatch, folder)
    options = at.selectbox(key="classify_digit_model").options
    for name, reason in reasons.items():
        assert f"{name} (unusable here: {reason})" in options
    usable = [o for o in options if "unusable" not in o]
    assert [o.split(" ")[0] for o in usable] == ["any_size", "fits"]
    assert at.selectbox(key="classify_digit_model").value == "any_size"  # a usable one first
    assert not at.error


@pytest.mark.parametrize("name", list(REASONS))
def test_choosing_a_digit_model_that_does_not_fit_shows_the_sentence(digit_store, monkeypatch,
                                                                     name):
    folder, reasons = digit_store
    at = open_tab(monkeypatch, folder)
    at.selectbox(key="classify_digit_model").set_value(name).run()
    expected = (f"Model {name} cannot classify the drawn digits. {reasons[name]} "
                "Choose another model.")
    assert not at.exception and [e.value for e in at.error] == [expected]
    at.session_state["classify_canvas_0"] = drawn_canvas()[1]
    at.run()
    assert not at.exception and [e.value for e in at.error] == [expected]
    assert not at.metric and not at.get("plotly_chart")


@pytest.mark.parametrize("name", ["any_size", "fits"])
def test_digit_models_that_fit_predict_a_drawing(digit_store, monkeypatch, name):
    """A model that leaves its sides open takes the 28x28x1 digit too."""
    folder, _ = digit_store
    at = open_tab(monkeypatch, folder)
    at.selectbox(key="classify_digit_model").set_value(name).run()
    at.session_state["classify_canvas_0"] = drawn_canvas()[1]
    at.run()
    assert not at.exception and not at.error
    (metric,) = at.metric
    assert metric.value in [str(d) for d in range(10)]
    assert at.get("plotly_chart")  # the probabilities


@requires_shared_data
def test_cifar_tab_lists_and_refuses_each_model_that_does_not_fit(cifar_store, monkeypatch):
    folder, reasons = cifar_store
    at = open_tab(monkeypatch, folder, "CIFAR-10 samples")
    box = at.selectbox(key="classify_cifar_model")
    for name, reason in reasons.items():
        assert f"{name} (unusable here: {reason})" in box.options
    assert box.value == "any_size" and len(gallery(at)) == 12 and not at.error
    for name, reason in reasons.items():
        at.selectbox(key="classify_cifar_model").set_value(name).run()
        assert not at.exception
        assert [e.value for e in at.error] == [
            f"Model {name} cannot classify the cifar10 test images. {reason} Choose another model."]
        assert not gallery(at)
    at.selectbox(key="classify_cifar_model").set_value("fits").run()
    assert not at.exception and not at.error and len(gallery(at)) == 12


def test_a_model_that_does_not_fit_is_not_kept_loaded(digit_store, monkeypatch):
    """Each listed model is loaded once for its verdict; one that does not fit is let go
    (the cached verdict stays), one that fits stays loaded for the tab."""
    from cnnlib import store
    from pages import classify_parts, common

    folder, reasons = digit_store
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(folder))
    classify_parts.classifier_problem.clear()
    common.load_stored_model.clear()
    loads, real = [], store.load_model
    monkeypatch.setattr(store, "load_model", lambda name, *a, **kw: loads.append(name)
                        or real(name, *a, **kw))
    head, fits = ((folder / f"{n}.keras").stat().st_mtime for n in ("imagenet_head", "fits"))
    for _ in range(2):  # the second time from the cache
        assert classify_parts.classifier_problem("imagenet_head", head, (28, 28, 1), 10)[0] == \
            reasons["imagenet_head"]
        assert classify_parts.classifier_problem("fits", fits, (28, 28, 1), 10) is None
    assert loads == ["imagenet_head", "fits"]
    common.load_stored_model("fits", fits)
    assert loads == ["imagenet_head", "fits"]  # still loaded
    common.load_stored_model("imagenet_head", head)
    assert loads == ["imagenet_head", "fits", "imagenet_head"]  # it had been let go
