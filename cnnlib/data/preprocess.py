"""A drawing on a canvas, turned into an MNIST digit the way MNIST was made.

LeCun, Cortes and Burges describe how the MNIST images were produced
(http://yann.lecun.com/exdb/mnist/): "The original black and white (bilevel)
images from NIST were size normalized to fit in a 20x20 pixel box while
preserving their aspect ratio. The resulting images contain grey levels as a
result of the anti-aliasing technique used by the normalization algorithm.
The images were centered in a 28x28 image by computing the center of mass of
the pixels, and translating the image so as to position this point at the
center of the 28x28 field."

:func:`preprocess_canvas` repeats those steps on a canvas image (white ink on
black, or white ink on a transparent background) and keeps every
intermediate image so that a page can show them:

1. canvas RGBA ``(H, W, 4)`` uint8;
2. grayscale ink ``(H, W)`` in [0, 1]: luminance times alpha, i.e. the
   canvas composited over black (:func:`cnnlib.data.images.to_gray`);
3. the crop to the bounding box of the ink;
4. the crop resized (Lanczos, anti-aliased) so that its longer side is 20
   pixels, the aspect ratio kept;
5. that image placed in a 28x28 field so that its centre of mass lies on
   pixel (row 14, column 14), the point where the real MNIST digits have
   theirs (measured on the test set: mean 13.99, 14.00, std 0.29). The shift
   is a whole number of pixels, so the centre of mass ends up within half a
   pixel of (14, 14).

An empty canvas (no pixel with ink >= ``INK_THRESHOLD``) is not an error:
:func:`preprocess_canvas` returns ``image=None`` and only the first two steps,
and :func:`canvas_to_mnist` returns ``None``. The caller asks for a drawing.

This module needs numpy and Pillow only; it never imports the canvas
component or TensorFlow.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import NamedTuple

import numpy as np

from cnnlib.data.images import to_gray

#: Ink at or above this level (in [0, 1]) counts as drawn; fainter pixels are
#: anti-aliasing fringe or noise and do not stretch the bounding box.
INK_THRESHOLD = 0.1
#: The box the digit is fitted into, and the field it is centred in.
BOX_SIZE = 20
FIELD_SIZE = 28
#: Where MNIST digits have their centre of mass, as (row, column) pixel indices.
FIELD_CENTRE = (14.0, 14.0)
#: A canvas image bigger than this (either side, pixels) is refused.
MAX_CANVAS_SIDE = 4096


class Step(NamedTuple):
    """One stage of the preprocessing, for display."""

    title: str
    image: np.ndarray  # uint8 (H, W, 4) for the canvas, else float32 (H, W) in [0, 1]


class MnistPreprocessing(NamedTuple):
    """What :func:`preprocess_canvas` returns."""

    image: np.ndarray | None  # float32 (28, 28, 1) in [0, 1]; None for an empty canvas
    steps: list[Step]  # 5 steps, or 2 (canvas, grayscale) for an empty canvas


def decode_canvas_png(data: bytes | str) -> np.ndarray:
    """Decode the PNG a drawing canvas sends.

    Args:
        data: PNG bytes, or a ``data:image/png;base64,...`` URL as the
            streamlit-drawable-canvas component returns it.

    Returns:
        uint8 array ``(H, W, 4)`` RGBA, values 0..255.

    Raises:
        ValueError: not a PNG (or not base64), or larger than
            ``MAX_CANVAS_SIDE`` pixels on a side. The canvas is filled by the
            browser, so this only happens with a forged request.
    """
    from PIL import Image

    if isinstance(data, str):
        _, _, encoded = data.partition(";base64,")
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as e:
            raise ValueError(f"The canvas data is not base64 ({e}).") from e
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as img:
            if max(img.size) > MAX_CANVAS_SIDE:
                raise ValueError(f"The canvas image is too large: {img.size[0]}x{img.size[1]} "
                                 f"pixels (at most {MAX_CANVAS_SIDE} a side).")
            return np.asarray(img.convert("RGBA"))
    except (OSError, Image.DecompressionBombError) as e:
        raise ValueError(f"The canvas data is not a readable PNG ({e}).") from e


def ink_bbox(gray: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int] | None:
    """Bounding box of the ink, as slice bounds ``(top, bottom, left, right)``.

    Args:
        gray: float ``(H, W)`` in [0, 1].
        threshold: the ink level that counts as drawn.

    Returns:
        ``gray[top:bottom, left:right]`` holds every pixel ``>= threshold``;
        ``None`` when there is none (an empty canvas).
    """
    mask = gray >= threshold
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def fit_in_box(crop: np.ndarray, size: int = BOX_SIZE) -> np.ndarray:
    """Resize so that the longer side is ``size`` pixels, keeping the aspect ratio.

    Args:
        crop: float32 ``(h, w)`` in [0, 1], ``h, w >= 1``.
        size: the side of the target box.

    Returns:
        float32 ``(h', w')`` in [0, 1] with ``max(h', w') == size`` and
        ``h' / w'`` within rounding of ``h / w`` (the shorter side is at
        least 1). Lanczos resampling, which anti-aliases when shrinking.
    """
    from PIL import Image

    h, w = crop.shape
    scale = size / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    img = Image.fromarray(np.ascontiguousarray(crop, dtype=np.float32), mode="F")
    out = np.asarray(img.resize((new_w, new_h), Image.Resampling.LANCZOS), dtype=np.float32)
    return np.clip(out, 0.0, 1.0)  # Lanczos rings slightly outside [0, 1]


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted mean ``(row, column)`` in pixel indices; the centre if all zero."""
    total = float(img.sum())
    if total <= 0:
        return (img.shape[0] - 1) / 2, (img.shape[1] - 1) / 2
    rows = np.arange(img.shape[0], dtype=np.float64)
    cols = np.arange(img.shape[1], dtype=np.float64)
    return (float(img.sum(axis=1) @ rows) / total, float(img.sum(axis=0) @ cols) / total)


