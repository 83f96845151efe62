"""A layer as one small picture: a grid of tiles, one per feature map or kernel.

The only grid drawn in CNN Studio: the Train page's live view, the
Convolution page's trained network and Inside the network all draw a layer's
maps with :func:`map_grid` and its kernels with :func:`kernel_grid`, so the
same layer looks the same on every page.

Colours follow :func:`cnnlib.viz.colour.value_scale` over the whole layer (one
scale for every tile, so channels compare): gray from 0 (black) to the
layer's maximum for non-negative maps (after a ReLU), blue-white-red centred
on 0 for signed ones. Each tile is about :data:`TILE` pixels a side: larger
maps are reduced by averaging blocks of values, smaller ones repeated
(nearest neighbour); a thin gray line frames each tile so that tiles stay
apart on both scales.

:func:`channel_order` ranks channels by how strongly they respond (their
mean absolute value), for wide layers whose channels are shown a page at a
time, the most active first. numpy only.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from cnnlib.viz.colour import BACKGROUND_RGB, GRID_RGB, Scale, colours, value_scale
from cnnlib.viz.raster import repeat

TILE = 32  # drawn pixels per tile side, about (the browser enlarges the picture, pixelated)
GAP = 2  # pixels between tiles (a 1-pixel gray frame inside the gap)
#: Channels per page of a wide layer; layers with at most this many show them all.
PER_PAGE = 32


@dataclasses.dataclass(frozen=True)
class Grid:
    """A layer's maps (or kernels) drawn as tiles.

    Attributes:
        picture: uint8 RGB ``(rows * (t_h + GAP) + GAP, cols * (t_w + GAP) + GAP, 3)``.
        channels: the channel (or filter) of each tile, in reading order.
        cols, rows: tiles per row, rows of tiles.
        tile: ``(t_h, t_w)``, drawn pixels per tile.
        map_hw: ``(H, W)`` of one feature map (or kernel).
        scale: the colour :class:`cnnlib.viz.colour.Scale` of the layer.

    A tile pixel ``(y, x)`` shows map pixels from ``y * H / t_h`` (rounded down).
    """

    picture: np.ndarray
    channels: tuple[int, ...]
    cols: int
    rows: int
    tile: tuple[int, int]
    map_hw: tuple[int, int]
    scale: Scale

    def position(self, tile: int, y: int, x: int) -> tuple[int, int, int]:
        """``(channel, row, col)`` shown at pixel ``(y, x)`` of tile number ``tile``."""
        h, w = self.map_hw
        return (self.channels[tile], min(y * h // self.tile[0], h - 1), min(x * w // self.tile[1], w - 1))

    def tile_pixels(self, tile: int) -> np.ndarray:
        """uint8 RGB ``(t_h, t_w, 3)``: the pixels of tile number ``tile`` (no frame)."""
        r, c = divmod(tile, self.cols)
        y, x = GAP + r * (self.tile[0] + GAP), GAP + c * (self.tile[1] + GAP)
        return self.picture[y:y + self.tile[0], x:x + self.tile[1]]


def channel_order(maps: np.ndarray) -> np.ndarray:
    """Channels of ``maps`` ``(H, W, C)`` from the most to the least active (mean absolute
    value; ties keep channel order). int64 ``(C,)``."""
    strength = np.abs(np.asarray(maps, dtype=np.float32)).mean(axis=(0, 1))
    return np.argsort(-strength, kind="stable")


def page_of(order: np.ndarray, page: int, per_page: int = PER_PAGE) -> np.ndarray:
    """The channels shown on page ``page`` (0-based) of a layer: all of them in channel
    order when there are at most ``per_page``; else ``order[page * per_page:...]``."""
    if len(order) <= per_page:
        return np.arange(len(order))
    return np.asarray(order[page * per_page:(page + 1) * per_page])


def pages(channels: int, per_page: int = PER_PAGE) -> int:
    """Number of pages for a layer of ``channels`` channels (1 if they all fit)."""
    return max(1, math.ceil(channels / per_page)) if channels > per_page else 1


def layer_scale(values) -> Scale:
    """:func:`cnnlib.viz.colour.value_scale` of a whole layer from its two extremes only
    (far cheaper than all of a VGG16 layer; the same scale)."""
    values = np.asarray(values, dtype=np.float32)
    ends = np.array([values.min(), values.max()]) if values.size else np.zeros(2)
    return value_scale(ends if np.isfinite(ends).all() else values)


def _reduce(tiles: np.ndarray, target: int) -> np.ndarray:
    """Tiles ``(N, H, W)`` larger than ``target`` a side reduced by block means (values,
    before colouring: the mean of two colours is not the colour of the mean)."""
    n, h, w = tiles.shape
    f = math.ceil(max(h, w) / target)
    if f == 1:
        return tiles
    ph, pw = -h % f, -w % f
    padded = np.pad(tiles, ((0, 0), (0, ph), (0, pw)), mode="edge")
    return padded.reshape(n, (h + ph) // f, f, (w + pw) // f, f).mean(axis=(2, 4))


def _lay_out(rgb: np.ndarray, channels, cols: int, map_hw, scale: Scale, target: int) -> Grid:
    """Coloured tiles ``(n, h, w, 3)`` enlarged to about ``target`` and laid out."""
    f = max(1, target // max(rgb.shape[1:3]))  # small maps: whole-factor repeats, no blur
    rgb = repeat(rgb, f, axis=1)
    n, th, tw = rgb.shape[:3]
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    out = np.empty((rows * (th + GAP) + GAP, cols * (tw + GAP) + GAP, 3), np.uint8)
    out[:] = BACKGROUND_RGB
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = GAP + r * (th + GAP), GAP + c * (tw + GAP)
        out[y - 1:y + th + 1, x - 1:x + tw + 1] = GRID_RGB  # the 1-pixel frame
        out[y:y + th, x:x + tw] = rgb[i]
    return Grid(out, tuple(channels), cols, rows, (th, tw), tuple(map_hw), scale)


def map_grid(maps: np.ndarray, channels=None, cols: int = 8, scale: Scale | None = None,
             target: int = TILE) -> Grid:
    """Draw ``channels`` of one layer's feature maps as a grid of tiles.

    Args:
        maps: float ``(H, W, C)``, one image's output of a layer.
        channels: the channels to draw, in order (default: all).
        cols: tiles per row (fewer when there are fewer tiles).
        scale: the colour scale; default :func:`layer_scale` of all of ``maps``
            (a caller that holds only some of a layer's channels passes the layer's).
        target: pixels per tile side, about.

    Returns:
        A :class:`Grid`.

    Raises:
        ValueError: ``maps`` not 3-D, or no channel to draw.
    """
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3:
        raise ValueError(f"A grid takes one layer's maps (H, W, C). Received: shape={maps.shape}")
    channels = tuple(int(c) for c in (range(maps.shape[2]) if channels is None else channels))
    if not channels:
        raise ValueError("There is no channel to draw.")
    scale = layer_scale(maps) if scale is None else scale
    rgb = colours(_reduce(np.moveaxis(maps[..., list(channels)], -1, 0), target), scale)  # (n, h', w', 3)
    return _lay_out(rgb, channels, cols, maps.shape[:2], scale, target)


def kernel_grid(weights: np.ndarray, max_filters: int = 32, cols: int = 8, target: int = TILE) -> Grid:
    """A convolutional layer's kernels ``(K_h, K_w, C, F)``, the first ``max_filters``,
    as a grid of tiles on one scale for the layer.

    With ``C == 3`` each kernel is an RGB picture: channel values ``w`` drawn as
    ``0.5 + w / (2 m)``, ``m = max|w|`` over the layer (0 is mid-gray, as on the
    diverging scale's middle); otherwise the mean over the input channels on the
    colour rule's scale (diverging for signed weights).

    Returns:
        A :class:`Grid` whose ``scale`` is the layer's (``-m`` to ``m`` for RGB kernels).

    Raises:
        ValueError: ``weights`` not 4-D or without a filter.
    """
    w = np.asarray(weights, np.float32)
    if w.ndim != 4 or w.shape[-1] == 0:
        raise ValueError(f"Kernels are (K_h, K_w, C, F) with F >= 1. Received: shape={w.shape}")
    tiles = np.moveaxis(w[..., :max_filters], -1, 0)  # (F', K_h, K_w, C)
    if tiles.shape[-1] == 3:
        m = float(np.abs(w).max()) or 1.0
        rgb = np.rint(np.clip(0.5 + tiles / (2 * m), 0.0, 1.0) * 255).astype(np.uint8)
        scale = Scale(True, -m, m)
    else:
        means = w.mean(axis=2)  # (K_h, K_w, F): the layer's scale from every filter
        scale = layer_scale(means)
        rgb = colours(tiles.mean(axis=-1), scale)
    return _lay_out(rgb, range(len(tiles)), cols, w.shape[:2], scale, target)
