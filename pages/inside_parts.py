"""Parts of the Inside the network page: the clickable grid of a layer's feature
maps, one row per layer, the softmax at the end, one neuron explained and the
patches a filter looks for.

Not a page itself (app.py does not route to it); pages/inside.py imports it.
Every number comes from :mod:`cnnlib.network`; this module lays it out.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cnnlib.data import datasets
from cnnlib.network import formulas, layers, overview, pictures, recompute, top_patches
from cnnlib.network.inputs import PreparedInput
from cnnlib.network.activation_functions import SOFTMAX_LATEX
from cnnlib.network.receptive_field import receptive_field
from cnnlib.viz import picture
from cnnlib.viz.figures_conv import png_uri
from cnnlib.viz.matrix_html import matrix_html, number
from pages.common import enlarge, load_dataset, presenting

#: The explained neuron, in session state (also set by a click on a grid).
SEL_LAYER, SEL_CHANNEL, SEL_ROW, SEL_COL, SEL_UNIT = (
    "inside_layer", "inside_channel", "inside_row", "inside_col", "inside_unit")
TILE_PX = 64  # the largest a tile is drawn on screen, CSS pixels
INPUT_TILE_PX = 160  # ... for the input's channels
MAX_COLS = 16  # tiles per row
SHOWN_CHANNELS = 6  # input channels of a convolution written out as matrices
SAMPLE = 1000  # test images searched for a filter's top patches


@dataclasses.dataclass(frozen=True)
class Explored:
    """The model and the input the page explores.

    Attributes:
        key: what the model's caches are keyed by (store name and file time, VGG16's
            weights file, or an upload's SHA-256).
        label: the model in words.
        model, infos, extractor: the ``keras.Model``, its chain and activation model.
        class_names: one name per output, or None.
        dataset: the dataset whose test images fit the model (for the top patches), or None.
        prepared: the input; ``digest`` identifies it.
    """

    key: tuple
    label: str
    model: object
    infos: list
    extractor: object
    class_names: list[str] | None
    dataset: str | None
    prepared: PreparedInput
    digest: str


@st.cache_resource(show_spinner=False, max_entries=8, ttl=900)  # a VGG16 overview holds ~60 MB
def explored_overview(key: tuple, digest: str, _infos, _extractor, _x) -> overview.Overview:
    """:func:`cnnlib.network.overview.overview`, shared by the sessions that look at the
    same model and input (its arrays are read-only)."""
    return overview.overview(_infos, _extractor, _x)


@st.cache_resource(show_spinner=False, max_entries=512, ttl=1800)
def _grid_payload(key: tuple, digest: str, index: int, page: int, _ov: overview.Overview) -> dict:
    """The picture and geometry of one page of a layer's maps (PNG encoded once)."""
    view = _ov.views[index]
    g = overview.grid(_ov, index, page, cols=min(MAX_COLS, len(view.order)))
    h, w = g.picture.shape[:2]
    return {"src": png_uri(g.picture), "width": w, "height": h, "gap": pictures.GAP, "th": g.tile[0],
            "tw": g.tile[1], "cols": g.cols, "channels": list(g.channels), "mh": g.map_hw[0],
            "mw": g.map_hw[1], "maxWidth": g.cols * TILE_PX, "signed": g.scale.signed,
            "zmin": g.scale.zmin, "zmax": g.scale.zmax}


