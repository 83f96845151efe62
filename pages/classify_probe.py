"""Classify, the "Probe any model" tab: any model the app can load (a stored one, yours
included, VGG16, or an uploaded ``.keras`` file through the intake), on any input that
fits it, with its top-k; then why it answered (:mod:`pages.probe_why`), how to fool it
(:mod:`pages.probe_fool`) and where it breaks (:mod:`pages.probe_breaks`).

Every model is probed on pixels in [0, 1] (VGG16 through
:func:`cnnlib.models.vgg16.build_unit_input`, its preprocessing inside; an uploaded file
that reads 0..255, as the page asks, through :func:`cnnlib.probe.input_range.with_unit_input`): the input
offered is what fits the model's input shape: a test image of its dataset (for a model
of the viewer's own dataset, a picture its run held out), the digit
drawn on the first tab (28x28x1 models), or a picture (upload or webcam) fitted to the
input by a centre crop, a squash or MNIST's recipe (:func:`cnnlib.network.inputs.from_upload`).

Not a page itself (app.py does not route to it); pages/classify.py draws it as a tab.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from cnnlib import store
from cnnlib.data import datasets, images
from cnnlib.intake.cache import model_bytes
from cnnlib.models import inference, vgg16
from cnnlib.network import inputs
from cnnlib.network.reader import NotExplorableError
from cnnlib.owndata import refs
from cnnlib.probe.input_range import with_unit_input
from cnnlib.viz.raster import enlarge
from pages import common
from pages.classify_parts import probability_chart, stored_classifier
from pages.eval_pictures import EvalPictures, eval_pictures
from pages.model_choice import choose_model, upload_cache
from pages.probe_breaks import SAMPLE, breaks_section
from pages.probe_fool import fool_section
from pages.probe_why import why_section

KEY = "classify_probe"
INPUTS = {"test": "a test image", "digit": "the digit drawn on the first tab",
          "upload": "a picture", "camera": "the webcam"}
FITS = {"own": "centre crop", "plain": "squash", "mnist": "as MNIST digits are made"}
SECTIONS = ("Why it answered", "Fool it", "Where it breaks")
#: At most this many held-out pictures of an own dataset offered as inputs (a fifth of
#: the 2,000 pictures a person may keep: all of them).
OWN_INPUTS = 400


def fitted_picture(data: bytes, shape: tuple, vgg: bool) -> np.ndarray | str:
    """An uploaded or camera picture fitted to the model's input: float32 ``shape`` in
    [0, 1], or the sentence why not (a picture the bounded decoder refuses)."""
    try:
        rgb = images.decode_image(data).array  # uint8 (H, W, 3)
    except images.ImageError as e:
        return str(e)
    fits = ["own", "plain"] + (["mnist"] if shape == (28, 28, 1) else [])
    style = st.radio("Fit it to the input by", fits, format_func=FITS.get, horizontal=True,
                     key=f"{KEY}_fit")
    style = style if style in fits else "own"
    if vgg:
        return vgg16.fit_to_input(rgb, "center_crop" if style == "own" else "squash")[1] / np.float32(255)
    try:
        return inputs.from_upload(rgb, shape, style).x[0]
    except ValueError as e:  # MNIST's recipe on a picture with no ink
        return str(e)


def choose_input(model, dataset: str | None, vgg: bool, beside,
                 own: EvalPictures | None = None) -> tuple[np.ndarray, int | None] | str:
    """The input widgets (a test image's number in the container ``beside``); returns ``(x,
    true label or None)``, ``x`` float32 ``(H, W, C)`` in [0, 1] of the model's input
    shape, or a sentence saying what is missing. ``own``: the held-out test pictures of
    the viewer's own dataset the model was trained on (:func:`pages.eval_pictures.eval_pictures`)."""
    shape = tuple(int(v) for v in model.input_shape[1:])
    options = []
    if dataset in datasets.DATASETS and datasets.DATASETS[dataset].image_shape == shape:
        options.append("test")
    own = own if own is not None and own.x.shape[1:] == shape else None
    if own is not None:
        options.append("test")
    if shape == (28, 28, 1) and st.session_state.get(common.LAST_DIGIT_KEY) is not None:
        options.append("digit")
    options += ["upload", "camera"]
    source = st.radio("Input", options, format_func=INPUTS.get, horizontal=True, key=f"{KEY}_input")
    source = source if source in options else options[0]
    if source == "test" and own is not None:  # a held-out picture of the viewer's dataset
        i = beside.number_input(f"Held-out test picture (0 to {len(own.y) - 1})", 0, len(own.y) - 1, 0,
                                key=f"{KEY}_own_index")
        i = int(np.clip(i, 0, len(own.y) - 1))
        return datasets.to_float(own.x[i]), int(own.y[i])
    if source == "test":
        ds = common.load_dataset(dataset)
        i = beside.number_input(f"Test image (0 to {len(ds.y_test) - 1})", 0,
                                len(ds.y_test) - 1, 0, key=f"{KEY}_index")
        i = int(np.clip(i, 0, len(ds.y_test) - 1))
        return datasets.to_float(ds.x_test[i]), int(ds.y_test[i])
    if source == "digit":
        digit = np.asarray(st.session_state[common.LAST_DIGIT_KEY], np.float32)
        return np.clip(digit.reshape(28, 28, 1), 0, 1), None
    if source == "upload":
        f = st.file_uploader("A picture (JPEG, PNG, WebP, BMP or GIF)", key=f"{KEY}_upload",
                             type=["jpg", "jpeg", "png", "webp", "bmp", "gif"])
    else:
        f = st.camera_input("Take a picture", key=f"{KEY}_camera")
    if f is None:
        return "Upload a picture or take one to probe the model with it."
    x = fitted_picture(f.getvalue(), shape, vgg)
    return x if isinstance(x, str) else (np.asarray(x, np.float32), None)


