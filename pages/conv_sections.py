"""Parts of the Convolution page that are long enough to read on their own:
the numbers of a shared address checked, the clickable feature map, one
output position written out, the sliding-window animation, and what a
trained network sees (the only part that imports TensorFlow)."""

from __future__ import annotations

import base64
import math

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from cnnlib import store
from cnnlib.conv import explain
from cnnlib.network import reader
from cnnlib.viz import figures_conv as figs
from cnnlib.viz import picture
from cnnlib.viz.matrix_html import matrix_html, number
from pages.common import import_keras, load_stored_model, pick_model

CHANNEL_NAMES = ("R", "G", "B")
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


# The feature map as one picture (not a chart: a picture costs the browser next
# to nothing) that reports the cell clicked and reads out the cell under the mouse.
_MAP_JS = """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let root = parentElement.querySelector(".conv-map");
  if (!root) {
    root = document.createElement("div");
    root.className = "conv-map";
    root.innerHTML = '<img class="conv-map-img" draggable="false"><div class="conv-map-bar"></div>'
      + '<div class="conv-map-ticks"></div><div class="conv-map-readout"></div>';
    parentElement.appendChild(root);
  }
  const img = root.querySelector("img");
  const readout = root.querySelector(".conv-map-readout");
  if (img.getAttribute("src") !== data.src) img.setAttribute("src", data.src);
  img.alt = data.alt;
  root.querySelector(".conv-map-bar").style.background = data.bar;
  root.querySelector(".conv-map-ticks").innerHTML =
    data.ticks.map(([at, text]) => `<span style="left:${at}%">${text}</span>`).join("");
  readout.textContent = data.hint;
  let values = null;  // float32 (rows * cols), decoded on the first hover
  const valueAt = (r, c) => {
    if (values === null) {
      const raw = atob(data.values);
      values = new Float32Array(Uint8Array.from(raw, (ch) => ch.charCodeAt(0)).buffer);
    }
    return parseFloat(values[r * data.cols + c].toPrecision(4));
  };
  const cellAt = (event) => {  // the picture: margin, then scale pixels per cell
    const box = img.getBoundingClientRect();
    const x = (event.clientX - box.left) / box.width * data.width - data.margin;
    const y = (event.clientY - box.top) / box.height * data.height - data.margin;
    const r = Math.floor(y / data.scale), c = Math.floor(x / data.scale);
    return r >= 0 && r < data.rows && c >= 0 && c < data.cols ? [r, c] : null;
  };
  img.onclick = (event) => { const rc = cellAt(event); if (rc) setTriggerValue("cell", rc); };
  img.onmousemove = (event) => {
    const rc = cellAt(event);
    readout.textContent = rc ? `row ${rc[0]}, column ${rc[1]}: ${valueAt(rc[0], rc[1])}` : data.hint;
  };
  img.onmouseleave = () => { readout.textContent = data.hint; };
}
"""
_MAP_CSS = """
.conv-map-img { display: block; width: 100%; height: auto; image-rendering: pixelated; cursor: crosshair; }
.conv-map-bar { height: 0.8em; margin-top: 0.3em; border-radius: 2px; }
.conv-map-ticks { position: relative; height: 1.4em; font-size: 0.8em; }
.conv-map-ticks span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.conv-map-ticks span:first-child { transform: none; }
.conv-map-ticks span:last-child { transform: translateX(-100%); }
.conv-map-readout { font-size: 0.875em; opacity: 0.7; min-height: 1.5em; }
"""
_map_component = st.components.v2.component("conv_feature_map", js=_MAP_JS, css=_MAP_CSS,
                                             isolate_styles=False)


@st.cache_data(max_entries=256, show_spinner=False)
def input_png(image: np.ndarray, pads=(0, 0, 0, 0), field=None, patch=None) -> tuple[bytes, bool]:
    """:func:`cnnlib.viz.picture.input_picture` PNG-encoded, cached by its arguments: a
    class trying the same few settings gets stored bytes (the enlarging and the
    encoding were ~10 ms of each rerun, profiled under the 30-session load).

    Returns:
        ``(PNG bytes, whether the patch was inset)``.
    """
    drawn, layout = picture.input_picture(image, pads, field, patch)
    return figs.png_bytes(drawn), layout.inset


@st.cache_data(max_entries=256, show_spinner=False)
def map_view_data(fmap: np.ndarray, cell, white: float = 1.0) -> dict:
    """What the feature map component draws: the picture (a PNG data URI), its
    geometry, the values (base64 float32, for the hover read-out) and the
    colour bar (a CSS gradient and its ticks, 0 among them on a signed scale).
    Cached by its arguments, as :func:`input_png`."""
    drawn, layout = picture.map_picture(fmap, cell, white)
    scale = picture.value_scale(fmap, white)
    stops = picture.plotly_colorscale(scale)
    ticks = ([[0, number(scale.zmin)], [50, "0"], [100, number(scale.zmax)]] if scale.signed else
             [[0, "0"], [50, number(scale.zmax / 2)], [100, number(scale.zmax)]])
    oh, ow = fmap.shape
    return {"src": figs.png_uri(drawn), "rows": oh, "cols": ow, "scale": layout.scale,
            "margin": layout.margin, "width": drawn.shape[1], "height": drawn.shape[0],
            "values": base64.b64encode(np.ascontiguousarray(fmap, dtype="<f4").tobytes()).decode("ascii"),
            "bar": "linear-gradient(to right, " + ", ".join(f"{c} {100 * t:g}%" for t, c in stops) + ")",
            "ticks": ticks, "hint": "Click a cell to explain it.",
            "alt": f"Feature map {oh} x {ow}, output ({cell[0]}, {cell[1]}) framed"}


