"""Safe decoding of user photos with Pillow.

:func:`decode_image` turns the bytes of an uploaded file or a camera shot
into an RGB uint8 array, and never lets a bad file through as anything but an
:class:`ImageError` whose message is a sentence for the user:

- formats: JPEG (and MPO, what many phone cameras write), PNG, WebP, BMP and
  GIF (first frame); anything else is refused before it is decoded;
- size: the header's pixel count is checked before decoding, so a
  decompression bomb (a tiny file that claims a huge image) is refused
  without allocating it; images larger than ``max_side`` are downscaled,
  with a note saying so;
- memory: one picture takes at most about 100 MB while it is decoded,
  whatever its format. Pillow reduces while decoding where it can (JPEGs
  at 1/2, 1/4 or 1/8 scale through ``Image.draft``; 16-bit grayscale PNGs
  straight to 8 bits), the memory that decoding then takes is estimated
  from the header (:mod:`cnnlib.data.decode_cost`: mode, bit depth, progressive JPEG,
  WebP) and an image that would take more than :data:`MAX_DECODE_BYTES`
  is refused before it is decoded; the conversion to RGB and the
  downscaling go a band of rows at a time (:mod:`cnnlib.data.downscale`).
  At most :data:`MAX_CONCURRENT_DECODES` pictures are decoded at once in
  the process; another waits up to :data:`DECODE_WAIT_S` seconds, then is
  refused with a sentence (the server is busy);
- EXIF orientation is applied (as ``ImageOps.exif_transpose``, on the
  downscaled pixels), so a phone photo taken upright is upright;
- modes: grayscale (``L``, ``1``), palette (``P``), alpha (``RGBA``, ``LA``,
  ``PA``: composited over white), ``CMYK``, 16-bit (``I;16*``, scaled from
  0..65535, which Pillow's own ``convert`` would clip; a 16-bit grayscale
  PNG keeps the high byte of each sample, within 1 of that scaling), 32-bit
  ``I`` and ``F`` become RGB;
- empty, truncated and unreadable files raise :class:`ImageError`.

Pillow's global ``Image.MAX_IMAGE_PIXELS`` is left as it is (it is
process-wide); this module applies its own, lower limit. One global is
lowered, on the first decode: ``PngImagePlugin.MAX_TEXT_MEMORY``, the text
metadata a PNG may carry (64 MB by default, which a 70 KB file of
compressed text chunks reaches), to :data:`MAX_PNG_TEXT_BYTES`; nothing in
this app reads PNG text.

:func:`to_gray` is the one grayscale conversion of the library (for photos,
sample pictures, dataset images and canvas drawings).
"""

from __future__ import annotations

import dataclasses
import functools
import io
import threading

import numpy as np

from cnnlib.data import downscale
from cnnlib.data.datasets import to_float
from cnnlib.data.decode_cost import decode_16_bit_gray_as_8_bit, decode_cost, too_costly

#: Formats accepted, as Pillow's openers name them (the JPEG opener also reads
#: MPO, the JPEG variant many phone cameras write; ``format`` then says "MPO").
FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF")
#: Larger files are refused (matches ``server.maxUploadSize`` in .streamlit/config.toml).
MAX_FILE_BYTES = 25 * 1024 * 1024
#: Images with more pixels than this (width x height, from the header) are refused.
MAX_PIXELS = 50_000_000
#: Images with a longer side than this are downscaled after decoding.
MAX_SIDE = 2048
#: Images whose decoding would take more memory than this, in bytes, are refused
#: (:func:`cnnlib.data.decode_cost.decode_cost`). The bands of the RGB conversion and the output array
#: (at most 2048x2048x3, 12.6 MB) come on top: about 100 MB a picture in all.
MAX_DECODE_BYTES = 64 * 2**20
#: Text metadata a PNG may carry (Pillow's ``PngImagePlugin.MAX_TEXT_MEMORY``).
MAX_PNG_TEXT_BYTES = 2**20
#: Pictures decoded at once by this process (each up to ~100 MB); more wait.
MAX_CONCURRENT_DECODES = 2
#: How long a decode waits for one of those slots, seconds, before it is refused.
DECODE_WAIT_S = 10.0
#: Images with a shorter side than this get a note: enlarging them invents detail.
SMALL_SIDE = 32
#: ITU-R BT.601 luma weights of R, G and B, as PIL's "L" conversion.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


class ImageError(ValueError):
    """A file that cannot be used as an image; ``str(e)`` is a sentence for the user."""


_DECODE_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_DECODES)


@dataclasses.dataclass(frozen=True)
class DecodedImage:
    """A decoded photo.

    Attributes:
        array: uint8 ``(H, W, 3)`` RGB, values 0..255, upright.
        format: the file format as Pillow names it (``"JPEG"``, ``"PNG"``...).
        mode: the Pillow mode of the file (``"RGB"``, ``"I;16"``, ``"CMYK"``...).
        original_size: ``(width, height)`` of the file, before any
            downscaling and before the EXIF rotation.
        notes: sentences about what was done (downscaled, rotated, converted).
    """

    array: np.ndarray
    format: str
    mode: str
    original_size: tuple[int, int]
    notes: tuple[str, ...] = ()