RANGES = {"unit": "0 to 1", "byte": "0 to 255 (a Rescaling layer inside)"}


def read_range(model, model_key: tuple):
    """An uploaded model's input range, asked (a file has no card): ``(model, key)`` of the
    model taking [0, 1] pixels (rebuilt behind a Rescaling for one that reads 0..255, kept
    in the byte-bounded upload cache), or ``(sentence, key)`` when it cannot be rebuilt."""
    chosen = st.radio("It reads pixels in", list(RANGES), format_func=RANGES.get, horizontal=True,
                      key=f"{KEY}_range")
    if chosen != "byte":
        return model, model_key
    key = f"{model_key[1]}:0-255"
    cache = upload_cache()
    rebuilt = cache.get(key)
    if rebuilt is None:
        try:
            rebuilt = with_unit_input(model, 255.0)
        except NotExplorableError as e:
            return f"This model cannot be rebuilt to read [0, 1]: {e}", model_key
        cache.put(key, rebuilt, model_bytes(rebuilt))
    return rebuilt, (model_key[0], key)


def probe_tab() -> None:
    """The tab: a model and an input, the top-k, then one of the three probes."""
    left, middle, right = st.columns([5, 2, 4], gap="medium")
    with left:
        chosen = choose_model(KEY)
        if isinstance(chosen, store.ModelLoadError):
            common.show_refusal(str(chosen), chosen.detail)
            return
        if isinstance(chosen, str):
            st.info(chosen)
            return
        model_key, label, model, names, dataset, vgg = chosen
        if model_key[0] == "upload":
            model, model_key = read_range(model, model_key)
            if isinstance(model, str):
                common.show_refusal(model)
                return
        try:
            classify = inference.classifier(model)
            shape = tuple(int(v) for v in model.input_shape[1:])
            if len(shape) != 3 or shape[-1] not in (1, 3):
                raise ValueError(f"It does not take gray or colour pictures (its input: {shape}).")
        except ValueError as e:
            common.show_refusal(f"{label} cannot be probed here. {e}")
            return
        k_classes = int(model.output_shape[-1])
        own = eval_pictures(model_key, dataset, OWN_INPUTS) if refs.is_own(dataset) else None
        if isinstance(own, str):  # its dataset is gone or unreadable: pictures still go in
            with middle:
                common.show_refusal(own)
            own = None
        names = names or (own.class_names if own else None)
        names = list(names) if names and len(names) == k_classes else [f"class {i}" for i in
                                                                        range(k_classes)]
        chosen_input = choose_input(model, dataset, vgg, middle.container(), own)
    if isinstance(chosen_input, str):
        middle.info(chosen_input)
        return
    x, true_label = chosen_input
    digest = hashlib.sha1(x.tobytes()).hexdigest()
    probs = classify(x[None]).probs[0]  # (K,) in [0, 1], summing to 1
    top = [int(i) for i in np.argsort(-probs)[:min(5, k_classes)]]
    with middle:
        st.image(enlarge(x, 120), width=120)
        truth = f", label {names[true_label]}" if true_label is not None else ""
        st.caption(f"As the model takes it: {shape[0]}x{shape[1]} "
                   f"{'gray' if shape[2] == 1 else 'colour'}{truth}")
    with right:
        st.plotly_chart(probability_chart([names[i] for i in top], [float(probs[i]) for i in top],
                                          f"Top-{len(top)}", horizontal=True,
                                          height=190), key=f"{KEY}_topk")
        section = st.radio("Probe", SECTIONS, horizontal=True, key=f"{KEY}_section",
                           label_visibility="collapsed")
    if section == "Fool it":
        keep = true_label if true_label is not None else top[0]
        fool_section(model, model_key, x, digest, names, keep,
                     lambda b: classify(b).probs, f"{KEY}_fool")
    elif section == "Where it breaks":
        breaks(model_key, label, model, dataset, names)
    else:
        why_section(model, model_key, x, x, digest, names, probs, f"{KEY}_why")


