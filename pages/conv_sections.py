"""Parts of the Convolution page that are long enough to read on their own:
one output position written out, the sliding-window animation, and what a
trained network sees (the only part that imports TensorFlow)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnlib import conv_explain, store
from cnnlib import figures_conv as figs
from pages.common import import_keras, load_stored_model, pick_model

CHANNEL_NAMES = ("R", "G", "B")


def explanation_section(e: conv_explain.Explanation, row: int, col: int, use_relu: bool) -> None:
    """Patch, kernel and products of one output position, and their sum."""
    top, left, bottom, right = e.field.box
    st.subheader(f"Output ({row}, {col}) written out")
    st.markdown(f"Output ({row}, {col}) reads input rows {top}..{bottom} and columns {left}..{right}"
                + ("" if e.field.inside.all() else "; the hollow taps fall on the zero padding") + ".")
    views = [(e.patch, e.kernel, e.products)]
    tabs = [st.container()]
    if e.patch.ndim == 3:
        views = [(e.patch[..., c], e.kernel[..., c], e.products[..., c]) for c in range(e.patch.shape[2])]
        tabs = st.tabs([f"channel {CHANNEL_NAMES[c] if c < 3 else c}" for c in range(e.patch.shape[2])])
    for c, (tab, (patch, kernel, products)) in enumerate(zip(tabs, views)):
        a, b, p = tab.columns(3)
        a.plotly_chart(figs.matrix_figure(patch, "Patch of the input"), key=f"conv_fig_patch_{c}")
        b.plotly_chart(figs.matrix_figure(kernel, "× kernel"), key=f"conv_fig_k_{c}")
        p.plotly_chart(figs.matrix_figure(products, "= products"), key=f"conv_fig_prod_{c}")
    st.markdown(f"**Sum of the products:** {conv_explain.sum_text(e)}")
    if use_relu:
        st.markdown(f"**After ReLU:** max({e.total:.4g}, 0) = {max(e.total, 0.0):.4g}")


def sliding_section(image: np.ndarray, result: conv_explain.LayerResult, row: int, stride: int,
                    padding, dilation: int) -> None:
    """An expander with the animation of the window sliding at the current stride."""
    section = st.expander(f"Animation: the window sliding with stride {stride}", key="conv_anim",
                          on_change="rerun")
    if not section.open:
        return
    oh, ow = result.feature_map.shape[:2]
    kernel_hw = result.explanation.kernel.shape[:2]
    if oh * ow <= figs.MAX_FRAMES:
        positions = [(r, c) for r in range(oh) for c in range(ow)]
        note = "every output position, row by row"
    else:
        cols = np.unique(np.linspace(0, ow - 1, min(ow, figs.MAX_FRAMES)).round().astype(int))
        positions = [(row, int(c)) for c in cols]
        note = f"output row {row}" + ("" if len(cols) == ow else f", {len(cols)} of its {ow} positions")
    fields = [conv_explain.receptive_field(image.shape[:2], kernel_hw, r, c, stride, padding, dilation)
              for r, c in positions]
    with section:
        st.caption(f"Press Play: {note}. Each step moves the window {stride} pixel(s).")
        st.plotly_chart(figs.sliding_figure(image, result.activated, fields, positions, result.pads),
                        key="conv_fig_anim")


@st.cache_resource(show_spinner=False)
def _extractor(name: str, mtime: float):
    """A model from the input to its conv layers' outputs (TensorFlow loads here)."""
    from cnnlib import feature_maps

    return feature_maps.feature_model(load_stored_model(name, mtime))


def trained_network_section(image: np.ndarray) -> None:
    """Learned first-layer kernels of a stored model and its feature maps for ``image``."""
    import_keras()  # TensorFlow loads here, and only here, on this page
    from cnnlib import feature_maps

    models = [m for m in store.list_models() if m.ok]
    if not models:
        st.info("There is no trained model in the store yet. Train one on the Train page.")
        return
    entry = pick_model(models, "conv_model")
    name, mtime = entry.name, entry.path.stat().st_mtime
    try:
        with st.spinner("Loading the model..."):
            model = load_stored_model(name, mtime)
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
