"""Many small pictures in one image: a layer's kernels or feature maps as a grid.

Light to send and draw (one PNG instead of dozens of Plotly heatmaps), for views
that redraw every few seconds. numpy only.
"""

from __future__ import annotations

import numpy as np


def _unit(tile: np.ndarray) -> np.ndarray:
    """``tile`` scaled to [0, 1] by its own minimum and maximum (a flat tile is 0.5)."""
    lo, hi = float(tile.min()), float(tile.max())
    return np.full_like(tile, 0.5) if hi - lo < 1e-12 else (tile - lo) / (hi - lo)


def grid(tiles: np.ndarray, cols: int = 8, gap: int = 1, scale: int = 1) -> np.ndarray:
    """Tiles ``(N, h, w)`` or ``(N, h, w, 3)`` (each scaled to [0, 1] on its own) laid out
    ``cols`` to a row with ``gap`` pixels of white between them, each pixel repeated
    ``scale`` times (nearest neighbour, no blur).

    Returns:
        float32 ``(rows * (h*scale + gap) - gap, cols' * (w*scale + gap) - gap[, 3])`` in
        [0, 1], where ``cols' = min(cols, N)``.

    Raises:
        ValueError: no tiles, or ``cols``, ``scale`` < 1, or ``gap`` < 0.
    """
    tiles = np.asarray(tiles, np.float32)
    if len(tiles) == 0 or cols < 1 or scale < 1 or gap < 0:
        raise ValueError(f"Need at least one tile, cols >= 1, scale >= 1 and gap >= 0. "
                         f"Received: {len(tiles)} tiles, cols={cols}, scale={scale}, gap={gap}")
    tiles = np.stack([_unit(t) for t in tiles])
    tiles = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
    n, h, w = tiles.shape[:3]
    cols = min(cols, n)
    rows = -(-n // cols)
    out = np.ones((rows * (h + gap) - gap, cols * (w + gap) - gap) + tiles.shape[3:], np.float32)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = tile
    return out


def kernels(weights: np.ndarray, max_filters: int = 32, **kw) -> np.ndarray:
    """A conv layer's kernels ``(K_h, K_w, C, F)`` as one :func:`grid`: an RGB picture per
    filter when ``C == 3``, else the mean over input channels (gray)."""
    w = np.asarray(weights, np.float32)[..., :max_filters]  # (K_h, K_w, C, F')
    tiles = np.moveaxis(w, -1, 0)  # (F', K_h, K_w, C)
    tiles = tiles if tiles.shape[-1] == 3 else tiles.mean(axis=-1)
    return grid(tiles, **kw)


def feature_maps(maps: np.ndarray, max_maps: int = 16, **kw) -> np.ndarray:
    """Feature maps ``(H, W, F)`` as one gray :func:`grid` of the first ``max_maps``."""
    return grid(np.moveaxis(np.asarray(maps, np.float32)[..., :max_maps], -1, 0), **kw)
