"""Helpers shared by the pages: cached resources and small UI pieces.

Pages import this module; cnnlib never does.
"""

from __future__ import annotations

import streamlit as st

from cnnlib import datasets, store


@st.cache_data(show_spinner=False, ttl=600, max_entries=8)
def load_dataset(name: str, n_test: int | None = None, seed: int = 0) -> datasets.Dataset:
    """The dataset ``name`` (cached for all sessions); ``n_test`` and ``seed``
    pick the same stratified test subset as a training run with those settings."""
    return datasets.load(name, n_test=n_test, seed=seed)


@st.cache_resource(show_spinner="Loading model...")
def load_stored_model(name: str, mtime: float):
    """A model from the store, shared by all sessions (``mtime`` keys the cache
    so that a model saved again under the same name is reloaded)."""
    return store.load_model(name)


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
