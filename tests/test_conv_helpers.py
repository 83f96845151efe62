"""The Convolution page's helpers: preset and custom kernels, sample pictures,
pictures and figures (the colour rule, the window, the inset, the animation
frames), the trained-network feature maps, and the benchmark's table rows."""

import base64
import io
import json
import re

import numpy as np
import plotly.graph_objects as go
import pytest

from cnnlib.conv import formulas, kernels, layer, window
from cnnlib.conv.arithmetic import conv2d
from cnnlib.data import samples
from cnnlib.explain import feature_maps
from cnnlib.network import inputs, reader
from cnnlib.viz import colour, pictures
from cnnlib.viz import figures_conv as figs
from cnnlib.viz.matrix_html import matrix_html


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
    from cnnlib.data import datasets

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
    e = window.explain_position(x, k, 1, 1)
    text = formulas.sum_text(e)
    terms, total = text.rsplit(" = ", 1)
    pairs = [t.split(" × ") for t in terms.split(" + ")]
    assert len(pairs) == 9
    values = [(float(a.strip("()")), float(b.strip("()"))) for a, b in pairs]
    assert sum(a * b for a, b in values) == pytest.approx(float(total)) == pytest.approx(e.total)
    rgb = np.random.default_rng(1).random((9, 9, 3), dtype=np.float32)
    big = window.explain_position(rgb, np.ones((5, 5, 3), np.float32), 2, 3)
    text = formulas.sum_text(big)  # 75 products: one partial sum per channel
    assert text.count("25 products") == 3
    partial = [float(p.split(" (")[0]) for p in text.rsplit(" = ", 1)[0].split(" + ")]
    assert sum(partial) == pytest.approx(big.total, abs=0.02)  # 4 significant digits each


