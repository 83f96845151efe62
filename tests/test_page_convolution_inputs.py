"""Convolution page: no traceback from any input. Numbers in the address that a
number input cannot take (``inf``, ``1e400``...) and kernel values that are not
finite or beyond the kernel's limit are refused with a sentence on the page."""

import numpy as np
import pytest
from test_page_convolution import (
    N,
    _edit_custom,
    feature_map,
    matrix,
    nothing_computed,
    open_page,
    sizes_line,
)
from testutil import requires_shared_data

from cnnlib.conv import kernels

PAGE_NUMBERS = ["conv_pad", "conv_stride", "conv_dilation", "conv_pool_size", "conv_pool_stride",
                "conv_row", "conv_col"]  # conv_index: below, it needs a dataset
CONTEXT = {"conv_pad": {"conv_padding": "number"}, "conv_pool_size": {"conv_pool": "max"},
           "conv_pool_stride": {"conv_pool": "max"}}
DEFAULTS = {"conv_pad": 1, "conv_stride": 1, "conv_dilation": 1, "conv_pool_size": 2,
            "conv_pool_stride": 2, "conv_row": 0, "conv_col": 0, "conv_index": 0}


def warnings(at) -> list[str]:
    return [w.value for w in at.warning]


def assert_dropped(at, key, value, rule):
    assert not at.exception
    assert warnings(at) == [f"The address's {key}={value} was ignored: it takes {rule}"]
    assert key not in at.query_params
    assert at.number_input(key=key).value == DEFAULTS[key]
    assert feature_map(at).shape == (N - 2, N - 2) or key == "conv_pad"  # the page went on


@pytest.mark.parametrize("value", ["inf", "1e400", "-inf"])
@pytest.mark.parametrize("key", PAGE_NUMBERS)
def test_a_number_that_overflows_in_the_address_is_dropped_with_a_warning(key, value):
    """Streamlit 1.67 itself raises OverflowError on these (int(inf) in its number input)."""
    at = open_page(query={key: value, **CONTEXT.get(key, {})})
    rule = ("a whole number of at least 0." if key in ("conv_row", "conv_col") else
            "a whole number from 1 to 16." if key.startswith("conv_pool") else
            "a whole number from 0 to 16." if key == "conv_dilation" else
            "a whole number from 0 to 64.")
    assert_dropped(at, key, value, rule)


@pytest.mark.parametrize("value", ["nan", "abc", "2.5", "-3", "65", ""])
def test_any_other_bad_number_is_named_too(value):
    """Streamlit drops or rounds these silently; the page says which was ignored."""
    at = open_page(query={"conv_stride": value})
    assert_dropped(at, "conv_stride", value, "a whole number from 0 to 64.")


def test_good_numbers_pass_and_a_warning_shows_once():
    at = open_page(query={"conv_stride": "2", "conv_row": "3.0", "conv_dilation": "1e400"})
    assert at.number_input(key="conv_stride").value == 2
    assert at.number_input(key="conv_row").value == 3
    assert len(warnings(at)) == 1 and "conv_dilation=1e400" in warnings(at)[0]
    at.number_input(key="conv_stride").set_value(3).run()
    assert not at.exception and not warnings(at)  # said once, on the run after the drop
    assert f"**output** {(N - 3) // 3 + 1} x" in sizes_line(at)


@requires_shared_data
def test_an_overflowing_test_image_number_is_dropped():
    at = open_page(query={"conv_source": "MNIST", "conv_index": "1e400"})
    assert not at.exception
    assert warnings(at) == ["The address's conv_index=1e400 was ignored: it takes a whole "
                            "number from 0 to 99."]
    assert at.number_input(key="conv_index").value == 0
    assert any(c.value.startswith("MNIST test image 0: a ") for c in at.caption)
    assert feature_map(at).shape == (28 - 2, 28 - 2)


# ---- kernel values: finite, and within kernels.MAX_VALUE -----------------------------------

@pytest.mark.parametrize("cell,message", [
    ("1e308", "'1e308', which is not between -1,000,000 and 1,000,000"),
    ("-1e308", "'-1e308', which is not between -1,000,000 and 1,000,000"),
    ("1e7", "'1e7', which is not between"),
    ("1e308/1e-10", "'1e308/1e-10', which is not a finite number"),
    ("1e400", "'1e400', which is not a finite number"),
    ("-inf", "'-inf', which is not a finite number"),
    ("nan", "'nan', which is not a finite number"),
])
def test_a_kernel_value_that_would_overflow_is_refused_with_a_sentence(cell, message):
    at = open_page(query={"conv_channels": "RGB", "conv_sample": "house", "conv_pool": "max",
                          "conv_relu": "true"})
    at.selectbox(key="conv_kernel").set_value("custom").run()
    _edit_custom(at, 3, {1: {"2": cell}})
    assert not at.exception
    (error,) = at.main.error
    assert error.value == (f"This custom kernel cannot be used. The cell in row 2, column 2 "
                           f"holds {message}" + error.value.split(message, 1)[1])
    assert error.value.endswith("Type a number in every cell (for example 2, -0.5 or 1/9).")
    assert nothing_computed(at)


