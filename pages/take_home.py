"""Models taken home: one widget that prepares a model's files and offers their downloads,
for a finished run (the Train page's results) and for a stored model (bundled or yours).

:func:`exports` draws a "Prepare" button; after one click (remembered in the session)
it calls ``prepare`` (the caller's cached :mod:`cnnlib.export.run_files` call) and
shows TensorFlow Lite and ONNX, each with its check against Keras in a sentence, and,
for a run, the Python script and the notebook, or the sentence why the run cannot be
code. :func:`stored_models_section` lists the stored models a person may take home.
"""

from __future__ import annotations

import json
from typing import Callable

import streamlit as st

from cnnlib import store
from cnnlib.export import run_files
from cnnlib.owndata import refs
from cnnlib.owners import owner_tag

_MIME = {"tflite": "application/octet-stream", "onnx": "application/octet-stream",
         "py": "text/x-python", "ipynb": "application/x-ipynb+json"}
_CODE_CAPTIONS = {"py": "Plain Keras: the same data, layers and settings; `--epochs`, `--data-dir`.",
                  "ipynb": "The same code as the script, in cells with short explanations."}


def _prepare(flag: str) -> None:
    st.session_state[flag] = True


def exports(key: str, stem: str, prepare: Callable[[], run_files.RunFiles | run_files.ModelFiles],
            what: str) -> run_files.RunFiles | run_files.ModelFiles | None:
    """The take-home downloads of one model: a button first, then the files.

    Args:
        key: unique on the page (prefixes the widget keys).
        stem: the downloaded files' name without extension.
        prepare: returns the files (cached by the caller: converting takes seconds);
            may raise OSError, ValueError, RuntimeError or a store error (shown as a
            sentence).
        what: the button's object, e.g. ``"TFLite, ONNX, Python script and notebook"``.

    Returns:
        The prepared files, or None before the click or after a failure.
    """
    flag = f"take_home_ready_{key}"
    if not st.session_state.get(flag):
        st.button(f"Prepare {what}", key=f"take_home_prepare_{key}", on_click=_prepare, args=(flag,),
                  help="Converts the model to TensorFlow Lite and ONNX and checks each against "
                       "Keras on test images (a few seconds); a run is written as plain Keras "
                       "code too.")
        return None
    try:
        with st.spinner("Converting to TensorFlow Lite and ONNX and checking them on test images..."):
            files = prepare()
    except (OSError, ValueError, RuntimeError, *store.ERRORS) as e:
        st.error(f"Could not prepare the files: {e}")
        return None
    is_run = isinstance(files, run_files.RunFiles)
    model = files.model if is_run else files
    columns = st.columns(4 if is_run else 2)
    for column, converted in zip(columns, (model.tflite, model.onnx)):
        ext = converted.fmt.lower()
        if converted.data is not None:
            column.download_button(f"Download {converted.fmt}", converted.data,
                                   file_name=f"{stem}.{ext}", mime=_MIME[ext],
                                   key=f"take_home_dl_{ext}_{key}")
            column.caption(converted.check_sentence())
        else:
            column.warning(converted.check_sentence())
    if not is_run:
        return files
    if files.code_error:
        columns[2].info(files.code_error)
        return files
    for column, (ext, text) in zip(columns[2:], (("py", files.script), ("ipynb", files.notebook))):
        label = "Download as Python script" if ext == "py" else "Download as notebook"
        column.download_button(label, text, file_name=f"{stem}.{ext}", mime=_MIME[ext],
                               key=f"take_home_dl_{ext}_{key}")
        column.caption(_CODE_CAPTIONS[ext])
    return files


@st.cache_data(max_entries=8, show_spinner=False)
def _model_files(path: str, mtime_ns: int, config_json: str | None) -> run_files.ModelFiles:
    """A stored model's TFLite and ONNX files, once per file version."""
    return run_files.model_files(path, json.loads(config_json) if config_json else None)


def _check_config(entry: store.StoredModel, me: str) -> str | None:
    """The card's config as JSON for the check on test images, or None (random images):
    an own dataset's pictures are read only for their owner."""
    config = entry.card.get("config")
    if not isinstance(config, dict):
        return None
    if refs.is_own(config.get("dataset")) and config.get("dataset_owner") != owner_tag(me):
        return None
    return json.dumps(config, sort_keys=True)


def stored_models_section(me: str) -> None:
    """An expander of the stored models ``me`` may take home (the bundled ones and their
    own): the ``.keras`` file and the :func:`exports` of the one chosen. Drawn only
    while open."""
    entries = [m for m in store.list_models() if m.ok and (m.bundled or m.owned_by(me))]
    section = st.expander(f"Stored models to take home ({len(entries)})", key="take_home_store",
                          on_change="rerun")
    if not section.open:
        return
    with section:
        if not entries:
            st.caption("Save a run to the model store to take it home from here.")
            return
        by_name = {m.name: m for m in entries}
        name = st.selectbox("Stored model", list(by_name), key="take_home_store_model",
                            format_func=lambda n: by_name[n].label()
                            + (" - bundled" if by_name[n].bundled else " - yours"))
        entry = by_name[name]
        st.download_button("Download .keras", entry.path.read_bytes, file_name=f"{name}.keras",
                           key=f"take_home_dl_keras_{name}")
        try:
            mtime = entry.path.stat().st_mtime_ns
        except OSError:  # deleted meanwhile
            st.error(f"The model {name!r} is no longer in the store.")
            return
        exports(f"store_{name}", name, lambda: _model_files(str(entry.path), mtime,
                                                            _check_config(entry, me)),
                "TFLite and ONNX")