def feature_map_view(fmap: np.ndarray, cell: tuple[int, int], white: float, key: str, on_pick) -> None:
    """The clickable feature map; ``on_pick`` runs when a cell is clicked, with
    ``st.session_state[key]["cell"] == [row, col]``."""
    _map_component(key=key, data=map_view_data(fmap, cell, white), on_cell_change=on_pick)


def explanation_section(e: explain.Explanation, row: int, col: int, use_relu: bool) -> None:
    """Patch, kernel and products of one output position, and their sum."""
    top, left, bottom, right = e.field.box
    st.subheader(f"Output ({row}, {col}) written out")
    st.markdown(f"Output ({row}, {col}) reads input rows {top}..{bottom} and columns {left}..{right}"
                + ("" if e.field.inside.all() else "; the taps on the zero padding read 0") + ".")
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
    st.markdown(f"**Sum of the products:** {explain.sum_text(e)}")
    if use_relu:
        st.markdown(f"**After ReLU:** max({e.total:.4g}, 0) = {max(e.total, 0.0):.4g}")


def sliding_section(image: np.ndarray, result: explain.LayerResult, row: int, stride: int,
                    padding, dilation: int, white: float = 1.0) -> None:
    """An expander with the animation of the window sliding at the current stride
    while the feature map fills in."""
    section = st.expander(f"Animation: the window sliding with stride {stride}", key="conv_anim",
                          on_change="rerun")
    if not section.open:
        return
    oh, ow = result.activated.shape
    budget = figs.frame_budget(image, result.activated)
    positions = explain.animation_positions((oh, ow), row, budget)
    if len(positions) == oh * ow:
        note = "every output position, row by row"
    else:
        note = f"output row {row}" + ("" if len(positions) == ow
                                      else f", {len(positions)} of its {ow} positions")
    kernel_hw = result.explanation.kernel.shape[:2]
    fields = [explain.receptive_field(image.shape[:2], kernel_hw, r, c, stride, padding, dilation)
              for r, c in positions]
    with section:
        st.caption(f"Press Play: {note}. Each step moves the window {stride} pixel(s) and writes "
                   "one more value of the feature map; the slider picks a step.")
        st.html("<style>.st-key-conv_fig_anim image { image-rendering: pixelated; }</style>")  # crisp cells
        st.plotly_chart(figs.sliding_figure(image, result.activated, fields, positions, result.pads,
                                            white=white), key="conv_fig_anim")


@st.cache_resource(show_spinner=False)
def _extractor(name: str, mtime: float):
    """A model from the input to its conv layers' outputs (TensorFlow loads here)."""
    from cnnlib.explain import feature_maps

    return feature_maps.feature_model(load_stored_model(name, mtime))


def trained_network_section(image: np.ndarray) -> None:
    """Learned first-layer kernels of a stored model and its feature maps for ``image``."""
    import_keras()  # TensorFlow loads here, and only here, on this page
    from cnnlib.explain import feature_maps

    models = [m for m in store.list_models() if m.ok]
    if not models:
        st.info("There is no trained model in the store yet. Train one on the Train page.")
        return
    entry = pick_model(models, "conv_model")
    name, mtime = entry.name, entry.path.stat().st_mtime
    try:
        with st.spinner("Loading the model..."):
            model = load_stored_model(name, mtime)
            reader.check_image_input(model)  # one batch of (H, W, C) images in
            learned = feature_maps.first_layer_kernels(model)
            maps = feature_maps.feature_maps(model, image, _extractor(name, mtime))
    except (store.ModelLoadError, ValueError) as e:
        st.error(f"This model cannot be shown. {e}")
        return
    except Exception as e:  # a stored model can be anything Keras loads: never a traceback
        st.error(f"This model cannot be shown ({type(e).__name__}: {e}). Pick another model.")
        return
    h, w, c = model.input_shape[1:]
    kh, kw, kc, filters = learned.shape
    st.markdown(f"The image is fitted to the model's input ({h} x {w} x {c}). First layer: "
                f"{filters} filters of {kh} x {kw} x {kc}.")
    st.plotly_chart(figs.kernel_grid(learned), key="conv_fig_learned")
    for layer, fmap in maps:
        st.plotly_chart(figs.maps_grid(fmap, f"{layer}: {' x '.join(map(str, fmap.shape))} "
                                       f"(first {min(16, fmap.shape[-1])} maps)"),
                        key=f"conv_fig_maps_{layer}")