def test_the_largest_kernel_values_give_finite_maps_everywhere():
    """1e6 in all 25 cells over R, G and B: 7.5e7 at most, finite in float32, pooled too."""
    at = open_page(query={"conv_channels": "RGB", "conv_sample": "house", "conv_pool": "max",
                          "conv_relu": "true"}, state={"conv_anim": True})
    at.selectbox(key="conv_kernel").set_value("custom").run()
    at.radio(key="conv_ksize").set_value(5).run()
    cells = {i: {str(j + 1): ("1e6" if (i + j) % 2 else "-1000000") for j in range(5)}
             for i in range(5)}
    _edit_custom(at, 5, cells)
    assert not at.exception and not at.error
    fmap = feature_map(at)
    assert np.isfinite(fmap).all() and np.abs(fmap).max() <= 75 * kernels.MAX_VALUE
    assert np.abs(matrix(at, "kernel")).max() == kernels.MAX_VALUE
    assert at.query_params["conv_custom"].startswith("-1e+06,1e+06")


@pytest.mark.parametrize("shared,why", [
    ("1e308,0,0;0,1,0;0,0,0", "'1e308', which is not between -1,000,000 and 1,000,000"),
    ("inf,0,0;0,1,0;0,0,0", "'inf', which is not a finite number"),
    ("1,2;x", "The kernel table must be a non-empty rectangle"),
])
def test_a_shared_kernel_that_cannot_be_used_is_ignored_with_a_warning(shared, why):
    at = open_page(query={"conv_kernel": "custom", "conv_custom": shared})
    assert not at.exception and not at.error
    (warning,) = at.sidebar.warning
    assert warning.value.startswith("The address's custom kernel (conv_custom) was ignored. ")
    assert why in warning.value
    assert at.data_editor[0].value.values.tolist() == [["0", "0", "0"], ["0", "1", "0"],
                                                       ["0", "0", "0"]]
    np.testing.assert_allclose(matrix(at, "kernel"), kernels.identity(3))


# ---- a stored model that does not take one image ---------------------------------------------

def test_the_trained_network_section_explains_a_model_it_cannot_show(tmp_path, monkeypatch):
    """Two image inputs, or an input without channels, both with conv layers: a sentence
    from reader.check_image_input, no traceback."""
    import json

    import keras
    from keras import layers

    a, b = keras.Input((16, 16, 1)), keras.Input((16, 16, 1))
    x = layers.Flatten()(layers.Conv2D(2, 3, name="c1")(layers.Concatenate()([a, b])))
    keras.Model([a, b], layers.Dense(2, activation="softmax")(x)).save(tmp_path / "pair.keras")
    flat = keras.Input((16, 16))
    x = layers.Flatten()(layers.Conv2D(2, 3, name="c1")(layers.Reshape((16, 16, 1))(flat)))
    keras.Model(flat, layers.Dense(2, activation="softmax")(x)).save(tmp_path / "flat.keras")
    for name in ("pair", "flat"):
        (tmp_path / f"{name}.json").write_text(json.dumps({"dataset": "mnist"}))
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(tmp_path))
    at = open_page(query={"conv_sample": "house"}, state={"conv_trained": True})
    expected = {"flat": "This model cannot be shown. The model takes input of shape 16x16, not "
                        "images (height x width x channels).",
                "pair": "This model cannot be shown. pair.keras has 2 inputs; CNN Studio explores models with one input image and one output, so use such a model."}
    for name in ("flat", "pair"):
        at.selectbox(key="conv_model").set_value(name).run()
        assert not at.exception and [e.value for e in at.error] == [expected[name]]


def test_an_upload_is_decoded_once_per_session(monkeypatch):
    import io

    from PIL import Image

    from cnnlib.data import images

    calls = []
    real = images.decode_image
    monkeypatch.setattr(images, "decode_image", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 50, 50)).save(buf, "PNG")
    at = open_page(query={"conv_source": "upload"})
    at.file_uploader(key="conv_upload").set_value(("photo.png", buf.getvalue(), "image/png")).run()
    at.number_input(key="conv_stride").set_value(2).run()
    at.number_input(key="conv_stride").set_value(3).run()
    assert not at.exception and not at.error and len(calls) == 1
    assert " x 256 →" in sizes_line(at)