# One picture per layer (a picture costs the browser next to nothing); a click reports
# (channel, row, col), hovering reads the position out, the explained neuron is framed.
_GRID_JS = """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let root = parentElement.querySelector(".inside-grid");
  if (!root) {
    root = document.createElement("div");
    root.className = "inside-grid";
    root.innerHTML = '<div class="inside-grid-box"><img class="inside-grid-img" draggable="false">'
      + '<div class="inside-grid-mark"></div></div><div class="inside-grid-readout"></div>';
    parentElement.appendChild(root);
  }
  const box = root.querySelector(".inside-grid-box");
  const img = root.querySelector("img");
  const mark = root.querySelector(".inside-grid-mark");
  const readout = root.querySelector(".inside-grid-readout");
  if (img.getAttribute("src") !== data.src) img.setAttribute("src", data.src);
  img.alt = data.alt;
  box.style.maxWidth = data.maxWidth + "px";
  readout.textContent = data.hint;
  const step = (n) => n + data.gap;
  const at = (event) => {  // picture pixels -> tile -> map position
    const b = img.getBoundingClientRect();
    const x = (event.clientX - b.left) / b.width * data.width - data.gap;
    const y = (event.clientY - b.top) / b.height * data.height - data.gap;
    const c = Math.floor(x / step(data.tw)), r = Math.floor(y / step(data.th));
    const tx = x - c * step(data.tw), ty = y - r * step(data.th), tile = r * data.cols + c;
    if (c < 0 || c >= data.cols || r < 0 || tile >= data.channels.length) return null;
    if (tx >= data.tw || ty >= data.th) return null;  // on a gap between tiles
    return [data.channels[tile], Math.min(Math.floor(ty * data.mh / data.th), data.mh - 1),
            Math.min(Math.floor(tx * data.mw / data.tw), data.mw - 1)];
  };
  img.onclick = (event) => { const p = at(event); if (p) setTriggerValue("pick", p); };
  img.onmousemove = (event) => {
    const p = at(event);
    readout.textContent = p ? `channel ${p[0]}, row ${p[1]}, column ${p[2]}: click to explain` : data.hint;
  };
  img.onmouseleave = () => { readout.textContent = data.hint; };
  if (data.mark) {  // [tile, row, col]: the cell, at least a few pixels wide
    const [tile, row, col] = data.mark;
    const x0 = data.gap + (tile % data.cols) * step(data.tw);
    const y0 = data.gap + Math.floor(tile / data.cols) * step(data.th);
    const cw = Math.max(data.tw / data.mw, 3), ch = Math.max(data.th / data.mh, 3);
    const x = Math.min(x0 + col * data.tw / data.mw, x0 + data.tw - cw);
    const y = Math.min(y0 + row * data.th / data.mh, y0 + data.th - ch);
    Object.assign(mark.style, {display: "block", left: `${100 * x / data.width}%`,
                               top: `${100 * y / data.height}%`, width: `${100 * cw / data.width}%`,
                               height: `${100 * ch / data.height}%`});
  } else {
    mark.style.display = "none";
  }
}
"""
_GRID_CSS = """
.inside-grid-box { position: relative; width: 100%; }
.inside-grid-img { display: block; width: 100%; height: auto; image-rendering: pixelated; cursor: crosshair; }
.inside-grid-mark { position: absolute; box-sizing: border-box; border: 2px solid #ff7f0e;
  outline: 1px solid #141414; pointer-events: none; }
.inside-grid-readout { font-size: 0.8em; opacity: 0.7; min-height: 1.4em; }
"""
_grid_component = st.components.v2.component("inside_grid", js=_GRID_JS, css=_GRID_CSS,
                                             isolate_styles=False)


# ------------------------------------------------------------------- selection --
def select(index: int, neuron: tuple[int, ...]) -> None:
    """Make neuron ``neuron`` of layer ``index`` the explained one (before the widgets
    are drawn: a callback, or the start of a run)."""
    st.session_state[SEL_LAYER] = index
    if len(neuron) == 3:
        st.session_state[SEL_ROW], st.session_state[SEL_COL], st.session_state[SEL_CHANNEL] = neuron
    elif len(neuron) == 1:
        st.session_state[SEL_UNIT] = neuron[0]


def _picked_map(index: int) -> None:
    pick = (st.session_state.get(f"inside_map_{index}") or {}).get("pick")
    if pick:
        channel, row, col = (int(v) for v in pick)
        select(index, (row, col, channel))


def _picked_bar(index: int) -> None:
    points = st.session_state[f"inside_bars_{index}"].selection.get("points", [])
    if points:
        select(index, (int(points[0]["x"]),))


def default_neuron(ov: overview.Overview) -> tuple[int, tuple[int, ...]]:
    """The first convolution's most active channel at its strongest position (else the
    last layer's largest value)."""
    for view in ov.views:
        if view.info.kind == "conv" and view.how == "maps":
            out = ov.outputs[view.info.index]
            c = int(view.order[0])
            row, col = np.unravel_index(int(np.argmax(out[..., c])), out.shape[:2])
            return view.info.index, (int(row), int(col), c)
    last = ov.outputs[-1]
    return len(ov.views) - 1, tuple(int(i) for i in np.unravel_index(int(np.argmax(last)), last.shape))


