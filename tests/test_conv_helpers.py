"""The Convolution page's helpers: preset and custom kernels, sample pictures,
figures, the trained-network feature maps, and the benchmark's table rows."""

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from cnnlib import conv_explain, feature_maps, kernels, samples
from cnnlib import figures_conv as figs
from cnnlib.convolution import conv2d


def test_presets_are_square_finite_and_blurs_keep_brightness():
    for name in kernels.names():
        k = kernels.preset(name)
        assert k.dtype == np.float32 and k.shape[0] == k.shape[1] in (3, 5), name
        assert np.all(np.isfinite(k)) and kernels.PRESETS[name].description
    for name in ("identity", "box blur 3x3", "box blur 5x5", "gaussian blur 3x3", "gaussian blur 5x5"):
        assert kernels.preset(name).sum() == pytest.approx(1.0, abs=1e-6), name
    for name in ("laplacian", "sobel x", "sobel y"):
        assert kernels.preset(name).sum() == pytest.approx(0.0, abs=1e-6), name
    kernels.preset("sobel x")[0, 0] = 99  # a copy: the preset itself is unchanged
    assert kernels.preset("sobel x")[0, 0] == -1
    with pytest.raises(ValueError, match="name='nope'"):
        kernels.preset("nope")


def test_edge_detectors_respond_as_described():
    ramp = np.tile(np.arange(8, dtype=np.float32), (8, 1))  # brighter to the right
    assert np.all(conv2d(ramp, kernels.preset("sobel x")) > 0)
    np.testing.assert_allclose(conv2d(ramp, kernels.preset("sobel y")), 0)
    np.testing.assert_allclose(conv2d(ramp, kernels.preset("laplacian")), 0)  # zero on a ramp
    np.testing.assert_allclose(conv2d(ramp.T, kernels.preset("sobel y")), 8)  # 1 + 2 + 1, twice


def test_parse_kernel_accepts_numbers_and_fractions():
    k = kernels.parse_kernel([["1/9", " -0.5 ", 2], ["1e-1", "0", "3"], [0, "+4", "-1/4"]])
    np.testing.assert_allclose(k, [[1 / 9, -0.5, 2], [0.1, 0, 3], [0, 4, -0.25]], rtol=1e-6)
    assert k.dtype == np.float32


@pytest.mark.parametrize("cell,message", [
    ("", "row 2, column 3 is empty"),
    (None, "row 2, column 3 is empty"),
    (float("nan"), "row 2, column 3 is empty"),
    ("abc", "row 2, column 3 holds 'abc', which is not a number"),
    ("1/0", "which is not a number"),
    ("inf", "not a finite number"),
    ("1,5", "'1,5', which is not a number"),
])
def test_parse_kernel_names_the_bad_cell(cell, message):
    cells = [["0"] * 3 for _ in range(3)]
    cells[1][2] = cell
    with pytest.raises(ValueError, match=message):
        kernels.parse_kernel(cells)


@pytest.mark.parametrize("text", [None, "", "   ", "\t"])
def test_an_empty_cell_is_its_own_exception_type(text):
    with pytest.raises(kernels.EmptyCellError):
        kernels.parse_number(text)


@pytest.mark.parametrize("text", ["empty", "abc", "1/0", "nan"])
def test_a_bad_number_is_not_an_empty_cell(text):
    with pytest.raises(ValueError) as err:
        kernels.parse_number(text)
    assert not isinstance(err.value, kernels.EmptyCellError)
    with pytest.raises(ValueError, match="row 1, column 2 holds"):
        kernels.parse_kernel([["0", text]])


def test_parse_kernel_reads_a_dataframe_and_refuses_ragged_tables():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame([["1", "2"], ["3", None]], columns=["1", "2"])
    with pytest.raises(ValueError, match="row 2, column 2 is empty"):
        kernels.parse_kernel(df)
    with pytest.raises(ValueError, match="rectangle"):
        kernels.parse_kernel([["1", "2"], ["3"]])


