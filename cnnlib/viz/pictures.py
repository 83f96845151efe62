"""The Convolution page's annotated pictures, drawn in numpy: the input with the
kernel window of one output, its padding and a zoomed inset of the patch, and
the feature map with one output cell framed (for ``st.image`` or a component:
a picture fills its column and costs the browser one PNG, not a large chart).

Colours follow :mod:`cnnlib.viz.colour`; pixels are enlarged by
:func:`cnnlib.viz.raster.repeat` (nearest neighbour, no blur).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from cnnlib.viz.colour import (
    BACKGROUND_RGB,
    EDGE_RGB,
    GRID_RGB,
    PADDING_RGB,
    WINDOW_RGB,
    colourise,
    to_rgb8,
    value_scale,
)
from cnnlib.viz.raster import repeat


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


def _on_canvas(rgb: np.ndarray, target: int) -> tuple[np.ndarray, int, int, int]:
    """``rgb`` repeated by a whole factor (nearest neighbour, no blur) so that
    its longer side is about ``target``, inside a white margin where outlines
    may fall. Returns ``(canvas, scale, margin, line thickness)``."""
    h, w = rgb.shape[:2]
    scale = max(1, math.ceil(target / max(h, w)))
    line = max(2, round(scale * max(h, w) / 90))
    margin = line + 2
    canvas = np.empty((h * scale + 2 * margin, w * scale + 2 * margin, 3), np.uint8)
    canvas[:] = BACKGROUND_RGB
    canvas[margin:margin + h * scale, margin:margin + w * scale] = repeat(rgb, scale)
    return canvas, scale, margin, line


def map_picture(fmap, cell=None, white: float = 1.0, target: int = 512) -> tuple[np.ndarray, Layout]:
    """A feature map ``(O_h, O_w)`` coloured by :func:`cnnlib.viz.colour.value_scale`
    (``white`` as there: 1, the input's white, by default), enlarged, with output
    ``cell = (row, col)`` framed thick in orange (if given).

    Returns:
        ``(picture, layout)`` as :func:`input_picture` (no padding).
    """
    canvas, scale, margin, line = _on_canvas(colourise(fmap, value_scale(fmap, white)), target)
    layout = Layout(scale, margin, 0, 0, line)
    if cell is not None:
        r, c = cell
        _frame(canvas, layout.y(r), layout.y(r + 1), layout.x(c), layout.x(c + 1), line, WINDOW_RGB,
               edge=EDGE_RGB)
    return canvas, layout


def input_picture(image, pads=(0, 0, 0, 0), window=None, patch=None, target: int = 512,
                  inset: bool = True) -> tuple[np.ndarray, Layout]:
    """The padded input, enlarged, with the window of one output drawn thick.

    Args:
        image: float ``(H, W)`` or ``(H, W, 3)`` in [0, 1].
        pads: ``(top, bottom, left, right)`` zeros around it, drawn as zeros
            (black) inside a dashed blue outline of the image.
        window: a :class:`cnnlib.conv.window.KernelWindow` or None; its box
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
    canvas, scale, margin, line = _on_canvas(padded, target)
    layout = Layout(scale, margin, top, left, line)
    if any(pads):
        _dashed(canvas, layout.y(0), layout.y(h), layout.x(0), layout.x(w), max(1, line // 2),
                PADDING_RGB, dash=max(3, 2 * line))
    if window is None:
        return canvas, layout
    r0, c0, r1, c1 = window.box
    y0, y1, x0, x1 = layout.y(r0), layout.y(r1 + 1), layout.x(c0), layout.x(c1 + 1)
    dilated = np.any(np.diff(window.rows) > 1) or np.any(np.diff(window.cols) > 1)
    if dilated:  # the window's box holds pixels the kernel skips: mark the taps
        dot = max(3, scale * 3 // 5)
        for i, r in enumerate(window.rows):
            for j, c in enumerate(window.cols):
                y, x = layout.y(int(r)) + (scale - dot) // 2, layout.x(int(c)) + (scale - dot) // 2
                if window.inside[i, j]:
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
    big = repeat(p, cell)
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
