"""Canvas -> MNIST preprocessing: centre of mass, aspect ratio, empty canvas, real digits."""

import base64
import io

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from testutil import SHARED_DATA, requires_shared_data

from cnnlib import paths
from cnnlib.data import datasets, preprocess

CANVAS = 280


def canvas(draw_fn, transparent=False):
    """A 280x280 RGBA canvas like the page's: white ink on black (or on transparent)."""
    img = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0 if transparent else 255))
    draw_fn(ImageDraw.Draw(img))
    return np.asarray(img)


def ink_bbox_size(img):
    rows = np.flatnonzero(img.max(axis=1) > 0.05)
    cols = np.flatnonzero(img.max(axis=0) > 0.05)
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


point = st.tuples(st.integers(5, 274), st.integers(5, 274))


@settings(max_examples=30, deadline=None)
@given(a=point, b=point, c=point, transparent=st.booleans())
def test_centre_of_mass_lands_on_the_centre(a, b, c, transparent):
    """Filled triangles anywhere on the canvas: asymmetric, so their centre of mass
    (the centroid, at most 3.4 px from the middle of their 20x20 box) is not their
    box centre. The result's centre of mass is (14, 14) within half a pixel."""
    area2 = abs((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1]))
    assume(area2 > 2000)
    rgba = canvas(lambda d: d.polygon([a, b, c], fill=(255, 255, 255, 255)), transparent)
    out = preprocess.canvas_to_mnist(rgba)
    assert out.shape == (28, 28, 1) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0 and out.max() > 0.5
    row, col = preprocess.centre_of_mass(out[..., 0])
    assert abs(row - 14.0) <= 0.5 + 1e-4 and abs(col - 14.0) <= 0.5 + 1e-4  # float32 sums


def test_off_centre_stroke_is_centred_by_mass_not_by_box():
    """An L shape: its centre of mass is not its box centre; MNIST centres the mass."""
    rgba = canvas(lambda d: (d.line([(20, 20), (20, 200)], fill="white", width=20),
                             d.line([(20, 200), (140, 200)], fill="white", width=20)))
    res = preprocess.preprocess_canvas(rgba)
    field = res.image[..., 0]
    row, col = preprocess.centre_of_mass(field)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5
    h, w = ink_bbox_size(field)
    assert max(h, w) == 20  # fitted into the 20x20 box
    rows = np.flatnonzero(field.max(axis=1) > 0.05)
    assert (rows[0] + rows[-1]) / 2 != pytest.approx(14, abs=0.5)  # box is off centre


@requires_shared_data
def test_real_mnist_digits_have_their_mass_at_the_same_point():
    """The target point (14, 14) is where the dataset itself puts the centre of mass."""
    ds = datasets.load("mnist", data_dir=SHARED_DATA, n_test=500)
    coms = np.array([preprocess.centre_of_mass(x[..., 0].astype(float)) for x in ds.x_test])
    np.testing.assert_allclose(coms.mean(axis=0), preprocess.FIELD_CENTRE, atol=0.1)


@settings(max_examples=25, deadline=None)
@given(w=st.integers(10, 250), h=st.integers(10, 250))
def test_aspect_ratio_is_kept(w, h):
    rgba = canvas(lambda d: d.rectangle((10, 15, 10 + w - 1, 15 + h - 1), fill="white"))
    res = preprocess.preprocess_canvas(rgba)
    crop, box = res.steps[2].image, res.steps[3].image
    assert crop.shape == (h, w)
    assert max(box.shape) == 20
    expected = (20, max(1, round(20 * w / h))) if h >= w else (max(1, round(20 * h / w)), 20)
    assert box.shape == expected
    assert abs(max(box.shape) / min(box.shape) - max(h, w) / min(h, w)) <= (
        max(h, w) / min(h, w) * 0.5 / min(box.shape) + 1e-9)  # within rounding of one pixel
    bh, bw = ink_bbox_size(res.image[..., 0])
    assert abs(bh - box.shape[0]) <= 1 and abs(bw - box.shape[1]) <= 1  # placed, not resized


def test_steps_are_the_documented_five():
    rgba = canvas(lambda d: d.line([(100, 50), (120, 230)], fill="white", width=18))
    res = preprocess.preprocess_canvas(rgba)
    titles = [s.title for s in res.steps]
    assert len(titles) == 5
    assert titles[0].startswith("Canvas") and titles[1] == "Grayscale"
    assert "Bounding box" in titles[2] and "20x20" in titles[3] and "28x28" in titles[4]
    assert res.steps[0].image.shape == (280, 280, 4) and res.steps[1].image.shape == (280, 280)
    np.testing.assert_array_equal(res.steps[4].image, res.image[..., 0])