def test_custom_kernel_url_round_trip():
    k = np.array([[0, -1 / 3, 0], [1.5, -4, 1e-3], [0, 2, 0]], dtype=np.float32)
    text = kernels.to_param(k)
    assert " " not in text and text.count(";") == 2
    np.testing.assert_allclose(kernels.from_param(text), k, rtol=1e-5)
    for bad in ("1,2;3,4", "1,2,3;4,5,6", "a,b,c;1,2,3;1,2,3", ""):
        with pytest.raises(ValueError):
            kernels.from_param(bad)


def test_samples_are_float_images_in_unit_range():
    for name in samples.names():
        img = samples.sample(name)
        assert img.dtype == np.float32 and img.shape[:2] == (samples.SIZE, samples.SIZE), name
        assert img.ndim == 2 or img.shape[2] == 3
        assert 0 <= img.min() and img.max() <= 1 and img.std() > 0.05, name  # not blank
        assert not img.flags.writeable  # cached: callers must not change it
        assert samples.DESCRIPTIONS[name]
    assert samples.sample("circles", 32).shape == (32, 32)
    with pytest.raises(ValueError, match="name='x'"):
        samples.sample("x")


def test_dataset_images_are_scaled_by_the_one_to_float():
    from cnnlib import datasets

    rng = np.random.default_rng(0)
    gray, rgb = (rng.integers(0, 256, shape, dtype=np.uint8) for shape in ((3, 4, 1), (3, 4, 3)))
    np.testing.assert_array_equal(samples.from_dataset_image(gray), datasets.to_float(gray)[..., 0])
    np.testing.assert_array_equal(samples.from_dataset_image(rgb), datasets.to_float(rgb))
    assert samples.from_dataset_image(gray).dtype == np.float32
    np.testing.assert_allclose(samples.from_dataset_image(np.full((3, 3, 3), 51, np.uint8)), 0.2)
    assert not hasattr(samples, "from_uint8")  # the twin of datasets.to_float is gone


def test_sum_text_writes_out_the_products():
    x = np.arange(16, dtype=np.float32).reshape(4, 4)
    k = kernels.preset("sobel x")
    e = conv_explain.explain_position(x, k, 1, 1)
    text = conv_explain.sum_text(e)
    terms, total = text.rsplit(" = ", 1)
    pairs = [t.split(" × ") for t in terms.split(" + ")]
    assert len(pairs) == 9
    values = [(float(a.strip("()")), float(b.strip("()"))) for a, b in pairs]
    assert sum(a * b for a, b in values) == pytest.approx(float(total)) == pytest.approx(e.total)
    rgb = np.random.default_rng(1).random((9, 9, 3), dtype=np.float32)
    big = conv_explain.explain_position(rgb, np.ones((5, 5, 3), np.float32), 2, 3)
    text = conv_explain.sum_text(big)  # 75 products: one partial sum per channel
    assert text.count("25 products") == 3
    partial = [float(p.split(" (")[0]) for p in text.rsplit(" = ", 1)[0].split(" + ")]
    assert sum(partial) == pytest.approx(big.total, abs=0.02)  # 4 significant digits each


def test_figures_show_the_data_they_are_given():
    img = samples.sample("house")
    res = conv_explain.compute_layer(img, np.repeat(kernels.preset("sharpen")[..., None], 3, 2),
                                     padding="same", stride=2, pool_mode="max", row=5, col=7)
    fig = figs.input_figure(img, res.pads, res.explanation.field)
    top, left, bottom, right = res.explanation.field.box
    (outline,) = [t for t in fig.data if t.name == "receptive field"]
    assert (min(outline.x), max(outline.x), min(outline.y), max(outline.y)) == (
        left - 0.5, right + 0.5, top - 0.5, bottom + 0.5)
    assert [t.name for t in fig.data].count("padding") == (1 if any(res.pads) else 0)
    fmap = figs.feature_map_figure(res.feature_map, cell=(5, 7))
    assert fmap.data[0].zmid == 0 and fmap.data[0].zmin == -fmap.data[0].zmax
    np.testing.assert_array_equal(np.asarray(fmap.data[0].z), res.feature_map)
    positions = [(0, c) for c in range(res.feature_map.shape[1])]
    fields = [conv_explain.receptive_field(img.shape[:2], (3, 3), r, c, 2, "same") for r, c in positions]
    anim = figs.sliding_figure(img, res.feature_map, fields, positions, res.pads)
    anim = go.Figure(anim.to_dict())  # built unvalidated: it must pass Plotly's validation
    assert len(anim.frames) == len(positions) == len(anim.layout.sliders[0].steps)
    last = anim.frames[-1].data[0]  # the window of the last position
    assert max(last.x) == fields[-1].box[3] + 0.5
    pool = figs.pooling_figure(res.feature_map, res.pooled, res.winners, "max")
    veil = np.asarray(pool.data[2].z)  # clear (NaN) exactly on the winners
    clear = np.zeros(res.feature_map.shape, bool)
    clear[res.winners[..., 0], res.winners[..., 1]] = True
    np.testing.assert_array_equal(np.isnan(veil), clear)
    assert len(pool.data) == 3  # 32 x 32 windows: too many for crosses
    json.loads(pool.to_json())  # serialisable for st.plotly_chart


