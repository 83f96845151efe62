"""Helpers shared by the pages: cached resources and small UI pieces.

Pages import this module; cnnlib never does.
"""

from __future__ import annotations

import streamlit as st

from cnnlib import datasets, store

#: Session-state keys that one page writes and another reads (each page's own
#: keys carry its prefix and stay in that page).
#: The last digit drawn on Classify, float32 (28, 28) in [0, 1]; read by Convolution.
LAST_DIGIT_KEY = "classify_last_digit"


@st.cache_resource(show_spinner=False, ttl=3600, max_entries=8)
def load_dataset(name: str, n_test: int | None = None, seed: int = 0) -> datasets.Dataset:
    """The dataset ``name``, one shared copy for all sessions; ``n_test`` and
    ``seed`` pick the same stratified test subset as a training run with those
    settings.

    A resource rather than ``st.cache_data``: cache_data would copy the arrays
    (tens of MB) on every script run. They are made read-only instead, so no
    page can change the shared copy.
    """
    ds = datasets.load(name, n_test=n_test, seed=seed)
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
