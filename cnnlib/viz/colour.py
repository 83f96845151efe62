"""The one colour rule of CNN Studio, and every colour a picture is drawn in.

The rule (:func:`value_scale`), for feature maps, kernels, pooled maps and
the small matrices alike:

- values that are all ``>= 0`` (a map after a ReLU) are drawn on a **gray**
  scale from 0 (black) to the largest value (white);
- values of both signs (a convolution before its activation, a kernel) get a
  **diverging** scale centred on 0: blue below, near-white at 0, red above,
  symmetric from ``-max|v|`` to ``+max|v|`` (ColorBrewer RdBu).

The extent is chosen one way: over all the values drawn together, so every
map of a layer shares one scale and the channels compare. The Convolution
page's toy feature map passes ``white=1`` (the input's white), so that the
identity kernel's map looks like a copy of the input. :func:`caption` says in
words which scale a picture uses.

Grad-CAM's heatmap (non-negative, in [0, 1]) is laid over a photo, where gray
would vanish: it is drawn on :data:`HEAT_STOPS` (matplotlib's perceptually
uniform "inferno": dark for 0, light yellow for 1) by :func:`heat_colours`
and :func:`overlay`. Every explanation map follows the same two cases
(:func:`explanation_picture`): a map of how much (all values ``>= 0``: a gradient's
size, Grad-CAM) is that heat laid over the picture, from 0 to its largest value; a
map of for and against (both signs: integrated gradients, occlusion) is the diverging
scale above. numpy only.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from cnnlib.viz.numbers import number

#: Diverging stops (ColorBrewer RdBu, 11 classes, reversed): blue, white at 0.5, red.
DIVERGING_STOPS = ((5, 48, 97), (33, 102, 172), (67, 147, 195), (146, 197, 222), (209, 229, 240),
                   (247, 247, 247), (253, 219, 199), (244, 165, 130), (214, 96, 77), (178, 24, 43),
                   (103, 0, 31))
#: Heat stops for Grad-CAM (matplotlib "inferno" at 0, 1/8, ..., 1): dark purple to light yellow.
HEAT_STOPS = ((0, 0, 4), (31, 12, 72), (85, 15, 109), (136, 34, 106), (186, 54, 85), (227, 89, 51),
              (249, 140, 10), (249, 201, 50), (252, 255, 164))
WINDOW_RGB = (255, 127, 14)  # the kernel window, a chosen cell (orange)
WINDOW_HEX = "#ff7f0e"  # the same orange, for Plotly and CSS
EDGE_RGB = (20, 20, 20)  # the thin dark edge around orange lines, for light pictures
GRID_RGB = (128, 128, 128)  # lines between tiles, or between the taps of an enlarged patch
PADDING_RGB = (0, 170, 255)  # dashed outline of the image inside its zero padding
BACKGROUND_RGB = (255, 255, 255)  # the margin around a picture, where outlines may fall


@dataclasses.dataclass(frozen=True)
class Scale:
    """How values map to colours.

    Attributes:
        signed: True for the diverging scale (centred on 0), False for gray.
        zmin, zmax: the values drawn at the two ends (``zmin = -zmax`` when
            signed, ``zmin = 0`` otherwise); ``zmax > 0``.
    """

    signed: bool
    zmin: float
    zmax: float


def value_scale(values, white: float = 0.0) -> Scale:
    """The colour scale of ``values`` (NaN and infinities ignored), by the rule above.

    Args:
        values: any float array: all the values drawn on one scale (a whole
            layer's maps, or only their minimum and maximum).
        white: the value drawn white on the gray scale at least (0: the largest
            value; 1: the input's white, for a map that should look like its input).

    Returns:
        A :class:`Scale`: gray ``[0, max(max, white)]`` when no value is negative,
        else diverging ``[-m, m]`` with ``m = max|v|``; never a zero-width range
        (all zeros give ``[0, 1]``).
    """
    v = np.asarray(values, dtype=np.float64)
    finite = v[np.isfinite(v)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if lo >= 0:
        return Scale(False, 0.0, max(hi, white) or 1.0)
    lim = max(-lo, hi)
    return Scale(True, -lim, lim)


def caption(scale: Scale, whole: str = "the layer") -> str:
    """The scale in words, for a caption, e.g. ``one scale for the layer: 0 (black) to
    3.2 (white)`` or ``one scale for the layer: -1.5 (blue), 0 (white), 1.5 (red)``."""
    if scale.signed:
        return (f"one scale for {whole}: {number(scale.zmin)} (blue), 0 (white), "
                f"{number(scale.zmax)} (red)")
    return f"one scale for {whole}: 0 (black) to {number(scale.zmax)} (white)"


def _interpolate(stops, t: np.ndarray) -> np.ndarray:
    """uint8 RGB ``t.shape + (3,)``: ``t`` in [0, 1] along evenly spaced ``stops``."""
    table = np.asarray(stops, dtype=np.float32)  # (S, 3)
    pos = np.clip(t, 0.0, 1.0) * (len(table) - 1)
    i = np.minimum(pos.astype(np.int64), len(table) - 2)
    frac = (pos - i)[..., None]
    return np.rint(table[i] * (1 - frac) + table[i + 1] * frac).astype(np.uint8)


def _fraction(values, scale: Scale) -> np.ndarray:
    """Where each value lies on ``scale``, in [0, 1] (NaN counts as 0)."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float32))
    return np.clip((v - scale.zmin) / ((scale.zmax - scale.zmin) or 1.0), 0.0, 1.0)


def colourise(values, scale: Scale) -> np.ndarray:
    """``values`` (any shape) as uint8 RGB ``values.shape + (3,)`` on ``scale``; NaN is drawn as 0."""
    t = _fraction(values, scale)
    if not scale.signed:
        return np.repeat(np.rint(t * 255).astype(np.uint8)[..., None], 3, axis=-1)
    return _interpolate(DIVERGING_STOPS, t)


def colours(values, scale: Scale) -> np.ndarray:
    """:func:`colourise` through a 256-step table: the same colours within 1/255 of the
    range (exactly the same on the gray scale), several times faster on a whole layer."""
    table = colourise(np.linspace(scale.zmin, scale.zmax, 256, dtype=np.float32), scale)  # (256, 3)
    return table[np.rint(_fraction(values, scale) * 255).astype(np.intp)]


def plotly_colorscale(scale: Scale) -> list:
    """The same colours as :func:`colourise`, as a Plotly colorscale."""
    if not scale.signed:
        return [[0.0, "rgb(0,0,0)"], [1.0, "rgb(255,255,255)"]]
    n = len(DIVERGING_STOPS) - 1
    return [[i / n, "rgb({},{},{})".format(*c)] for i, c in enumerate(DIVERGING_STOPS)]


def css_gradient(scale: Scale) -> str:
    """The scale as a CSS ``linear-gradient`` from left (``zmin``) to right (``zmax``)."""
    stops = plotly_colorscale(scale)
    return "linear-gradient(to right, " + ", ".join(f"{c} {100 * t:g}%" for t, c in stops) + ")"


def ticks(scale: Scale) -> list[tuple[float, str]]:
    """Three labelled ticks of a colour bar, ``(value, text)``: the ends and the middle
    (0 on a signed scale)."""
    middle = 0.0 if scale.signed else scale.zmax / 2
    return [(scale.zmin, number(scale.zmin)), (middle, number(middle)), (scale.zmax, number(scale.zmax))]


def to_rgb8(image) -> np.ndarray:
    """A float image in [0, 1], ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)``, as uint8 RGB
    ``(H, W, 3)`` (uint8 images are taken as they are)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.rint(np.clip(image.astype(np.float32), 0.0, 1.0) * 255).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image


def heat_colours(heatmap) -> np.ndarray:
    """A heatmap in [0, 1] (any shape) as uint8 RGB on :data:`HEAT_STOPS` (values outside clipped)."""
    return _interpolate(HEAT_STOPS, np.nan_to_num(np.asarray(heatmap, dtype=np.float32)))


def overlay(image, heatmap, opacity: float = 0.5) -> np.ndarray:
    """A heatmap in :func:`heat_colours` blended over an image (Grad-CAM's picture).

    Args:
        image: uint8 ``(H, W, 3)`` RGB, uint8 ``(H, W)`` / ``(H, W, 1)`` gray,
            or float in [0, 1] of those shapes.
        heatmap: float ``(H, W)`` in [0, 1], the same ``H, W``.
        opacity: weight of the heatmap, in [0, 1] (0: the image only).

    Returns:
        uint8 ``(H, W, 3)``: ``(1 - opacity) * image + opacity * heat_colours(heatmap)``,
        rounded.

    Raises:
        ValueError: sizes differ or ``opacity`` is outside [0, 1].
    """
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be in [0, 1]. Received: opacity={opacity}")
    img = to_rgb8(image).astype(np.float32)
    if img.shape[:2] != np.shape(heatmap):
        raise ValueError(f"Image {img.shape[:2]} and heatmap {np.shape(heatmap)} differ in size.")
    blend = (1.0 - opacity) * img + opacity * heat_colours(heatmap).astype(np.float32)
    return np.clip(blend + 0.5, 0, 255).astype(np.uint8)


def explanation_picture(image, values, opacity: float = 0.6) -> tuple[np.ndarray, str]:
    """An explanation map (saliency, integrated gradients, occlusion, Grad-CAM) drawn by
    the rule of the module's docstring, and its scale in words.

    Args:
        image: the picture explained, as :func:`overlay` takes it, ``(H, W[, C])``.
        values: float ``(H, W)``, the map (NaN counts as 0).
        opacity: the heat's weight over the picture, for a non-negative map.

    Returns:
        ``(rgb, caption)``: uint8 ``(H, W, 3)``; the caption says what the colours mean,
        e.g. ``heat over the picture: dark 0 to light yellow 0.042``.

    Raises:
        ValueError: ``values`` not of the picture's height and width.
    """
    v = np.nan_to_num(np.asarray(values, dtype=np.float64))
    if v.shape != np.shape(image)[:2]:
        raise ValueError(f"Image {np.shape(image)[:2]} and map {v.shape} differ in size.")
    scale = value_scale(v)
    if scale.signed:
        return (colourise(v, scale), f"{number(scale.zmin)} (blue, against), 0 (white), "
                                     f"{number(scale.zmax)} (red, for)")
    return (overlay(image, v / scale.zmax, opacity),
            f"heat over the picture: dark 0 to light yellow {number(scale.zmax)}")
