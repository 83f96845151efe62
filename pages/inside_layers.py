"""The overview of the Inside the network page: every layer from the input to the
output, each with its name, type and shape, and its output drawn as a grid of
feature maps (the cell picker: a click explains that neuron), bars, or a sentence.

Not a page itself (app.py does not route to it); pages/inside.py imports it.
"""

from __future__ import annotations

import functools

import numpy as np
import streamlit as st

from cnnlib.network import layers
from cnnlib.network.overview import Overview
from cnnlib.network.overview import grid as overview_grid
from cnnlib.viz import charts, colour, grids
from cnnlib.viz.raster import enlarge
from pages import cell_picker
from pages.common import presenting
from pages.inside_neuron import neuron_section
from pages.inside_state import Explored, select

TILE_PX = 64  # the largest a tile is drawn on screen, CSS pixels
MIN_TILE_PX = 28  # the smallest (a finger's width, about): a phone scrolls a wider grid sideways
INPUT_TILE_PX = 160  # ... for the input's channels
MAX_COLS = 16  # tiles per row


@st.cache_resource(show_spinner=False, max_entries=512, ttl=1800)
def layer_grid(key: tuple, digest: str, index: int, page: int, _overview: Overview) -> grids.Grid:
    """Page ``page`` of layer ``index``'s maps for model ``key`` and input ``digest``, as
    Inside draws it (:func:`cnnlib.network.overview.grid`, up to :data:`MAX_COLS` a row)."""
    view = _overview.views[index]
    return overview_grid(_overview, index, page, cols=min(MAX_COLS, len(view.order)))


@st.cache_resource(show_spinner=False, max_entries=512, ttl=1800)
def _grid_data(key: tuple, digest: str, index: int, page: int, _overview: Overview) -> dict:
    """:func:`pages.cell_picker.grid_data` of :func:`layer_grid` (the PNG encoded once)."""
    grid = layer_grid(key, digest, index, page, _overview)
    return {**cell_picker.grid_data(grid), "maxWidth": grid.cols * TILE_PX,
            "minWidth": grid.cols * MIN_TILE_PX, "scale": grid.scale}


def _picked_map(index: int) -> None:
    pick = cell_picker.picked(f"inside_map_{index}")
    if pick:
        channel, row, col = pick
        select(index, (row, col, channel))


def _picked_bar(index: int) -> None:
    points = st.session_state[f"inside_bars_{index}"].selection.get("points", [])
    if points:
        select(index, (int(points[0]["x"]),))


def _layer_label(info: layers.LayerInfo, shape) -> str:
    what = layers.settings(info)
    params = f"{info.params:,} weights" if info.params else "no weights"
    return (f"**{info.name}**  \n{info.type} · {layers.describe_shape(shape)} · {params}"
            + (f"  \n{what}" if what else ""))


def _maps_view(explored: Explored, overview: Overview, index: int, mark, snap: bool) -> None:
    """One layer's grid; ``snap``: the explained neuron changed, so turn to its page."""
    view = overview.views[index]
    page = 0
    if view.pages > 1:
        per = grids.PER_PAGE
        key = f"inside_page_{index}"
        if snap and mark[0] == index:  # show the newly chosen channel
            rank = int(np.flatnonzero(view.order == mark[1][2])[0])
            st.session_state[key] = rank // per + 1
        elif st.session_state.get(key, 1) > view.pages:  # a page of another model's layer
            st.session_state[key] = view.pages
        page = st.columns([1, 2])[0].number_input(
            f"Page of {per} channels (most active first) of {len(view.order)}", 1, view.pages,
            key=key) - 1
    data = dict(_grid_data(explored.key, explored.digest, index, page, overview))
    scale = data.pop("scale")
    if view.info.kind == "input":  # the image itself: larger tiles
        data["maxWidth"] = data["cols"] * INPUT_TILE_PX
    data["mark"] = None
    if mark is not None and mark[0] == index and mark[1][2] in data["channels"]:
        row, col, channel = mark[1]
        data["mark"] = [data["channels"].index(channel), row, col]
    data["hint"] = (f"{len(data['channels'])} of {len(view.order)} maps, {colour.caption(scale)}. "
                    "Click a map to explain a neuron.")
    data["action"] = "click to explain"
    data["alt"] = f"Feature maps of {view.info.name}"
    cell_picker.cell_picker(data, f"inside_map_{index}", functools.partial(_picked_map, index))


def _bars_view(overview: Overview, index: int, mark) -> None:
    view = overview.views[index]
    size = len(overview.outputs[index])
    shown = "" if len(view.units) == size else f" (the {len(view.units)} largest of {size})"
    chosen = mark[1][0] if mark is not None and mark[0] == index else None
    fig = charts.unit_bars(view.units, view.values, f"{view.info.name}: values by unit{shown}", chosen,
                           categorical=bool(shown))
    st.plotly_chart(fig, key=f"inside_bars_{index}", on_select=functools.partial(_picked_bar, index),
                    selection_mode="points", config={"displayModeBar": False})


def overview_section(explored: Explored, overview: Overview, mark) -> None:
    """Every layer from the input to the output, each with its maps, bars or a sentence."""
    st.subheader("The network, layer by layer")
    if not presenting():
        st.caption("Each row is one layer, from the input to the output: its name, type, output shape "
                   "and weights, and what it computes for this input. Grids show each channel's feature "
                   "map on one scale for the layer (gray: values >= 0, black at 0; blue-white-red: "
                   "signed values, white at 0); bars show vectors. Click a map or a bar: the neuron is "
                   "explained right under its layer.")
    snap = mark != st.session_state.get("inside_last_mark")
    st.session_state["inside_last_mark"] = mark
    for view in overview.views:
        info, out = view.info, overview.outputs[view.info.index]
        left, right = st.columns([1, 4], vertical_alignment="top")
        left.markdown(_layer_label(info, out.shape))
        with right:
            if info.kind == "input" and out.shape[-1] == 3:  # the colour picture, then R, G and B
                st.image(enlarge(explored.prepared.picture, INPUT_TILE_PX), width=INPUT_TILE_PX)
            if view.how == "maps":
                _maps_view(explored, overview, info.index, mark, snap)
            elif view.how == "bars":
                _bars_view(overview, info.index, mark)
            elif info.kind == "flatten":
                before = overview.outputs[info.index - 1].shape
                st.caption(f"Lays the {layers.describe_shape(before)} values "
                           f"out in one row of {out.size:,} numbers (row by row, channels innermost).")
            else:
                st.caption(f"{info.type}: the same values as the layer before"
                           + (" (it acts only in training)." if info.kind == "identity" else "."))
        if mark is not None and mark[0] == info.index:  # the explained neuron, under its layer
            with st.container(border=True, key="inside_neuron"):
                neuron_section(explored, overview)
