"""Pieces of the Classify page: cached models, charts, step images, the note
about a missing VGG16 file.

Not a page itself (app.py does not route to it); pages/classify.py imports it.
"""

from __future__ import annotations

import re

import numpy as np
import streamlit as st

from cnnlib import store
from cnnlib.data import datasets
from cnnlib.data.prefetch import VGG16_WEIGHTS
from cnnlib.models import inference, vgg16
from cnnlib.viz import charts
from cnnlib.viz.raster import enlarge
from pages.common import load_dataset, load_stored_model

SOFTMAX_NOTE = ("This model's outputs are not probabilities (they are not all in [0, 1] "
                "adding up to 1), so the page passes them through a softmax: the percentages "
                "are that softmax's.")


@st.cache_resource(show_spinner="Loading the model...")
def stored_classifier(name: str, mtime: float):
    """``(model, classify)`` for a stored model, shared by all sessions: ``classify``
    is the fast direct-call path giving probabilities (:func:`cnnlib.models.inference.classifier`).

    Raises:
        store.ModelLoadError, OSError: the file does not load.
        ValueError: the model is not a one-image classifier (the message is a sentence).
    """
    model = load_stored_model(name, mtime)
    return model, inference.classifier(model)


@st.cache_data(show_spinner="Classifying the test images...", max_entries=8)
def test_split_probabilities(name: str, mtime: float, dataset: str,
                             batch: int = 512) -> tuple[np.ndarray, bool]:
    """A stored model's probabilities for every test image of ``dataset``, computed
    once per model file version and shared by all sessions (a gallery rerun then only
    indexes them: 0 ms instead of ~70 ms of model calls a rerun, measured).

    Returns:
        ``(probs, softmax_applied)``: float32 ``(N_test, classes)`` rows summing to
        1, and whether the model's scores were passed through softmax
        (:class:`cnnlib.models.inference.Probabilities`).

    Raises:
        store.ModelLoadError, OSError, ValueError: as :func:`stored_classifier`.
        cnnlib.data.datasets.DatasetUnavailableError: the dataset cannot be loaded.
    """
    _, classify = stored_classifier(name, mtime)
    x = load_dataset(dataset).x_test
    parts = [classify(datasets.to_float(x[i:i + batch])) for i in range(0, len(x), batch)]
    return (np.concatenate([p.probs for p in parts]).astype(np.float32),
            any(p.softmax_applied for p in parts))


def classifier_problems(entries: list[store.StoredModel], task) -> dict[str, store.ModelLoadError]:
    """Why each stored model cannot classify what a tab gives it, for ``pick_model``.

    Args:
        entries: store entries; one whose file the store's intake refuses (not ``ok``)
            gets that refusal.
        task: ``task(entry) -> (image_shape, num_classes)``: the ``(H, W, C)``
            images the tab gives that model and the number of classes it names.

    Returns:
        ``{name: error}`` for each model that does not load, or that
        :func:`cnnlib.models.inference.check_classifier` refuses (inputs, image shape,
        outputs): a :class:`store.ModelLoadError` whose ``str()`` is the sentence and
        ``detail`` the technical text; the usable ones are absent.
    """
    problems = {}
    for entry in entries:
        if not entry.ok:
            problems[entry.name] = store.ModelLoadError(entry.error, entry.error_detail)
            continue
        image_shape, num_classes = task(entry)
        why = classifier_problem(entry.name, entry.path.stat().st_mtime, tuple(image_shape),
                                 int(num_classes))
        if why:
            problems[entry.name] = store.ModelLoadError(*why)
    return problems


@st.cache_data(show_spinner="Checking the stored models...", max_entries=1024)
def classifier_problem(name: str, mtime: float, image_shape: tuple[int, int, int],
                       num_classes: int) -> tuple[str, str] | None:
    """Why stored model ``name`` cannot classify ``image_shape`` images into
    ``num_classes`` classes, ``(sentence, technical detail or "")``, or None;
    remembered per file version (``mtime``). A model that does not fit is not kept
    loaded for it."""
    try:
        model = load_stored_model(name, mtime)
    except (store.ModelLoadError, OSError) as e:
        return f"It cannot be loaded: {e}", getattr(e, "detail", "")
    try:
        inference.check_classifier(model, image_shape, num_classes)
    except ValueError as e:
        load_stored_model.clear(name, mtime)
        return str(e), ""
    return None


@st.cache_resource(show_spinner="Loading VGG16 (138 million weights, a few seconds)...")
def _vgg16(weights_path: str):
    model = vgg16.build_unit_input(weights_path)
    return model, inference.predictor(model)


def vgg16_predictor():
    """``(model, predict, weights path)`` for VGG16 taking RGB in [0, 1]
    (:func:`cnnlib.models.vgg16.build_unit_input`, ImageNet's preprocessing inside):
    one instance per server and weights file (about 2 GB), for Classify's photo tab,
    Inside the network and the probes alike.

    Raises:
        vgg16.WeightsUnavailableError: no weights file, or one that does not load; the
            message says how to get it.
    """
    path = str(vgg16.find_weights())
    return (*_vgg16(path), path)


@st.cache_data(show_spinner=False)
def _class_index(path: str, mtime: float) -> list[tuple[str, str]]:
    return vgg16.load_class_index(path)


