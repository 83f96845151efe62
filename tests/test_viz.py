"""The one visual language (cnnlib.viz): the colour rule and its caption, numbers,
enlarging and PNG, the grids of maps and kernels, the Grad-CAM overlay, the charts."""

import io

import numpy as np
import pytest

from cnnlib.viz import charts, colour, grids, numbers, raster


def test_numbers_are_written_one_way():
    assert [numbers.number(v) for v in (1.23456, -0.0, -1e-9, 1234.5, 0.5)] == \
        ["1.23", "0", "-1e-09", "1.23e+03", "0.5"]
    assert numbers.number(-1.5, parens=True) == "(-1.5)" and numbers.number(1.5, parens=True) == "1.5"
    assert numbers.number(-0.00001234, 4, parens=True, latex=True) == r"(-1.234 \times 10^{-5})"
    assert numbers.number(2.0, 4, latex=True) == "2"


def test_the_scale_and_its_caption():
    relu = np.array([[0.0, 3.2], [1.0, 2.0]])
    scale = colour.value_scale(relu)
    assert scale == colour.Scale(False, 0.0, 3.2)
    assert colour.caption(scale) == "one scale for the layer: 0 (black) to 3.2 (white)"
    signed = colour.value_scale(np.array([-1.5, 0.5]))
    assert signed == colour.Scale(True, -1.5, 1.5)
    assert colour.caption(signed, "the kernels") == \
        "one scale for the kernels: -1.5 (blue), 0 (white), 1.5 (red)"
    assert [t for _, t in colour.ticks(signed)] == ["-1.5", "0", "1.5"]
    # the fast table gives colourise's colours: exactly on gray, within one step when signed
    values = np.random.default_rng(0).uniform(-2, 3, (50, 50)).astype(np.float32)
    for s in (colour.value_scale(np.abs(values)), colour.value_scale(values)):
        v = np.abs(values) if not s.signed else values
        diff = np.abs(colour.colours(v, s).astype(int) - colour.colourise(v, s).astype(int))
        assert diff.max() <= (1 if not s.signed else 3)


def test_heat_colours_and_overlay():
    heat = np.linspace(0, 1, 30, dtype=np.float32).reshape(6, 5)
    rgb = colour.heat_colours(heat)
    assert rgb.shape == (6, 5, 3) and rgb.dtype == np.uint8
    luminance = rgb.astype(float) @ [0.299, 0.587, 0.114]
    assert np.all(np.diff(luminance.ravel()) > 0)  # perceptual: lighter as the heat rises
    assert rgb[0, 0].tolist() == list(colour.HEAT_STOPS[0]) and rgb[-1, -1].tolist() == list(colour.HEAT_STOPS[-1])
    img = np.full((6, 5, 3), 200, np.uint8)
    np.testing.assert_array_equal(colour.overlay(img, heat, 0.0), img)
    np.testing.assert_array_equal(colour.overlay(img, heat, 1.0), rgb)
    half = colour.overlay(img, heat, 0.5).astype(int)
    assert np.abs(half - (img.astype(int) + rgb.astype(int)) / 2).max() <= 1
    gray = colour.overlay(np.zeros((6, 5, 1), np.float32), heat, 0.3)
    assert gray.shape == (6, 5, 3) and gray.dtype == np.uint8
    with pytest.raises(ValueError, match="opacity"):
        colour.overlay(img, heat, 1.5)
    with pytest.raises(ValueError, match="differ"):
        colour.overlay(img, heat[:3], 0.5)


def test_enlarge_repeats_pixels_and_png_round_trips():
    from PIL import Image

    img = np.random.default_rng(1).random((7, 5)).astype(np.float32)
    big = raster.enlarge(img, 30)
    assert big.dtype == np.uint8 and big.shape == (28, 20)  # factor 30 // 7 = 4
    np.testing.assert_array_equal(big[::4, ::4], (img * 255 + 0.5).astype(np.uint8))
    assert raster.enlarge(np.zeros((3, 3, 1)), 9).shape == (9, 9)  # one channel dropped
    rgb = (np.arange(60).reshape(4, 5, 3) * 4).astype(np.uint8)
    np.testing.assert_array_equal(raster.repeat(rgb, 3)[1::3, 2::3], rgb)
    np.testing.assert_array_equal(raster.repeat(np.stack([rgb, rgb]), 2, axis=1)[1], raster.repeat(rgb, 2))
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(raster.png_bytes(rgb)))), rgb)
    assert raster.png_uri(rgb).startswith("data:image/png;base64,")
    with pytest.raises(ValueError, match=">= 1"):
        raster.repeat(rgb, 0)


