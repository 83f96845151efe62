"""Pixels out: the one nearest-neighbour enlarge and the one PNG encoder.

A small picture (a 28 x 28 digit, a 3 x 3 kernel) is enlarged by repeating
each pixel a whole number of times: the browser would blur it otherwise.
Pictures travel as PNG (bytes for ``st.image``, a data URI for a component or
a Plotly image): a fraction of the size of the same pixels as JSON numbers.
numpy and PIL only.
"""

from __future__ import annotations

import base64
import io

import numpy as np


def repeat(pixels: np.ndarray, factor: int, axis: int = 0) -> np.ndarray:
    """Each pixel of ``pixels`` repeated ``factor`` times down and across (nearest
    neighbour): ``(H, W[, C])`` becomes ``(H * factor, W * factor[, C])``, same dtype.

    Args:
        pixels: an image, or a stack of them (``axis=1`` for ``(N, H, W[, C])``).
        factor: a whole number >= 1.
        axis: the image's row axis (its columns follow).

    Raises:
        ValueError: ``factor < 1``.
    """
    if factor < 1:
        raise ValueError(f"The enlarging factor must be a whole number >= 1. Received: {factor}")
    pixels = np.asarray(pixels)
    return pixels if factor == 1 else pixels.repeat(factor, axis=axis).repeat(factor, axis=axis + 1)


def factor_for(shape, side: int) -> int:
    """The whole factor that brings the longer side of ``shape`` ``(H, W, ...)`` to at
    most ``side`` (at least 1)."""
    return max(1, int(side) // max(shape[:2]))


def enlarge(img: np.ndarray, side: int) -> np.ndarray:
    """``img`` repeated (:func:`repeat`) so that its longer side is about ``side`` (at
    most), as uint8 for ``st.image``.

    Args:
        img: uint8, or float in [0, 1] (clipped), ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)``.
        side: the longer side wanted, pixels.

    Returns:
        uint8 ``(H * f, W * f)`` (one channel dropped) or ``(H * f, W * f, 3)``.
    """
    img = np.asarray(img)
    if img.dtype != np.uint8:  # float images in [0, 1]
        img = (np.clip(img, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    img = img[..., 0] if img.ndim == 3 and img.shape[2] == 1 else img
    return repeat(img, factor_for(img.shape, side))


def png_bytes(pixels: np.ndarray) -> bytes:
    """A uint8 gray ``(H, W)``, RGB ``(H, W, 3)`` or RGBA ``(H, W, 4)`` image as PNG
    bytes (fast compression: these pictures are made for one screen)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buf, "PNG", compress_level=3)
    return buf.getvalue()


def png_uri(pixels: np.ndarray) -> str:
    """:func:`png_bytes` as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(pixels)).decode("ascii")