def centre_in_field(box: np.ndarray, size: int = FIELD_SIZE,
                    centre: tuple[float, float] = FIELD_CENTRE) -> np.ndarray:
    """Place ``box`` in a ``size`` x ``size`` field, its centre of mass at ``centre``.

    The translation is whole pixels (rounded), so the centre of mass lands
    within half a pixel of ``centre``. If that translation would push ink out
    of the field (only for very lopsided drawings, whose centre of mass is
    more than 4 pixels from the middle of their 20x20 box), it is clamped so
    that nothing is cut off, and the centre of mass then lies further away.

    Args:
        box: float32 ``(h, w)``, ``h, w <= size``.
        size: the side of the field.
        centre: target ``(row, column)`` in pixel indices.

    Returns:
        float32 ``(size, size)``, zero outside the placed box.
    """
    h, w = box.shape
    cy, cx = centre_of_mass(box)
    top = min(max(int(round(centre[0] - cy)), 0), size - h)
    left = min(max(int(round(centre[1] - cx)), 0), size - w)
    field = np.zeros((size, size), np.float32)
    field[top:top + h, left:left + w] = box
    return field


def preprocess_canvas(rgba: np.ndarray, threshold: float = INK_THRESHOLD) -> MnistPreprocessing:
    """Canvas image -> MNIST digit, keeping every intermediate image.

    Args:
        rgba: uint8 canvas image ``(H, W, 4)`` (or ``(H, W, 3)``, ``(H, W)``),
            white ink on black or on transparent.
        threshold: ink level that counts as drawn, in (0, 1].

    Returns:
        :class:`MnistPreprocessing`: ``image`` float32 ``(28, 28, 1)`` in
        [0, 1] (None for an empty canvas) and the ``steps`` as (title, image)
        pairs: the canvas, grayscale, bounding box crop, fit in 20x20, centred
        in 28x28 (only the first two for an empty canvas).

    Raises:
        ValueError: a dtype other than uint8, or another shape, naming it.
    """
    a = np.asarray(rgba)
    if a.dtype != np.uint8:
        raise ValueError("A canvas image is uint8 (H, W), (H, W, 3) or (H, W, 4). "
                         f"Received: dtype={a.dtype}, shape={a.shape}")
    gray = to_gray(a, alpha_over_black=True)  # (H, W) float32 in [0, 1]
    steps = [Step(f"Canvas {gray.shape[1]}x{gray.shape[0]} RGBA", a),
             Step("Grayscale", gray)]
    bbox = ink_bbox(gray, threshold)
    if bbox is None:
        return MnistPreprocessing(None, steps)
    top, bottom, left, right = bbox
    crop = gray[top:bottom, left:right]
    box = fit_in_box(crop)
    field = centre_in_field(box)
    steps += [Step(f"Bounding box {crop.shape[1]}x{crop.shape[0]}", crop),
              Step(f"Fit in 20x20 ({box.shape[1]}x{box.shape[0]})", box),
              Step("Centre of mass at the centre of 28x28", field)]
    return MnistPreprocessing(field[..., None], steps)  # (28, 28, 1)


def canvas_to_mnist(rgba: np.ndarray) -> np.ndarray | None:
    """Canvas image -> float32 ``(28, 28, 1)`` in [0, 1], or None if nothing is drawn.

    See :func:`preprocess_canvas` for the steps and the accepted inputs.
    """
    return preprocess_canvas(rgba).image