def test_the_colour_rule_gray_for_non_negative_diverging_for_signed():
    assert colour.value_scale(np.array([[0.0, 0.5]]), white=1) == colour.Scale(False, 0.0, 1.0)  # input's white
    assert colour.value_scale(np.array([[0.0, 3.0]]), white=1) == colour.Scale(False, 0.0, 3.0)
    assert colour.value_scale(np.array([[0.0, 0.25]])) == colour.Scale(False, 0.0, 0.25)  # the max: white
    assert colour.value_scale(np.array([[-2.0, 0.5]])) == colour.Scale(True, -2.0, 2.0)
    assert colour.value_scale(np.zeros((2, 2)), white=0).zmax > 0  # never a zero-width range
    img = samples.sample("circles")  # identity: the map is drawn exactly as the input
    np.testing.assert_array_equal(colour.colourise(img, colour.value_scale(img, white=1)), colour.to_rgb8(img))
    signed = colour.colourise(np.array([[-1.0, 0.0, 1.0]]), colour.Scale(True, -1.0, 1.0))[0]
    assert signed[1].tolist() == [247, 247, 247]  # 0 is the near-white middle
    assert signed[0][2] > signed[0][0] and signed[2][0] > signed[2][2]  # blue below, red above
    stops = colour.plotly_colorscale(colour.Scale(True, -1.0, 1.0))
    assert stops[len(stops) // 2] == [0.5, "rgb(247,247,247)"]


def orange(pixels) -> np.ndarray:
    return np.all(pixels == colour.WINDOW_RGB, axis=-1)


def test_input_picture_frames_the_window_thick_and_insets_the_patch():
    img = samples.sample("circles")  # (128, 128)
    res = layer.compute_layer(img, kernels.preset("sobel x"), row=60, col=10)
    drawn, lay = pictures.input_picture(img, res.pads, res.explanation.window, res.explanation.patch)
    assert drawn.dtype == np.uint8 and drawn.shape == (128 * lay.scale + 2 * lay.margin,) * 2 + (3,)
    assert lay.scale * 128 >= 512 and lay.line >= 4 and lay.inset
    top, left, bottom, right = res.explanation.window.box
    y0, y1, x0, x1 = lay.y(top), lay.y(bottom + 1), lay.x(left), lay.x(right + 1)
    assert orange(drawn[y0 - 2, x0:x1]).all() and orange(drawn[y1 + 1, x0:x1]).all()  # just outside the box
    assert orange(drawn[y0:y1, x0 - 2]).all() and orange(drawn[y0:y1, x1 + 1]).all()
    under = colour.to_rgb8(img[top:bottom + 1, left:right + 1])  # the window's pixels stay visible
    np.testing.assert_array_equal(drawn[y0:y1, x0:x1],
                                  np.repeat(np.repeat(under, lay.scale, 0), lay.scale, 1))
    assert orange(drawn).sum() > 4 * lay.line * (x1 - x0)  # ... and the inset has its own frame
    right_half = orange(drawn[:, drawn.shape[1] // 2:]).sum()
    assert right_half > orange(drawn[:, :drawn.shape[1] // 2]).sum()  # far from a window on the left
    plain, lay0 = pictures.input_picture(img)
    assert not orange(plain).any() and not lay0.inset
    big = pictures.input_picture(img, window=window.kernel_window((128, 128), (40, 40), 0, 0),
                                patch=np.zeros((40, 40)))[1]
    assert not big.inset  # a large window needs no enlargement


def test_input_picture_draws_the_padding_as_zeros_and_dilated_taps():
    img = np.ones((10, 12), np.float32)
    res = layer.compute_layer(img, np.ones((3, 3), np.float32), padding=2, dilation=2, row=0, col=0)
    drawn, lay = pictures.input_picture(img, res.pads, res.explanation.window, res.explanation.patch)
    s = lay.scale
    assert drawn[lay.y(-2) + s // 2, lay.x(5) + s // 2].tolist() == [0, 0, 0]  # a padding zero is black
    assert drawn[lay.y(5) + s // 2, lay.x(5) + s // 2].tolist() == [255, 255, 255]  # the image
    assert np.all(drawn[lay.y(0) - 1, lay.x(3):lay.x(9)] == colour.PADDING_RGB, axis=-1).any()  # dashed edge
    centre = lambda r, c: drawn[lay.y(r) + s // 2, lay.x(c) + s // 2]  # noqa: E731
    assert orange(centre(0, 0)) and not orange(centre(-1, 0))  # a tap inside, a skipped pixel
    assert not orange(centre(-2, -2))  # a tap on the padding is hollow


def test_map_picture_frames_the_output_cell():
    fmap = np.random.default_rng(0).standard_normal((20, 30)).astype(np.float32)
    drawn, lay = pictures.map_picture(fmap, (4, 7))
    assert drawn.shape == (20 * lay.scale + 2 * lay.margin, 30 * lay.scale + 2 * lay.margin, 3)
    assert orange(drawn[lay.y(4) - 2, lay.x(7):lay.x(8)]).all()
    cell = drawn[lay.y(10) + lay.scale // 2, lay.x(20) + lay.scale // 2]
    want = colour.colourise(fmap, colour.value_scale(fmap, white=1))[10, 20]
    np.testing.assert_array_equal(cell, want)


def test_matrix_html_writes_each_number_on_its_colour():
    k = kernels.preset("sobel x")
    body = matrix_html(k, label="kernel")
    cells = re.findall(r'title="row (\d), column (\d): ([^"]+)" style="[^"]*'
                       r'background:rgb\((\d+),(\d+),(\d+)\)[^"]*color:(#\w+)">([^<]+)<', body)
    assert len(cells) == 9 and 'aria-label="kernel"' in body
    assert [float(c[7]) for c in cells] == k.ravel().tolist()  # reading order, numbers as text
    zero = cells[1]  # 0 in a signed kernel: near-white, dark text
    assert zero[3:6] == ("247", "247", "247") and zero[6] == "#111"
    assert cells[3][6] == "#fff"  # -2: dark blue, light text
    blur = matrix_html(kernels.preset("box blur 3x3"))
    assert blur.count(">0.111<") == 9  # all equal and >= 0: white (their max)
    assert blur.count("rgb(255,255,255)") == 9
    assert "font-size:0.85em" in matrix_html(np.zeros((5, 5)))


def test_layer_sizes_and_animation_positions():
    assert layer.layer_sizes((28, 30), (3, 3), 2, "same") == ((0, 1, 0, 1), (14, 15))
    with pytest.raises(ValueError, match="at least 1"):
        layer.layer_sizes((28, 28), (3, 3), 0)
    assert layer.animation_positions((2, 3), 1, 10) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    row = layer.animation_positions((50, 60), 7, 24)
    assert len(row) == 24 and row[0] == (7, 0) and row[-1] == (7, 59) and {r for r, _ in row} == {7}


def png(uri: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def test_figures_show_the_data_they_are_given():
    img = samples.sample("house")
    res = layer.compute_layer(img, np.repeat(kernels.preset("sharpen")[..., None], 3, 2),
                                     padding="same", stride=2, pool_mode="max", row=5, col=7)
    positions = [(0, c) for c in range(res.feature_map.shape[1])]
    windows = [window.kernel_window(img.shape[:2], (3, 3), r, c, 2, "same") for r, c in positions]
    anim = figs.sliding_figure(img, res.feature_map, windows, positions, res.pads)
    anim = go.Figure(anim.to_dict())  # built unvalidated: it must pass Plotly's validation
    assert len(anim.frames) == len(positions) == len(anim.layout.sliders[0].steps)
    top, bottom, left, right = res.pads
    for k, frame in enumerate(anim.frames):  # every frame carries both pictures, whichever is shown
        image, so_far = frame.layout.images
        outline, cell = frame.data
        assert frame.traces == (0, 1) and outline.type == cell.type == "scatter"
        assert (image.xref, image.yref, so_far.xref, so_far.yref) == ("x", "y", "x2", "y2")
        assert (image.x, image.y, image.sizex) == (-left - 0.5, -top - 0.5, 128 + left + right)
        assert (so_far.sizex, so_far.sizey) == res.feature_map.shape[::-1]
        if k in (0, len(positions) - 1):
            padded = png(image.source)
            assert padded.shape == (128 + top + bottom, 128 + left + right, 3)
            np.testing.assert_array_equal(padded[top:top + 128, left:left + 128], colour.to_rgb8(img))
            alpha = png(so_far.source)[..., 3]
            assert (alpha > 0).sum() == k + 1 and alpha[0, k] == 255  # filled up to this position
        assert max(outline.x) == windows[k].box[3] + 0.5 and (min(cell.x), min(cell.y)) == (k - 0.5, -0.5)
    assert anim.layout.images == anim.frames[0].layout.images  # the first frame, before any play
    steps = anim.layout.sliders[0].steps
    assert all(step.args[1]["frame"]["redraw"] for step in steps)  # pictures redrawn on every step
    play, pause = anim.layout.updatemenus[0].buttons
    assert play.args[1]["frame"]["redraw"] and pause.args[1]["frame"]["redraw"]
    assert figs.MIN_FRAMES <= figs.frame_budget(img, res.feature_map) <= figs.MAX_FRAMES
    noisy = np.random.default_rng(0).random((256, 256, 3)).astype(np.float32)
    assert figs.frame_budget(noisy, noisy[..., 0]) < figs.MAX_FRAMES  # a photo: fewer, heavier frames
    pool = figs.pooling_figure(res.feature_map, res.pooled, res.winners, "max")
    veil = np.asarray(pool.data[2].z)  # clear (NaN) exactly on the winners
    clear = np.zeros(res.feature_map.shape, bool)
    clear[res.winners[..., 0], res.winners[..., 1]] = True
    np.testing.assert_array_equal(np.isnan(veil), clear)
    assert len(pool.data) == 3  # 32 x 32 windows: too many for crosses
    json.loads(pool.to_json())  # serialisable for st.plotly_chart
    relu = figs.pooling_figure(np.abs(res.feature_map), res.pooled, None, "avg")
    assert relu.data[0].colorscale[0][1] == "rgb(0,0,0)"  # non-negative: gray from black


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
    assert [layer.name for layer in reader.conv_layers(model)] == ["conv1", "conv2"]
    learned = feature_maps.first_layer_kernels(model)
    np.testing.assert_array_equal(learned, np.asarray(model.get_layer("conv1").kernel))
    img = samples.sample("house", 24)  # RGB and twice the size: grayscale and resized
    maps = feature_maps.feature_maps(model, img)
    assert [(n, m.shape) for n, m in maps] == [("conv1", (10, 10, 4)), ("conv2", (5, 5, 6))]
    x = inputs.prepare_image(img, (12, 12, 1))
    assert x.shape == (1, 12, 12, 1) and 0 <= x.min() and x.max() <= 1
    # the first layer's maps are our own conv2d of the prepared image, plus bias, then ReLU
    bias = np.asarray(model.get_layer("conv1").bias)
    ours = np.maximum(conv2d(x[0], learned) + bias, 0)
    np.testing.assert_allclose(maps[0][1], ours, rtol=1e-4, atol=1e-5)
    assert inputs.prepare_image(samples.sample("circles", 16), (12, 12, 3)).shape == (1, 12, 12, 3)


def test_model_without_convolutions_is_explained(tiny_conv_model):
    keras = pytest.importorskip("keras")
    dense = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="no convolutional layer"):
        feature_maps.first_layer_kernels(dense)


def test_feature_maps_are_taken_after_batch_norm_and_activation():
    """A conv with separate BN and ReLU layers (studio_cnn, the 002 mnist_cnn) shows its
    rectified maps: no negative value, and the block's last layer is found."""
    import keras

    from cnnlib.models import zoo

    model = zoo.build("mnist_cnn", (28, 28, 1), 10)
    blocks = [(c.name, last.name) for c, last in reader.conv_blocks(model)]
    assert blocks == [("conv1", "relu1"), ("conv2", "relu2")]
    img = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    maps = feature_maps.feature_maps(model, img)
    assert [name for name, _ in maps] == ["conv1", "conv2"]
    assert all(m.min() >= 0 for _, m in maps)  # after the ReLU
    raw = keras.Model(model.inputs[0], model.get_layer("conv1").output)(img[None, ..., None])
    assert np.asarray(raw).min() < 0  # the conv output alone has negative values