def test_kernel_and_map_grids():
    k = np.random.default_rng(0).standard_normal((3, 3, 3, 40)).astype(np.float32)
    assert len(figs.kernel_grid(k, max_filters=32).data) == 32
    assert len(figs.kernel_grid(k[:, :, :1, :5]).data) == 5
    assert len(figs.maps_grid(np.zeros((6, 6, 20)), "x", max_maps=16).data) == 16


@pytest.fixture(scope="module")
def tiny_conv_model():
    keras = pytest.importorskip("keras")
    inp = keras.Input((12, 12, 1), name="image")
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv1")(inp)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Conv2D(6, 3, padding="same", name="conv2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    out = keras.layers.Dense(3, activation="softmax", name="softmax")(x)
    return keras.Model(inp, out, name="tiny")


def test_feature_maps_of_a_model(tiny_conv_model):
    model = tiny_conv_model
    assert [layer.name for layer in feature_maps.conv_layers(model)] == ["conv1", "conv2"]
    learned = feature_maps.first_layer_kernels(model)
    np.testing.assert_array_equal(learned, np.asarray(model.get_layer("conv1").kernel))
    img = samples.sample("house", 24)  # RGB and twice the size: grayscale and resized
    maps = feature_maps.feature_maps(model, img)
    assert [(n, m.shape) for n, m in maps] == [("conv1", (10, 10, 4)), ("conv2", (5, 5, 6))]
    x = feature_maps.prepare_image(img, (12, 12, 1))
    assert x.shape == (1, 12, 12, 1) and 0 <= x.min() and x.max() <= 1
    # the first layer's maps are our own conv2d of the prepared image, plus bias, then ReLU
    bias = np.asarray(model.get_layer("conv1").bias)
    ours = np.maximum(conv2d(x[0], learned) + bias, 0)
    np.testing.assert_allclose(maps[0][1], ours, rtol=1e-4, atol=1e-5)
    assert feature_maps.prepare_image(samples.sample("circles", 16), (12, 12, 3)).shape == (1, 12, 12, 3)


def test_model_without_convolutions_is_explained(tiny_conv_model):
    keras = pytest.importorskip("keras")
    dense = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="no convolutional layer"):
        feature_maps.first_layer_kernels(dense)


def test_feature_maps_are_taken_after_batch_norm_and_activation():
    """A conv with separate BN and ReLU layers (studio_cnn, the 002 mnist_cnn) shows its
    rectified maps: no negative value, and the block's last layer is found."""
    import keras

    from cnnlib import zoo

    model = zoo.build("mnist_cnn", (28, 28, 1), 10)
    blocks = [(c.name, last.name) for c, last in feature_maps.conv_blocks(model)]
    assert blocks == [("conv1", "relu1"), ("conv2", "relu2")]
    img = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    maps = feature_maps.feature_maps(model, img)
    assert [name for name, _ in maps] == ["conv1", "conv2"]
    assert all(m.min() >= 0 for _, m in maps)  # after the ReLU
    raw = keras.Model(model.inputs[0], model.get_layer("conv1").output)(img[None, ..., None])
    assert np.asarray(raw).min() < 0  # the conv output alone has negative values
