"""Classify, the "Try it live" tab: a model trained on your own pictures, tried on the
webcam or an uploaded picture.

Each new picture goes through the very function that made the model's training
pictures (:func:`cnnlib.owndata.pictures.picture_from_bytes`: the bounded decoder,
the centre square, resized to the model's side, gray when it takes one channel), is
scaled to [0, 1] (:func:`cnnlib.data.datasets.to_float`) and classified; the class
probabilities and Grad-CAM follow it. The models offered: the person's own-data
models first (a card whose ``dataset`` is ``own:<name>`` and whose
``config.dataset_owner`` is their tag), then the stored models of the built-in
datasets; another person's own-data models are never listed.

Not a page itself (app.py does not route to it); pages/classify.py draws it as a tab.
"""

from __future__ import annotations

import streamlit as st

from cnnlib import owndata, store
from cnnlib.data import datasets
from cnnlib.explain import gradcam
from cnnlib.owndata import pictures, refs
from cnnlib.owndata.errors import OwnDataError
from cnnlib.owners import owner_tag
from cnnlib.viz.colour import overlay
from cnnlib.viz.raster import enlarge
from pages import common, identity
from pages.classify_parts import classifier_problems, prediction, stored_classifier

SOURCES = {"camera": "Webcam", "upload": "Upload a picture"}
SIDE = 160  # pixels a side of the picture as the model sees it, and of its Grad-CAM (one screen)


def is_own(entry: store.StoredModel) -> bool:
    """Whether the model was trained on somebody's own dataset (``own:<name>``)."""
    return refs.is_own(entry.card.get("dataset"))


def is_mine(entry: store.StoredModel, me: str) -> bool:
    """Whether the model was trained on an own dataset of ``me`` (by the tag in its config)."""
    config = entry.card.get("config")
    return (is_own(entry) and isinstance(config, dict)
            and config.get("dataset_owner") == owner_tag(me))


def live_models(entries: list[store.StoredModel], me: str) -> list[store.StoredModel]:
    """``me``'s own-data models first, then the models of the built-in datasets (and any
    other model that names no own dataset); other people's own-data models left out."""
    return ([e for e in entries if is_mine(e, me)] + [e for e in entries if not is_own(e)])


def class_names(entry: store.StoredModel) -> list[str] | None:
    """The model's class names: its card's, else its built-in dataset's; None if unknown."""
    names = entry.card.get("class_names")
    if isinstance(names, list) and names:
        return [str(n) for n in names]
    info = datasets.DATASETS.get(entry.dataset)
    return list(info.class_names) if info else None


def picture_shape(entry: store.StoredModel, me: str) -> tuple[int, int, int] | None:
    """The ``(S, S, C)`` pictures the model takes (``C`` 1 or 3): its card's input shape,
    else (an own-data card written before cards recorded it) its own dataset's; None
    when neither says, or the input is not a square gray or colour picture."""
    shape = entry.card.get("input_shape")
    if not shape and is_mine(entry, me):
        try:
            shape = owndata.OwnDataStore().get(me, refs.name_of(entry.dataset)).image_shape
        except owndata.ERRORS:  # the dataset is gone, or renamed by hand
            shape = None
    if (isinstance(shape, (list, tuple)) and len(shape) == 3
            and all(isinstance(v, int) and v > 0 for v in shape)
            and shape[0] == shape[1] and shape[2] in (1, 3)):
        return tuple(shape)
    return None


def live_problems(entries: list[store.StoredModel], me: str) -> dict[str, store.ModelLoadError]:
    """Why each model cannot be tried here (see :func:`classifier_problems`): no square
    gray or colour input, no class names, or what the classifier check refuses."""
    problems = {}
    for e in entries:
        if not e.ok:
            continue  # classifier_problems gives the store's refusal
        if picture_shape(e, me) is None:
            problems[e.name] = store.ModelLoadError(
                "It does not take square gray or colour pictures (its card's input shape: "
                f"{e.card.get('input_shape')}).", "")
        elif class_names(e) is None:
            problems[e.name] = store.ModelLoadError("Its card names no classes.", "")
    rest = [e for e in entries if e.name not in problems]
    problems.update(classifier_problems(rest, lambda m: (picture_shape(m, me), len(class_names(m)))))
    return problems


