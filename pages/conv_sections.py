"""Parts of the Convolution page that are long enough to read on their own:
the numbers of a shared address checked, the clickable feature map, one
output position written out, the sliding-window animation, and what a
trained network sees (the only part that imports TensorFlow)."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from cnnlib import store
from cnnlib.conv import formulas, layer
from cnnlib.conv.window import Explanation, kernel_window
from cnnlib.network import reader
from cnnlib.viz import colour, grids, pictures
from cnnlib.viz import figures_conv as figs
from cnnlib.viz.matrix_html import matrix_html
from cnnlib.viz.numbers import number
from cnnlib.viz.raster import factor_for, png_bytes, repeat
from pages import cell_picker
from pages.common import import_keras, load_stored_model, pick_model, show_refusal

CHANNEL_NAMES = ("R", "G", "B")
SHOWN_MAPS = 16  # feature maps drawn per layer of a trained network, the first ones
GRID_COLS = 8  # tiles per row
IGNORED_KEY = "conv_ignored_params"  # [(param, value)] dropped from the URL, said on the next run


def whole_number_in(text: str, low: int, high: int | None) -> bool:
    """Whether URL text is a whole number from ``low`` to ``high`` (None: no maximum)."""
    try:
        value = float(text)
    except ValueError:
        return False
    return (math.isfinite(value) and value.is_integer() and value >= low
            and (high is None or value <= high))


def drop_bad_numbers(numbers: dict[str, tuple[int, int | None]]) -> None:
    """Drop from the URL each number that its number input cannot take, and say so.

    Streamlit 1.67 seeds a bound ``st.number_input`` from the URL and turns the
    value into an int before checking it: ``inf`` or ``1e400`` raise
    OverflowError there, a traceback instead of the page. (Other bad values,
    ``abc``, ``nan``, ``2.5``, ``99``, it drops or rounds without a word.)
    The widgets read the address this run started with, so the bad values are
    removed from ``st.query_params`` and the page runs again, before any
    widget exists; the next run shows one warning per value dropped. (A value
    bound to a widget already, which a fresh address never is, cannot be
    removed this way and is left to Streamlit.)

    Args:
        numbers: the page's bound number inputs, key -> (min, max); max None:
            no fixed maximum (Streamlit resets a value beyond the widget's own).
    """
    dropped = []
    for key, (low, high) in numbers.items():
        value = st.query_params.get(key)
        if value is None or whole_number_in(value, low, high):
            continue
        try:
            del st.query_params[key]
        except StreamlitAPIException:  # already bound in this session: not a fresh address
            continue
        dropped.append((key, value))
    if dropped:
        st.session_state[IGNORED_KEY] = dropped
        st.rerun()
    for key, value in st.session_state.pop(IGNORED_KEY, []):
        low, high = numbers[key]
        st.warning(f"The address's {key}={value[:40]} was ignored: it takes a whole number "
                   + (f"from {low} to {high}." if high is not None else f"of at least {low}."))


@st.cache_data(max_entries=256, show_spinner=False)
def input_png(image: np.ndarray, pads=(0, 0, 0, 0), window=None, patch=None) -> tuple[bytes, bool]:
    """:func:`cnnlib.viz.pictures.input_picture` PNG-encoded, cached by its arguments: a
    class trying the same few settings gets stored bytes (the enlarging and the
    encoding were ~10 ms of each rerun, profiled under the 30-session load).

    Returns:
        ``(PNG bytes, whether the patch was inset)``.
    """
    drawn, layout = pictures.input_picture(image, pads, window, patch)
    return png_bytes(drawn), layout.inset


@st.cache_data(max_entries=256, show_spinner=False)
def map_view_data(fmap: np.ndarray, cell, white: float = 1.0) -> dict:
    """What the cell picker draws for the feature map: the picture (a PNG data URI)
    with ``cell`` framed, its geometry, the values (for the hover read-out) and the
    colour bar (0 among its ticks on a signed scale). Cached by its arguments, as
    :func:`input_png`."""
    drawn, layout = pictures.map_picture(fmap, cell, white)
    oh, ow = fmap.shape
    return {**cell_picker.picture_data(drawn, (oh, ow), layout.scale, layout.margin),
            **cell_picker.colour_bar(colour.value_scale(fmap, white)), **cell_picker.hover_values(fmap),
            "hint": "Click a cell to explain it.",
            "alt": f"Feature map {oh} x {ow}, output ({cell[0]}, {cell[1]}) framed"}


def feature_map_view(fmap: np.ndarray, cell: tuple[int, int], white: float, key: str, on_pick) -> None:
    """The clickable feature map; ``on_pick`` runs when a cell is clicked, with
    :func:`pages.cell_picker.picked` giving ``(0, row, col)``."""
    cell_picker.cell_picker(map_view_data(fmap, cell, white), key, on_pick)


def explanation_section(e: Explanation, row: int, col: int, use_relu: bool) -> None:
    """Patch, kernel and products of one output position, and their sum."""
    top, left, bottom, right = e.window.box
    st.subheader(f"Output ({row}, {col}) written out")
    st.markdown(f"Output ({row}, {col}) reads input rows {top}..{bottom} and columns {left}..{right}"
                + ("" if e.window.inside.all() else "; the taps on the zero padding read 0") + ".")
    views = [(e.patch, e.kernel, e.products)]
    tabs = [st.container()]
    if e.patch.ndim == 3:
        views = [(e.patch[..., c], e.kernel[..., c], e.products[..., c]) for c in range(e.patch.shape[2])]
        tabs = st.tabs([f"channel {CHANNEL_NAMES[c] if c < 3 else c}" for c in range(e.patch.shape[2])])
    for tab, (patch, kernel, products) in zip(tabs, views):
        titles = ("Patch of the input", "× kernel", "= products")
        for column, title, values, white in zip(tab.columns(3), titles, (patch, kernel, products),
                                                (1.0, 0.0, 0.0)):
            column.markdown(f"**{title}**")
            column.html(matrix_html(values, white=white, label=title))
    st.markdown(f"**Sum of the products:** {formulas.sum_text(e)}")
    if use_relu:
        st.markdown(f"**After ReLU:** max({number(e.total, 4)}, 0) = {number(max(e.total, 0.0), 4)}")


def sliding_section(image: np.ndarray, result: layer.LayerResult, row: int, stride: int,
                    padding, dilation: int, white: float = 1.0) -> None:
    """An expander with the animation of the window sliding at the current stride
    while the feature map fills in."""
    section = st.expander(f"Animation: the window sliding with stride {stride}", key="conv_anim",
                          on_change="rerun")
    if not section.open:
        return
    oh, ow = result.activated.shape
    budget = figs.frame_budget(image, result.activated)
    positions = layer.animation_positions((oh, ow), row, budget)
    if len(positions) == oh * ow:
        note = "every output position, row by row"
    else:
        note = f"output row {row}" + ("" if len(positions) == ow
                                      else f", {len(positions)} of its {ow} positions")
    kernel_hw = result.explanation.kernel.shape[:2]
    windows = [kernel_window(image.shape[:2], kernel_hw, r, c, stride, padding, dilation)
               for r, c in positions]
    with section:
        st.caption(f"Press Play: {note}. Each step moves the window {stride} pixel(s) and writes "
                   "one more value of the feature map; the slider picks a step.")
        st.html("<style>.st-key-conv_fig_anim image { image-rendering: pixelated; }</style>")  # crisp cells
        st.plotly_chart(figs.sliding_figure(image, result.activated, windows, positions, result.pads,
                                            white=white), key="conv_fig_anim")


@st.cache_resource(show_spinner=False)
def _extractor(name: str, mtime: float):
    """A model from the input to its conv layers' outputs (TensorFlow loads here)."""
    from cnnlib.explain import feature_maps

    return feature_maps.feature_model(load_stored_model(name, mtime))


def trained_maps_grid(fmap: np.ndarray, shown: int = SHOWN_MAPS) -> grids.Grid:
    """The first ``shown`` feature maps of one layer's output ``fmap`` ``(H, W, F)`` on the
    layer's one scale (over all its ``F`` maps), as every page draws a layer."""
    return grids.map_grid(fmap, range(min(shown, fmap.shape[-1])), cols=GRID_COLS,
                          scale=grids.layer_scale(fmap))


def show_grid(grid: grids.Grid, caption: str, width: int = 640) -> None:
    """A grid enlarged by a whole factor to about ``width`` pixels (no blur), with ``caption``."""
    st.image(repeat(grid.picture, factor_for(grid.picture.shape, width)), caption=caption,
             output_format="PNG")


def trained_network_section(image: np.ndarray) -> None:
    """Learned first-layer kernels of a stored model and its feature maps for ``image``."""
    import_keras()  # TensorFlow loads here, and only here, on this page
    from cnnlib.explain import feature_maps

    models = store.list_models()  # those the store's intake refuses are listed with the reason
    if not models:
        st.info("There is no trained model in the store yet. Train one on the Train page.")
        return
    entry = pick_model(models, "conv_model", problems={m.name: m.error for m in models if not m.ok})
    if not entry.ok:
        show_refusal(f"This model cannot be shown. {entry.error}", entry.error_detail)
        return
    name, mtime = entry.name, entry.path.stat().st_mtime
    try:
        with st.spinner("Loading the model..."):
            model = load_stored_model(name, mtime)
            reader.check_image_input(model)  # one batch of (H, W, C) images in
            learned = feature_maps.first_layer_kernels(model)
            maps = feature_maps.feature_maps(model, image, _extractor(name, mtime))
    except (store.ModelLoadError, ValueError) as e:
        show_refusal(f"This model cannot be shown. {e}", getattr(e, "detail", ""))
        return
    except Exception as e:  # a stored model can be anything Keras loads: never a traceback
        st.error(f"This model cannot be shown ({type(e).__name__}: {e}). Pick another model.")
        return
    h, w, c = model.input_shape[1:]
    kh, kw, kc, filters = learned.shape
    st.markdown(f"The image is fitted to the model's input ({h} x {w} x {c}). First layer: "
                f"{filters} filters of {kh} x {kw} x {kc}.")
    kernel_grid = grids.kernel_grid(learned, cols=GRID_COLS)
    with st.container(key="conv_learned"):
        show_grid(kernel_grid, f"{len(kernel_grid.channels)} of its {filters} kernels "
                  + {1: "(", 3: "(RGB, "}.get(kc, "(mean over the input channels, ")
                  + colour.caption(kernel_grid.scale, "the kernels") + ")")
    for layer_name, fmap in maps:
        map_grid = trained_maps_grid(fmap)
        with st.container(key=f"conv_maps_{layer_name}"):
            show_grid(map_grid, f"{layer_name}: {' x '.join(map(str, fmap.shape))}, the first "
                      f"{len(map_grid.channels)} maps ({colour.caption(map_grid.scale)})")