def chosen_neuron(ov: overview.Overview) -> tuple[int, tuple[int, ...]]:
    """The explained neuron from session state, clamped into the current model's layers."""
    index = min(int(st.session_state.get(SEL_LAYER, 0)), len(ov.infos) - 1)
    shape = ov.outputs[index].shape
    if len(shape) == 3:
        keys = (SEL_ROW, SEL_COL, SEL_CHANNEL)
    else:
        keys = (SEL_UNIT,) * len(shape)
    return index, tuple(min(max(int(st.session_state.get(k, 0)), 0), n - 1) for k, n in zip(keys, shape))


# -------------------------------------------------------------------- overview --
def _layer_label(info: layers.LayerInfo, shape) -> str:
    what = layers.settings(info)
    params = f"{info.params:,} weights" if info.params else "no weights"
    return (f"**{info.name}**  \n{info.type} · {layers.describe_shape(shape)} · {params}"
            + (f"  \n{what}" if what else ""))


def _maps_view(ex: Explored, ov: overview.Overview, index: int, mark, snap: bool) -> None:
    """One layer's grid; ``snap``: the explained neuron changed, so turn to its page."""
    view = ov.views[index]
    page = 0
    if view.pages > 1:
        per = pictures.PER_PAGE
        key = f"inside_page_{index}"
        if snap and mark[0] == index:  # show the newly chosen channel
            rank = int(np.flatnonzero(view.order == mark[1][2])[0])
            st.session_state[key] = rank // per + 1
        elif st.session_state.get(key, 1) > view.pages:  # a page of another model's layer
            st.session_state[key] = view.pages
        page = st.columns([1, 2])[0].number_input(
            f"Page of {per} channels (most active first) of {len(view.order)}", 1, view.pages,
            key=key) - 1
    data = dict(_grid_payload(ex.key, ex.digest, index, page, ov))
    if view.info.kind == "input":  # the image itself: larger tiles
        data["maxWidth"] = data["cols"] * INPUT_TILE_PX
    data["mark"] = None
    if mark is not None and mark[0] == index and mark[1][2] in data["channels"]:
        row, col, channel = mark[1]
        data["mark"] = [data["channels"].index(channel), row, col]
    scale = "gray: 0 black" if not data["signed"] else "blue < 0 < red, 0 near white"
    data["hint"] = (f"{len(data['channels'])} of {len(view.order)} maps, {scale}, up to "
                    f"{number(data['zmax'])}. Click a map to explain a neuron.")
    data["alt"] = f"Feature maps of {view.info.name}"
    _grid_component(key=f"inside_map_{index}", data=data,
                    on_pick_change=functools.partial(_picked_map, index))


def _bars_view(ov: overview.Overview, index: int, mark) -> None:
    view = ov.views[index]
    values = view.values.astype(float)
    colours = np.where(values >= 0, "#b2182b", "#2166ac")
    if mark is not None and mark[0] == index and mark[1][0] in view.units:
        colours[list(view.units).index(mark[1][0])] = "#ff7f0e"
    fig = go.Figure(go.Bar(x=view.units, y=values, marker_color=list(colours),
                           hovertemplate="unit %{x}: %{y:.4g}<extra></extra>"))
    shown = "" if len(view.units) == len(ov.outputs[index]) else \
        f" (the {len(view.units)} largest of {len(ov.outputs[index])})"
    fig.update_layout(height=170, margin=dict(l=10, r=10, t=24, b=10), bargap=0.1,
                      title=dict(text=f"{view.info.name}: values by unit{shown}", font=dict(size=12)),
                      xaxis=dict(type="category" if shown else "linear"))
    st.plotly_chart(fig, key=f"inside_bars_{index}", on_select=functools.partial(_picked_bar, index),
                    selection_mode="points", config={"displayModeBar": False})


