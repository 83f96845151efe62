"""A layer's feature maps as one small picture: a grid of tiles, one per channel.

Colours follow :func:`cnnlib.viz.picture.value_scale` over the whole layer (one
scale for every tile, so channels compare): gray from 0 (black) to the
layer's maximum for non-negative maps (after a ReLU), blue-white-red centred
on 0 for signed ones (a convolution before its activation). Each tile is
about :data:`TILE` pixels a side: larger maps are reduced by averaging
blocks of pixels, smaller ones repeated (nearest neighbour); a thin gray line
frames each tile so that tiles stay apart on both scales.

:func:`channel_order` ranks channels by how strongly they respond (their
mean absolute value), for wide layers whose channels are shown a page at a
time, the most active first. numpy only.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from cnnlib.viz.picture import BACKGROUND_RGB, GRID_RGB, Scale, colourise, value_scale

TILE = 32  # drawn pixels per tile side, about (the browser enlarges the picture, pixelated)
GAP = 2  # pixels between tiles (a 1-pixel gray frame inside the gap)
#: Channels per page of a wide layer; layers with at most this many show them all.
PER_PAGE = 32


@dataclasses.dataclass(frozen=True)
class Grid:
    """A layer's maps drawn as tiles.

    Attributes:
        picture: uint8 RGB ``(rows * (t_h + GAP) + GAP, cols * (t_w + GAP) + GAP, 3)``.
        channels: the channel of each tile, in reading order.
        cols, rows: tiles per row, rows of tiles.
        tile: ``(t_h, t_w)``, drawn pixels per tile.
        map_hw: ``(H, W)`` of one feature map.
        scale: the colour :class:`cnnlib.viz.picture.Scale` of the layer.

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


def _colours(values: np.ndarray, scale: Scale) -> np.ndarray:
    """uint8 RGB ``(..., 3)`` of ``values`` on ``scale``: :func:`cnnlib.viz.picture.colourise`'s
    colours through a 256-step table (the same colours within 1/255 of the range, and
    several times faster on a whole layer)."""
    lut = colourise(np.linspace(scale.zmin, scale.zmax, 256, dtype=np.float32)[None], scale)[0]
    t = (np.nan_to_num(values) - scale.zmin) / ((scale.zmax - scale.zmin) or 1.0)
    return lut[np.rint(np.clip(t, 0.0, 1.0) * 255).astype(np.intp)]


def layer_grid(maps: np.ndarray, channels=None, cols: int = 8, scale: Scale | None = None,
               target: int = TILE) -> Grid:
    """Draw ``channels`` of ``maps`` as a grid of tiles.

    Args:
        maps: float ``(H, W, C)``, one image's output of a layer.
        channels: the channels to draw, in order (default: all).
        cols: tiles per row (fewer when there are fewer tiles).
        scale: the colour scale; default :func:`cnnlib.viz.picture.value_scale` of all of
            ``maps`` with ``white=0`` (gray up to the layer's own maximum).
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
    if scale is None:  # the rule needs only the extremes: far cheaper than all of a VGG16 layer
        ends = np.array([maps.min(), maps.max()])
        scale = value_scale(ends if np.isfinite(ends).all() else maps, white=0.0)
    rgb = _colours(_reduce(np.moveaxis(maps[..., list(channels)], -1, 0), target), scale)  # (n, h', w', 3)
    f = max(1, target // max(rgb.shape[1:3]))  # small maps: whole-factor repeats, no blur
    rgb = rgb.repeat(f, axis=1).repeat(f, axis=2) if f > 1 else rgb
    n, th, tw = rgb.shape[:3]
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    out = np.empty((rows * (th + GAP) + GAP, cols * (tw + GAP) + GAP, 3), np.uint8)
    out[:] = BACKGROUND_RGB
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = GAP + r * (th + GAP), GAP + c * (tw + GAP)
        out[y - 1:y + th + 1, x - 1:x + tw + 1] = GRID_RGB  # the 1-pixel frame
        out[y:y + th, x:x + tw] = rgb[i]
    return Grid(out, channels, cols, rows, (th, tw), maps.shape[:2], scale)