def breaks(model_key: tuple, label: str, model, dataset: str | None, names: list[str]) -> None:
    """Where it breaks, for a model of a built-in dataset or of the viewer's own, on its
    test pictures (:func:`pages.eval_pictures.eval_pictures`), with another stored model
    tested on the same pictures to compare (for example one trained with adversarial
    training)."""
    pictures = eval_pictures(model_key, dataset, SAMPLE)
    if pictures is None:
        st.info("Where it breaks measures the accuracy on the test pictures of the model's "
                "dataset; this model names neither a built-in dataset nor one of yours (choose one "
                "under 'Trained on' for an uploaded file).")
        return
    if isinstance(pictures, str):
        common.show_refusal(pictures)
        return
    shape = pictures.x.shape[1:]
    if tuple(model.input_shape[1:]) != shape:
        common.show_refusal(f"{label} takes {tuple(model.input_shape[1:])} inputs, not the {shape} "
                            "pictures of its dataset.")
        return
    names = list(pictures.class_names) if len(pictures.class_names) == len(names) else names
    others = [e for e in store.list_models() if e.ok and pictures.same_for(e)
              and e.name != (model_key[1] if model_key[0] == "store" else None)]
    compare = st.selectbox("Compare with", [None] + [e.name for e in others], key=f"{KEY}_compare",
                           format_func=lambda n: "no other model" if n is None else n)
    models = [(label, model_key, model)]
    entry = next((e for e in others if e.name == compare), None)
    if entry is not None:
        mtime = entry.path.stat().st_mtime
        try:
            other, _ = stored_classifier(entry.name, mtime)
            if tuple(other.input_shape[1:]) != shape:
                raise ValueError(f"It takes {tuple(other.input_shape[1:])} inputs, not {shape}.")
            models.append((entry.name, ("store", entry.name, mtime), other))
        except (store.ModelLoadError, OSError, ValueError) as e:
            common.show_refusal(f"{entry.name} cannot be compared: {e}", getattr(e, "detail", ""))
    breaks_section(models, pictures, names, f"{KEY}_breaks")