def vgg16_class_index() -> list[tuple[str, str]]:
    """The 1000 ImageNet ``(wnid, name)`` pairs. Raises ``vgg16.ClassIndexUnavailableError``."""
    path = vgg16.find_class_index()
    return _class_index(str(path), path.stat().st_mtime)


def gallery_indices(labels: np.ndarray, class_id: int | None, n: int, seed: int) -> np.ndarray:
    """``n`` distinct random test-image indices (all of them if fewer), of one class
    or (``class_id=None``) of any; the same ``seed`` gives the same images."""
    pool = np.flatnonzero(labels == class_id) if class_id is not None else np.arange(len(labels))
    return np.random.default_rng(seed).choice(pool, size=min(n, len(pool)), replace=False)


@st.cache_resource(max_entries=512, show_spinner=False)
def probability_chart(names, probs, title: str, horizontal: bool = False, height: int = 320):
    """:func:`cnnlib.viz.charts.probability_bars`, shared by every session that shows
    the same numbers (building a Plotly figure was ~5% of the server's busy time
    under a 30-session load): ``st.plotly_chart`` reads a figure without changing it
    (it serialises ``figure.to_dict()``), and no caller changes it either."""
    return charts.probability_bars(names, probs, title, horizontal, height)


def _markdown_text(text) -> str:
    """``text`` with Markdown's punctuation backslash-escaped, so that it shows as written."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", str(text))


def prediction(names, result, key: str, horizontal: bool = False, line=None) -> int:
    """The model's answer (a metric with its probability), the class probabilities and,
    when the page applied the softmax, the note saying so.

    Args:
        names: the ``K`` class names.
        result: :class:`cnnlib.models.inference.Probabilities` of one image.
        key: the chart's key.
        horizontal: bars across (many or long names).
        line: a container (e.g. under the input, which stays in sight on a narrow
            screen where the columns stack) that also gets the answer in one line,
            "Prediction: 7 (98.7% confidence)"; None: no such line.

    Returns:
        The index of the most probable class.
    """
    probs = result.probs[0]  # (K,) in [0, 1], summing to 1
    best = int(probs.argmax())
    if line is not None:  # a class name comes from a model card: shown as text, not markdown
        line.markdown(f"**Prediction: {_markdown_text(names[best])}** "
                      f"({probs[best]:.1%} confidence)")
    st.metric("Prediction", names[best], delta=f"{probs[best]:.1%} confidence",
              delta_color="off", delta_arrow="off")
    st.plotly_chart(probability_chart(names, probs, "Class probabilities", horizontal), key=key)
    if result.softmax_applied:
        st.caption(SOFTMAX_NOTE)
    return best


def show_steps(steps, width: int = 112) -> None:
    """The ``(title, image)`` steps in a row, each image shown ``width`` pixels wide with its
    title under it; a row wider than the screen (a phone, a tablet) wraps onto the next line
    instead of squeezing the pictures over each other."""
    with st.container(horizontal=True, wrap=True, gap="medium"):
        for title, image in steps:
            st.image(enlarge(image, width), caption=title, width=width)


def request_download(fname: str):
    st.session_state["classify_download"] = fname


def run_requested_download(item: dict) -> vgg16.FileUnavailableError | None:
    """Download ``item`` into the Keras cache if its button was clicked, with a progress bar.

    The click only records the request (a callback); the download runs in the page's
    next script run, where the bar can be drawn in place. A finished download reruns
    the page (the file is there now: it loads). Returns the failed download's error,
    or None when nothing was asked for."""
    if st.session_state.get("classify_download") != item["fname"]:
        return None
    del st.session_state["classify_download"]
    bar = st.progress(0.0, text=f"Downloading {item['fname']}...")

    def progress(done, total):
        if total:
            bar.progress(min(done / total, 1.0),
                         text=f"{item['fname']}: {done / 2**20:.0f} of {total / 2**20:.0f} MB")

    try:
        vgg16.download(item, progress)
    except vgg16.FileUnavailableError as e:
        bar.empty()
        return e
    st.rerun()


def missing_file_ui(error: vgg16.FileUnavailableError, item: dict, consequence: str) -> None:
    """A short sentence on what is missing, the two ways to get it, the details folded.

    Args:
        error: why the file cannot be used (its ``summary`` is shown, its whole
            message folded under "Details").
        item: ``cnnlib.data.prefetch.VGG16_WEIGHTS`` or ``IMAGENET_CLASS_INDEX``.
        consequence: a sentence on what the page does without it.
    """
    failed = run_requested_download(item)
    st.error(f"{(failed or error).summary} {consequence}")
    env = vgg16.ENV_WEIGHTS if item["fname"] == VGG16_WEIGHTS["fname"] else vgg16.ENV_CLASS_INDEX
    st.markdown(
        f"Two ways to get the file:\n"
        f"1. **Download it here** with the button below ({item['size_mb']} MB; this server "
        f"needs internet access).\n"
        f"2. **Or** run `python -m cnnlib prefetch --vgg16` on this server while it has "
        f"internet access (it fills the Keras cache), or download [the file]({item['origin']}) "
        f"on any machine, copy it here and set `{env}` to its path; then restart the app.")
    st.button(f"Download {item['fname']} now ({item['size_mb']} MB)", icon=":material/download:",
              on_click=request_download, args=(item["fname"],),
              key=f"classify_download_{item['fname']}")
    with st.expander("Details"):
        for e in (failed, error) if failed else (error,):
            st.text(str(e))
