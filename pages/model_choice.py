"""Choosing a model to look into: one set of widgets for Inside the network and
Classify's probe. A stored model (another person's own-data models left out), VGG16
(ImageNet), or an uploaded ``.keras`` file through the intake
(:func:`cnnlib.network.uploads.load_keras_bytes`), kept in the one byte-bounded cache of
uploaded models (:func:`upload_cache`).

Not a page itself (app.py does not route to it).
"""

from __future__ import annotations

import streamlit as st

from cnnlib import store
from cnnlib.data import datasets
from cnnlib.intake.cache import ModelCache, model_bytes
from cnnlib.models import vgg16
from cnnlib.network import uploads
from cnnlib.owndata import refs
from cnnlib.owners import owner_tag
from pages import common, identity

SOURCES = {"stored": "a stored model", "VGG16": "VGG16 (ImageNet)", "upload": "a .keras file"}


@st.cache_resource(show_spinner=False)
def upload_cache() -> ModelCache:
    """The one cache of uploaded models, shared by all sessions, by the upload's SHA-256,
    bounded by ``CNN_STUDIO_UPLOAD_CACHE_MB`` of weights: Inside's ``(model, chain,
    activation model)``, or the probe's model alone."""
    return ModelCache()


def fitting_datasets(shape) -> list[str]:
    """The datasets whose images have the model's input shape ``(H, W, C)``."""
    return [n for n in datasets.names() if datasets.DATASETS[n].image_shape == tuple(shape)]


def choose_model(prefix: str = "inside"):
    """The model widgets (keys ``<prefix>_source``, ``_model``, ``_model_file``,
    ``_model_data``).

    Args:
        prefix: the widgets' key prefix (Inside the network: ``"inside"``).

    Returns:
        ``(key, label, model, class names, dataset, is_vgg16)``, a
        :class:`store.ModelLoadError` (a refused file) or a sentence saying why there is
        no model. ``key`` names the model's version (for caches); ``dataset`` is a
        built-in dataset's name, the viewer's own ``own:<name>`` or None.
    """
    source = st.radio("Model", list(SOURCES), format_func=SOURCES.get, key=f"{prefix}_source",
                      horizontal=prefix != "inside")  # Inside's sits in the narrow sidebar
    if source == "stored":
        entries = [e for e in store.list_models() if not refs.is_own(e.dataset) or mine(e)]
        if not entries:
            return "There is no stored model yet: train one on the Train page, or upload a .keras file."
        entry = common.pick_model(entries, f"{prefix}_model", default="mnist",
                                  problems={m.name: m.error for m in entries if not m.ok})
        if not entry.ok:
            return store.ModelLoadError(entry.error, entry.error_detail)
        mtime = entry.path.stat().st_mtime
        try:
            model = common.load_stored_model(entry.name, mtime)
        except store.ModelLoadError as e:
            return e
        except OSError as e:
            return f"Model {entry.name} cannot be loaded. {e}"
        # a model of the viewer's own pictures (own:<name>) takes its inputs from them
        dataset = entry.dataset if entry.dataset in datasets.DATASETS or mine(entry) else None
        return (("store", entry.name, mtime), entry.label(), model, entry.card.get("class_names"),
                dataset, False)
    if source == "VGG16":
        from pages.classify_parts import vgg16_class_index, vgg16_predictor

        try:
            model, _, path = vgg16_predictor()
        except vgg16.WeightsUnavailableError as e:
            return f"VGG16 cannot be explored on this machine. {e}"
        try:
            names = [name for _, name in vgg16_class_index()]
        except vgg16.ClassIndexUnavailableError:
            names = None  # classes shown by number
        return ("vgg16", path), "VGG16 (ImageNet weights)", model, names, None, True
    upload = st.file_uploader("Model file (.keras)", type=["keras"], key=f"{prefix}_model_file",
                              max_upload_size=uploads.MAX_MODEL_MB,
                              help=f"A model saved with model.save('name.keras'), up to "
                                   f"{uploads.MAX_MODEL_MB} MB; loaded in Keras's safe mode.")
    if upload is None:
        return "Upload a .keras file in the sidebar to explore it."
    data = upload.getvalue()
    sha = uploads.digest(data)
    cache = upload_cache()
    kept = cache.get(sha)  # Inside's (model, chain, activation model), or the model alone
    try:
        if kept is not None:
            model = kept[0] if isinstance(kept, tuple) else kept
        else:
            with st.spinner("Checking and loading the model..."):
                model = uploads.load_keras_bytes(data, upload.name)
            if prefix != "inside":  # Inside keeps it with its chain (explore)
                cache.put(sha, model, model_bytes(model))
    except store.ModelLoadError as e:
        return e
    shape = tuple(model.input_shape[1:]) if len(model.inputs) == 1 else ()
    trained = st.selectbox("Trained on", fitting_datasets(shape) + ["unknown"], key=f"{prefix}_model_data",
                           help="Its class names and test images, for a model of that image size.")
    dataset = None if trained == "unknown" else trained
    names = list(datasets.DATASETS[dataset].class_names) if dataset else None
    return ("upload", sha), f"{upload.name} (uploaded)", model, names, dataset, False


def mine(entry: store.StoredModel) -> bool:
    """Whether ``entry`` was trained on an own dataset of this browser's owner."""
    config = entry.card.get("config")
    return (refs.is_own(entry.dataset) and isinstance(config, dict)
            and config.get("dataset_owner") == owner_tag(identity.owner()))