def overview_section(ex: Explored, ov: overview.Overview, mark) -> None:
    """Every layer from the input to the output, each with its maps, bars or a sentence."""
    st.subheader("The network, layer by layer")
    if not presenting():
        st.caption("Each row is one layer, from the input to the output: its name, type, output shape "
                   "and weights, and what it computes for this input. Grids show each channel's feature "
                   "map (gray: values >= 0, black at 0; blue-white-red: signed values, white at 0); bars "
                   "show vectors. Click a map or a bar: the neuron is explained right under its layer.")
    snap = mark != st.session_state.get("inside_last_mark")
    st.session_state["inside_last_mark"] = mark
    for view in ov.views:
        info, out = view.info, ov.outputs[view.info.index]
        left, right = st.columns([1, 4], vertical_alignment="top")
        left.markdown(_layer_label(info, out.shape))
        with right:
            if info.kind == "input" and out.shape[-1] == 3:  # the colour picture, then R, G and B
                st.image(enlarge(ex.prepared.picture, INPUT_TILE_PX), width=INPUT_TILE_PX)
            if view.how == "maps":
                _maps_view(ex, ov, info.index, mark, snap)
            elif view.how == "bars":
                _bars_view(ov, info.index, mark)
            elif info.kind == "flatten":
                st.caption(f"Lays the {layers.describe_shape(ov.outputs[info.index - 1].shape)} values "
                           f"out in one row of {out.size:,} numbers (row by row, channels innermost).")
            else:
                st.caption(f"{info.type}: the same values as the layer before"
                           + (" (it acts only in training)." if info.kind == "identity" else "."))
        if mark is not None and mark[0] == info.index:  # the explained neuron, under its layer
            with st.container(border=True, key="inside_neuron"):
                neuron_section(ex, ov)


def scores_section(ov: overview.Overview, class_names: list[str] | None) -> None:
    """The logits, the softmax with its numbers and the predicted class."""
    st.subheader("From scores to probabilities: the softmax")
    s = ov.scores
    if s is None:
        st.info(f"This model does not end in one score per class: {ov.scores_error}")
        return
    names = class_names if class_names and len(class_names) == len(s.probs) else \
        [f"class {k}" for k in range(len(s.probs))]
    best = s.predicted
    st.markdown(f"Predicted: **{names[best]}** with probability **{s.probs[best]:.1%}**.")
    st.latex(SOFTMAX_LATEX)
    if s.logits is None:
        st.caption(f"The scores come from {s.source}: there are no logits to show.")
        rows = {"class": [names[k] for k in s.top(10)], "probability": [s.probs[k] for k in s.top(10)]}
        st.dataframe(pd.DataFrame(rows), hide_index=True)
        return
    exps = s.exps
    shift = rf"z_i - {number(s.shift)}" if s.shift else "z_i"
    st.caption(f"The scores z (logits) are {s.source}."
               + (" The model has no softmax: the page applies it." if s.applied_here else "")
               + (f" Each score is lowered by the largest one, {number(s.shift)}, before exp (the "
                  "result is the same, and the numbers stay readable)." if s.shift else ""))
    top = s.top(10)
    st.latex(rf"\sum_j e^{{{shift.replace('z_i', 'z_j')}}} = {formulas.num(float(exps.sum()))}"
             rf"\qquad p_{{\text{{{names[best]}}}}} = \frac{{{formulas.num(float(exps[best]))}}}"
             rf"{{{formulas.num(float(exps.sum()))}}} = {formulas.num(float(s.probs[best]))}")
    table = pd.DataFrame({"class": [names[k] for k in top], "score z": [s.logits[k] for k in top],
                          f"exp({shift})": [exps[k] for k in top], "probability": [s.probs[k] for k in top]})
    st.dataframe(table, hide_index=True, column_config={
        "probability": st.column_config.ProgressColumn("probability", min_value=0.0, max_value=1.0,
                                                       format="percent")})
    if len(s.probs) > len(top):
        st.caption(f"The {len(top)} most probable of {len(s.probs)} classes.")


# ---------------------------------------------------------------- one neuron --
def _matrices(title: str, patch: np.ndarray, kernel: np.ndarray, products: np.ndarray) -> None:
    for column, name, values in zip(st.columns(3), ("patch of the input", "× kernel", "= products"),
                                    (patch, kernel, products)):
        column.caption(name)
        column.html(matrix_html(values, label=f"{name} {title}"))


def _conv_detail(neuron: recompute.Neuron) -> None:
    d = neuron.detail
    order = np.argsort(-np.abs(d.channel_sums), kind="stable")
    shown = order[:SHOWN_CHANNELS]
    st.markdown(f"Input rows {int(d.rows[0])}..{int(d.rows[-1])}, columns {int(d.cols[0])}..{int(d.cols[-1])}"
                " of the previous layer (values off its edge are the zeros of the padding). "
                + (f"The {len(shown)} input channels that contribute most, one tab each:"
                   if len(order) > len(shown) else ""))
    tabs = st.tabs([f"channel {c}: {number(float(d.channel_sums[c]))}" for c in shown])
    for tab, c in zip(tabs, shown):
        with tab:
            _matrices(f"input channel {c}", d.patch[..., c], d.kernel[..., c], d.products[..., c])
    if len(order) > len(shown):
        sums = pd.DataFrame({"input channel": order, "sum of patch × kernel": d.channel_sums[order]})
        st.dataframe(sums, hide_index=True, height=210)


