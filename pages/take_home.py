"""Models taken home: one widget that prepares a model's files and offers their downloads,
for a finished run (the Train page's results) and for a stored model (bundled or yours).

:func:`exports` draws a "Prepare" button; after one click (remembered in the session)
it calls ``prepare`` (the caller's cached :mod:`cnnlib.export.run_files` call) and
shows TensorFlow Lite and ONNX, each with its check against Keras in a sentence, and,
for a run, the Python script and the notebook, or the sentence why the run cannot be
code. :func:`stored_models_section` lists the stored models a person may take home.

The conversions run in a limited child process, a bounded number at once
(:mod:`cnnlib.export.child`); each refusal (busy, a limit, a converter's failure) is
one sentence with its detail folded (:func:`pages.common.show_refusal`), the
``.keras`` download and a format that succeeded stay offered. Results are cached per
file version and limits, except one whose failure may pass on another try (a
wall-clock limit on a busy server): it is shown once, with the button to try again.
"""

from __future__ import annotations

import json
from typing import Callable

import streamlit as st

from cnnlib import store
from cnnlib.export import run_files
from cnnlib.export.child import ExportBusyError
from cnnlib.intake.limits import ExportLimits
from cnnlib.owndata import refs
from cnnlib.owners import owner_tag
from cnnlib.rundir import RunDir
from pages import common

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
            may raise :class:`ExportBusyError`, OSError, ValueError, RuntimeError or a
            store error (each shown as a sentence, the button offered again).
        what: the button's object, e.g. ``"TFLite, ONNX, Python script and notebook"``.

    Returns:
        The prepared files, or None before the click or after a failure.
    """
    flag = f"take_home_ready_{key}"
    files = None
    if st.session_state.get(flag):
        files = _prepared(prepare, flag)
        if files is not None:
            _show(files, key, stem)
            if not files.lasting:  # shown once; another try may succeed
                st.session_state[flag] = False
    if not st.session_state.get(flag):
        st.button(f"Prepare {what}", key=f"take_home_prepare_{key}", on_click=_prepare, args=(flag,),
                  help="Converts the model to TensorFlow Lite and ONNX and checks each against "
                       "Keras on test images (a few seconds); a run is written as plain Keras "
                       "code too.")
    return files


def _prepared(prepare: Callable, flag: str):
    """``prepare()``, or None after showing why not (and offering the button again)."""
    try:
        with st.spinner("Converting to TensorFlow Lite and ONNX and checking them on test images..."):
            return prepare()
    except ExportBusyError as e:
        common.show_refusal(str(e))
    except (OSError, ValueError, RuntimeError, *store.ERRORS) as e:
        common.show_refusal(f"Could not prepare the files: {e}", getattr(e, "detail", ""))
    st.session_state[flag] = False
    return None


def _show(files: run_files.RunFiles | run_files.ModelFiles, key: str, stem: str) -> None:
    """The downloads of prepared files, each format's check or refusal beside it."""
    is_run = isinstance(files, run_files.RunFiles)
    model = files.model if is_run else files
    formats = (model.tflite, model.onnx)
    if all(c.data is None for c in formats) and model.tflite.error == model.onnx.error:
        common.show_refusal(f"No TFLite or ONNX file: {model.tflite.error}", model.tflite.detail)
        formats = ()  # one refusal for both, the code's downloads below
    columns = st.columns(4 if is_run else 2)
    for column, converted in zip(columns, formats):
        ext = converted.fmt.lower()
        if converted.data is not None:
            column.download_button(f"Download {converted.fmt}", converted.data,
                                   file_name=f"{stem}.{ext}", mime=_MIME[ext],
                                   key=f"take_home_dl_{ext}_{key}")
            column.caption(converted.check_sentence())
        else:
            with column:
                common.show_refusal(converted.check_sentence(), converted.detail)
    if not is_run:
        return
    if files.code_error:
        columns[2].info(files.code_error)
        return
    for column, (ext, text) in zip(columns[2:], (("py", files.script), ("ipynb", files.notebook))):
        label = "Download as Python script" if ext == "py" else "Download as notebook"
        column.download_button(label, text, file_name=f"{stem}.{ext}", mime=_MIME[ext],
                               key=f"take_home_dl_{ext}_{key}")
        column.caption(_CODE_CAPTIONS[ext])


class _Passing(Exception):
    """Files whose failure may pass on another try: out of the cache, to the page."""

    def __init__(self, files):
        super().__init__("not kept")
        self.files = files


def _kept(files):
    if not files.lasting:
        raise _Passing(files)  # st.cache_data keeps no raised result
    return files


@st.cache_data(max_entries=8, ttl=900, show_spinner=False)  # ~120 MB an entry for a VGG16 base
def _cached_model_files(path: str, mtime_ns: int, config_json: str | None,
                        limits: ExportLimits) -> run_files.ModelFiles:
    return _kept(run_files.model_files(path, json.loads(config_json) if config_json else None,
                                       limits=limits))


@st.cache_data(max_entries=8, ttl=900, show_spinner=False)  # ~120 MB an entry for a VGG16 base
def _cached_run_files(path: str, model_mtime_ns: int, limits: ExportLimits) -> run_files.RunFiles:
    return _kept(run_files.run_files(RunDir(path), limits=limits))


def model_files(path: str, mtime_ns: int, config_json: str | None) -> run_files.ModelFiles:
    """A stored model's TFLite and ONNX files, once per file version and limits.

    Raises:
        ValueError: a limit's environment variable is not a positive whole number.
        Otherwise as :func:`cnnlib.export.run_files.model_files`.
    """
    try:
        return _cached_model_files(path, mtime_ns, config_json, ExportLimits.from_env())
    except _Passing as e:
        return e.files


def run_files_of(path: str, model_mtime_ns: int) -> run_files.RunFiles:
    """A finished run's TFLite and ONNX files, script and notebook, once per run, model
    file version and limits. Errors as :func:`model_files` and
    :func:`cnnlib.export.run_files.run_files`."""
    try:
        return _cached_run_files(path, model_mtime_ns, ExportLimits.from_env())
    except _Passing as e:
        return e.files


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
        exports(f"store_{name}", name, lambda: model_files(str(entry.path), mtime,
                                                           _check_config(entry, me)),
                "TFLite and ONNX")