def white_level(img) -> float | None:
    """The value of a 16-bit or 32-bit grayscale Pillow image that :func:`to_rgb` makes 255.

    ``I;16*``: 65535. ``I``: 65535 if its maximum exceeds 255 (16-bit values),
    else 255. ``F``: 1.0 if its maximum is at most 1 (values in [0, 1]), else
    255. Other modes: None (they are 8 bits a channel). Decided over the whole
    image, so that the bands of a picture converted one by one agree.
    """
    mode = img.mode
    if mode.startswith("I;16"):
        return 65535.0
    if mode == "I":
        return 65535.0 if img.getextrema()[1] > 255 else 255.0
    if mode == "F":
        return 1.0 if img.getextrema()[1] <= 1.0 else 255.0
    return None


def to_rgb(img, white: float | None = None) -> "PIL.Image.Image":  # noqa: F821
    """Convert a Pillow image of any mode to ``RGB`` without clipping or black backgrounds.

    Transparent pixels are composited over white; 16-bit and 32-bit
    grayscale (``I;16*``, ``I``, ``F``) is scaled so that ``white`` becomes
    255 (default: :func:`white_level` of ``img``), rounded and clipped to 0..255.
    """
    from PIL import Image

    mode = img.mode
    if mode == "RGB":
        return img
    if mode.startswith("I;16") or mode in ("I", "F"):
        white = white_level(img) if white is None else white
        a = np.asarray(img, dtype=np.float64) * (255.0 / white)
        gray = np.clip(np.rint(a), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, mode="L").convert("RGB")
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        if img.mode == "RGB":
            return img
    if mode in ("LA", "La", "PA", "RGBa", "RGBA") or img.mode == "RGBA":
        rgba = img.convert("RGBA")
        white_bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white_bg, rgba).convert("RGB")
    return img.convert("RGB")  # L, 1, CMYK (incl. Adobe's inverted JPEGs), YCbCr, LAB, HSV...


def to_gray(image, *, alpha_over_black: bool = False) -> np.ndarray:
    """Grayscale through the BT.601 luma weights :data:`LUMA` (0.299 R + 0.587 G + 0.114 B).

    Args:
        image: ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)`` RGB; with
            ``alpha_over_black`` also ``(H, W, 4)`` RGBA. uint8 (0..255, scaled
            by :func:`cnnlib.data.datasets.to_float`) or float (taken as it is,
            normally [0, 1]).
        alpha_over_black: composite an RGBA image over black, i.e. luma times
            alpha, so that white ink is 1 on an opaque black background and on
            a transparent one alike (a canvas drawing). Off: RGBA is refused.

    Returns:
        float32 ``(H, W)``: in [0, 1] for uint8 input (clipped: the weights sum
        to 1 only up to rounding); float gray input is returned unchanged in
        value.

    Raises:
        ValueError: another shape, naming it (``(H, W, 4)`` without
            ``alpha_over_black``).
    """
    a = np.asarray(image)
    channels = (1, 3, 4) if alpha_over_black else (1, 3)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in channels):
        shapes = "(H, W), (H, W, 1), (H, W, 3)" + (" or (H, W, 4)" if alpha_over_black else "")
        raise ValueError(f"A grayscale conversion takes {shapes}. Received: shape={a.shape}")
    x = to_float(a) if a.dtype == np.uint8 else np.asarray(a, dtype=np.float32)
    if x.ndim == 2:
        gray = x
    elif x.shape[2] == 1:
        gray = x[..., 0]
    else:
        gray = x[..., :3] @ LUMA  # (H, W)
        if x.shape[2] == 4:
            gray = gray * x[..., 3]
    return np.clip(gray, 0.0, 1.0) if a.dtype == np.uint8 else gray


def decode_image(data: bytes, *, max_pixels: int = MAX_PIXELS, max_side: int = MAX_SIDE,
                 max_bytes: int = MAX_FILE_BYTES,
                 max_decode_bytes: int = MAX_DECODE_BYTES) -> DecodedImage:
    """Decode an uploaded image file safely, in bounded memory.

    Args:
        data: the file's bytes.
        max_pixels: refuse images whose header claims more pixels than this.
        max_side: downscale (box reduction, then Lanczos) so that the longer
            side is at most this.
        max_bytes: refuse files larger than this.
        max_decode_bytes: refuse images whose decoding would take more memory
            than this, in bytes (:func:`~cnnlib.data.decode_cost.decode_cost`, from the header, after
            the reductions Pillow can make while decoding).

    Returns:
        :class:`DecodedImage` with ``array`` uint8 ``(H, W, 3)`` RGB, upright.

    Raises:
        ImageError: an empty file, a file too large, a format outside
            :data:`FORMATS`, a non-image, a truncated or corrupt image, a
            decompression bomb, an image too costly to decode, or
            :data:`MAX_CONCURRENT_DECODES` decodes already running for longer
            than :data:`DECODE_WAIT_S`; the message says which and what to do.
    """
    if not data:
        raise ImageError("The file is empty. Choose a photo (JPEG, PNG, WebP, BMP or GIF).")
    if len(data) > max_bytes:
        raise ImageError(f"The file is {len(data) / 2**20:.1f} MB; the limit is "
                         f"{max_bytes / 2**20:.0f} MB. Use a smaller photo.")
    if not _DECODE_SLOTS.acquire(timeout=DECODE_WAIT_S):
        raise ImageError("The server is busy decoding other pictures. Try again in a few "
                         "seconds.")
    try:
        return _decode(data, max_pixels, max_side, max_decode_bytes)
    finally:
        _DECODE_SLOTS.release()


