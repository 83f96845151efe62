"""Where it breaks: a model's accuracy on a sample of its dataset's test images as each
change grows, and under FGSM; a second model beside it to compare, on the model's test
pictures (:mod:`pages.eval_pictures`: a built-in dataset's, or the held-out ones of the
viewer's own dataset).

Not a page itself: the probe view (pages/classify.py) calls :func:`breaks_section`.
The maths is :mod:`cnnlib.probe.robustness`, the figures :mod:`cnnlib.viz.probe_plots`.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnlib.data import datasets
from cnnlib.probe import corruptions, robustness
from cnnlib.viz import probe_plots
from pages.eval_pictures import EvalPictures

#: Test images a curve is measured on: a stratified sample, the same for every model.
SAMPLE = 200
CHANGES = list(corruptions.CORRUPTIONS) + ["fgsm"]
#: Below this many pictures one picture moves a curve by more than 2%: said coarse.
COARSE = 50


@st.cache_data(max_entries=128, show_spinner=False)
def change_curve(model_key: tuple, pictures_key: tuple, change: str, _model, _x, _y):
    """One change's curve (or FGSM's) of one model on the pictures ``pictures_key``
    (:attr:`pages.eval_pictures.EvalPictures.key`; ``_x`` float32 ``(N, H, W, C)`` in [0, 1], ``_y`` int64
    ``(N,)``), cached per model version."""
    if change == "fgsm":
        return robustness.fgsm_curve(_model, _x, _y)
    return robustness.curve(_model, _x, _y, change)


def model_curves(model_key: tuple, pictures: EvalPictures, model) -> list:
    """Every change's curve of one model, with a progress bar while they are measured."""
    bar = st.progress(0.0, text="Measuring the curves...")
    x = datasets.to_float(pictures.x)  # (N, H, W, C) float32 [0, 1]
    out = []
    for i, change in enumerate(CHANGES):
        bar.progress(i / len(CHANGES), text=f"Measuring the accuracy under {change}...")
        out.append(change_curve(model_key, pictures.key, change, model, x, pictures.y))
    bar.empty()
    return out


def breaks_section(models: list[tuple[str, tuple, object]], pictures: EvalPictures,
                   class_names: list[str], key: str) -> None:
    """The curves of one or more models on the same test pictures.

    Args:
        models: ``(label, model key, keras.Model)`` for each model compared (the first is
            the one probed), all taking ``[0, 1]`` images of the pictures' shape.
        pictures: :func:`pages.eval_pictures.eval_pictures`.
        class_names: the class names.
        key: the widgets' key prefix.
    """
    n = len(pictures.y)
    coarse = (f" With only {n} pictures one picture moves a curve by {1 / n:.0%}: the curves are "
              "coarse." if n < COARSE else "")
    sample = "" if pictures.split else " (a stratified sample, the same for every model)"
    st.caption(f"Accuracy on {pictures.words}{sample} as each change grows; at 0 every curve is "
               "the plain accuracy on these pictures. Random changes (noise, the square's place) use "
               f"one seed, so two models see the same changed pictures.{coarse}{pictures.note}")
    curves = {}
    for label, model_key, model in models:
        curves[label] = model_curves(model_key, pictures, model)
    st.plotly_chart(probe_plots.curves_figure(curves), key=f"{key}_curves")
    first = next(iter(curves))
    names = {c.change: c for c in curves[first]}
    change = st.selectbox("Per class, under", CHANGES, key=f"{key}_per_class",
                          format_func=probe_plots.axis_title)
    curve = names.get(change, curves[first][0])
    st.plotly_chart(probe_plots.per_class_figure(curve, class_names), key=f"{key}_classes")
    st.caption(f"{first}: at the largest {probe_plots.axis_title(curve.change)} "
               f"{least_kept(curve.per_class[-1], class_names)}, overall {curve.accuracy[-1]:.0%}.")


def least_kept(accuracy: np.ndarray, class_names) -> str:
    """Which classes keep the least accuracy, in words: every class tied at the lowest
    (``accuracy`` float ``(K,)`` in [0, 1], NaN for a class with no picture), e.g.
    "the classes 1, 4 and 6 keep the least accuracy (0%)"."""
    low = np.nanmin(accuracy)
    tied = [str(class_names[k]) for k in np.flatnonzero(accuracy == low)]
    names = tied[0] if len(tied) == 1 else ", ".join(tied[:-1]) + " and " + tied[-1]
    return f"the class{'es' if len(tied) > 1 else ''} {names} keep{'s' if len(tied) == 1 else ''} " \
           f"the least accuracy ({low:.0%})"
