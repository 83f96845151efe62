"""The test pictures of a model, as one viewer may see them: a stratified sample of a
built-in dataset's test images, or the pictures a run on the viewer's own dataset held
out (:func:`cnnlib.training.engine.eval_split`; never another person's). Where it breaks
(:mod:`pages.probe_breaks`) measures its curves on them and Inside's "what a filter looks
for" (:mod:`pages.inside_scores`) searches them.

Not a page itself (app.py does not route to it).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from cnnlib import owndata, store
from cnnlib.data import datasets
from cnnlib.owndata import refs
from cnnlib.owners import owner_tag
from cnnlib.training.config import TrainConfig
from pages import identity
from pages.common import load_dataset


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
