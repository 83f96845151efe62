"""AppTest of the Convolution page: shapes and formula follow the widgets,
invalid settings and bad custom kernels are explained where the figures go,
the colours follow the value signs, the URL carries the settings, and
TensorFlow stays unloaded until the trained-network section opens."""

import base64
import io
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from pages.common import LAST_DIGIT_KEY

# Not `from conftest import ...`: tests/browser/conftest.py can shadow that module name.
REPO = Path(__file__).resolve().parent.parent
requires_shared_data = pytest.mark.skipif(
    not (REPO.parent / "shared" / "datasets" / "mnist.npz").exists(), reason="real data not found")

PAGE = "pages/convolution.py"
N = 128  # side of the sample pictures (cnnlib.data.samples.SIZE)


def open_page(query: dict | None = None, state: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    for key, value in (query or {}).items():
        at.query_params[key] = value
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def charts(at) -> dict:
    """Plotly figures on the page by title (subplots: by their first subplot title)."""
    out = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        title = spec["layout"].get("title", {}).get("text") or \
            (spec["layout"].get("annotations") or [{}])[0].get("text", "")
        out[title] = spec
    return out


def chart(at, key: str) -> dict:
    """The Plotly figure of the chart with widget key ``key``."""
    (spec,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.key == key]
    return spec


def arr(value) -> np.ndarray:
    """A Plotly JSON array: a list, or Plotly's typed array {dtype, bdata, shape}."""
    if isinstance(value, dict) and "bdata" in value:
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return out.reshape([int(v) for v in value["shape"].split(",")]) if "shape" in value else out
    return np.asarray(value)


def map_data(at) -> dict:
    """What the clickable feature map was given (its picture, geometry, values, colour bar)."""
    (el,) = [e for e in at.get("bidi_component") if e.proto.id.endswith("-conv_fig_map")]
    return json.loads(el.proto.json)


def feature_map(at) -> np.ndarray:
    """The feature map's values, float32 (O_h, O_w), as the page sent them."""
    d = map_data(at)
    return np.frombuffer(base64.b64decode(d["values"]), "<f4").reshape(d["mh"], d["mw"])


def png(uri: str) -> np.ndarray:
    """The pixels of a PNG data URI."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def matrix(at, label: str) -> np.ndarray:
    """A matrix drawn as HTML (kernel, patch, products), from its cells' titles."""
    (body,) = [h.proto.body for h in at.get("html") if f'aria-label="{label}' in h.proto.body]
    cells = [(int(i), int(j), float(v)) for i, j, v in
             re.findall(r'title="row (\d+), column (\d+): ([^"]+)"', body)]
    out = np.zeros((max(c[0] for c in cells), max(c[1] for c in cells)))
    for i, j, v in cells:
        out[i - 1, j - 1] = v
    return out


def nothing_computed(at) -> bool:
    """No chart, feature map or kernel drawn in the main area (the app's own style sheet
    does not count)."""
    drawn_html = [h for h in at.main.get("html") if not h.proto.body.lstrip().startswith("<style>")]
    return not at.main.get("plotly_chart") and not at.main.get("bidi_component") and not drawn_html


def plugged(at) -> list[str]:
    """The formula with the numbers plugged in, for the height then the width."""
    lines = [ltx.value.strip().strip("$").strip() for ltx in at.latex]
    assert lines[0].startswith("O = ")  # the formula in symbols comes first
    return [line for line in lines if line.startswith(("O_h", "O_w"))]


def sizes_line(at) -> str:
    (line,) = [m.value for m in at.markdown if m.value.startswith("**Input**")]
    return line


def expected(n, k, s, padding, d=1):
    """Padded length and output length by hand (TensorFlow's rules)."""
    if padding == "same":
        out = math.ceil(n / s)
        return n + max((out - 1) * s + d * (k - 1) + 1 - n, 0), out
    p = 0 if padding == "valid" else padding
    return n + 2 * p, (n + 2 * p - d * (k - 1) - 1) // s + 1


def test_defaults_show_shapes_formula_and_maps():
    at = open_page()
    assert at.title[0].value == "Convolution" and not at.error
    padded, out = expected(N, 3, 1, "valid")
    assert [line.count(rf"\frac{{{N} + 0 + 0 - 1 \cdot (3 - 1) - 1}}{{1}}") for line in plugged(at)] == [1, 1]
    assert all(line.endswith(f"= {out}") for line in plugged(at))
    assert f"**padded input** {padded} x {padded}" in sizes_line(at)
    assert f"**output** {out} x {out}" in sizes_line(at)
    assert feature_map(at).shape == (out, out)
    assert at.selectbox(key="conv_kernel").value == "identity"
    assert "**Input image** 128 x 128" in [m.value for m in at.markdown]
    assert matrix(at, "kernel").tolist() == [[0, 0, 0], [0, 1, 0], [0, 0, 0]]


@pytest.mark.parametrize("stride,padding_mode,pad", [
    (2, "valid", None), (3, "same", None), (2, "same", None), (1, "number", 2), (4, "number", 3),
])
def test_stride_and_padding_change_shapes_and_formula(stride, padding_mode, pad):
    at = open_page(query={"conv_kernel": "box blur 5x5"})
    at.number_input(key="conv_stride").set_value(stride)
    at.selectbox(key="conv_padding").set_value(padding_mode).run()
    if pad is not None:  # enabled once the padding is "number"
        at.number_input(key="conv_pad").set_value(pad).run()
    assert not at.exception and not at.error
    padding = pad if padding_mode == "number" else padding_mode
    padded, out = expected(N, 5, stride, padding)
    assert f"**padded input** {padded} x {padded}" in sizes_line(at)
    assert f"**output** {out} x {out}" in sizes_line(at)
    before = (padded - N) // 2  # the odd zero goes after (bottom/right)
    for line in plugged(at):
        assert rf"\frac{{{N} + {before} + {padded - N - before} - 1 \cdot (5 - 1) - 1}}{{{stride}}}" in line
        assert line.endswith(f"= {out}")
    assert feature_map(at).shape == (out, out)
    lost = (padded - 5) % stride
    notes = [i.value for i in at.info if "never fall under the" in i.value]
    assert len(notes) == (1 if lost else 0)
    if lost:
        assert f"the last {lost} row" in notes[0] and f"the last {lost} column" in notes[0]


def test_invalid_stride_is_explained_instead_of_computed():
    at = open_page()
    at.number_input(key="conv_stride").set_value(0).run()
    assert not at.exception
    (error,) = at.error
    assert "stride" in error.value and "at least 1" in error.value and "moves" in error.value
    assert not at.latex and nothing_computed(at)  # explained, not computed
    at.number_input(key="conv_stride").set_value(1).run()  # and it recovers
    assert not at.error and at.latex


def test_invalid_dilation_is_explained():
    at = open_page()
    at.number_input(key="conv_dilation").set_value(0).run()
    assert "dilation" in at.error[0].value and "at least 1" in at.error[0].value


@requires_shared_data
def test_mnist_digit_and_a_dilation_too_large_for_it():
    at = open_page(query={"conv_source": "MNIST", "conv_index": "3"})
    assert "**Input** 28 x 28 →" in sizes_line(at)
    assert any(c.value.startswith("MNIST test image 3: a ") for c in at.caption)
    at.number_input(key="conv_dilation").set_value(14).run()  # 14 * (3 - 1) + 1 = 29 > 28
    assert "does not fit" in at.error[0].value and "dilation=14" in at.error[0].value
    assert nothing_computed(at)


def _edit_custom(at, size, edits):
    at.session_state[f"conv_custom_{size}"] = {"edited_rows": edits, "added_rows": [], "deleted_rows": []}
    return at.run()


@pytest.mark.parametrize("cell,message", [
    ("", "row 2, column 3 is empty"),
    (None, "row 2, column 3 is empty"),
    ("abc", "'abc', which is not a number"),
    ("2..5", "which is not a number"),
])
def test_custom_kernel_with_a_bad_cell_is_refused(cell, message):
    at = open_page()
    at.selectbox(key="conv_kernel").set_value("custom").run()
    assert not at.error and at.data_editor  # the identity to start with
    _edit_custom(at, 3, {1: {"3": cell}})
    assert not at.exception
    (error,) = at.main.error  # where the kernel goes, not only in the sidebar
    assert not at.sidebar.error
    assert "custom kernel cannot be used" in error.value and message in error.value
    assert any("appears once every cell" in i.value for i in at.main.info)
    assert at.get("image")  # the input is still shown
    assert nothing_computed(at)  # nothing computed from it
    _edit_custom(at, 3, {1: {"3": "2"}})  # and it recovers
    assert not at.error and feature_map(at).shape == (N - 2, N - 2)


def test_custom_kernel_is_used_and_shared_in_the_url():
    at = open_page()
    at.selectbox(key="conv_kernel").set_value("custom").run()
    at.radio(key="conv_ksize").set_value(5).run()
    _edit_custom(at, 5, {0: {"1": "1/4", "5": "-2"}, 4: {"3": "0.5"}})
    assert not at.error
    kernel = matrix(at, "kernel")
    want = np.zeros((5, 5))
    want[0, 0], want[0, 4], want[4, 2], want[2, 2] = 0.25, -2, 0.5, 1
    np.testing.assert_allclose(kernel, want)
    assert at.query_params["conv_custom"] == "0.25,0,0,0,-2;0,0,0,0,0;0,0,1,0,0;0,0,0,0,0;0,0,0.5,0,0"
    padded, out = expected(N, 5, 1, "valid")
    assert f"**output** {out} x {out}" in sizes_line(at)


def test_a_shared_link_opens_on_its_setting():
    at = open_page(query={"conv_kernel": "sobel y", "conv_stride": "3", "conv_padding": "same",
                          "conv_sample": "house", "conv_channels": "RGB", "conv_pool": "max",
                          "conv_row": "7", "conv_col": "40"})
    assert at.selectbox(key="conv_kernel").value == "sobel y"
    assert at.number_input(key="conv_stride").value == 3
    assert at.radio(key="conv_channels").value == "RGB"
    out = math.ceil(N / 3)
    line = sizes_line(at)
    assert f"**Input** {N} x {N} x 3" in line and f"**output** {out} x {out}" in line
    assert "kernel 3 x 3 x 3" in line
    pool_line = [m.value for m in at.markdown if "windows, stride" in m.value][0]
    assert f"{out} x {out} → {out // 2} x {out // 2}" in pool_line
    assert any(m.value.startswith("Output (7, 40) reads input rows") for m in at.markdown)
    assert [t.label for t in at.tabs] == ["channel R", "channel G", "channel B"]


def test_a_shared_custom_kernel_seeds_the_table():
    at = open_page(query={"conv_kernel": "custom", "conv_custom": "0,1,0;1,-4,1;0,1,0"})
    table = at.data_editor[0].value
    assert table.values.tolist() == [["0", "1", "0"], ["1", "-4", "1"], ["0", "1", "0"]]
    assert not at.error
    broken = open_page(query={"conv_kernel": "custom", "conv_custom": "1,2;x"})
    assert broken.data_editor[0].value.values.tolist() == [["0", "0", "0"], ["0", "1", "0"], ["0", "0", "0"]]


def test_one_position_is_written_out():
    at = open_page(query={"conv_sample": "gradient", "conv_kernel": "sobel x", "conv_stride": "2",
                          "conv_padding": "number", "conv_pad": "1"})
    at.number_input(key="conv_row").set_value(0)
    at.number_input(key="conv_col").set_value(10)
    at.run()
    reads = [m.value for m in at.markdown if m.value.startswith("Output (0, 10)")][0]
    # row 0 * stride 2 - 1 padding = -1 .. 1; column 10 * 2 - 1 = 19 .. 21
    assert "rows -1..1 and columns 19..21" in reads and "zero padding" in reads
    total_line = [m.value for m in at.markdown if m.value.startswith("**Sum of the products:**")][0]
    terms = total_line.split(":** ")[1]
    assert terms.count("×") == 9
    fmap = feature_map(at)
    assert float(terms.rsplit("= ", 1)[1]) == pytest.approx(fmap[0, 10], rel=1e-3, abs=1e-3)
    products = matrix(at, "= products")
    assert np.all(products[0] == 0)  # the top row of taps reads the zero padding
    assert "output (0, 10) framed" in map_data(at)["alt"]
    assert any("window of output (0, 10)" in c.value for c in at.caption)


def test_relu_and_pooling_side_by_side():
    at = open_page(query={"conv_kernel": "laplacian", "conv_sample": "circles"})
    assert feature_map(at).min() < 0
    at.toggle(key="conv_relu").set_value(True)
    at.selectbox(key="conv_pool").set_value("max").run()
    at.number_input(key="conv_pool_size").set_value(3)
    at.number_input(key="conv_pool_stride").set_value(2)
    at.run()
    fmap = feature_map(at)
    assert f"**Feature map** {N - 2} x {N - 2} after ReLU" in [m.value for m in at.markdown]
    assert fmap.min() >= 0
    out = N - 2
    pooled = (out - 3) // 2 + 1
    pool = chart(at, "conv_fig_pool")
    titles = [a["text"] for a in pool["layout"]["annotations"]]
    assert titles == [f"Before: {out} x {out}", f"After max pooling: {pooled} x {pooled}"]
    before, after = arr(pool["data"][0]["z"]), arr(pool["data"][1]["z"])
    np.testing.assert_allclose(before, fmap)
    assert after.shape == (pooled, pooled)
    veil = arr(pool["data"][2]["z"])  # NaN (clear) on each window's winner
    winners = np.isnan(veil)
    assert 0 < winners.sum() <= pooled * pooled
    assert set(np.unique(after)) <= set(np.unique(before[winners]))
    at.selectbox(key="conv_pool").set_value("average").run()
    assert len(chart(at, "conv_fig_pool")["data"]) == 2  # no winners for an average


def test_small_max_pooling_marks_each_winner():
    digit = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    at = open_page(query={"conv_source": "drawn digit", "conv_pool": "max"},
                   state={LAST_DIGIT_KEY: digit})
    pool = chart(at, "conv_fig_pool")
    crosses = pool["data"][3]
    xs, ys = arr(crosses["x"]), arr(crosses["y"])
    assert len(xs) == (26 // 2) ** 2
    before, after = arr(pool["data"][0]["z"]), arr(pool["data"][1]["z"])
    np.testing.assert_allclose(before[ys, xs], after.ravel())
    assert np.all(ys // 2 == np.repeat(np.arange(13), 13)) and np.all(xs // 2 == np.tile(np.arange(13), 13))


def test_a_pool_larger_than_the_map_is_explained():
    at = open_page(query={"conv_source": "drawn digit", "conv_pool": "max"},
                   state={LAST_DIGIT_KEY: np.ones((28, 28), np.float32) * 0.5})
    at.number_input(key="conv_dilation").set_value(13).run()  # 28 - 26 = 2: a 2 x 2 map
    at.number_input(key="conv_pool_size").set_value(3).run()
    assert "Pooling cannot run on the 2 x 2 feature map" in at.error[0].value


def test_the_digit_drawn_on_classify_is_offered():
    digit = np.zeros((28, 28), np.float32)
    digit[5:23, 12:16] = 1.0
    at = open_page(query={"conv_source": "drawn digit"}, state={LAST_DIGIT_KEY: digit})
    assert "**Input** 28 x 28 →" in sizes_line(at)
    assert "**Input image** 28 x 28" in [m.value for m in at.markdown]
    np.testing.assert_array_equal(feature_map(at), digit[1:-1, 1:-1])  # the identity kernel copies it
    none = open_page(query={"conv_source": "drawn digit"})
    assert any("No digit drawn yet" in i.value for i in none.info)
    assert f"**Input** {N} x {N}" in sizes_line(none)


def test_an_uploaded_picture_is_shrunk_and_a_bad_one_refused():
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8)).save(buf, "PNG")
    at = open_page(query={"conv_source": "upload"})
    at.file_uploader(key="conv_upload").set_value(("photo.png", buf.getvalue(), "image/png")).run()
    assert not at.error
    height = int(sizes_line(at).split("**Input** ")[1].split(" x ")[0])
    assert " x 256 →" in sizes_line(at) and abs(height - 200 * 256 / 300) <= 1  # grayscale first
    at.radio(key="conv_channels").set_value("RGB").run()
    assert " x 256 x 3 →" in sizes_line(at)
    at.file_uploader(key="conv_upload").set_value(("notes.png", b"not a picture", "image/png")).run()
    assert "not an image" in at.error[0].value


def test_the_animation_slides_with_the_stride_and_every_frame_carries_the_pictures():
    at = open_page(query={"conv_stride": "2", "conv_kernel": "sobel x"}, state={"conv_anim": True})
    spec = chart(at, "conv_fig_anim")
    out = (N - 3) // 2 + 1
    assert len(spec["frames"]) == out  # one output row: out * out > 200 frames
    xs = [arr(f["data"][0]["x"]).min() for f in spec["frames"][:3]]
    assert np.diff(xs).tolist() == [2.0, 2.0]  # the window moves by the stride
    fmap = feature_map(at)
    for k, frame in enumerate(spec["frames"]):
        assert frame["traces"] == [0, 1]
        image, so_far = frame["layout"]["images"]  # the pictures, in every frame
        window, cell = frame["data"]
        assert png(image["source"]).shape[:2] == (N, N) and so_far["xref"] == "x2"
        assert window["type"] == cell["type"] == "scatter"
        if k in (0, out - 1):
            alpha = png(so_far["source"])[..., 3]
            assert alpha.shape == fmap.shape and (alpha > 0).sum() == k + 1  # row 0 fills in
    small = open_page(query={"conv_source": "drawn digit", "conv_stride": "3"},
                      state={"conv_anim": True, LAST_DIGIT_KEY: np.zeros((28, 28), np.float32)})
    frames = chart(small, "conv_fig_anim")["frames"]
    assert len(frames) == ((28 - 3) // 3 + 1) ** 2
    assert (png(frames[-1]["layout"]["images"][1]["source"])[..., 3] > 0).all()  # the last: all of it


def test_colours_follow_the_sign_of_the_values():
    gray = map_data(open_page(query={"conv_sample": "circles", "conv_kernel": "box blur 3x3"}))
    assert gray["bar"].startswith("linear-gradient(to right, rgb(0,0,0) 0%")
    assert gray["bar"].endswith("rgb(255,255,255) 100%)")
    assert gray["ticks"][0] == [0, "0"] and gray["ticks"][-1] == [100, "1"]  # the input's white
    signed = map_data(open_page(query={"conv_sample": "circles", "conv_kernel": "sobel x"}))
    assert [50, "0"] in signed["ticks"] and "rgb(247,247,247) 50%" in signed["bar"]  # 0 marked, near-white
    assert signed["ticks"][0][1] == "-" + signed["ticks"][-1][1]  # symmetric around 0


def test_the_identity_kernel_shows_a_copy_of_the_input():
    at = open_page(query={"conv_sample": "circles", "conv_kernel": "identity", "conv_padding": "same"})
    from cnnlib.data import samples

    np.testing.assert_array_equal(feature_map(at), samples.sample("circles"))
    d = map_data(at)  # and its picture has the input's gray levels, cell by cell
    m, s = d["origin"], d["tw"] // d["mw"]
    centres = png(d["src"])[m + s // 2::s, m + s // 2::s][:N, :N]  # (N, N, 3)
    away = np.ones((N, N), bool)
    away[:4, :4] = False  # the frame around output (0, 0)
    want = np.rint(samples.sample("circles") * 255)
    for channel in range(3):
        np.testing.assert_array_equal(centres[..., channel][away], want[away])


def test_the_explained_position_drives_the_window_and_the_map_frame():
    at = open_page(query={"conv_sample": "circles", "conv_kernel": "sobel x", "conv_row": "30",
                          "conv_col": "70"})
    assert "output (30, 70) framed" in map_data(at)["alt"]
    reads = "Output (30, 70) reads input rows 30..32 and columns 70..72"
    assert any(m.value.startswith(reads) for m in at.markdown)
    at.number_input(key="conv_stride").set_value(3).run()  # 42 x 42: the row stays inside
    assert "output (30, 41) framed" in map_data(at)["alt"]


def test_trained_network_section_shows_kernels_and_maps(tmp_path, monkeypatch):
    import keras

    from cnnlib import store

    keras.utils.set_random_seed(0)  # random kernels: a seed where c1's ReLU leaves maps for c2 to sign
    inp = keras.Input((16, 16, 1), name="image")
    x = keras.layers.Conv2D(3, 3, activation="relu", name="c1")(inp)
    x = keras.layers.Conv2D(5, 3, name="c2")(x)
    out = keras.layers.Dense(2, activation="softmax", name="softmax")(keras.layers.Flatten()(x))
    store.save_model(keras.Model(inp, out), "convtest", card={"dataset": "mnist"}, models_dir=tmp_path)
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(tmp_path))
    at = open_page(query={"conv_sample": "house"}, state={"conv_trained": True})
    assert not at.error
    assert at.selectbox(key="conv_model").value == "convtest"
    captions = [c for img in at.image for c in img.captions]
    assert any(c.startswith("c1: 14 x 14 x 3, the first 3 maps (one scale for the layer: 0 (black) to ")
               for c in captions)  # after its ReLU
    assert any(c.startswith("c2: 12 x 12 x 5, the first 5 maps (one scale for the layer: -") for c in captions)
    assert any(c.startswith("3 of its 3 kernels (one scale for the kernels: -")
               for c in captions)
    assert not at.get("plotly_chart") or all(c.key != "conv_fig_learned" for c in at.get("plotly_chart"))


def test_empty_store_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(tmp_path))
    at = open_page(state={"conv_trained": True})
    assert any("no trained model" in i.value for i in at.info)


NO_TF = """
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=60).run()
at.query_params.update({"conv_pool": "max", "conv_sample": "house"})
at.session_state["conv_anim"] = True
at.switch_page("pages/convolution.py").run()
assert not at.exception and len(at.get("plotly_chart")) >= 2, at.exception
assert [e for e in at.get("bidi_component") if e.proto.id.endswith("-conv_fig_map")]
before = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
at.session_state["conv_trained"] = True
at.run()
assert not at.exception and not at.error, (at.exception, at.error)
after = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
print(before, after)
"""


def test_page_imports_tensorflow_only_when_the_trained_section_opens(tmp_path):
    import keras

    from cnnlib import store

    inp = keras.Input((8, 8, 1), name="image")
    out = keras.layers.Conv2D(2, 3, name="c1")(inp)
    store.save_model(keras.Model(inp, out), "tfcheck", models_dir=tmp_path)
    env = {**os.environ, "CNN_STUDIO_MODELS_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", NO_TF, str(REPO / "app.py")], capture_output=True,
                         text=True, timeout=300, cwd=REPO, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    before, after = run.stdout.strip().splitlines()[-1].split("] [")
    assert before == "[", before  # nothing loaded while the section was closed
    assert "tensorflow" in after  # and it does load when the section opens
