"""The click-a-cell picture, one component for the Convolution page (one feature
map) and Inside the network (a layer's maps as a grid of tiles).

One PNG (a picture costs the browser next to nothing, a chart far more); a
click reports ``[channel, row, col]`` under ``st.session_state[key]["pick"]``;
hovering reads the position out (and the value, when the values are sent);
an optional frame marks a cell and an optional colour bar sits under the
picture. Its JavaScript is pages/cell_picker.js. Not a page (app.py does not
route to it).
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import streamlit as st

from cnnlib.viz import colour
from cnnlib.viz.grids import GAP, Grid
from cnnlib.viz.raster import png_uri

_CSS = """
.cell-picker-box { position: relative; width: 100%; }
.cell-picker-img { display: block; width: 100%; height: auto; image-rendering: pixelated; cursor: crosshair; }
.cell-picker-mark { position: absolute; box-sizing: border-box; border: 2px solid #ff7f0e;
  outline: 1px solid #141414; pointer-events: none; display: none; }
.cell-picker-bar { height: 0.8em; margin-top: 0.3em; border-radius: 2px; }
.cell-picker-ticks { position: relative; height: 1.4em; font-size: 0.8em; }
.cell-picker-ticks span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.cell-picker-ticks span:first-child { transform: none; }
.cell-picker-ticks span:last-child { transform: translateX(-100%); }
.cell-picker-readout { font-size: 0.85em; opacity: 0.7; min-height: 1.5em; }
"""
_component = st.components.v2.component(
    "cell_picker", js=Path(__file__).with_name("cell_picker.js").read_text(encoding="utf-8"), css=_CSS,
    isolate_styles=False)


def grid_data(grid: Grid) -> dict:
    """What the component needs of a :class:`cnnlib.viz.grids.Grid`: its picture (a PNG
    data URI) and geometry. JSON-ready; the caller adds ``hint``, ``alt`` and the rest."""
    h, w = grid.picture.shape[:2]
    return {"src": png_uri(grid.picture), "width": w, "height": h, "origin": GAP, "gap": GAP,
            "th": grid.tile[0], "tw": grid.tile[1], "cols": grid.cols, "channels": list(grid.channels),
            "mh": grid.map_hw[0], "mw": grid.map_hw[1], "showChannel": True}


def picture_data(picture: np.ndarray, map_hw: tuple[int, int], scale: int, margin: int) -> dict:
    """The same for one map drawn ``scale`` pixels a cell inside a ``margin``
    (:func:`cnnlib.viz.pictures.map_picture`): one tile, channel 0."""
    h, w = picture.shape[:2]
    return {"src": png_uri(picture), "width": w, "height": h, "origin": margin, "gap": 0,
            "th": map_hw[0] * scale, "tw": map_hw[1] * scale, "cols": 1, "channels": [0],
            "mh": map_hw[0], "mw": map_hw[1], "showChannel": False}


def colour_bar(scale: colour.Scale) -> dict:
    """A colour bar under the picture: the CSS gradient and three ticks (0 among them
    on a signed scale), at percent positions."""
    span = (scale.zmax - scale.zmin) or 1.0
    return {"bar": colour.css_gradient(scale),
            "ticks": [[round(100 * (v - scale.zmin) / span, 3), text] for v, text in colour.ticks(scale)]}


def hover_values(values: np.ndarray) -> dict:
    """A one-tile map's values ``(H, W)`` for the hover read-out (base64 float32)."""
    return {"values": base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode("ascii")}


def cell_picker(data: dict, key: str, on_pick) -> None:
    """Draw the component; ``on_pick`` runs after a click, with
    ``st.session_state[key]["pick"] == [channel, row, col]``.

    Args:
        data: :func:`grid_data` or :func:`picture_data`, plus ``hint`` (the read-out
            when the mouse is away), ``alt``, and optionally ``maxWidth`` (CSS pixels),
            ``minWidth`` (CSS pixels: on a narrower screen the picture scrolls sideways, a
            shadow showing there is more),
            ``mark`` (``[tile, row, col]`` framed), ``action`` (said after a position),
            :func:`colour_bar` and :func:`hover_values`.
        key: the widget key.
        on_pick: a callback without arguments.
    """
    _component(key=key, data=data, on_pick_change=on_pick)


def picked(key: str) -> tuple[int, int, int] | None:
    """``(channel, row, col)`` of the last click on the picker ``key``, or None."""
    pick = (st.session_state.get(key) or {}).get("pick")
    return tuple(int(v) for v in pick) if pick else None