@pytest.mark.parametrize("rgba", [
    np.zeros((280, 280, 4), np.uint8),  # transparent
    np.dstack([np.zeros((280, 280, 3), np.uint8), np.full((280, 280), 255, np.uint8)]),  # black
    np.dstack([np.full((280, 280, 3), 255, np.uint8), np.full((280, 280), 10, np.uint8)]),  # faint
], ids=["transparent", "opaque-black", "faint-below-threshold"])
def test_empty_canvas_is_detected(rgba):
    res = preprocess.preprocess_canvas(rgba)
    assert res.image is None and len(res.steps) == 2
    assert preprocess.canvas_to_mnist(rgba) is None


def test_a_single_dot_is_not_empty():
    rgba = canvas(lambda d: d.ellipse((130, 130, 140, 140), fill="white"))
    out = preprocess.canvas_to_mnist(rgba)
    assert out is not None and out.max() > 0.5


def test_transparent_and_black_backgrounds_agree():
    def draw(d):
        d.line([(90, 40), (180, 250)], fill=(255, 255, 255, 255), width=16)
    a = preprocess.canvas_to_mnist(canvas(draw, transparent=False))
    b = preprocess.canvas_to_mnist(canvas(draw, transparent=True))
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_lopsided_drawing_loses_no_ink():
    """A blob and a far dot: the mass is far off the box centre; the shift is clamped."""
    rgba = canvas(lambda d: (d.ellipse((20, 20, 120, 120), fill="white"),
                             d.ellipse((250, 250, 258, 258), fill="white")))
    res = preprocess.preprocess_canvas(rgba)
    box, field = res.steps[3].image, res.image[..., 0]
    assert field.sum() == pytest.approx(box.sum(), rel=1e-6)


def test_bad_canvas_arrays_raise():
    with pytest.raises(ValueError, match="shape"):
        preprocess.canvas_to_mnist(np.zeros((10, 10, 2), np.uint8))
    with pytest.raises(ValueError, match="dtype"):
        preprocess.canvas_to_mnist(np.zeros((10, 10, 4), np.float32))


def test_decode_canvas_data_url_round_trip_and_refusals():
    rgba = canvas(lambda d: d.line([(0, 0), (279, 279)], fill="white", width=9))
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    np.testing.assert_array_equal(preprocess.decode_canvas_png(url), rgba)
    np.testing.assert_array_equal(preprocess.decode_canvas_png(buf.getvalue()), rgba)
    with pytest.raises(ValueError, match="base64"):
        preprocess.decode_canvas_png("data:image/png;base64,@@not base64@@")
    jpeg = io.BytesIO()
    Image.fromarray(rgba[..., :3]).save(jpeg, "JPEG")
    with pytest.raises(ValueError, match="PNG"):
        preprocess.decode_canvas_png(jpeg.getvalue())
    big = io.BytesIO()
    Image.new("L", (5000, 10)).save(big, "PNG")
    with pytest.raises(ValueError, match="too large"):
        preprocess.decode_canvas_png(big.getvalue())


def draw_digit_on_canvas(digit, rng, transparent):
    """A real 28x28 MNIST digit drawn onto a 280x280 RGBA canvas-like image:
    scaled up 6-9x with bicubic resampling (anti-aliased edges) and shifted to a
    random place, usually far from the centre."""
    scale = rng.uniform(6.0, 9.0)
    size = int(round(28 * scale))
    big = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC))
    top, left = rng.integers(0, CANVAS - size + 1, size=2)
    ink = np.zeros((CANVAS, CANVAS), np.uint8)
    ink[top:top + size, left:left + size] = big
    if transparent:  # white ink, coverage in alpha
        return np.dstack([np.full_like(ink, 255)] * 3 + [ink])
    return np.dstack([ink, ink, ink, np.full_like(ink, 255)])


@requires_shared_data
@pytest.mark.slow
def test_ACCURACY_bundled_mnist_model_on_real_digits_drawn_onto_a_canvas():
    """ACCURACY CLAIM: >= 97% of 1,000 real MNIST test digits, drawn onto a canvas
    (scaled up, anti-aliased, shifted off centre) and passed through
    canvas_to_mnist, are classified correctly by the bundled `mnist` model."""
    if not (paths.models_dir() / "mnist.keras").exists():
        pytest.skip(f"the bundled model {paths.models_dir() / 'mnist.keras'} is absent "
                    "(train it with `python -m cnnlib train --dataset mnist --save mnist`)")
    from cnnlib import store
    from cnnlib.models import inference

    model = store.load_model("mnist")
    ds = datasets.load("mnist", data_dir=SHARED_DATA, n_test=1000, seed=7)
    rng = np.random.default_rng(0)
    x = np.stack([preprocess.canvas_to_mnist(draw_digit_on_canvas(d[..., 0], rng, i % 2 == 1))
                  for i, d in enumerate(ds.x_test)])  # (1000, 28, 28, 1)
    predict = inference.predictor(model)
    acc = float((predict(x).argmax(axis=1) == ds.y_test).mean())
    direct = float((predict(datasets.to_float(ds.x_test)).argmax(axis=1) == ds.y_test).mean())
    print(f"canvas-drawn accuracy {acc:.4f} (the same digits without the canvas: {direct:.4f})")
    assert acc >= 0.97
