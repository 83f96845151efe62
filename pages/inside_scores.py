"""The end and the search of the Inside the network page: the logits through the
softmax to the probabilities, and the test images whose patches excite one
filter most (computed only when its expander is opened, cached per model key).

Not a page itself (app.py does not route to it); pages/inside.py imports it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cnnlib.data import datasets
from cnnlib.network import formulas, layers, top_patches
from cnnlib.network.activation_functions import SOFTMAX_LATEX
from cnnlib.network.overview import Overview
from cnnlib.viz import pictures
from cnnlib.viz.numbers import number
from pages.common import show_refusal
from pages.eval_pictures import eval_pictures
from pages.inside_state import Explored, chosen_neuron

SAMPLE = 1000  # test images searched for a filter's top patches


def scores_section(overview: Overview, class_names: list[str] | None) -> None:
    """The logits, the softmax with its numbers and the predicted class."""
    st.subheader("From scores to probabilities: the softmax")
    s = overview.scores
    if s is None:
        st.info(f"This model does not end in one score per class: {overview.scores_error}")
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


@st.cache_data(show_spinner="Searching the test images...", max_entries=32, ttl=3600)
def _maxima(key: tuple, layer_index: int, pictures_key: tuple, _model, _chain, _x) -> top_patches.ChannelMaxima:
    """Every channel's strongest response to the test pictures ``pictures_key``
    (:attr:`pages.eval_pictures.EvalPictures.key`, the owner's tag in an own dataset's;
    ``_x`` uint8 ``(N, H, W, C)``), once per model key (the model file's version) and layer."""
    return top_patches.channel_maxima(_model, _chain, layer_index, datasets.to_float(_x))


def filter_section(explored: Explored, overview: Overview) -> None:
    """The nine test-image patches that activate one channel most (an expander that
    computes only when opened): a built-in dataset's test images, or the held-out test
    pictures of the viewer's own dataset for a model trained on it."""
    section = st.expander("What a filter looks for: the test images that excite it most",
                          key="inside_filters", on_change="rerun")
    if not section.open:
        return
    with section:
        found_pictures = eval_pictures(explored.key, explored.dataset, SAMPLE)
        if found_pictures is None:
            st.info("There are no test images of this model's dataset to search: VGG16 learned from "
                    "ImageNet, which is not on this machine; for an uploaded model, say what it was "
                    "trained on in the sidebar.")
            return
        if isinstance(found_pictures, str):
            show_refusal(found_pictures)
            return
        test = found_pictures
        chain = overview.chain
        if tuple(chain[0].output_shape) != test.x.shape[1:]:
            show_refusal(f"This model takes {tuple(chain[0].output_shape)} inputs, not the "
                         f"{test.x.shape[1:]} pictures of its dataset.")
            return
        spatial = [i.index for i in chain[1:] if i.spatial and i.kind != "identity"]
        chosen, neuron = chosen_neuron(overview)
        first = chosen if chosen in spatial else spatial[0]
        a, b = st.columns([3, 1])
        index = a.selectbox("Layer", spatial, index=spatial.index(first), key="inside_filter_layer",
                            format_func=lambda i: f"{chain[i].name} ({chain[i].type})")
        channels = overview.outputs[index].shape[2]
        default = neuron[2] if chosen == index else 0
        channel = b.number_input("Channel", 0, channels - 1, min(default, channels - 1),
                                 key=f"inside_filter_channel_{index}_{channels}")
        maxima = _maxima(explored.key, index, test.key, explored.model, explored.chain, test.x)
        try:
            found = top_patches.top_patches(maxima, chain, index, channel)
        except layers.NotExplainedError as e:
            st.info(f"The patches cannot be outlined: the receptive field is not known here. {e}")
            return
        st.caption(f"Of {test.words}, the {len(found)} whose map {channel} of "
                   f"{chain[index].name} reaches the highest values; orange: the receptive field of "
                   f"the strongest position, the patch that produced it.{test.note}")
        for column, p in zip(st.columns(len(found)), found):
            image = datasets.to_float(test.x[p.image])
            image = image[..., 0] if image.shape[-1] == 1 else image
            drawn, _ = pictures.input_picture(image, window=p.field.drawable(), patch=p.field.crop(image),
                                              target=160)  # a small patch also enlarged in a corner
            column.image(drawn, output_format="PNG", width="stretch")
            label = test.class_names[int(test.y[p.image])]
            column.caption(f"{number(p.value)} · {label}")
