"""Where it breaks: a model's accuracy on a sample of its dataset's test images as each
change grows, and under FGSM; a second model beside it to compare. The test pictures of
a model (:func:`eval_pictures`: a built-in dataset's, or the held-out ones of the
viewer's own dataset) are also what Inside's "what a filter looks for" searches.

Not a page itself: the probe view (pages/classify.py) calls :func:`breaks_section`.
The maths is :mod:`cnnlib.probe.robustness`, the figures :mod:`cnnlib.viz.probe_plots`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from cnnlib import owndata, store
from cnnlib.data import datasets
from cnnlib.owndata import refs
from cnnlib.owners import owner_tag
from cnnlib.probe import corruptions, robustness
from cnnlib.training.config import TrainConfig
from cnnlib.viz import probe_plots
from pages import identity
from pages.common import load_dataset

#: Test images a curve is measured on: a stratified sample, the same for every model.
SAMPLE = 200
CHANGES = list(corruptions.CORRUPTIONS) + ["fgsm"]
#: Below this many pictures one picture moves a curve by more than 2%: said coarse.
COARSE = 50


@dataclasses.dataclass(frozen=True)
class EvalPictures:
    """The test pictures a model is measured on, as one viewer may see them.

    Attributes:
        key: names them for the caches of results on them (an own dataset's holds its
            owner's tag, so no one else's cached result is ever given back).
        x: uint8 ``(N, H, W, C)`` NHWC, 0..255.
        y: int64 ``(N,)`` labels in ``0..K-1``.
        class_names: the ``K`` class names in label order.
        words: what they are, e.g. ``"200 test images of mnist"`` or ``"the 18 held-out
            test pictures of your dataset pens"``.
        dataset: the run's ``dataset`` (a built-in name or ``own:<name>``).
        split: an own dataset's ``(owner tag, seed)`` (the split held out), else None.
        note: a sentence to add (an own dataset changed since the training run), or "".
    """

    key: tuple
    x: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    words: str
    dataset: str
    split: tuple | None = None
    note: str = ""

    def same_for(self, entry: store.StoredModel) -> bool:
        """Whether the stored model ``entry`` was tested on these pictures too (the same
        built-in dataset, or the same own dataset held out with the same seed)."""
        if self.split is None:
            return entry.dataset == self.dataset
        config = entry.card.get("config") if isinstance(entry.card.get("config"), dict) else {}
        return (entry.dataset == self.dataset and config.get("dataset_owner") == self.split[0]
                and TrainConfig.from_dict(config).seed == self.split[1])


@st.cache_data(max_entries=16, ttl=600, show_spinner="Reading your held-out test pictures...")
def own_eval_split(owner: str, config: dict, counts: tuple) -> tuple[np.ndarray, np.ndarray, tuple]:
    """:func:`cnnlib.training.engine.eval_split` of the run ``config`` for ``owner`` (in the
    key: each person's own copy); ``counts`` (pictures per class) keys the dataset's content."""
    from cnnlib.training import engine

    return engine.eval_split(TrainConfig.from_dict(config), owner)


def _own_pictures(card: dict, n: int) -> EvalPictures | str:
    """The held-out pictures of the viewer's own dataset named by a model's ``card`` (at
    most ``n``, a stratified sample beyond), or the sentence why not."""
    owner = identity.owner()
    given = card.get("config") if isinstance(card.get("config"), dict) else {}
    try:
        cfg = TrainConfig.from_dict({**given, "dataset": card["dataset"]})
        name = refs.name_of(cfg.dataset)
        counts = owndata.OwnDataReader().get(owner, name).counts
        x, y, names = own_eval_split(owner, cfg.to_dict(), counts)
    except (*owndata.ERRORS, ValueError, TypeError, KeyError) as e:
        return f"The held-out test pictures of this model's dataset cannot be read. {e}"
    held = len(y)
    if held == 0:
        return f"Your dataset {name} has no held-out test pictures: add more pictures to it."
    words = f"the {held} held-out test pictures of your dataset {name}"
    if held > n:  # a stratified sample, the same for every model
        idx = datasets.stratified_indices(y, n, 0)
        x, y = x[idx], y[idx]
        words = f"{n} of the {held} held-out test pictures of your dataset {name} (a stratified sample)"
    tested = card.get("n_test")
    note = (f" Your dataset has changed since the model was trained (it was tested on {tested} "
            "pictures): some of these may have been among its training pictures."
            if isinstance(tested, int) and tested != held else "")
    tag = owner_tag(owner)
    return EvalPictures(("own", tag, name, cfg.seed, cfg.n_test, counts, n), x, y, tuple(names), words,
                        cfg.dataset, (tag, cfg.seed), note)


def eval_pictures(model_key: tuple, dataset: str | None, n: int) -> EvalPictures | str | None:
    """The test pictures of a model for this viewer: a stratified sample (seed 0) of at
    most ``n`` of a built-in dataset's test images, or, for a stored model of the
    viewer's own dataset (its card names ``own:<name>`` and the viewer's tag), the
    pictures its training run held out (:func:`cnnlib.training.engine.eval_split`).

    Args:
        model_key: :func:`pages.model_choice.choose_model`'s key (``("store", name,
            mtime)`` for a stored model).
        dataset: a built-in dataset's name, or anything else (the card decides).
        n: at most this many pictures, >= 1.

    Returns:
        :class:`EvalPictures`; a sentence (another person's dataset, or one that cannot be
        read); or None when the model has no test pictures here.
    """
    if dataset in datasets.DATASETS:
        ds = load_dataset(dataset)
        idx = datasets.stratified_indices(ds.y_test, min(n, len(ds.y_test)), 0)
        return EvalPictures((dataset, n), ds.x_test[idx], ds.y_test[idx], tuple(ds.class_names),
                            f"{len(idx)} test images of {dataset}", dataset)
    card = store.read_card(model_key[1]) if model_key[0] == "store" else {}
    return _own_pictures(card, n) if refs.is_own(card.get("dataset")) else None


@st.cache_data(max_entries=128, show_spinner=False)
def change_curve(model_key: tuple, pictures_key: tuple, change: str, _model, _x, _y):
    """One change's curve (or FGSM's) of one model on the pictures ``pictures_key``
    (:attr:`EvalPictures.key`; ``_x`` float32 ``(N, H, W, C)`` in [0, 1], ``_y`` int64
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
        pictures: :func:`eval_pictures`.
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
    worst = int(np.nanargmin(curve.per_class[-1]))
    st.caption(f"{first}: at the largest {probe_plots.axis_title(curve.change)} the class "
               f"{class_names[worst]} keeps the least accuracy "
               f"({curve.per_class[-1, worst]:.0%}), overall {curve.accuracy[-1]:.0%}.")
