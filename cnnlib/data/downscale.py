"""Convert a decoded picture to RGB and downscale it, a band of rows at a time.

A picture of 7000x7000 pixels held by Pillow as ``L`` takes 49 MB; the same
picture as ``RGB`` takes 196 MB (Pillow stores RGB in 4 bytes a pixel), and a
conversion with alpha compositing takes a few copies of that. So the picture
is never converted whole: :func:`rgb_array` converts a band of rows
(:func:`cnnlib.data.images.to_rgb`), shrinks it, and writes it into the output
array, then goes on to the next band. The memory used besides the decoded
picture is the output array plus one band, whatever the picture's size.

The result is the one of ``to_rgb(img).resize(size, LANCZOS, reducing_gap=2.0)``
(what ``Image.thumbnail`` does) within rounding: a box reduction by the
integer factor Pillow itself would choose (:meth:`Image.reduce`), then a
Lanczos resampling whose window, at most ``3 * scale`` rows on either side of
an output row, is read from the rows around each band.
"""

from __future__ import annotations

import math

import numpy as np

#: Pillow's default for ``thumbnail``: reduce by an integer factor while the result
#: stays at least this many times larger than the target, then resample.
REDUCING_GAP = 2.0
#: Source pixels converted to RGB at a time: 4 bytes each, ~5 copies while an RGBA
#: chunk is composited (~5 MB). A 4000x4000 RGBA PNG peaked at 95 MB in all with this
#: (116 MB with 1,000,000), at the same speed.
CHUNK_PIXELS = 250_000
#: Pixels of the reduced picture per band that is resampled at once (RGB, 4 bytes each).
BAND_PIXELS = 500_000
#: Half-width of Pillow's Lanczos window in output pixels (scaled by the reduction).
LANCZOS_SUPPORT = 3.0


def fit_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """``(width, height)`` scaled so that the longer side is at most ``max_side``
    (rounded, at least 1 each), or ``size`` itself when it already fits."""
    w, h = size
    if max(w, h) <= max_side:
        return w, h
    s = max_side / max(w, h)
    return max(1, round(w * s)), max(1, round(h * s))


def rgb_array(img, size: tuple[int, int], to_rgb) -> np.ndarray:
    """A loaded Pillow image as RGB, resized to ``size``, band by band.

    Args:
        img: a loaded ``PIL.Image.Image`` of any mode ``to_rgb`` takes.
        size: ``(width, height)`` of the result, at most the image's own size
            on each side (this downscales; an equal size converts only).
        to_rgb: ``PIL.Image -> PIL.Image`` in mode ``RGB`` of the same size
            (:func:`cnnlib.data.images.to_rgb` with the picture's white level).

    Returns:
        uint8 ``(height, width, 3)``, values 0..255.

    Raises:
        ValueError: a ``size`` larger than the image on a side, or below 1.
    """
    from PIL import Image

    w, h = img.size
    tw, th = size
    if not (1 <= tw <= w and 1 <= th <= h):
        raise ValueError(f"A size from 1x1 to {w}x{h} is expected. Received: size={size}")
    out = np.empty((th, tw, 3), np.uint8)  # (H, W, 3)
    if (tw, th) == (w, h):
        step = max(1, CHUNK_PIXELS // w)
        for y in range(0, h, step):
            out[y:y + step] = np.asarray(to_rgb(img.crop((0, y, w, min(h, y + step)))))
        return out
    fx, fy = max(1, int(w / tw / REDUCING_GAP)), max(1, int(h / th / REDUCING_GAP))
    rw, rh = -(-w // fx), -(-h // fy)  # the reduced picture
    sy = h / fy / th  # reduced rows per output row
    reach = LANCZOS_SUPPORT * max(sy, 1.0) + 1  # reduced rows read on either side of a row
    rows = max(1, int(BAND_PIXELS / rw / sy))  # output rows per band
    for oy0 in range(0, th, rows):
        oy1 = min(th, oy0 + rows)
        r0 = max(0, math.floor(oy0 * sy - reach))
        r1 = min(rh, math.ceil(oy1 * sy + reach))
        band = _reduced_rows(img, (fx, fy), r0, r1, rw, to_rgb)  # RGB (rw, r1 - r0)
        part = band.resize((tw, oy1 - oy0), Image.Resampling.LANCZOS,
                           box=(0, oy0 * sy - r0, w / fx, oy1 * sy - r0))
        out[oy0:oy1] = np.asarray(part)
    return out


def _reduced_rows(img, factor: tuple[int, int], r0: int, r1: int, rw: int, to_rgb):
    """Rows ``r0..r1`` of ``to_rgb(img).reduce(factor)``, converted a chunk of rows at a time."""
    from PIL import Image

    fx, fy = factor
    w, h = img.size
    band = Image.new("RGB", (rw, r1 - r0))
    step = max(1, CHUNK_PIXELS // (w * fy)) * fy  # source rows per chunk, whole reduction boxes
    end = min(h, r1 * fy)
    for y in range(r0 * fy, end, step):
        piece = to_rgb(img.crop((0, y, w, min(end, y + step))))
        if factor != (1, 1):
            piece = piece.reduce(factor)
        band.paste(piece, (0, (y - r0 * fy) // fy))
    return band
