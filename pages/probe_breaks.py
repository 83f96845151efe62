"""Where it breaks: a model's accuracy on a sample of its dataset's test images as each
change grows, and under FGSM; a second model beside it to compare.

Not a page itself: the probe view (pages/classify.py) calls :func:`breaks_section`.
The maths is :mod:`cnnlib.probe.robustness`, the figures :mod:`cnnlib.viz.probe_plots`.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnlib.data import datasets
from cnnlib.probe import corruptions, robustness
from cnnlib.viz import probe_plots
from pages.common import load_dataset

#: Test images a curve is measured on: a stratified sample, the same for every model.
SAMPLE = 200
CHANGES = list(corruptions.CORRUPTIONS) + ["fgsm"]


@st.cache_data(max_entries=128, show_spinner=False)
def change_curve(model_key: tuple, dataset: str, n: int, change: str, _model):
    """One change's curve (or FGSM's) of one model on ``n`` test images of ``dataset`` (a
    stratified sample, seed 0), cached per model version and shared by the class."""
    data = load_dataset(dataset)
    idx = datasets.stratified_indices(data.y_test, min(n, len(data.y_test)), 0)
    x, y = datasets.to_float(data.x_test[idx]), data.y_test[idx]
    if change == "fgsm":
        return robustness.fgsm_curve(_model, x, y)
    return robustness.curve(_model, x, y, change)


def model_curves(model_key: tuple, dataset: str, model) -> list:
    """Every change's curve of one model, with a progress bar while they are measured."""
    bar = st.progress(0.0, text="Measuring the curves...")
    out = []
    for i, change in enumerate(CHANGES):
        bar.progress(i / len(CHANGES), text=f"Measuring the accuracy under {change}...")
        out.append(change_curve(model_key, dataset, SAMPLE, change, model))
    bar.empty()
    return out


def breaks_section(models: list[tuple[str, tuple, object]], dataset: str,
                   class_names: list[str], key: str) -> None:
    """The curves of one or more models on the same test images.

    Args:
        models: ``(label, model key, keras.Model)`` for each model compared (the first is
            the one probed), all taking ``[0, 1]`` images of ``dataset``'s shape.
        dataset: a built-in dataset's name.
        class_names: its class names.
        key: the widgets' key prefix.
    """
    st.caption(f"Accuracy on {SAMPLE} test images of {dataset} (a stratified sample, the "
               "same for every model) as each change grows; at 0 every curve is the plain "
               "accuracy on these images. Random changes (noise, the square's place) use one "
               "seed, so two models see the same changed pictures.")
    curves = {}
    for label, model_key, model in models:
        curves[label] = model_curves(model_key, dataset, model)
    st.plotly_chart(probe_plots.curves_figure(curves), key=f"{key}_curves")
    first = next(iter(curves))
    names = {c.change: c for c in curves[first]}
    change = st.selectbox("Per class, under", CHANGES, key=f"{key}_per_class",
                          format_func=probe_plots.axis_title)
    curve = names.get(change, curves[first][0])
    st.plotly_chart(probe_plots.per_class_figure(curve, class_names), key=f"{key}_classes")
    worst = int(np.nanargmin(curve.per_class[-1]))
    st.caption(f"{first}: at the largest {probe_plots.axis_title(curve.change)} the class "
               f"{class_names[worst]} keeps the least accuracy "
               f"({curve.per_class[-1, worst]:.0%}), overall {curve.accuracy[-1]:.0%}.")
