"""Safe photo decoding: formats, EXIF orientation, modes, and every bad input; and
to_gray, the one grayscale conversion."""

import io
import re
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageOps

from cnnlib.data import images

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def encode(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def halves(size=(40, 20), left=RED, right=BLUE):
    """RGB image, left half one colour, right half another."""
    img = Image.new("RGB", size, left)
    img.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return img


def close(pixel, colour, tol=40):
    return all(abs(int(a) - b) <= tol for a, b in zip(pixel, colour))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "GIF"])
def test_each_format_decodes_to_rgb(fmt):
    out = images.decode_image(encode(halves(), fmt))
    assert out.format == fmt
    assert out.array.dtype == np.uint8 and out.array.shape == (20, 40, 3)
    assert close(out.array[10, 5], RED) and close(out.array[10, 35], BLUE)


def test_gif_uses_the_first_frame():
    frames = [Image.new("RGB", (16, 16), RED), Image.new("RGB", (16, 16), BLUE)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    out = images.decode_image(buf.getvalue())
    assert close(out.array[8, 8], RED, tol=5)
    assert any("2 frames" in n for n in out.notes)


def test_exif_orientation_is_honoured():
    """Orientation 6: the stored image must be turned 90 degrees clockwise to be upright."""
    img = halves((40, 20))  # stored landscape, red on the left
    exif = Image.Exif()
    exif[0x0112] = 6
    out = images.decode_image(encode(img, "JPEG", exif=exif.tobytes(), quality=95))
    assert out.array.shape == (40, 20, 3)  # now portrait
    assert close(out.array[5, 10], RED) and close(out.array[35, 10], BLUE)  # left went to the top
    assert any("EXIF" in n for n in out.notes)


def test_exif_orientation_1_changes_nothing():
    exif = Image.Exif()
    exif[0x0112] = 1
    out = images.decode_image(encode(halves(), "JPEG", exif=exif.tobytes(), quality=95))
    assert out.array.shape == (20, 40, 3) and not any("EXIF" in n for n in out.notes)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_as_pillow_applies_it(orientation):
    """The turn is applied to the downscaled pixels; the result is Pillow's exif_transpose
    of the whole photo, downscaled."""
    rng = np.random.default_rng(orientation)
    img = Image.fromarray(rng.integers(0, 256, (30, 50, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(img, "PNG", exif=exif.tobytes())
    want = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    np.testing.assert_array_equal(images.decode_image(data).array, want)
    big = encode(img.resize((500, 300)), "JPEG", quality=95, exif=exif.tobytes())
    out = images.decode_image(big, max_side=100)
    turned = orientation in (5, 6, 7, 8)
    assert out.array.shape == ((100, 60, 3) if turned else (60, 100, 3))
    assert (any("EXIF" in n for n in out.notes)) == (orientation != 1)
    assert any("Downscaled from 500x300 to " in n for n in out.notes)


def test_grayscale_palette_and_bilevel():
    gray = images.decode_image(encode(Image.new("L", (8, 8), 100), "PNG"))
    assert gray.mode == "L" and (gray.array == 100).all()
    pal = images.decode_image(encode(halves().convert("P", palette=Image.Palette.ADAPTIVE), "PNG"))
    assert pal.mode == "P" and close(pal.array[10, 5], RED, tol=5)
    bilevel = images.decode_image(encode(Image.new("1", (8, 8), 1), "BMP"))
    assert (bilevel.array == 255).all()


def test_transparency_is_composited_over_white():
    rgba = Image.new("RGBA", (10, 10), (255, 0, 0, 0))  # fully transparent red
    rgba.paste((0, 0, 255, 255), (0, 0, 5, 10))  # opaque blue left half
    out = images.decode_image(encode(rgba, "PNG"))
    assert tuple(out.array[5, 8]) == WHITE and tuple(out.array[5, 2]) == BLUE
    la = Image.new("LA", (4, 4), (0, 128))  # black at half opacity -> mid gray
    assert abs(int(images.decode_image(encode(la, "PNG")).array[0, 0, 0]) - 127) <= 1
    pal = Image.new("P", (4, 4), 0)
    pal.putpalette([0, 0, 0] * 256)
    pal.info["transparency"] = 0
    assert tuple(images.decode_image(encode(pal, "PNG", transparency=0)).array[1, 1]) == WHITE


def test_cmyk_jpeg():
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # no cyan, full magenta+yellow = red
    out = images.decode_image(encode(cmyk, "JPEG", quality=95))
    assert out.mode == "CMYK" and close(out.array[8, 8], RED)


def test_16_bit_grayscale_is_scaled_not_clipped():
    a = np.array([[0, 256 * 64, 32896, 65535]], np.uint16)  # 0, ~25%, 50%, 100%
    out = images.decode_image(encode(Image.fromarray(a), "PNG"))
    assert out.mode.startswith("I")
    np.testing.assert_array_equal(out.array[0, :, 0], [0, 64, 128, 255])
    assert any("to RGB" in n for n in out.notes)


def test_to_rgb_for_32_bit_modes():
    i32 = Image.fromarray(np.array([[0, 65535]], np.int32))  # 16-bit values in mode I
    assert list(np.asarray(images.to_rgb(i32))[0, :, 0]) == [0, 255]
    f = Image.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32))
    assert list(np.asarray(images.to_rgb(f))[0, :, 0]) == [0, 128, 255]


def test_one_pixel_image_decodes_with_a_note():
    out = images.decode_image(encode(Image.new("RGB", (1, 1), BLUE), "PNG"))
    assert out.array.shape == (1, 1, 3) and tuple(out.array[0, 0]) == BLUE
    assert any("1x1" in n for n in out.notes)


def test_large_image_is_downscaled_with_a_note():
    img = Image.new("RGB", (3000, 1500), RED)
    out = images.decode_image(encode(img, "JPEG", quality=80), max_side=1024)
    assert max(out.array.shape[:2]) <= 1024 and out.array.shape[0] * 2 == pytest.approx(
        out.array.shape[1], abs=2)
    assert out.original_size == (3000, 1500)
    assert any("Downscaled from 3000x1500" in n for n in out.notes)


# ---- bad input: one exception type, a sentence for the user --------------------------------

def png_with_header_size(width, height):
    """A valid tiny PNG whose IHDR then claims another size (a decompression bomb's trick)."""
    data = bytearray(encode(Image.new("L", (1, 1)), "PNG"))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4:ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr:ihdr + 17])) & 0xFFFFFFFF
    data[ihdr + 17:ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


def truncated_jpeg():
    rng = np.random.default_rng(0)
    data = encode(Image.fromarray(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)), "JPEG")
    return data[: len(data) // 2]


@pytest.mark.parametrize("data,match", [
    (b"", "empty"),
    (b"%PDF-1.4 this is not an image at all, only renamed .jpg\n" * 20, "not an image"),
    (truncated_jpeg(), "truncated or corrupt"),
    (encode(Image.new("RGB", (64, 64)), "PNG")[:60], "truncated or corrupt"),
    (png_with_header_size(100_000, 100_000), "too large"),  # beyond Pillow's own bomb limit
    (png_with_header_size(9_000, 8_000), "limit is 50 megapixels"),  # beyond ours
    (encode(Image.new("RGB", (8, 8)), "TIFF"), "not an image"),  # a real image, not allowed
], ids=["empty", "renamed-non-image", "truncated-jpeg", "truncated-png", "bomb", "too-many-pixels",
        "tiff"])
def test_bad_input_raises_image_error(data, match):
    with pytest.raises(images.ImageError, match=match) as err:
        images.decode_image(data)
    assert str(err.value)[0].isupper() and str(err.value).rstrip().endswith((".", ")", "?"))


def test_file_over_the_size_limit_is_refused():
    with pytest.raises(images.ImageError, match="limit is 1 MB"):
        images.decode_image(b"\xff" * (2 * 2**20), max_bytes=2**20)


# ---- to_gray: the one grayscale conversion --------------------------------------------------

def test_to_gray_uses_the_bt601_weights_of_pil():
    rgb = np.random.default_rng(0).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    gray = images.to_gray(rgb)
    assert gray.shape == (6, 7) and gray.dtype == np.float32
    pil = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.float32) / 255  # rounds to uint8
    np.testing.assert_allclose(gray, pil, atol=0.5 / 255 + 1e-6)
    np.testing.assert_allclose(images.to_gray(np.full((1, 1, 3), (0, 255, 0), np.uint8)), 0.587,
                               rtol=1e-6)


