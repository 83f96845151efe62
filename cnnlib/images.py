"""Safe decoding of user photos with Pillow.

:func:`decode_image` turns the bytes of an uploaded file or a camera shot
into an RGB uint8 array, and never lets a bad file through as anything but an
:class:`ImageError` whose message is a sentence for the user:

- formats: JPEG (and MPO, what many phone cameras write), PNG, WebP, BMP and
  GIF (first frame); anything else is refused before it is decoded;
- size: the header's pixel count is checked before decoding, so a
  decompression bomb (a tiny file that claims a huge image) is refused
  without allocating it; images larger than ``max_side`` are downscaled,
  with a note saying so. JPEGs are decoded directly at a reduced scale
  (``Image.draft``) when that is enough;
- EXIF orientation is applied (``ImageOps.exif_transpose``), so a phone
  photo taken upright is upright;
- modes: grayscale (``L``, ``1``), palette (``P``), alpha (``RGBA``, ``LA``,
  ``PA``: composited over white), ``CMYK``, 16-bit (``I;16*``, scaled from
  0..65535, which Pillow's own ``convert`` would clip), 32-bit ``I`` and
  ``F`` become RGB;
- empty, truncated and unreadable files raise :class:`ImageError`.

Pillow's global ``Image.MAX_IMAGE_PIXELS`` is left as it is (it is
process-wide); this module applies its own, lower limit.

:func:`to_gray` is the one grayscale conversion of the library (for photos,
sample pictures, dataset images and canvas drawings).
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np

from .datasets import to_float

#: Formats accepted, as Pillow's openers name them (the JPEG opener also reads
#: MPO, the JPEG variant many phone cameras write; ``format`` then says "MPO").
FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF")
#: Larger files are refused (matches ``server.maxUploadSize`` in .streamlit/config.toml).
MAX_FILE_BYTES = 25 * 1024 * 1024
#: Images with more pixels than this (width x height, from the header) are refused.
MAX_PIXELS = 50_000_000
#: Images with a longer side than this are downscaled after decoding.
MAX_SIDE = 2048
#: Images with a shorter side than this get a note: enlarging them invents detail.
SMALL_SIDE = 32
#: ITU-R BT.601 luma weights of R, G and B, as PIL's "L" conversion.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


class ImageError(ValueError):
    """A file that cannot be used as an image; ``str(e)`` is a sentence for the user."""


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


def to_rgb(img) -> "PIL.Image.Image":  # noqa: F821
    """Convert a Pillow image of any mode to ``RGB`` without clipping or black backgrounds.

    Transparent pixels are composited over white; 16-bit and 32-bit
    grayscale is scaled to 0..255 (``I;16*`` divides by 257; ``I`` is taken
    as 16-bit if its maximum exceeds 255; ``F`` as [0, 1] if its maximum is
    at most 1, else as 0..255).
    """
    from PIL import Image

    mode = img.mode
    if mode == "RGB":
        return img
    if mode.startswith("I;16") or mode in ("I", "F"):
        a = np.asarray(img, dtype=np.float64)
        if mode.startswith("I;16") or (mode == "I" and a.max(initial=0) > 255):
            a = a / 257.0
        elif mode == "F" and a.max(initial=0) <= 1.0:
            a = a * 255.0
        gray = np.clip(np.rint(a), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, mode="L").convert("RGB")
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        if img.mode == "RGB":
            return img
    if mode in ("LA", "La", "PA", "RGBa", "RGBA") or img.mode == "RGBA":
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")  # L, 1, CMYK (incl. Adobe's inverted JPEGs), YCbCr, LAB, HSV...


def to_gray(image, *, alpha_over_black: bool = False) -> np.ndarray:
    """Grayscale through the BT.601 luma weights :data:`LUMA` (0.299 R + 0.587 G + 0.114 B).

    Args:
        image: ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)`` RGB; with
            ``alpha_over_black`` also ``(H, W, 4)`` RGBA. uint8 (0..255, scaled
            by :func:`cnnlib.datasets.to_float`) or float (taken as it is,
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
                 max_bytes: int = MAX_FILE_BYTES) -> DecodedImage:
    """Decode an uploaded image file safely.

    Args:
        data: the file's bytes.
        max_pixels: refuse images whose header claims more pixels than this.
        max_side: downscale (Lanczos) so that the longer side is at most this.
        max_bytes: refuse files larger than this.

    Returns:
        :class:`DecodedImage` with ``array`` uint8 ``(H, W, 3)`` RGB, upright.

    Raises:
        ImageError: an empty file, a file too large, a format outside
            :data:`FORMATS`, a non-image, a truncated or corrupt image, or a
            decompression bomb; the message says which and what to do.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise ImageError("The file is empty. Choose a photo (JPEG, PNG, WebP, BMP or GIF).")
    if len(data) > max_bytes:
        raise ImageError(f"The file is {len(data) / 2**20:.1f} MB; the limit is "
                         f"{max_bytes / 2**20:.0f} MB. Use a smaller photo.")
    notes: list[str] = []
    Image.init()  # register every plugin (WebP), not only the five preloaded ones
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
        try:
            if fmt in ("JPEG", "MPO") and max(w, h) > max_side:
                img.draft("RGB", (max_side, max_side))  # decode at 1/2, 1/4 or 1/8 scale
            img.seek(0)  # first frame of a GIF (or an animated PNG / WebP)
            img.load()
        except Exception as e:  # truncated data: OSError; corrupt streams: SyntaxError, ValueError...
            raise ImageError(f"The image data is truncated or corrupt ({type(e).__name__}: {e}). "
                             "Try saving or exporting the photo again.") from None
        if getattr(img, "n_frames", 1) > 1:
            notes.append(f"The file has {img.n_frames} frames; the first is used.")
        try:
            upright = ImageOps.exif_transpose(img)
        except Exception:  # a malformed EXIF block: keep the pixels as stored
            upright = img
            notes.append("The EXIF orientation could not be read; the image is used as stored.")
        if upright.size != img.size or _orientation(img) not in (None, 1):
            notes.append("Rotated according to the camera's EXIF orientation.")
        rgb = to_rgb(upright)
        if mode not in ("RGB",):
            notes.append(f"Converted from Pillow mode {mode!r} to RGB.")
        if max(rgb.size) > max_side:
            rgb = rgb.copy()
            rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        if sorted(rgb.size) != sorted((w, h)):  # by the JPEG draft, the thumbnail or both
            notes.append(f"Downscaled from {w}x{h} to {rgb.size[0]}x{rgb.size[1]} pixels "
                         f"(at most {max_side} a side).")
        if min(rgb.size) < SMALL_SIDE:
            notes.append(f"The image is only {rgb.size[0]}x{rgb.size[1]} pixels: it will be "
                         "enlarged a lot, so the prediction means little.")
        return DecodedImage(np.array(rgb, dtype=np.uint8), fmt, mode, (w, h), tuple(notes))


def _orientation(img) -> int | None:
    try:
        return img.getexif().get(0x0112)  # Orientation
    except Exception:
        return None