def test_map_grid_shares_one_scale_over_the_layer():
    rng = np.random.default_rng(2)
    maps = rng.random((6, 6, 5)).astype(np.float32)
    maps[..., 3] *= 4  # one loud channel: the others are drawn darker, not stretched
    grid = grids.map_grid(maps, cols=2)
    assert (grid.cols, grid.rows, grid.tile) == (2, 3, (30, 30)) and grid.scale == colour.value_scale(maps)
    for i in range(5):  # each tile is its map, coloured on the layer's scale, repeated 5 times
        np.testing.assert_array_equal(grid.tile_pixels(i)[::5, ::5], colour.colours(maps[..., i], grid.scale))
    quiet = grids.map_grid(maps[..., :3])  # the same maps without the loud one: a scale of their own
    assert quiet.tile_pixels(0).mean() > grid.tile_pixels(0).mean()
    given = grids.map_grid(maps[..., :3], scale=grid.scale)  # part of a layer on the layer's scale
    np.testing.assert_array_equal(given.tile_pixels(2), grid.tile_pixels(2))
    assert grid.position(3, 29, 0) == (3, 5, 0)
    signed = grids.map_grid(np.stack([np.linspace(-2, 1, 64).reshape(8, 8)] * 2, axis=-1))
    assert signed.scale == colour.Scale(True, -2.0, 2.0)
    with pytest.raises(ValueError, match="no channel"):
        grids.map_grid(maps, channels=[])


def test_kernel_grid_one_scale_for_the_layer():
    rng = np.random.default_rng(3)
    gray = rng.standard_normal((3, 3, 2, 40)).astype(np.float32)
    grid = grids.kernel_grid(gray, max_filters=32, cols=8)
    means = gray.mean(axis=2)
    assert len(grid.channels) == 32 and (grid.cols, grid.rows) == (8, 4) and grid.map_hw == (3, 3)
    assert grid.scale == colour.value_scale(means)  # over all 40 filters, not the 32 drawn
    f = grid.tile[0] // 3
    np.testing.assert_array_equal(grid.tile_pixels(7)[::f, ::f], colour.colours(means[..., 7], grid.scale))
    rgb = rng.standard_normal((5, 5, 3, 4)).astype(np.float32)
    colour_grid = grids.kernel_grid(rgb)
    m = np.abs(rgb).max()
    assert colour_grid.scale == colour.Scale(True, -m, m)
    f = colour_grid.tile[0] // 5
    want = np.rint(np.clip(0.5 + rgb[..., 1] / (2 * m), 0, 1) * 255).astype(np.uint8)
    np.testing.assert_array_equal(colour_grid.tile_pixels(1)[::f, ::f], want)
    with pytest.raises(ValueError, match="K_h, K_w, C, F"):
        grids.kernel_grid(np.zeros((3, 3, 1)))


def test_charts_show_the_numbers_given():
    fig = charts.probability_bars(["cat", "dog", "eel"], [0.2, 0.7, 0.1], "p")
    bar = fig.data[0]
    assert list(bar.y) == [0.2, 0.7, 0.1] and bar.marker.color[1] == charts.TOP
    assert list(bar.text) == ["20.0%", "70.0%", "10.0%"]
    across = charts.probability_bars(["cat", "dog"], [0.9, 0.1], "p", horizontal=True).data[0]
    assert list(across.y) == ["dog", "cat"] and across.orientation == "h"  # the most probable on top
    units = charts.unit_bars([0, 3, 5], [1.0, -2.0, 0.5], "dense", chosen=5, categorical=True)
    assert list(units.data[0].marker.color) == [charts.POSITIVE, charts.NEGATIVE, charts.CHOSEN]
    assert units.layout.xaxis.type == "category"
