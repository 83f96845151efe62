"""The VGG16 photo pipeline, offline: random weights, a local weights file, the local class index.

One VGG16 with random weights is built for the whole module (about 2 GB);
its weights are written to a temporary file in the official file's layout
and loaded back through CNN_STUDIO_VGG16_WEIGHTS.
"""

import hashlib
import io
import json
import urllib.error

import numpy as np
import pytest
from PIL import Image
from testutil import SHARED_DATA
from vgg16_files import save_legacy_weights, write_keras2_h5_weights

from cnnlib.data import images, prefetch
from cnnlib.models import vgg16

CLASS_INDEX = SHARED_DATA / "imagenet_class_index.json"
requires_class_index = pytest.mark.skipif(not CLASS_INDEX.exists(),
                                          reason=f"{CLASS_INDEX} not found")


@pytest.fixture(autouse=True)
def no_keras_cache(monkeypatch, tmp_path):
    """An empty Keras home and no env vars: nothing found unless a test provides it."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv(vgg16.ENV_WEIGHTS, raising=False)
    monkeypatch.delenv(vgg16.ENV_CLASS_INDEX, raising=False)


@pytest.fixture(scope="module")
def random_vgg16():
    import keras

    keras.utils.set_random_seed(0)
    model = vgg16.build(weights=None)
    yield model
    del model


@pytest.fixture(scope="module")
def photo():
    """A 300x200 JPEG: a gradient with a red disc in the middle."""
    yy, xx = np.mgrid[0:200, 0:300]
    rgb = np.dstack([xx * 255 // 299, yy * 255 // 199, np.full_like(xx, 90)]).astype(np.uint8)
    rgb[(yy - 100) ** 2 + (xx - 150) ** 2 < 40 ** 2] = (230, 20, 20)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def test_missing_weights_message_says_exactly_how_to_get_them(tmp_path, monkeypatch):
    with pytest.raises(vgg16.WeightsUnavailableError) as err:
        vgg16.find_weights()
    msg = str(err.value)
    assert "python -m cnnlib prefetch --vgg16" in msg
    assert prefetch.VGG16_WEIGHTS["origin"] in msg and vgg16.ENV_WEIGHTS in msg
    assert prefetch.VGG16_WEIGHTS["fname"] in msg
    # the page shows one short sentence and folds the rest away
    assert err.value.summary == "The VGG16 ImageNet weights are not on this machine."
    assert msg.startswith("The VGG16 ImageNet weights are not on this machine:")
    monkeypatch.setenv(vgg16.ENV_WEIGHTS, str(tmp_path / "nowhere.h5"))
    with pytest.raises(vgg16.WeightsUnavailableError, match="nowhere.h5.*no such file") as err:
        vgg16.build()
    assert err.value.summary.endswith("but there is no such file (or it is empty).")
    assert "prefetch" not in err.value.summary and "prefetch" in str(err.value)


def test_weights_found_in_the_keras_cache(tmp_path):
    cached = tmp_path / "keras_home" / "models" / prefetch.VGG16_WEIGHTS["fname"]
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    assert vgg16.find_weights() == cached


def test_a_file_that_is_not_weights_is_reported(tmp_path, monkeypatch):
    bad = tmp_path / "vgg16.h5"
    bad.write_bytes(b"this is not an HDF5 file")
    monkeypatch.setenv(vgg16.ENV_WEIGHTS, str(bad))
    with pytest.raises(vgg16.WeightsUnavailableError, match="not an HDF5 file") as err:
        vgg16.build()
    assert err.value.summary == f"The VGG16 weights file {bad} is not an HDF5 file (.h5)."


@requires_class_index
def test_class_index_from_env_and_cache(tmp_path, monkeypatch):
    with pytest.raises(vgg16.ClassIndexUnavailableError, match="prefetch --vgg16") as err:
        vgg16.load_class_index()
    assert vgg16.ENV_CLASS_INDEX in str(err.value)
    monkeypatch.setenv(vgg16.ENV_CLASS_INDEX, str(CLASS_INDEX))
    index = vgg16.load_class_index()
    assert len(index) == 1000
    assert index[0] == ("n01440764", "tench") and index[2][1] == "great white shark"
    assert index[999][1] == "toilet tissue"
    monkeypatch.delenv(vgg16.ENV_CLASS_INDEX)
    cached = tmp_path / "keras_home" / "models" / "imagenet_class_index.json"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(CLASS_INDEX.read_bytes())
    assert vgg16.find_class_index() == cached


@pytest.mark.parametrize("content", ["{not json", json.dumps({"0": ["n0", "a"]}), "[1, 2]"])
def test_bad_class_index_is_reported(tmp_path, content):
    path = tmp_path / "index.json"
    path.write_text(content)
    with pytest.raises(vgg16.ClassIndexUnavailableError, match="not an ImageNet class index") as err:
        vgg16.load_class_index(path)
    assert err.value.summary == f"{path} is not an ImageNet class index."


SIZES = [(300, 200), (200, 300), (224, 224), (1, 1), (5000, 3)]


@pytest.mark.parametrize("size", SIZES)
def test_resize_and_centre_crop(size):
    w, h = size
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[h // 2, w // 2] = 255  # a bright centre pixel
    rgb[:, 0] = rgb[0, :] = 90  # a gray border that a centre crop of a long side removes
    square, crop = vgg16.fit_to_input(rgb)  # "center_crop", the default
    assert square.shape == (min(w, h), min(w, h), 3)
    assert crop.shape == (224, 224, 3) and crop.dtype == np.uint8
    r, c = np.unravel_index(crop[..., 0].argmax(), crop.shape[:2])
    assert abs(r - 112) <= 224 // min(w, h) and abs(c - 112) <= 224 // min(w, h)  # centre kept
    if w != h:  # the long side was cropped: its border is gone
        long_axis_edge = crop[112, 0] if w > h else crop[0, 112]
        assert long_axis_edge[0] < 90


def bordered(w, h, border):
    """A gray ``(h, w, 3)`` image with a red left and a blue right border ``border`` pixels wide."""
    rgb = np.full((h, w, 3), 128, np.uint8)
    rgb[:, :border] = (255, 0, 0)
    rgb[:, w - border:] = (0, 0, 255)
    return rgb


@pytest.mark.parametrize("size", SIZES)
def test_squash_keeps_the_whole_photo(size):
    w, h = size
    rgb = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    region, squashed = vgg16.fit_to_input(rgb, "squash")
    np.testing.assert_array_equal(region, rgb)  # nothing cut
    assert squashed.shape == (224, 224, 3) and squashed.dtype == np.uint8


def test_squash_keeps_the_side_borders_that_a_centre_crop_cuts():
    rgb = bordered(400, 200, border=40)  # a 2:1 photo: a centre crop takes x 100..300
    _, squashed = vgg16.fit_to_input(rgb, "squash")
    assert (squashed[:, :20] == (255, 0, 0)).all() and (squashed[:, -20:] == (0, 0, 255)).all()
    assert (squashed[:, 30:194] == 128).all()  # 40/400 of 224 = 22.4 columns a side
    _, cropped = vgg16.fit_to_input(rgb, "center_crop")
    assert (np.abs(cropped.astype(int) - 128) <= 1).all()  # only the gray middle is left


def test_squash_gives_the_pixels_of_keras_load_img_as_tutorial_001(tmp_path):
    """Tutorial 001 loads its photo with ``load_img(path, target_size=(224, 224))``."""
    import keras

    rgb = np.random.default_rng(1).integers(0, 256, (213, 517, 3), dtype=np.uint8)
    path = tmp_path / "photo.png"
    Image.fromarray(rgb).save(path)
    expected = keras.utils.img_to_array(keras.utils.load_img(path, target_size=(224, 224)))
    _, squashed = vgg16.fit_to_input(rgb, "squash")
    np.testing.assert_array_equal(squashed, expected.astype(np.uint8))


def test_a_square_photo_is_fitted_alike_in_both_modes():
    """Same region either way; at 224x224 the same pixels. At other sizes the two modes
    resample differently (bicubic and nearest), so only the content matches."""
    rgb = bordered(224, 224, border=56)
    crop, squash = vgg16.fit_to_input(rgb, "center_crop"), vgg16.fit_to_input(rgb, "squash")
    np.testing.assert_array_equal(crop[0], squash[0])
    np.testing.assert_array_equal(crop[1], squash[1])
    big = bordered(448, 448, border=112)
    crop, squash = vgg16.fit_to_input(big, "center_crop"), vgg16.fit_to_input(big, "squash")
    np.testing.assert_array_equal(crop[0], squash[0])
    for col in (20, 112, 200):  # inside the red border, the gray middle, the blue border
        np.testing.assert_array_equal(crop[1][:, col], squash[1][:, col])


def test_preprocess_steps_name_the_mode_s_steps():
    rgb = bordered(300, 200, border=10)
    x, resized, steps = vgg16.preprocess_steps(rgb, "squash")
    assert [t for t, _ in steps] == [
        "Photo 300x200", "Squashed to 224x224 (aspect ratio not kept)",
        "preprocess_input: BGR, ImageNet mean subtracted (rescaled to view)"]
    np.testing.assert_array_equal(steps[1][1], resized)
    np.testing.assert_array_equal(x, vgg16.preprocess(vgg16.fit_to_input(rgb, "squash")[1]))
    _, resized, steps = vgg16.preprocess_steps(rgb)
    assert [t for t, _ in steps][1:3] == ["Centre square 200x200", "Resized to 224x224"]
    np.testing.assert_array_equal(steps[2][1], resized)


@pytest.mark.parametrize("mode", ["stretch", "CENTER_CROP", None])
def test_an_unknown_resize_mode_is_named(mode):
    rgb = np.zeros((10, 20, 3), np.uint8)
    with pytest.raises(ValueError, match=f"Received: mode={mode!r}"):
        vgg16.fit_to_input(rgb, mode)
    with pytest.raises(ValueError, match="center_crop"):
        vgg16.preprocess_steps(rgb, mode)


FAKE_INDEX = [(f"n{i:08d}", f"class {i}") for i in range(1000)]


@pytest.mark.parametrize("k", [1, 3, 10, 1000, np.int64(7)])
def test_top_k_lists_k_classes(k):
    probs = np.random.default_rng(2).dirichlet(np.ones(1000))
    top = vgg16.top_k(probs, FAKE_INDEX, k=k)
    assert len(top) == k and top[0].index == int(probs.argmax())


@pytest.mark.parametrize("k,error", [(0, ValueError), (-1, ValueError), (1001, ValueError),
                                     (2.0, TypeError), ("3", TypeError), (True, TypeError),
                                     (None, TypeError)])
def test_top_k_refuses_a_bad_k(k, error):
    with pytest.raises(error, match=f"k must be .*from 1 to 1000. Received: k={k!r}"):
        vgg16.top_k(np.full(1000, 1e-3), FAKE_INDEX, k=k)


@requires_class_index
def test_pipeline_end_to_end_with_random_weights(random_vgg16, photo, monkeypatch):
    decoded = images.decode_image(photo)
    x, resized, steps = vgg16.preprocess_steps(decoded.array)
    assert x.shape == (1, 224, 224, 3) and x.dtype == np.float32
    assert [s[1].shape for s in steps][1:] == [(200, 200, 3), (224, 224, 3), (224, 224, 3)]
    np.testing.assert_array_equal(steps[2][1], resized)
    crop = resized.astype(np.float32)
    expected_bgr = crop[..., ::-1] - np.array([103.939, 116.779, 123.68], np.float32)
    np.testing.assert_allclose(x[0], expected_bgr, atol=1e-3)  # keras preprocess_input, caffe mode
    probs = np.asarray(random_vgg16(x, training=False))[0]
    assert probs.shape == (1000,) and probs.sum() == pytest.approx(1.0, abs=1e-4)
    monkeypatch.setenv(vgg16.ENV_CLASS_INDEX, str(CLASS_INDEX))
    top = vgg16.top_k(probs, vgg16.load_class_index(), k=5)
    assert [t.rank for t in top] == [1, 2, 3, 4, 5]
    assert [t.probability for t in top] == sorted((t.probability for t in top), reverse=True)
    assert top[0].index == int(probs.argmax())
    assert all("_" not in t.name and t.wnid.startswith("n") for t in top)


def test_keras2_h5_writer_round_trips_through_the_legacy_loader(tmp_path):
    """The test helper's file loads through model.load_weights(".h5"), the call
    keras.applications.VGG16(weights=path) makes: every weight back in place,
    batch-norm statistics (non-trainable) included. Small and fast."""
    import keras

    def small():
        inp = keras.Input((8, 8, 3), name="image")
        x = keras.layers.Conv2D(4, 3, name="conv")(inp)
        x = keras.layers.BatchNormalization(name="bn")(x)
        x = keras.layers.Flatten(name="flatten")(keras.layers.MaxPooling2D(name="pool")(x))
        return keras.Model(inp, keras.layers.Dense(3, activation="softmax", name="predictions")(x))

    keras.utils.set_random_seed(1)
    saved = small()
    saved.get_layer("bn").moving_mean.assign(np.arange(4, dtype=np.float32))
    path = write_keras2_h5_weights(saved, tmp_path / "small.h5")
    loaded = small()
    loaded.load_weights(str(path))
    for a, b in zip(saved.weights, loaded.weights):
        np.testing.assert_array_equal(np.asarray(b), np.asarray(a), err_msg=a.path)


def test_loaded_from_a_local_weights_file(random_vgg16, tmp_path_factory, monkeypatch, photo):
    """The official file's layout, through CNN_STUDIO_VGG16_WEIGHTS: same predictions."""
    path = save_legacy_weights(random_vgg16, tmp_path_factory.mktemp("vgg16_weights"))
    monkeypatch.setenv(vgg16.ENV_WEIGHTS, str(path))
    assert vgg16.find_weights() == path
    loaded = vgg16.build()
    x, _, _ = vgg16.preprocess_steps(images.decode_image(photo).array)
    np.testing.assert_allclose(np.asarray(loaded(x, training=False)),
                               np.asarray(random_vgg16(x, training=False)), rtol=1e-4, atol=1e-7)
    del loaded
    path.unlink()


