"""Band-by-band RGB conversion and downscaling, checked against Pillow's own
whole-picture ``to_rgb(img).resize(size, LANCZOS, reducing_gap=2.0)``."""

import functools

import numpy as np
import pytest
from PIL import Image

from cnnlib.data import downscale, images


def picture(mode: str, size=(301, 217), seed=0) -> Image.Image:
    """A picture with edges, gradients and noise in ``mode`` (alpha varying too)."""
    w, h = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = ((x * 255 // w) ^ (y * 255 // h)).astype(np.uint8)
    base[::7] = rng.integers(0, 256, base[::7].shape, dtype=np.uint8)
    rgba = np.stack([base, base[::-1], 255 - base, (x * 255 // w).astype(np.uint8)], -1)
    if mode == "I;16":
        return Image.fromarray(base.astype(np.uint16) * 257 + (x % 257).astype(np.uint16))
    if mode == "P":
        return Image.fromarray(rgba[..., :3]).convert("P", palette=Image.Palette.ADAPTIVE)
    return Image.fromarray(rgba, "RGBA").convert(mode)


def reference(img, size):
    rgb = images.to_rgb(img)
    return np.asarray(rgb if size == img.size else
                      rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0))


@pytest.fixture
def small_bands(monkeypatch):
    """Bands and chunks of a few rows, so that every picture here is cut many times."""
    monkeypatch.setattr(downscale, "CHUNK_PIXELS", 3_000)
    monkeypatch.setattr(downscale, "BAND_PIXELS", 2_000)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "LA", "L", "P", "CMYK", "1", "I;16"])
@pytest.mark.parametrize("size", [(301, 217), (100, 72), (37, 27), (9, 6), (1, 1)])
def test_bands_give_the_whole_picture_result(small_bands, mode, size):
    img = picture(mode)
    out = downscale.rgb_array(img, size, functools.partial(images.to_rgb,
                                                            white=images.white_level(img)))
    want = reference(img, size)
    assert out.shape == (size[1], size[0], 3) and out.dtype == np.uint8
    diff = np.abs(out.astype(int) - want.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01


def test_one_band_when_the_defaults_allow_it_is_exact():
    img = picture("RGB", (640, 480))
    out = downscale.rgb_array(img, (160, 120), images.to_rgb)
    np.testing.assert_array_equal(out, reference(img, (160, 120)))


def test_fit_size_keeps_the_aspect_ratio():
    assert downscale.fit_size((3000, 1500), 1024) == (1024, 512)
    assert downscale.fit_size((1500, 3000), 1024) == (512, 1024)
    assert downscale.fit_size((800, 600), 1024) == (800, 600)
    assert downscale.fit_size((10_000, 3), 100) == (100, 1)


def test_a_size_larger_than_the_picture_is_refused():
    with pytest.raises(ValueError, match=r"Received: size=\(20, 10\)"):
        downscale.rgb_array(Image.new("L", (10, 10)), (20, 10), images.to_rgb)


def test_white_level_is_decided_over_the_whole_picture():
    """A band of a 16-bit picture in mode I whose own maximum is below 256 still
    scales as 16-bit, because the level comes from the whole picture."""
    a = np.zeros((20, 4), np.int32)
    a[0, 0] = 65535  # the only bright pixel, in the first row
    a[10:] = 200
    img = Image.fromarray(a)
    assert images.white_level(img) == 65535.0
    out = downscale.rgb_array(img, (4, 20), functools.partial(images.to_rgb, white=65535.0))
    assert out[0, 0, 0] == 255 and out[15, 0, 0] == round(200 / 257)
    assert images.white_level(Image.fromarray(np.full((2, 2), 0.5, np.float32))) == 1.0
    assert images.white_level(Image.new("RGB", (2, 2))) is None
