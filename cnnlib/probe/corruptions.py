"""Changes of an image that grow with one number, the level: what a robustness curve
(:mod:`cnnlib.probe.robustness`) sweeps. Each is the identity at level 0.

Every function takes a batch float32 ``(N, H, W, C)`` in ``[0, 1]`` and returns a new one
of the same shape and range:

- ``rotation``: degrees, counter-clockwise about the centre;
- ``shift``: a fraction of the side, right and down;
- ``scale``: a factor (1 = unchanged; 0.5 = half the size about the centre, 2 = twice);
  its level 0 means factor 1 (level = factor - 1);
- ``noise``: the standard deviation of added Gaussian noise, in ``[0, 1]`` units;
- ``blur``: the standard deviation, in pixels, of a Gaussian kernel the image is
  convolved with (separable, edges repeated);
- ``contrast``: the share of contrast taken away: ``mean + (1 - level) (x - mean)``
  with each image's mean, so level 1 is a flat grey;
- ``occlusion``: the side of a black square, as a fraction of the image's side, at a
  place drawn per image from ``seed``.

The geometric ones resample with bilinear interpolation and fill uncovered pixels with
the nearest edge pixel (Keras's default fill for augmentation), through
``keras.ops.image.affine_transform``.
"""

from __future__ import annotations

import math

import numpy as np

#: name -> (what the level is, its unit, the default levels of a curve).
CORRUPTIONS = {
    "rotation": ("rotation", "degrees", (0, 10, 20, 30, 45, 60, 90)),
    "shift": ("shift", "fraction of the side", (0, 0.05, 0.1, 0.15, 0.2, 0.3)),
    "scale": ("scale - 1", "factor minus 1", (-0.5, -0.3, -0.15, 0, 0.15, 0.3, 0.5)),
    "noise": ("noise std", "of the [0, 1] range", (0, 0.05, 0.1, 0.2, 0.3, 0.5)),
    "blur": ("blur standard deviation", "pixels", (0, 0.5, 1, 1.5, 2, 3)),
    "contrast": ("contrast taken away", "fraction", (0, 0.25, 0.5, 0.75, 0.9, 1.0)),
    "occlusion": ("occluding square's side", "fraction of the side", (0, 0.1, 0.2, 0.3, 0.4, 0.5)),
}


def _affine(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Resample ``x`` with the 3x3 matrix mapping output (col, row, 1) to input coordinates."""
    from keras import ops

    transform = np.array([matrix[0, 0], matrix[0, 1], matrix[0, 2], matrix[1, 0], matrix[1, 1],
                          matrix[1, 2], 0.0, 0.0], np.float32)
    out = ops.image.affine_transform(x, np.tile(transform, (len(x), 1)), interpolation="bilinear",
                                     fill_mode="nearest")
    return np.clip(np.asarray(out, np.float32), 0.0, 1.0)


def _about_centre(x: np.ndarray, linear: np.ndarray) -> np.ndarray:
    h, w = x.shape[1:3]
    cx, cy = (w - 1) / 2, (h - 1) / 2
    m = np.eye(3)
    m[:2, :2] = linear
    m[:2, 2] = np.array([cx, cy]) - linear @ np.array([cx, cy])
    return m


def rotation(x: np.ndarray, degrees: float, seed: int = 0) -> np.ndarray:
    if degrees == 0:
        return np.array(x, np.float32)
    t = math.radians(degrees)
    # output (col, row) -> input: with rows growing downwards, this matrix samples the
    # picture turned counter-clockwise on the screen (90 degrees: np.rot90)
    linear = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return _affine(x, _about_centre(x, linear))


def shift(x: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    if fraction == 0:
        return np.array(x, np.float32)
    h, w = x.shape[1:3]
    m = np.eye(3)
    m[0, 2], m[1, 2] = -fraction * w, -fraction * h
    return _affine(x, m)


def scale(x: np.ndarray, level: float, seed: int = 0) -> np.ndarray:
    factor = 1.0 + level
    if factor <= 0:
        raise ValueError(f"The scale level must be > -1. Received: {level}")
    if factor == 1:
        return np.array(x, np.float32)
    return _affine(x, _about_centre(x, np.eye(2) / factor))


def noise(x: np.ndarray, std: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(x + rng.normal(0.0, std, x.shape), 0.0, 1.0).astype(np.float32)


def gaussian_kernel(std: float) -> np.ndarray:
    """The normalised 1-D Gaussian kernel of standard deviation ``std`` pixels, radius
    ``ceil(3 std)``: float64 ``(2r + 1,)`` summing to 1 (``[1.]`` for std 0)."""
    if std <= 0:
        return np.ones(1)
    r = int(math.ceil(3 * std))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / std) ** 2)
    return k / k.sum()


def blur(x: np.ndarray, std: float, seed: int = 0) -> np.ndarray:
    k = gaussian_kernel(std)
    r = len(k) // 2
    out = np.asarray(x, np.float64)
    for axis in (1, 2):  # separable: rows, then columns
        pad = [(0, 0)] * 4
        pad[axis] = (r, r)
        padded = np.pad(out, pad, mode="edge")
        n = out.shape[axis]
        out = sum(w * np.take(padded, np.arange(i, i + n), axis=axis) for i, w in enumerate(k))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def contrast(x: np.ndarray, level: float, seed: int = 0) -> np.ndarray:
    mean = np.asarray(x, np.float64).mean(axis=(1, 2, 3), keepdims=True)
    return np.clip(mean + (1.0 - level) * (x - mean), 0.0, 1.0).astype(np.float32)


def occlusion(x: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    out = np.array(x, np.float32)
    h, w = x.shape[1:3]
    side = int(round(fraction * min(h, w)))
    if side <= 0:
        return out
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, h - side + 1, len(x))
    cols = rng.integers(0, w - side + 1, len(x))
    for i, (r, c) in enumerate(zip(rows, cols)):
        out[i, r:r + side, c:c + side] = 0.0
    return out


FUNCTIONS = {"rotation": rotation, "shift": shift, "scale": scale, "noise": noise, "blur": blur,
             "contrast": contrast, "occlusion": occlusion}


#: The levels each change accepts (bounded: a blur's kernel grows with its level).
RANGES = {"rotation": (-360.0, 360.0), "shift": (-1.0, 1.0), "scale": (-0.9, 9.0),
          "noise": (0.0, 1.0), "blur": (0.0, 10.0), "contrast": (0.0, 1.0), "occlusion": (0.0, 1.0)}


def apply(name: str, x: np.ndarray, level: float, seed: int = 0) -> np.ndarray:
    """The change ``name`` at ``level`` on batch ``x`` (see the module's list).

    Raises:
        ValueError: an unknown name, a level out of its range (:data:`RANGES`).
    """
    if name not in FUNCTIONS:
        raise ValueError(f"Unknown change {name!r}; expected one of {', '.join(FUNCTIONS)}.")
    low, high = RANGES[name]
    level = float(level)
    if not (math.isfinite(level) and low <= level <= high):
        raise ValueError(f"The {name} level must be in [{low:g}, {high:g}]. Received: {level}")
    return FUNCTIONS[name](np.asarray(x, np.float32), level, seed)
