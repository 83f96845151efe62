"""What the Inside the network page explores and which neuron it explains: the model
and input (:class:`Explored`), the overview of every layer's output (cached by the
model's key and the input's digest), and the explained neuron in session state,
clamped into the current model's layers in one place.

Not a page itself (app.py does not route to it); pages/inside.py imports it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from cnnlib.network import overview as network_overview
from cnnlib.network.inputs import PreparedInput
from cnnlib.network.overview import Overview

#: The explained neuron, in session state (also set by a click on a grid or a bar).
SEL_LAYER, SEL_CHANNEL, SEL_ROW, SEL_COL, SEL_UNIT = (
    "inside_layer", "inside_channel", "inside_row", "inside_col", "inside_unit")


@dataclasses.dataclass(frozen=True)
class Explored:
    """The model and the input the page explores.

    Attributes:
        key: what every cache of the model is keyed by (store name and file time,
            VGG16's weights file, or an upload's SHA-256).
        label: the model in words.
        model, chain, extractor: the ``keras.Model``, its chain of layers
            (:func:`cnnlib.network.layers.chain`) and its layer-outputs model.
        class_names: one name per output, or None.
        dataset: the dataset whose test images fit the model (for the top patches), or None.
        prepared: the input; ``digest`` identifies it.
    """

    key: tuple
    label: str
    model: object
    chain: list
    extractor: object
    class_names: list[str] | None
    dataset: str | None
    prepared: PreparedInput
    digest: str


@st.cache_resource(show_spinner=False, max_entries=8, ttl=900)  # a VGG16 overview holds ~60 MB
def explored_overview(key: tuple, digest: str, _chain, _extractor, _x) -> Overview:
    """:func:`cnnlib.network.overview.overview` of model ``key`` for input ``digest``,
    shared by the sessions that look at the same model and input (its arrays are
    read-only)."""
    return network_overview.overview(_chain, _extractor, _x)


def _position_keys(shape) -> tuple[str, ...]:
    """The session-state keys of a position in a layer output of ``shape``."""
    return (SEL_ROW, SEL_COL, SEL_CHANNEL) if len(shape) == 3 else (SEL_UNIT,) * len(shape)


def store_position(neuron: tuple[int, ...]) -> None:
    """Write position ``neuron`` (``(row, col, channel)`` or ``(unit,)``) into the
    position widgets' keys (before those widgets are drawn)."""
    for key, value in zip(_position_keys(neuron), neuron):
        st.session_state[key] = int(value)


def select(index: int, neuron: tuple[int, ...]) -> None:
    """Make neuron ``neuron`` of layer ``index`` the explained one (before the widgets
    are drawn: a callback, or the start of a run)."""
    st.session_state[SEL_LAYER] = index
    store_position(neuron)


def clamped_position(shape) -> tuple[int, ...]:
    """The explained position in session state, clamped into a layer output of ``shape``
    (``(H, W, C)`` or ``(K,)``): ``(row, col, channel)`` or ``(unit,)``."""
    return tuple(min(max(int(st.session_state.get(k, 0)), 0), n - 1)
                 for k, n in zip(_position_keys(shape), shape))


def chosen_neuron(overview: Overview) -> tuple[int, tuple[int, ...]]:
    """The explained neuron from session state, clamped into the current model's layers."""
    index = min(max(int(st.session_state.get(SEL_LAYER, 0)), 0), len(overview.chain) - 1)
    return index, clamped_position(overview.outputs[index].shape)


def default_neuron(overview: Overview) -> tuple[int, tuple[int, ...]]:
    """The first convolution's most active channel at its strongest position (else the
    last layer's largest value)."""
    for view in overview.views:
        if view.info.kind == "conv" and view.how == "maps":
            out = overview.outputs[view.info.index]
            c = int(view.order[0])
            row, col = np.unravel_index(int(np.argmax(out[..., c])), out.shape[:2])
            return view.info.index, (int(row), int(col), c)
    last = overview.outputs[-1]
    return len(overview.views) - 1, tuple(int(i) for i in np.unravel_index(int(np.argmax(last)), last.shape))