def picture_ui():
    """The picture source and the picture: the uploaded or camera file, or None."""
    source = st.radio("Picture from", list(SOURCES), format_func=SOURCES.get, horizontal=True,
                      key="classify_live_source", label_visibility="collapsed")
    if source == "camera":
        return st.camera_input("Take a picture", key="classify_live_camera",
                               label_visibility="collapsed")
    return st.file_uploader("A picture (JPEG, PNG, WebP, BMP or GIF)", key="classify_live_upload",
                            type=["jpg", "jpeg", "png", "webp", "bmp", "gif"])


def live_tab():
    """The tab: a model, a picture, then what the model sees, says and looks at."""
    me = identity.owner()
    entries = live_models(store.list_models(), me)
    mine = [e for e in entries if is_mine(e, me)]
    if not entries:
        st.warning("There is no stored model yet: make a dataset on Your images, train on it on "
                   "the Train page and save the run.")
        return
    if not mine:
        st.info("You have no saved model trained on your own pictures yet: make a dataset on "
                "Your images, train on it on the Train page and save the run. Meanwhile, the "
                "stored models are listed here.")
    problems = live_problems(entries, me)
    take, result, seen = st.columns(3, gap="medium")
    with take:
        entry = common.pick_model(entries, "classify_live_model",
                                  default=mine[0].name if mine else None, problems=problems)
        shot = picture_ui()
    if entry.name in problems:
        common.show_refusal(f"Model {entry.name} cannot be tried here. {problems[entry.name]} "
                            "Choose another model.", problems[entry.name].detail)
        return
    names, (side, _, channels) = class_names(entry), picture_shape(entry, me)
    try:
        model, classify = stored_classifier(entry.name, entry.path.stat().st_mtime)
    except (store.ModelLoadError, OSError, ValueError) as e:  # changed since it was checked
        common.show_refusal(f"The model cannot be used: {e}", getattr(e, "detail", ""))
        return
    if shot is None:
        result.info(f"Take a picture or upload one: {entry.name} will say which of its classes "
                    f"({', '.join(names)}) it sees, and Grad-CAM where it looked.")
        return
    try:  # the same centre square and resize as the dataset's pictures
        picture = pictures.picture_from_bytes(shot.getvalue(), side, channels == 1)
    except OwnDataError as e:
        result.error(str(e))
        return
    x = datasets.to_float(picture)[None]  # (1, S, S, C) float32 in [0, 1]
    with result:
        best = prediction(names, classify(x), "classify_live_chart", horizontal=len(names) > 5)
    with seen:
        gray = "gray" if channels == 1 else "colour"
        st.image(enlarge(picture, SIDE), width=SIDE)  # captions as wide as the column: one screen
        st.caption(f"As the model sees it: {side}x{side} {gray}, the centre square")
        live_gradcam(model, x, best, names[best])


def live_gradcam(model, x, best: int, name: str) -> None:
    """Grad-CAM of class ``best`` over the picture ``x`` (1, S, S, C), or the sentence why not."""
    try:
        cam = gradcam.gradcam(model, x, class_index=best)
    except ValueError as e:  # no convolution, or none with a map of at least 3x3
        st.info(f"No Grad-CAM: {e}")
        return
    except Exception as e:  # a stored model can be anything Keras loads: never a traceback
        st.info(f"Grad-CAM cannot be computed for this model ({type(e).__name__}: {e}).")
        return
    h, w = cam.map_size
    st.image(enlarge(overlay(x[0], cam.heatmap, 0.5), SIDE), width=SIDE)
    st.caption(f"Grad-CAM of '{name}' ({cam.layer}, {h}x{w}): yellow drove it most, purple "
               "not at all")
    if not cam.heatmap.any():
        st.caption(f"No region raises the score of '{name}': the overlay is empty.")