def test_gradcam_on_vgg16_block5(random_vgg16, photo):
    from cnnlib.explain import gradcam

    x, _, _ = vgg16.preprocess_steps(images.decode_image(photo).array)
    res = gradcam.gradcam(random_vgg16, x, layer_name=vgg16.LAST_CONV_LAYER)
    assert res.heatmap.shape == (224, 224) and res.score == "dense pre-softmax"
    assert 0.0 <= res.heatmap.min() and res.heatmap.max() <= 1.0


def test_the_unit_input_vgg16_is_preprocess_then_vgg16(random_vgg16, tmp_path_factory, photo):
    """build_unit_input takes [0, 1] RGB and does preprocess_input inside: its class
    scores on x / 255 equal VGG16's on preprocess(x), from the same weights file."""
    from cnnlib.explain import scores

    path = save_legacy_weights(random_vgg16, tmp_path_factory.mktemp("vgg16_unit"))
    unit = vgg16.build_unit_input(path)
    x, crop, _ = vgg16.preprocess_steps(images.decode_image(photo).array)
    want = np.asarray(scores.scores_of(random_vgg16).logits(x))
    got = np.asarray(scores.scores_of(unit).logits(crop[None].astype(np.float32) / 255))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    assert scores.scores_of(unit).label == "dense pre-softmax"
    # one chain of standard layers (Inside reads it), its first layer preprocess_input's
    # arithmetic in RGB order, and VGG16's weights
    from cnnlib.network import reader

    names = [info.name for info in reader.chain(unit)]
    assert names[:3] == ["rgb_unit", vgg16.PREPROCESS_LAYER, "block1_conv1"] and len(names) == 24
    first = reader.outputs_model(unit, unit.get_layer(vgg16.PREPROCESS_LAYER))
    got_first = np.asarray(first(crop[None].astype(np.float32) / 255))
    np.testing.assert_allclose(got_first, x[..., ::-1], atol=1e-4)  # preprocess is BGR
    assert unit.count_params() == random_vgg16.count_params() == 138_357_544
    del unit
    path.unlink()


