"""Helpers shared by the pages: cached resources and small UI pieces.

Pages import this module; cnnlib never does.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnlib import datasets, store

#: Session-state keys that one page writes and another reads (each page's own
#: keys carry its prefix and stay in that page).
#: The last digit drawn on Classify, float32 (28, 28) in [0, 1]; read by Convolution.
LAST_DIGIT_KEY = "classify_last_digit"


@st.cache_resource(show_spinner=False, ttl=3600, max_entries=8)
def load_dataset(name: str) -> datasets.Dataset:
    """The whole dataset ``name`` (uint8 NHWC images, int64 labels), one shared copy
    for all sessions. A run's test images are picked from it by the indices stored
    with its predictions (:class:`cnnlib.rundir.Predictions`).

    A resource rather than ``st.cache_data``: cache_data would copy the arrays
    (tens of MB) on every script run. They are made read-only instead, so no
    page can change the shared copy.
    """
    ds = datasets.load(name)
    for array in (ds.x_train, ds.y_train, ds.x_test, ds.y_test):
        array.flags.writeable = False
    return ds


@st.cache_resource(show_spinner="Loading model...")
def load_stored_model(name: str, mtime: float):
    """A model from the store, shared by all sessions (``mtime`` keys the cache
    so that a model saved again under the same name is reloaded)."""
    return store.load_model(name)


def pick_model(entries: list[store.StoredModel], key: str,
               default: str | None = None) -> store.StoredModel:
    """The model picker of every page: a "Model" select box over store entries.

    Args:
        entries: the :class:`cnnlib.store.StoredModel` entries offered, at least one.
        key: the widget key (prefixed with the page's name).
        default: the name preselected when it is among ``entries``; else the first.

    Returns:
        The chosen entry. Each option is shown by its :meth:`StoredModel.label`.
    """
    by_name = {m.name: m for m in entries}
    names = list(by_name)
    chosen = st.selectbox("Model", names, index=names.index(default) if default in by_name else 0,
                          format_func=lambda n: by_name[n].label(), key=key)
    return by_name[chosen]


def dataset_error(e: Exception) -> None:
    """Show a dataset loading problem as a sentence on the page."""
    st.error(f"The dataset cannot be loaded. {e}")


def require_app_navigation() -> None:
    """Make sure the page runs under app.py's ``st.navigation``.

    Streamlit 1.67 keeps a legacy mode for apps with a ``pages/`` folder: when
    the first request a fresh server gets is a deep link such as ``/train``,
    it runs ``pages/train.py`` directly, ``app.py`` never calls
    ``st.navigation`` and the sidebar lists every file of the folder. Leave
    that mode (a class flag of Streamlit's PagesManager) and run again: the
    same URL then goes through app.py. Call it first thing in every page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_KERAS_READY = False


def import_keras():
    """Import Keras (and TensorFlow) once per server, and keep the garbage
    collector off their objects.

    After every script run Streamlit calls ``keras.backend.clear_session()``,
    which runs ``gc.collect()``; with TensorFlow's millions of objects each
    collection took ~140 ms here (measured), on every rerun of every page.
    ``gc.freeze()`` right after the import moves those long-lived module
    objects to the permanent generation: the same collection then takes ~2 ms.
    Objects are still freed by reference counting; only cyclic garbage that
    exists at this moment is kept.
    """
    global _KERAS_READY
    import keras

    if not _KERAS_READY:
        import gc

        gc.collect()
        gc.freeze()
        _KERAS_READY = True
    return keras


def enlarge(img: np.ndarray, side: int) -> np.ndarray:
    """Repeat pixels (nearest neighbour) so that the longer side is about ``side``;
    the browser would blur a small image instead."""
    img = np.asarray(img)
    factor = max(1, side // max(img.shape[:2]))
    out = np.repeat(np.repeat(img, factor, axis=0), factor, axis=1)
    if out.dtype != np.uint8:  # float images in [0, 1]
        out = (np.clip(out, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    return out[..., 0] if out.ndim == 3 and out.shape[2] == 1 else out


def prediction_grid(images: np.ndarray, y_true: np.ndarray, probs: np.ndarray,
                    class_names: list[str], *, per_row: int = 8, side: int = 64, top_k: int = 0,
                    on_pick=None, key: str = "") -> None:
    """Images in rows, each with its true class and its predicted class (green when
    right, red when wrong) with that prediction's probability.

    Args:
        images: uint8 ``(N, H, W, C)`` (or float in [0, 1]).
        y_true: int ``(N,)`` true labels.
        probs: float ``(N, num_classes)`` softmax outputs.
        class_names: one name per class.
        per_row: images per row.
        side: drawn size of each image's longer side, pixels (enlarged without blur).
        top_k: when > 0, a caption with the ``top_k`` most probable classes.
        on_pick: when given, an "Enlarge" button under each image calls ``on_pick(k)``
            (``k`` = the image's position); its key is ``f"{key}_pick_{k}"``.
        key: prefix of the buttons' keys, unique on the page.
    """
    pred = probs.argmax(1)
    for k in range(len(images)):
        if k % per_row == 0:
            cols = st.columns(per_row)
        truth, guess = class_names[y_true[k]], class_names[pred[k]]
        colour = "green" if y_true[k] == pred[k] else "red"
        with cols[k % per_row]:
            st.image(enlarge(images[k], side))
            st.markdown(f"true **{truth}**  \npredicted :{colour}[**{guess}**] "
                        f"({probs[k, pred[k]]:.0%})")
            if top_k:
                st.caption(", ".join(f"{class_names[j]} {probs[k, j]:.0%}"
                                     for j in np.argsort(-probs[k])[:top_k]))
            if on_pick is not None:
                st.button("Enlarge", key=f"{key}_pick_{k}", on_click=on_pick, args=(k,))