def _dense_detail(neuron: recompute.Neuron) -> None:
    d = neuron.detail
    top = d.largest(10)
    rest = float(d.products.sum() - d.products[top].sum())
    rows = pd.DataFrame({"input": top, "value x": d.inputs[top], "weight w": d.weights[top],
                         "x · w": d.products[top]})
    st.dataframe(rows, hide_index=True)
    st.caption(f"The {len(top)} largest contributions of {len(d.inputs)}; the others add up to "
               f"{number(rest)}" + (f"; the bias is {number(d.bias)}." if d.bias is not None else "."))


def _window_detail(neuron: recompute.Neuron) -> None:
    d = neuron.detail
    window = np.nan_to_num(d.window)
    st.html(matrix_html(window, label="pooling window"))
    if d.count < d.window.size:
        st.caption(f"{d.window.size - d.count} cells of the window fall on the padding (shown as 0): "
                   "they never win a max and are left out of a mean.")


def _bn_detail(neuron: recompute.Neuron) -> None:
    d = neuron.detail
    st.dataframe(pd.DataFrame({"x (input)": [d.x], "moving mean μ": [d.mean],
                               "moving variance σ²": [d.variance], "epsilon ε": [d.epsilon],
                               "gamma γ": [d.gamma], "beta β": [d.beta]}), hide_index=True)


def neuron_section(ex: Explored, ov: overview.Overview) -> None:
    """Layer, channel and position widgets, then the chosen value written out."""
    st.markdown("#### One neuron, explained")
    infos = ov.infos
    index, neuron_index = chosen_neuron(ov)
    select(index, neuron_index)  # clamped values back into the widgets' keys
    cols = st.columns([2, 1, 1, 1])
    index = cols[0].selectbox("Layer", range(len(infos)), key=SEL_LAYER,
                              format_func=lambda i: f"{i}: {infos[i].name} ({infos[i].type})")
    shape = ov.outputs[index].shape
    if len(shape) == 3:
        st.session_state[SEL_CHANNEL] = min(st.session_state.get(SEL_CHANNEL, 0), shape[2] - 1)
        st.session_state[SEL_ROW] = min(st.session_state.get(SEL_ROW, 0), shape[0] - 1)
        st.session_state[SEL_COL] = min(st.session_state.get(SEL_COL, 0), shape[1] - 1)
        channel = cols[1].number_input("Channel", 0, shape[2] - 1, key=SEL_CHANNEL)
        row = cols[2].number_input("Row", 0, shape[0] - 1, key=SEL_ROW)
        col = cols[3].number_input("Column", 0, shape[1] - 1, key=SEL_COL)
        neuron_index = (row, col, channel)
    else:
        st.session_state[SEL_UNIT] = min(st.session_state.get(SEL_UNIT, 0), shape[0] - 1)
        neuron_index = (cols[1].number_input("Unit", 0, shape[0] - 1, key=SEL_UNIT),)
    info = infos[index]
    try:
        neuron = recompute.explain(info, ov.outputs[max(index - 1, 0)], neuron_index)
    except layers.NotExplainedError as e:
        st.info(f"This value is not written out here: {e}")
        return
    keras_value = float(ov.outputs[index][neuron_index])
    st.markdown(formulas.sentence(neuron))
    for line in formulas.formula(neuron):
        st.latex(line)
    st.markdown(f"**Recomputed in numpy:** {neuron.value:.7g} · **Keras computed:** {keras_value:.7g} · "
                f"**difference:** {abs(neuron.value - keras_value):.2g}")
    picture_col, detail_col = st.columns([1, 2])
    with picture_col:
        _field_picture(ex, infos, index, neuron_index)
    with detail_col:
        {"conv": _conv_detail, "dense": _dense_detail, "pool": _window_detail,
         "batchnorm": _bn_detail}.get(info.kind, lambda n: None)(neuron)


