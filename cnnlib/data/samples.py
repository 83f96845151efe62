"""Sample pictures for the Convolution page, drawn procedurally (nothing is
copied from a dataset), and :func:`from_dataset_image` for the other pictures
(grayscale: :func:`cnnlib.data.images.to_gray`).

Every image here is float32 in ``[0, 1]``: grayscale ``(H, W)`` or RGB
``(H, W, 3)``.
"""

from __future__ import annotations

import functools

import numpy as np

from cnnlib.data.datasets import to_float

SIZE = 128  # side of the procedural samples, pixels
MAX_UPLOAD_SIDE = 256  # uploads are shrunk to this (cnnlib.data.images) so an interaction stays fast


def _grid(n: int):
    y, x = np.mgrid[0:n, 0:n].astype(np.float32) / (n - 1)  # (n, n) each, 0..1
    return y, x


def _checkerboard(n: int) -> np.ndarray:
    y, x = np.mgrid[0:n, 0:n] // (n // 8)
    return ((x + y) % 2).astype(np.float32)


def _circles(n: int) -> np.ndarray:
    y, x = _grid(n)
    img = np.zeros((n, n), np.float32)
    for cy, cx, r, v in ((0.3, 0.3, 0.2, 1.0), (0.65, 0.7, 0.25, 0.6), (0.75, 0.25, 0.12, 0.8)):
        img[(y - cy) ** 2 + (x - cx) ** 2 <= r * r] = v
    ring = np.abs(np.hypot(y - 0.3, x - 0.75) - 0.15) < 0.02
    img[ring] = 0.9
    return img


def _gradient(n: int) -> np.ndarray:
    y, x = _grid(n)
    img = 0.8 * x  # a ramp: the Laplacian is zero on it
    img[y > 0.5] = np.where(x[y > 0.5] > 0.5, 0.9, 0.1)  # and a step below
    return img.astype(np.float32)


def _letters(n: int) -> np.ndarray:
    img = np.zeros((n, n), np.float32)
    u = n // 16  # stroke width
    top, bottom = 5 * u, 11 * u
    for x0 in (u, 6 * u, 11 * u):  # "C", "N", "N", each 4u wide
        if x0 == u:
            img[top:bottom, x0:x0 + u] = 1
            img[top:top + u, x0:x0 + 4 * u] = 1
            img[bottom - u:bottom, x0:x0 + 4 * u] = 1
            continue
        img[top:bottom, x0:x0 + u] = 1
        img[top:bottom, x0 + 3 * u:x0 + 4 * u] = 1
        for t in range(bottom - top):  # the diagonal of the N
            c = x0 + u + int(t * 2 * u / (bottom - top))
            img[top + t, c:c + u] = 1
    return img


def _house(n: int) -> np.ndarray:
    y, x = _grid(n)
    img = np.empty((n, n, 3), np.float32)
    img[:] = np.stack([0.45 + 0.3 * y, 0.65 + 0.2 * y, np.full_like(y, 0.95)], axis=-1)  # sky
    img[(y - 0.18) ** 2 + (x - 0.82) ** 2 < 0.01] = (1.0, 0.85, 0.2)  # sun
    img[y > 0.8] = (0.25, 0.6, 0.2)  # grass
    body = (y > 0.5) & (y <= 0.85) & (x > 0.2) & (x < 0.7)
    img[body] = (0.85, 0.75, 0.6)
    roof = (y > 0.25) & (y <= 0.5) & (np.abs(x - 0.45) < (y - 0.25) * 1.2)
    img[roof] = (0.7, 0.15, 0.1)
    img[(y > 0.65) & (y <= 0.85) & (x > 0.4) & (x < 0.5)] = (0.35, 0.2, 0.1)  # door
    for x0 in (0.25, 0.55):
        img[(y > 0.57) & (y < 0.67) & (x > x0) & (x < x0 + 0.1)] = (0.6, 0.85, 1.0)  # windows
    return img


def _shapes(n: int) -> np.ndarray:
    y, x = _grid(n)
    img = np.full((n, n, 3), 0.5, np.float32)
    img[(x > 0.1) & (x < 0.4) & (y > 0.1) & (y < 0.4)] = (0.9, 0.1, 0.1)  # red square
    img[(y - 0.3) ** 2 + (x - 0.72) ** 2 < 0.025] = (0.1, 0.3, 0.9)  # blue disc
    img[(y > 0.55) & (y < 0.9) & (np.abs(x - 0.5) < (y - 0.55) * 0.8)] = (0.1, 0.75, 0.2)  # triangle
    return img


_MAKERS = {
    "checkerboard": (_checkerboard, "8 x 8 squares: sharp horizontal and vertical edges."),
    "circles": (_circles, "Discs and a ring of different brightness: curved edges."),
    "gradient": (_gradient, "A ramp above and a step below: blur and edges compared."),
    "letters": (_letters, "The letters CNN: strokes, corners and a diagonal."),
    "house": (_house, "A colour scene of a house: RGB, edges in every direction."),
    "shapes": (_shapes, "A red square, a blue disc and a green triangle on grey: RGB."),
}
DESCRIPTIONS = {name: text for name, (_, text) in _MAKERS.items()}


def names() -> list[str]:
    """Sample names, in display order."""
    return list(_MAKERS)


@functools.lru_cache(maxsize=None)
def sample(name: str, size: int = SIZE) -> np.ndarray:
    """Procedural sample ``name``: float32 in [0, 1], ``(size, size)`` or
    ``(size, size, 3)``. Read-only (cached); copy before changing it.

    Raises:
        ValueError: unknown name or ``size < 16``.
    """
    if name not in _MAKERS:
        raise ValueError(f"Unknown sample. Expected one of {names()}. Received: name={name!r}")
    if size < 16:
        raise ValueError(f"A sample is at least 16 pixels wide. Received: size={size}")
    img = _MAKERS[name][0](size)
    img.flags.writeable = False
    return img


def from_dataset_image(image) -> np.ndarray:
    """A dataset image or a decoded photo as a picture of this module.

    Args:
        image: uint8 ``(H, W, 1)`` or ``(H, W, 3)``, values 0..255.

    Returns:
        float32 in [0, 1] (:func:`cnnlib.data.datasets.to_float`), with the single
        channel of a gray image dropped: ``(H, W)`` for one channel,
        ``(H, W, 3)`` for three.
    """
    x = to_float(image)
    return x[..., 0] if x.ndim == 3 and x.shape[2] == 1 else x
