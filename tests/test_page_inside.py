"""AppTest of the Inside the network page: every layer of the bundled model shown with
its maps, bars or a sentence; the explained neuron recomputed beside Keras's value for
any layer chosen; wide layers paged most-active first; the softmax written out; the
filter section's top patches; uploaded .keras files explored, and bad ones refused
with a sentence."""

import base64
import io
import json
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from testutil import REPO, requires_shared_data

from pages.common import LAST_DIGIT_KEY

PAGE = "pages/inside.py"


def open_page(state: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def grids(at) -> dict[int, dict]:
    """The clickable grids by layer index, with the data each was given."""
    out = {}
    for el in at.get("bidi_component"):
        m = re.search(r"inside_map_(\d+)$", el.proto.id)
        if m:
            out[int(m.group(1))] = json.loads(el.proto.json)
    return out


def compared(at) -> tuple[float, float, float]:
    """(numpy value, Keras value, difference) from the explanation's line."""
    (line,) = [m.value for m in at.main.markdown if m.value.startswith("**Recomputed in numpy:**")]
    return tuple(float(v) for v in re.findall(r"\*\* ([-0-9.e+]+)", line))


def png(uri: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def keras_bytes(model, tmp_path) -> bytes:
    path = tmp_path / "mine.keras"
    model.save(path)
    return path.read_bytes()


@requires_shared_data
def test_the_bundled_mnist_model_layer_by_layer_with_its_first_convolution_explained():
    at = open_page()
    assert at.title[0].value == "Inside the network"
    assert not at.main.error and not at.main.warning
    summary = at.main.markdown[0].value
    assert summary.startswith("**mnist (studio_cnn") and "26 layers, 205,546 weights" in summary
    assert "Input: mnist test image 0: a 7" in summary and "Prediction: **7**" in summary
    labels = [m.value for m in at.main.markdown if m.value.startswith("**block")]
    assert labels[0].startswith("**block1_conv1**  \nConv2D · 28 x 28 x 32 · 288 weights")
    g = grids(at)
    assert len(g) == 21  # input + 6 conv + 6 BN + 6 ReLU + 2 pooling; no dropout
    first = g[1]
    assert first["channels"] == list(range(32)) and (first["mh"], first["mw"]) == (28, 28)
    assert png(first["src"]).shape == (first["height"], first["width"], 3)
    assert first["mark"] is not None  # the explained neuron is framed in its layer's grid
    # the default neuron: block1_conv1's most active channel, explained under its layer
    assert at.selectbox(key="inside_layer").value == 1
    explained = "**block1_conv1** (Conv2D) slides a 3 x 3 x 1 filter"
    assert any(m.value.startswith(explained) for m in at.main.markdown)
    numpy_value, keras_value, difference = compared(at)
    assert numpy_value == pytest.approx(keras_value, rel=1e-4, abs=1e-6) and difference < 1e-5
    assert len(at.main.get("plotly_chart")) == 3  # the vectors: gap, logits, softmax
    assert any("Flatten" not in c.value and "acts only in training" in c.value for c in at.main.caption)


@requires_shared_data
@pytest.mark.parametrize("layer,words", [
    (9, "slides a 3 x 3 x 32 filter"),  # block2_conv1: 32 input channels
    (5, "standardises each channel"),  # block1_bn2
    (7, "keeps the largest value of a 2 x 2 window"),  # block1_pool
    (23, "takes the mean of a whole feature map"),  # gap
    (25, "multiplies each of its 96 inputs by a weight"),  # logits
    (26, "turns the 10 scores at this position into probabilities"),  # softmax
    (0, "this is a value of the input itself"),
])
def test_any_layer_chosen_is_recomputed_beside_keras(layer, words):
    at = open_page()
    at.selectbox(key="inside_layer").set_value(layer).run()
    assert not at.exception
    assert any(words in m.value for m in at.main.markdown), [m.value[:80] for m in at.main.markdown]
    numpy_value, keras_value, _ = compared(at)
    assert numpy_value == pytest.approx(keras_value, rel=1e-4, abs=1e-6)
    if layer == 9:  # the six channels that contribute most, as matrices, and every channel's sum
        assert sum('aria-label="patch of the input' in h.proto.body for h in at.main.get("html")) == 6
        assert len(at.main.dataframe[0].value) == 32
    if layer == 25:
        assert list(at.main.dataframe[0].value.columns) == ["input", "value x", "weight w", "x · w"]


@requires_shared_data
def test_a_position_chosen_by_number_is_explained_with_its_receptive_field():
    at = open_page()
    at.selectbox(key="inside_layer").set_value(13).run()  # block2_relu2, 14 x 14 after one pooling
    at.number_input(key="inside_channel").set_value(3)
    at.number_input(key="inside_row").set_value(0)
    at.number_input(key="inside_col").set_value(13).run()
    assert not at.exception
    caption = [c.value for c in at.main.caption if c.value.startswith("Orange: the")][0]
    # two 3 x 3 convs, a 2 x 2 pool, two 3 x 3 convs: 14 x 14 pixels, cut by the image's corner
    assert caption.startswith("Orange: the 8 x 8 pixels") and "rows 0..7, columns 20..27" in caption
    assert "14 x 14 before the image's edge cuts it" in caption
    assert grids(at)[13]["mark"] == [grids(at)[13]["channels"].index(3), 0, 13]


@requires_shared_data
def test_a_wide_layer_shows_its_most_active_channels_a_page_at_a_time():
    at = open_page({"inside_model": "cifar10"})
    assert at.main.markdown[0].value.startswith("**cifar10 (studio_cnn")
    g = grids(at)
    block3 = 20  # block3_relu2: 128 channels
    first = g[block3]["channels"]
    assert len(first) == 32 and first != list(range(32))  # ranked, not in order
    at.number_input(key=f"inside_page_{block3}").set_value(2).run()
    second = grids(at)[block3]["channels"]
    assert len(second) == 32 and not set(first) & set(second) and not at.main.warning
    # a channel chosen by number turns its layer's grid to the page that shows it
    at.selectbox(key="inside_layer").set_value(block3).run()
    at.number_input(key="inside_channel").set_value(first[5]).run()
    assert at.number_input(key=f"inside_page_{block3}").value == 1
    assert grids(at)[block3]["mark"][0] == 5
    # another model whose layer there has fewer pages, and a dataset with fewer test images
    at.number_input(key=f"inside_page_{block3}").set_value(4).run()
    at.number_input(key="inside_index_cifar10").set_value(600).run()
    at.sidebar.selectbox(key="inside_model").set_value("mnist").run()
    assert not at.exception and at.number_input(key=f"inside_page_{block3}").value == 3  # 96 channels
    assert "Input: mnist test image 0" in at.main.markdown[0].value


@requires_shared_data
def test_the_softmax_is_written_out_with_its_numbers():
    at = open_page()
    table = [df.value for df in at.main.dataframe if "probability" in df.value.columns][0]
    assert list(table.columns) == ["class", "score z", "exp(z_i)", "probability"] and len(table) == 10
    assert table["probability"].iloc[0] == table["probability"].max()
    np.testing.assert_allclose(table["exp(z_i)"], np.exp(table["score z"]), rtol=1e-6)
    assert abs(table["probability"].sum() - 1) < 1e-4
    assert any(r"\operatorname{softmax}(z)_i" in latex.value for latex in at.main.latex)


@requires_shared_data
def test_the_filter_section_finds_the_test_images_that_excite_a_channel():
    at = open_page({"inside_filters": True})
    assert at.selectbox(key="inside_filter_layer").value == 1  # the explained neuron's layer
    caption = [c.value for c in at.main.caption if c.value.startswith("Of 1000 test images of mnist")]
    assert caption, [c.value for c in at.main.caption]
    values = [float(c.value.split(" · ")[0]) for c in at.main.caption if " · " in c.value]
    assert len(values) == 9 and values == sorted(values, reverse=True)


def test_the_digit_drawn_on_classify_is_an_input():
    digit = np.zeros((28, 28), np.float32)
    digit[5:23, 13:16] = 1.0  # a one
    at = open_page({LAST_DIGIT_KEY: digit, "inside_input": "digit"})
    assert "Input: the digit drawn on Classify" in at.main.markdown[0].value
    assert "Prediction: **1**" in at.main.markdown[0].value


@requires_shared_data
def test_an_uploaded_keras_file_is_explored(tmp_path):
    from cnnlib.models import zoo

    model = zoo.build("cifar_small", (32, 32, 3), 10)
    at = open_page({"inside_source": "upload"})
    assert "Upload a .keras file" in at.main.info[0].value
    at.sidebar.file_uploader(key="inside_model_file").set_value(
        ("mine.keras", keras_bytes(model, tmp_path), "application/octet-stream")).run()
    assert not at.exception and not at.main.error
    assert at.main.markdown[0].value.startswith("**mine.keras (uploaded)**: 6 layers, 226,390 weights")
    assert at.sidebar.selectbox(key="inside_model_data").value == "cifar10"  # the datasets of its size
    assert "Input: cifar10 test image 0" in at.main.markdown[0].value
    numpy_value, keras_value, _ = compared(at)
    assert numpy_value == pytest.approx(keras_value, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("what,words", [("corrupt", "not a Keras model archive"),
                                        ("two inputs", "has 2 inputs"),
                                        ("branches", "branches or joins")])
def test_a_model_that_cannot_be_explored_gets_a_sentence(what, words, tmp_path):
    import keras

    if what == "corrupt":
        data = b"this is not a zip file"
    elif what == "two inputs":
        a, b = keras.Input((8, 8, 1)), keras.Input((8, 8, 1))
        data = keras_bytes(keras.Model([a, b], keras.layers.Add()([a, b])), tmp_path)
    else:
        x = keras.Input((8, 8, 1))
        data = keras_bytes(keras.Model(x, keras.layers.Add()([keras.layers.Conv2D(1, 1)(x),
                                                             keras.layers.Conv2D(1, 1)(x)])), tmp_path)
    at = open_page({"inside_source": "upload"})
    uploader = at.sidebar.file_uploader(key="inside_model_file")
    uploader.set_value(("bad.keras", data, "application/octet-stream")).run()
    assert not at.exception
    assert words in at.main.error[0].value, at.main.error[0].value
    assert not grids(at)


def test_an_upload_too_large_or_empty_is_refused_before_keras_reads_it():
    from cnnlib.network import uploads
    from cnnlib.store import ModelLoadError

    with pytest.raises(ModelLoadError, match="big.keras is 0.1 MB; models up to 0.05 MB"):
        uploads.load_keras_bytes(b"x" * 100_000, "big.keras", max_mb=0.05)
    with pytest.raises(ModelLoadError, match="empty.keras is empty"):
        uploads.load_keras_bytes(b"", "empty.keras")
    with pytest.raises(ModelLoadError, match="junk.keras cannot be loaded: not a Keras model archive"):
        uploads.load_keras_bytes(b"PK junk", "junk.keras")


def test_the_config_bomb_upload_gets_a_sentence_and_the_server_stays_small(tmp_path):
    """Input(50000) -> Dense(25000) (1.25 billion weights, 5 GB) uploaded: refused with one
    sentence from its configuration alone, the technical text folded in Details; this
    process (the server) grows by less than 500 MB (its VmHWM after /proc/self/clear_refs)."""
    from tests.support import hostile
    from tests.support.memory import reset_peak, status

    data = hostile.hostile("config bomb", tmp_path, hostile.base_archive(tmp_path))
    at = open_page({"inside_source": "upload"})

    reset_peak()
    base = status("VmRSS")
    at.sidebar.file_uploader(key="inside_model_file").set_value(
        ("bomb.keras", data, "application/octet-stream")).run()
    grown = status("VmHWM") - base
    assert not at.exception
    (error,) = at.main.error
    assert error.value.startswith("bomb.keras ") and "\n" not in error.value
    assert "1,250,025,000 weights" in error.value and "CNN_STUDIO_MAX_MODEL_PARAMS" in error.value
    assert "OOM" not in error.value and "function_node" not in error.value
    assert at.main.expander[0].label == "Details" and at.main.expander[0].code[0].value
    assert grown < 500 * 10**6, f"the server grew by {grown / 10**6:.0f} MB"
    assert not grids(at)


@pytest.mark.slow
def test_vgg16_on_a_sample_picture_with_its_wide_layers_paged(monkeypatch, vgg16_weights):
    from testutil import SHARED_DATA

    monkeypatch.setenv("CNN_STUDIO_VGG16_WEIGHTS", str(vgg16_weights))
    monkeypatch.setenv("CNN_STUDIO_IMAGENET_CLASS_INDEX", str(SHARED_DATA / "imagenet_class_index.json"))
    at = open_page({"inside_source": "VGG16"})
    assert not at.main.error
    summary = at.main.markdown[0].value
    assert summary.startswith("**VGG16 (ImageNet weights)**: 23 layers, 138,357,544 weights")
    assert "Input: A colour scene of a house" in summary  # no ImageNet test images: a sample picture
    g = grids(at)
    # the preprocessing layer's 3 maps first, then VGG16's; block5_conv3: 512 channels, 16 pages
    assert len(g) == 20 and len(g[1]["channels"]) == 3 and len(g[18]["channels"]) == 32
    assert at.number_input(key="inside_page_18") is not None
    table = [df.value for df in at.main.dataframe if "probability" in df.value.columns][0]
    assert len(table) == 10 and "_" not in table["class"].iloc[0]  # ImageNet names, the 10 most probable
    at.selectbox(key="inside_layer").set_value(21).run()  # fc1: 25,088 inputs
    numpy_value, keras_value, _ = compared(at)
    assert numpy_value == pytest.approx(keras_value, rel=1e-4, abs=1e-6)
    at.selectbox(key="inside_layer").set_value(1).run()  # the preprocessing: 255 x - mean
    numpy_value, keras_value, _ = compared(at)
    assert numpy_value == pytest.approx(keras_value, rel=1e-5, abs=1e-4)
    at.session_state["inside_filters"] = True
    at.run()
    assert "VGG16 learned from ImageNet" in at.main.info[0].value


@requires_shared_data
def test_a_layer_type_not_handled_is_said_not_explained_and_the_rest_still_works(tmp_path):
    import keras
    from keras import layers as K

    model = keras.Sequential([keras.Input((28, 28, 1)), K.Conv2D(4, 3, name="conv1"),
                              K.LayerNormalization(name="layer_norm"), K.Conv2D(4, 3, name="conv2"),
                              K.Flatten(name="flat"), K.Dense(10, activation="softmax", name="predictions")])
    at = open_page({"inside_source": "upload"})
    at.sidebar.file_uploader(key="inside_model_file").set_value(
        ("odd.keras", keras_bytes(model, tmp_path), "application/octet-stream")).run()
    assert not at.exception and not at.main.error, at.main.error[0].value
    at.selectbox(key="inside_layer").set_value(2).run()  # the layer norm
    assert "not explained for LayerNormalization" in at.main.info[0].value
    at.selectbox(key="inside_layer").set_value(3).run()  # conv2: recomputed, but its field is unknown
    numpy_value, keras_value, _ = compared(at)
    assert numpy_value == pytest.approx(keras_value, rel=1e-4, abs=1e-6)
    assert any("receptive field is not known here" in c.value for c in at.main.caption)
    at.session_state["inside_filters"] = True
    at.run()
    assert not at.exception
    assert "receptive field is not known here" in at.main.info[0].value  # mnist test images, conv2
