"""Tile grids for the live view: layout, scaling and per-tile normalisation."""

import numpy as np
import pytest

from cnnlib.viz import mosaic


def test_grid_layout_gap_and_scale():
    tiles = np.stack([np.full((2, 3), v, np.float32) for v in range(5)])
    tiles[:, 0, 0] = -1  # every tile has a range, so it is stretched to [0, 1]
    out = mosaic.grid(tiles, cols=2, gap=1, scale=2)
    assert out.shape == (3 * 4 + 2, 2 * 6 + 1)
    assert out.min() == 0.0 and out.max() == 1.0
    assert np.all(out[4, :] == 1.0) and np.all(out[:, 6] == 1.0)  # white gaps
    np.testing.assert_array_equal(out[0:2, 0:2], 0.0)  # the -1 pixel, doubled
    assert np.all(out[-4:, 7:] == 1.0)  # the empty sixth cell stays white


def test_kernels_rgb_or_gray_and_maps():
    w = np.random.default_rng(0).normal(size=(3, 3, 3, 40)).astype(np.float32)
    assert mosaic.kernels(w, cols=8).shape == (4 * 4 - 1, 8 * 4 - 1, 3)  # 32 RGB tiles
    assert mosaic.kernels(w[:, :, :1, :5], cols=8).shape == (3, 5 * 4 - 1)
    maps = np.random.default_rng(1).random((26, 26, 16)).astype(np.float32)
    assert mosaic.feature_maps(maps, cols=8).shape == (2 * 27 - 1, 8 * 27 - 1)
    flat = mosaic.feature_maps(np.zeros((4, 4, 2)), cols=2)
    assert np.all(flat[:, :4] == 0.5)  # a flat map is mid-gray, not a division by zero


def test_bad_arguments():
    with pytest.raises(ValueError, match="cols=0"):
        mosaic.grid(np.zeros((1, 2, 2)), cols=0)
    with pytest.raises(ValueError, match="0 tiles"):
        mosaic.grid(np.zeros((0, 2, 2)))
