"""Pictures of a convolution, drawn in numpy: the colour rule for feature
maps, colour mapping to RGB, and the input picture with its window, its
padding and a zoomed inset of the patch (for ``st.image``: it fills its
column and costs the browser one picture, not a large chart).

The colour rule (:func:`value_scale`): values that are all ``>= 0`` are drawn
on a gray scale from 0 (black) to the larger of their maximum and ``white``
(the input's white, 1, by default), so the identity kernel's feature map
looks like a copy of the input; values of both signs get a diverging scale
centred on 0 (blue < 0, near-white at 0, red > 0).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

#: Diverging stops (ColorBrewer RdBu, 11 classes, reversed): blue, white at 0.5, red.
DIVERGING_STOPS = ((5, 48, 97), (33, 102, 172), (67, 147, 195), (146, 197, 222), (209, 229, 240),
                   (247, 247, 247), (253, 219, 199), (244, 165, 130), (214, 96, 77), (178, 24, 43),
                   (103, 0, 31))
WINDOW_RGB = (255, 127, 14)  # the receptive-field window (orange)
EDGE_RGB = (20, 20, 20)  # the thin dark edge around orange lines, for light pictures
GRID_RGB = (128, 128, 128)  # lines between the taps of the enlarged patch
PADDING_RGB = (0, 170, 255)  # dashed outline of the image inside its zero padding
BACKGROUND_RGB = (255, 255, 255)  # the margin around a picture, where outlines may fall


@dataclasses.dataclass(frozen=True)
class Scale:
    """How values map to colours.

    Attributes:
        signed: True for the diverging scale (centred on 0), False for gray.
        zmin, zmax: the values drawn at the two ends (``zmin = -zmax`` when
            signed, ``zmin = 0`` otherwise).
    """

    signed: bool
    zmin: float
    zmax: float


def value_scale(values, white: float = 1.0) -> Scale:
    """The colour scale for ``values`` (NaN ignored), by the rule in the module docstring.

    Args:
        values: any float array.
        white: the value drawn white on the gray scale at least (1: the
            input's white; 0: each array's own maximum).

    Returns:
        A :class:`Scale`; never a zero-width range.
    """
    v = np.asarray(values, dtype=np.float64)
    finite = v[np.isfinite(v)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if lo >= 0:
        return Scale(False, 0.0, max(hi, white) or 1.0)
    lim = max(-lo, hi)
    return Scale(True, -lim, lim)


def plotly_colorscale(scale: Scale) -> list:
    """The same colours as :func:`colourise`, as a Plotly colorscale."""
    if not scale.signed:
        return [[0.0, "rgb(0,0,0)"], [1.0, "rgb(255,255,255)"]]
    n = len(DIVERGING_STOPS) - 1
    return [[i / n, "rgb({},{},{})".format(*c)] for i, c in enumerate(DIVERGING_STOPS)]


def colourise(values, scale: Scale) -> np.ndarray:
    """``values`` ``(H, W)`` as uint8 RGB ``(H, W, 3)`` on ``scale``; NaN becomes 0."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float32))
    t = np.clip((v - scale.zmin) / ((scale.zmax - scale.zmin) or 1.0), 0.0, 1.0)
    if not scale.signed:
        return np.repeat(np.rint(t * 255).astype(np.uint8)[..., None], 3, axis=2)
    stops = np.asarray(DIVERGING_STOPS, dtype=np.float32)  # (11, 3)
    pos = t * (len(stops) - 1)
    i = np.minimum(pos.astype(np.int64), len(stops) - 2)
    frac = (pos - i)[..., None]
    return np.rint(stops[i] * (1 - frac) + stops[i + 1] * frac).astype(np.uint8)