def test_to_gray_gives_the_same_for_uint8_and_float_in_unit_range():
    rgb = np.random.default_rng(1).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    np.testing.assert_allclose(images.to_gray(rgb), images.to_gray(rgb / 255.0), atol=1e-6)
    white = images.to_gray(np.full((3, 3, 3), 255, np.uint8))
    assert white.max() <= 1.0 and white.min() == pytest.approx(1.0)  # clipped, not 1 + ulp


def test_to_gray_keeps_gray_values_and_drops_a_single_channel():
    gray = np.linspace(-0.5, 2.0, 12, dtype=np.float32).reshape(3, 4)  # outside [0, 1] too
    np.testing.assert_array_equal(images.to_gray(gray), gray)
    np.testing.assert_array_equal(images.to_gray(gray[..., None]), gray)
    assert images.to_gray(np.full((2, 2), 51, np.uint8)) == pytest.approx(0.2)


def test_to_gray_composites_alpha_over_black_only_when_asked():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., :3] = 255  # white everywhere
    rgba[0, 0, 3], rgba[0, 1, 3], rgba[1, :, 3] = 255, 0, 51  # opaque, transparent, 20 %
    np.testing.assert_allclose(images.to_gray(rgba, alpha_over_black=True),
                               [[1.0, 0.0], [0.2, 0.2]], atol=1e-6)
    with pytest.raises(ValueError, match=r"Received: shape=\(2, 2, 4\)"):
        images.to_gray(rgba)  # RGBA needs a decision about the background
    for bad in (np.zeros((2, 2, 2)), np.zeros(5), np.zeros((1, 2, 2, 3))):
        with pytest.raises(ValueError, match=rf"Received: shape={re.escape(str(bad.shape))}"):
            images.to_gray(bad, alpha_over_black=True)


def test_one_grayscale_conversion_in_the_library():
    """The canvas, the convolution page and the feature maps all use images.to_gray."""
    from cnnlib.data import preprocess, samples
    from cnnlib.network import inputs

    assert not hasattr(samples, "to_gray") and not hasattr(preprocess, "to_grayscale")
    assert inputs.to_gray is images.to_gray and preprocess.to_gray is images.to_gray
    rgba = np.random.default_rng(2).integers(0, 256, (40, 30, 4), dtype=np.uint8)
    step = preprocess.preprocess_canvas(rgba).steps[1]
    assert step.title == "Grayscale"
    np.testing.assert_array_equal(step.image, images.to_gray(rgba, alpha_over_black=True))