def _decode(data: bytes, max_pixels: int, max_side: int, max_decode_bytes: int) -> DecodedImage:
    from PIL import Image, PngImagePlugin, UnidentifiedImageError

    notes: list[str] = []
    Image.init()  # register every plugin (WebP), not only the five preloaded ones
    PngImagePlugin.MAX_TEXT_MEMORY = min(PngImagePlugin.MAX_TEXT_MEMORY, MAX_PNG_TEXT_BYTES)
    try:
        img = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except UnidentifiedImageError:
        raise ImageError("This file is not an image that can be read (JPEG, PNG, WebP, BMP or "
                         "GIF expected). Is it a different kind of file renamed?") from None
    except Image.DecompressionBombError as e:
        raise ImageError(f"The image is far too large to open safely ({e}).") from None
    except Exception as e:  # a broken header raises many types
        raise ImageError(f"The image header cannot be read ({type(e).__name__}: {e}).") from None

    with img:
        fmt, mode, (w, h) = img.format or "?", img.mode, img.size
        if w * h > max_pixels:
            raise ImageError(f"The image is {w}x{h} pixels ({w * h / 1e6:.0f} megapixels); the "
                             f"limit is {max_pixels / 1e6:.0f} megapixels. Downscale it first.")
        if w < 1 or h < 1:
            raise ImageError(f"The image has no pixels ({w}x{h}).")
        size = downscale.fit_size((w, h), max_side)
        try:
            if fmt in ("JPEG", "MPO") and size != (w, h):
                img.draft("RGB", size)  # decode at 1/2, 1/4 or 1/8 scale, still >= size
            decode_16_bit_gray_as_8_bit(img)
            cost = decode_cost(img, (w, h))
            if cost > max_decode_bytes:
                raise ImageError(too_costly(fmt, mode, (w, h), cost, max_decode_bytes))
            img.seek(0)  # first frame of a GIF (or an animated PNG / WebP)
            img.load()
        except ImageError:
            raise
        except Exception as e:  # truncated data: OSError; corrupt streams: SyntaxError, ValueError...
            raise ImageError(f"The image data is truncated or corrupt ({type(e).__name__}: {e}). "
                             "Try saving or exporting the photo again.") from None
        if getattr(img, "n_frames", 1) > 1:
            notes.append(f"The file has {img.n_frames} frames; the first is used.")
        try:
            orientation = img.getexif().get(0x0112)  # EXIF Orientation (or XMP's tiff:Orientation)
        except Exception:  # a malformed EXIF block: keep the pixels as stored
            orientation = None
            notes.append("The EXIF orientation could not be read; the image is used as stored.")
        try:
            array = downscale.rgb_array(img, size, functools.partial(to_rgb,
                                                                     white=white_level(img)))
        except Exception as e:  # a mode Pillow cannot convert, no memory left...
            raise ImageError(f"The image cannot be converted to RGB ({type(e).__name__}: {e}). "
                             "Try saving it again as a JPEG or PNG.") from None
    # the decoded picture is freed here; what follows works on the small array only
    array = _upright(array, orientation)
    if orientation in _TURNS:
        notes.append("Rotated according to the camera's EXIF orientation.")
    if mode != "RGB":
        notes.append(f"Converted from Pillow mode {mode!r} to RGB.")
    oh, ow = array.shape[:2]
    if sorted((ow, oh)) != sorted((w, h)):  # by the JPEG draft, the downscaling or both
        notes.append(f"Downscaled from {w}x{h} to {ow}x{oh} pixels (at most {max_side} a side).")
    if min(ow, oh) < SMALL_SIDE:
        notes.append(f"The image is only {ow}x{oh} pixels: it will be "
                     "enlarged a lot, so the prediction means little.")
    return DecodedImage(array, fmt, mode, (w, h), tuple(notes))


#: EXIF orientations that turn or flip the stored pixels (1 leaves them as they are).
_TURNS = (2, 3, 4, 5, 6, 7, 8)


def _upright(rgb: np.ndarray, orientation) -> np.ndarray:
    """``rgb`` turned as EXIF ``orientation`` says (Pillow's ``exif_transpose``)."""
    if orientation not in _TURNS:
        return rgb
    from PIL import Image, ImageOps

    img = Image.fromarray(rgb)
    img.getexif()[0x0112] = orientation  # the file's tag, on the decoded pixels
    ImageOps.exif_transpose(img, in_place=True)
    return np.array(img, dtype=np.uint8)