def to_rgb8(image) -> np.ndarray:
    """A float image in [0, 1], ``(H, W)`` or ``(H, W, 3)``, as uint8 RGB ``(H, W, 3)``."""
    u8 = np.rint(np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0) * 255).astype(np.uint8)
    return np.repeat(u8[..., None], 3, axis=2) if u8.ndim == 2 else u8


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where the input's pixels lie in a picture from :func:`input_picture`.

    Pixel ``(r, c)`` of the input (negative or past the edge on the padding)
    covers rows ``origin + (r + pad_top) * scale`` to ``+ scale`` and the
    same for columns, with ``origin = margin``.
    """

    scale: int
    margin: int
    pad_top: int
    pad_left: int
    line: int  # thickness of the window's outline, pixels
    inset: bool = False  # whether the patch is drawn enlarged in a corner

    def y(self, r: int) -> int:
        return self.margin + (r + self.pad_top) * self.scale

    def x(self, c: int) -> int:
        return self.margin + (c + self.pad_left) * self.scale


def _fill(canvas, y0, y1, x0, x1, rgb) -> None:
    h, w = canvas.shape[:2]
    y0, y1, x0, x1 = max(y0, 0), min(y1, h), max(x0, 0), min(x1, w)
    if y0 < y1 and x0 < x1:
        canvas[y0:y1, x0:x1] = rgb


def _frame(canvas, y0, y1, x0, x1, t, rgb, edge=None) -> None:
    """A frame ``t`` pixels thick just outside the box ``[y0, y1) x [x0, x1)``,
    with a 1-pixel ``edge`` colour on both sides of it."""
    if edge is not None:
        _frame(canvas, y0, y1, x0, x1, t + 2, edge)
        y0, y1, x0, x1 = y0 - 1, y1 + 1, x0 - 1, x1 + 1
    for a, b, c, d in ((y0 - t, y0, x0 - t, x1 + t), (y1, y1 + t, x0 - t, x1 + t),
                       (y0, y1, x0 - t, x0), (y0, y1, x1, x1 + t)):
        _fill(canvas, a, b, c, d, rgb)


def _dashed(canvas, y0, y1, x0, x1, t, rgb, dash) -> None:
    """A dashed outline ``t`` pixels thick just outside the box."""
    for start in range(x0 - t, x1 + t, 2 * dash):
        _fill(canvas, y0 - t, y0, start, min(start + dash, x1 + t), rgb)
        _fill(canvas, y1, y1 + t, start, min(start + dash, x1 + t), rgb)
    for start in range(y0, y1, 2 * dash):
        _fill(canvas, start, min(start + dash, y1), x0 - t, x0, rgb)
        _fill(canvas, start, min(start + dash, y1), x1, x1 + t, rgb)


def _enlarge(rgb: np.ndarray, target: int) -> tuple[np.ndarray, int, int, int]:
    """``rgb`` repeated by a whole factor (nearest neighbour, no blur) so that
    its longer side is about ``target``, inside a white margin where outlines
    may fall. Returns ``(canvas, scale, margin, line thickness)``."""
    h, w = rgb.shape[:2]
    scale = max(1, math.ceil(target / max(h, w)))
    line = max(2, round(scale * max(h, w) / 90))
    margin = line + 2
    canvas = np.empty((h * scale + 2 * margin, w * scale + 2 * margin, 3), np.uint8)
    canvas[:] = BACKGROUND_RGB
    canvas[margin:margin + h * scale, margin:margin + w * scale] = np.repeat(
        np.repeat(rgb, scale, axis=0), scale, axis=1)
    return canvas, scale, margin, line


def map_picture(fmap, cell=None, white: float = 1.0, target: int = 512) -> tuple[np.ndarray, Layout]:
    """A feature map ``(O_h, O_w)`` coloured by :func:`value_scale`, enlarged,
    with output ``cell = (row, col)`` framed thick in orange (if given).

    Returns:
        ``(picture, layout)`` as :func:`input_picture` (no padding).
    """
    canvas, scale, margin, line = _enlarge(colourise(fmap, value_scale(fmap, white)), target)
    layout = Layout(scale, margin, 0, 0, line)
    if cell is not None:
        r, c = cell
        _frame(canvas, layout.y(r), layout.y(r + 1), layout.x(c), layout.x(c + 1), line, WINDOW_RGB,
               edge=EDGE_RGB)
    return canvas, layout


def input_picture(image, pads=(0, 0, 0, 0), field=None, patch=None, target: int = 512,
                  inset: bool = True) -> tuple[np.ndarray, Layout]:
    """The padded input, enlarged, with the window of one output drawn thick.

    Args:
        image: float ``(H, W)`` or ``(H, W, 3)`` in [0, 1].
        pads: ``(top, bottom, left, right)`` zeros around it, drawn as zeros
            (black) inside a dashed blue outline of the image.
        field: a :class:`cnnlib.conv.explain.ReceptiveField` or None; its box
            gets a thick orange frame and, with a dilation, each tap a dot
            (hollow where it reads padding).
        patch: the values under the kernel ``(K_h, K_w[, 3])`` in [0, 1]
            (``Explanation.patch``), for the inset, or None.
        target: the enlarged picture's longer side, about (pixels repeat by a
            whole factor, nearest neighbour: no blur).
        inset: draw the patch enlarged in the corner farthest from the window,
            when the window is small (under a quarter of the picture's side).

    Returns:
        ``(picture, layout)``: uint8 RGB ``(H', W', 3)`` with a white margin
        where outlines may fall, and its :class:`Layout`.
    """
    rgb = to_rgb8(image)  # (H, W, 3)
    h, w = rgb.shape[:2]
    top, bottom, left, right = pads
    ph, pw = h + top + bottom, w + left + right
    padded = np.zeros((ph, pw, 3), np.uint8)  # the zeros of the padding are black
    padded[top:top + h, left:left + w] = rgb
    canvas, scale, margin, line = _enlarge(padded, target)
    layout = Layout(scale, margin, top, left, line)
    if any(pads):
        _dashed(canvas, layout.y(0), layout.y(h), layout.x(0), layout.x(w), max(1, line // 2),
                PADDING_RGB, dash=max(3, 2 * line))
    if field is None:
        return canvas, layout
    r0, c0, r1, c1 = field.box
    y0, y1, x0, x1 = layout.y(r0), layout.y(r1 + 1), layout.x(c0), layout.x(c1 + 1)
    dilated = np.any(np.diff(field.rows) > 1) or np.any(np.diff(field.cols) > 1)
    if dilated:  # the window's box holds pixels the kernel skips: mark the taps
        dot = max(3, scale * 3 // 5)
        for i, r in enumerate(field.rows):
            for j, c in enumerate(field.cols):
                y, x = layout.y(int(r)) + (scale - dot) // 2, layout.x(int(c)) + (scale - dot) // 2
                if field.inside[i, j]:
                    _fill(canvas, y, y + dot, x, x + dot, WINDOW_RGB)
                else:  # hollow: this tap reads a zero of the padding
                    _frame(canvas, y + 1, y + dot - 1, x + 1, x + dot - 1, 1, WINDOW_RGB)
    _frame(canvas, y0, y1, x0, x1, line, WINDOW_RGB, edge=EDGE_RGB)
    if inset and patch is not None and max(y1 - y0, x1 - x0) < 0.25 * min(ph, pw) * scale:
        layout = dataclasses.replace(layout, inset=True)
        _inset(canvas, layout, patch, (y0 + y1) / 2, (x0 + x1) / 2, (ph * scale, pw * scale))
    return canvas, layout


def _inset(canvas, layout: Layout, patch, wy: float, wx: float, size: tuple[int, int]) -> None:
    """The patch enlarged, framed in orange, in the corner farthest from ``(wy, wx)``."""
    p = to_rgb8(patch)  # (K_h, K_w, 3)
    kh, kw = p.shape[:2]
    cell = max(1, int(0.3 * min(size)) // max(kh, kw))
    big = np.repeat(np.repeat(p, cell, axis=0), cell, axis=1)
    if cell >= 8:  # thin lines between the taps
        big[::cell, :] = GRID_RGB
        big[:, ::cell] = GRID_RGB
    bh, bw = big.shape[:2]
    gap = 2 * layout.line + 2
    m = layout.margin
    tops = (m + gap, m + size[0] - gap - bh)
    lefts = (m + gap, m + size[1] - gap - bw)
    y, x = max(((t, l) for t in tops for l in lefts),
               key=lambda tl: (tl[0] + bh / 2 - wy) ** 2 + (tl[1] + bw / 2 - wx) ** 2)
    canvas[y:y + bh, x:x + bw] = big
    _frame(canvas, y, y + bh, x, x + bw, layout.line, WINDOW_RGB, edge=EDGE_RGB)
