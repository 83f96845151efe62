"""One neuron explained, on the Inside the network page: the layer, channel and
position widgets, the formula with its numbers, the value recomputed in numpy
beside Keras's, the receptive field on the input, and the layer's own detail
(patch × kernel, the largest products, the pooling window, batch norm's numbers).

Not a page itself (app.py does not route to it); pages/inside_layers.py imports it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnlib.network import formulas, layers, recompute
from cnnlib.network.overview import Overview
from cnnlib.network.receptive_field import receptive_field
from cnnlib.viz import pictures
from cnnlib.viz.matrix_html import matrix_html
from cnnlib.viz.numbers import number
from cnnlib.viz.raster import enlarge
from pages.inside_state import (
    SEL_CHANNEL,
    SEL_COL,
    SEL_LAYER,
    SEL_ROW,
    SEL_UNIT,
    Explored,
    chosen_neuron,
    clamped_position,
    select,
    store_position,
)

SHOWN_CHANNELS = 6  # input channels of a convolution written out as matrices


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


def _position_widgets(columns, shape) -> tuple[int, ...]:
    """Number inputs for a position in a layer output of ``shape``, their values first
    clamped into it (:func:`pages.inside_state.clamped_position`)."""
    store_position(clamped_position(shape))
    if len(shape) == 3:
        channel = columns[1].number_input("Channel", 0, shape[2] - 1, key=SEL_CHANNEL)
        row = columns[2].number_input("Row", 0, shape[0] - 1, key=SEL_ROW)
        col = columns[3].number_input("Column", 0, shape[1] - 1, key=SEL_COL)
        return row, col, channel
    return (columns[1].number_input("Unit", 0, shape[0] - 1, key=SEL_UNIT),)


def neuron_section(explored: Explored, overview: Overview) -> None:
    """Layer, channel and position widgets, then the chosen value written out."""
    st.markdown("#### One neuron, explained")
    chain = overview.chain
    select(*chosen_neuron(overview))  # clamped values back into the widgets' keys
    columns = st.columns([2, 1, 1, 1])
    index = columns[0].selectbox("Layer", range(len(chain)), key=SEL_LAYER,
                                 format_func=lambda i: f"{i}: {chain[i].name} ({chain[i].type})")
    position = _position_widgets(columns, overview.outputs[index].shape)
    info = chain[index]
    try:
        neuron = recompute.explain(info, overview.outputs[max(index - 1, 0)], position)
    except layers.NotExplainedError as e:
        st.info(f"This value is not written out here: {e}")
        return
    keras_value = float(overview.outputs[index][position])
    st.markdown(formulas.sentence(neuron))
    for line in formulas.formula(neuron):
        st.latex(line)
    st.markdown(f"**Recomputed in numpy:** {neuron.value:.7g} · **Keras computed:** {keras_value:.7g} · "
                f"**difference:** {abs(neuron.value - keras_value):.2g}")
    picture_col, detail_col = st.columns([1, 2])
    with picture_col:
        _field_picture(explored, chain, index, position)
    with detail_col:
        {"conv": _conv_detail, "dense": _dense_detail, "pool": _window_detail,
         "batchnorm": _bn_detail}.get(info.kind, lambda n: None)(neuron)


def _field_picture(explored: Explored, chain, index: int, position) -> None:
    """The input with this neuron's receptive field outlined, or a sentence."""
    image = explored.prepared.picture
    if len(position) != 3:
        st.image(enlarge(image, 256), width=256)
        st.caption("A unit of a vector layer depends on every pixel of the input.")
        return
    try:
        field = receptive_field(chain, index, position[0], position[1])
    except layers.NotExplainedError as e:  # a layer below of a type not handled here
        st.image(enlarge(image, 256), width=256)
        st.caption(f"This neuron's receptive field is not known here: {e}")
        return
    drawable = field.drawable()
    drawn, _ = pictures.input_picture(image, window=drawable, patch=field.crop(image) if drawable else None,
                                      target=320)
    st.image(drawn, width=320, output_format="PNG")
    if field.empty:
        st.caption("This position lies on the padding: it reads no pixel of the input.")
    else:
        st.caption(f"Orange: the {field.height} x {field.width} pixels of the input that this neuron sees "
                   f"(rows {field.top}..{field.box[2]}, columns {field.left}..{field.box[3]}; "
                   f"{field.size[0]} x {field.size[1]} before the image's edge cuts it).")