def _field_picture(ex: Explored, infos, index: int, neuron_index) -> None:
    """The input with this neuron's receptive field outlined, or a sentence."""
    image = ex.prepared.picture
    if len(neuron_index) != 3:
        st.image(enlarge(image, 256), width=256)
        st.caption("A unit of a vector layer depends on every pixel of the input.")
        return
    try:
        field = receptive_field(infos, index, neuron_index[0], neuron_index[1])
    except layers.NotExplainedError as e:  # a layer below of a type not handled here
        st.image(enlarge(image, 256), width=256)
        st.caption(f"This neuron's receptive field is not known here: {e}")
        return
    drawable = field.drawable()
    drawn, _ = picture.input_picture(image, field=drawable, patch=field.crop(image) if drawable else None,
                                     target=320)
    st.image(drawn, width=320, output_format="PNG")
    if field.empty:
        st.caption("This position lies on the padding: it reads no pixel of the input.")
    else:
        st.caption(f"Orange: the {field.height} x {field.width} pixels of the input that this neuron sees "
                   f"(rows {field.top}..{field.box[2]}, columns {field.left}..{field.box[3]}; "
                   f"{field.size[0]} x {field.size[1]} before the image's edge cuts it).")


# ------------------------------------------------------------ top patches --
@st.cache_data(show_spinner="Searching the test images...", max_entries=32, ttl=3600)
def _maxima(key: tuple, layer_index: int, dataset: str, n: int, _model, _infos) -> top_patches.ChannelMaxima:
    """Every channel's strongest response to ``n`` test images of ``dataset``, once per
    model file version and layer (``key`` names the version)."""
    ds = load_dataset(dataset)
    picked = datasets.stratified_indices(ds.y_test, n)
    return top_patches.channel_maxima(_model, _infos, layer_index, datasets.to_float(ds.x_test[picked]))


def filter_section(ex: Explored, ov: overview.Overview) -> None:
    """The nine test-image patches that activate one channel most (an expander that
    computes only when opened)."""
    section = st.expander("What a filter looks for: the test images that excite it most",
                          key="inside_filters", on_change="rerun")
    if not section.open:
        return
    with section:
        if ex.dataset is None:
            st.info("There are no test images of this model's dataset to search: VGG16 learned from "
                    "ImageNet, which is not on this machine; for an uploaded model, say what it was "
                    "trained on in the sidebar.")
            return
        spatial = [i.index for i in ov.infos[1:] if i.spatial and i.kind != "identity"]
        chosen, neuron = chosen_neuron(ov)
        first = chosen if chosen in spatial else spatial[0]
        a, b = st.columns([3, 1])
        index = a.selectbox("Layer", spatial, index=spatial.index(first), key="inside_filter_layer",
                            format_func=lambda i: f"{ov.infos[i].name} ({ov.infos[i].type})")
        channels = ov.outputs[index].shape[2]
        default = neuron[2] if chosen == index else 0
        channel = b.number_input("Channel", 0, channels - 1, min(default, channels - 1),
                                 key=f"inside_filter_channel_{index}_{channels}")
        ds = load_dataset(ex.dataset)
        n = min(SAMPLE, len(ds.x_test))
        maxima = _maxima(ex.key, index, ex.dataset, n, ex.model, ex.infos)
        try:
            found = top_patches.top_patches(maxima, ov.infos, index, channel)
        except layers.NotExplainedError as e:
            st.info(f"The patches cannot be outlined: the receptive field is not known here. {e}")
            return
        picked = datasets.stratified_indices(ds.y_test, n)
        st.caption(f"Of {n} test images of {ex.dataset}, the {len(found)} whose map {channel} of "
                   f"{ov.infos[index].name} reaches the highest values; orange: the receptive field of "
                   "the strongest position, the patch that produced it.")
        for column, p in zip(st.columns(len(found)), found):
            image = datasets.to_float(ds.x_test[picked[p.image]])
            image = image[..., 0] if image.shape[-1] == 1 else image
            drawn, _ = picture.input_picture(image, field=p.field.drawable(), patch=p.field.crop(image),
                                             target=160)  # a small patch also enlarged in a corner
            column.image(drawn, output_format="PNG", width="stretch")
            label = ds.class_names[int(ds.y_test[picked[p.image]])]
            column.caption(f"{number(p.value)} · {label}")