class FakeResponse(io.BytesIO):
    headers = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_download_with_progress_and_hash_check(tmp_path, monkeypatch):
    body = b"0123456789" * 300_000  # 3 MB, three chunks
    item = dict(prefetch.IMAGENET_CLASS_INDEX, file_hash=hashlib.md5(body).hexdigest())
    FakeResponse.headers = {"Content-Length": str(len(body))}
    monkeypatch.setattr("urllib.request.urlopen", lambda url, timeout: FakeResponse(body))
    seen = []
    path = vgg16.download(item, progress=lambda done, total: seen.append((done, total)))
    assert path == tmp_path / "keras_home" / "models" / item["fname"] and path.read_bytes() == body
    assert seen[-1] == (len(body), len(body)) and len(seen) == 3
    bad = dict(item, file_hash="0" * 32)
    with pytest.raises(vgg16.ClassIndexUnavailableError, match="differs from the expected"):
        vgg16.download(bad)
    assert not list(path.parent.glob("*.part"))


def test_download_offline_says_how_to_get_the_file(monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    with pytest.raises(vgg16.WeightsUnavailableError, match="name resolution") as err:
        vgg16.download(prefetch.VGG16_WEIGHTS)
    assert "python -m cnnlib prefetch --vgg16" in str(err.value)
    assert err.value.summary == (f"Downloading {prefetch.VGG16_WEIGHTS['fname']} failed (URLError: "
                                 "<urlopen error [Errno -3] Temporary failure in name resolution>).")
