"""Classify: draw a digit, classify CIFAR-10 test images, send a photo through VGG16, try
a model of your own pictures live (pages/classify_live.py), probe any model: why it
answered, how to fool it, where it breaks (pages/classify_probe.py).

Five tabs, each run only while it is open (``st.tabs(on_change="rerun")``),
so VGG16 (about 2 GB) is loaded only once the photo tab has a photo. The
maths lives in cnnlib: ``preprocess`` (canvas -> MNIST digit), ``images``
(safe photo decoding), ``vgg16``, ``gradcam``, ``inference`` (the fast
direct-call classifier, and the check that a stored model fits the tab).
The digit is drawn on a streamlit-drawable-canvas with its toolbar off (its
hidden toolbar over the top-right corner swallowed strokes that started there),
so a stroke may start anywhere; the page has its own Clear button. On a phone, where
the columns stack, the prediction is repeated in one line between the canvas and Clear
(:func:`pages.common.stacked_only`), so the drawing and its answer are in sight together.
"""

import hashlib

import numpy as np
import streamlit as st

from cnnlib import store
from cnnlib.data import datasets, images, preprocess
from cnnlib.data.prefetch import IMAGENET_CLASS_INDEX, VGG16_WEIGHTS
from cnnlib.explain import gradcam
from cnnlib.models import vgg16
from cnnlib.viz.colour import overlay
from cnnlib.viz.raster import enlarge
from pages import common
from pages.classify_live import live_tab
from pages.classify_parts import (
    SOFTMAX_NOTE,
    classifier_problems,
    gallery_indices,
    missing_file_ui,
    prediction,
    probability_chart,
    show_steps,
    stored_classifier,
    test_split_probabilities,
    vgg16_class_index,
    vgg16_predictor,
)
from pages.classify_probe import probe_tab
from pages.common import (
    LAST_DIGIT_KEY,
    dataset_error,
    enlarged_png,
    load_dataset,
    pick_model,
    prediction_grid,
)

common.require_app_navigation()
common.import_keras()  # this page needs TensorFlow; see import_keras for the gc.freeze

TABS = ["Draw a digit", "CIFAR-10 samples", "Photo through VGG16", "Try it live", "Probe any model"]
CANVAS = 280  # canvas side in pixels, 10x MNIST's 28
DIGIT_SHAPE = (28, 28, 1)  # what the canvas becomes (cnnlib.data.preprocess)
N_SAMPLES = 12  # CIFAR-10 gallery size
HEAT_CAPTION = "Heat: dark purple where nothing drove the class, light yellow where most did."

st.session_state.setdefault("classify_canvas_n", 0)  # bumped by Clear: a fresh canvas key
st.session_state.setdefault("classify_cifar_seed", 0)
st.session_state.setdefault("classify_cifar_selected", 0)


def clear_canvas():
    st.session_state["classify_canvas_n"] += 1


def select_sample(k: int):
    st.session_state["classify_cifar_selected"] = k


def new_samples():
    st.session_state["classify_cifar_seed"] += 1
    st.session_state["classify_cifar_selected"] = 0


def digit_names(entry: store.StoredModel) -> list[str]:
    """The class names of an MNIST model: its card's, else the ten digits."""
    return list(entry.card.get("class_names") or datasets.MNIST_CLASSES)


def digit_tab():
    from streamlit_drawable_canvas import st_canvas  # needs a Streamlit runtime: see NOTES

    mnist = [m for m in store.list_models() if m.dataset == "mnist"]
    if not mnist:
        st.warning("There is no MNIST model in the store. Train one on the Train page, or run "
                   "`python -m cnnlib train --dataset mnist --save mnist`.")
        return
    # a model that does not take 28x28x1 digits or give one score per class is listed as unusable
    problems = classifier_problems(mnist, lambda m: (DIGIT_SHAPE, len(digit_names(m))))
    left, right = st.columns([1, 1], gap="large")
    with left:
        entry = pick_model(mnist, "classify_digit_model", default="mnist", problems=problems)
        width = st.slider("Stroke width", 6, 40, 18, key="classify_stroke")
        # no toolbar: its hidden buttons over the top-right corner swallowed strokes there
        canvas = st_canvas(stroke_width=width, stroke_color="#FFFFFF", background_color="#000000",
                           height=CANVAS, width=CANVAS, drawing_mode="freedraw",
                           display_toolbar=False, return_image_data=True,
                           key=f"classify_canvas_{st.session_state['classify_canvas_n']}")
        line = common.stacked_only("classify_digit_line")  # the answer in one line, columns stacked
        st.button("Clear", icon=":material/ink_eraser:", on_click=clear_canvas,
                  key="classify_clear")
    names = digit_names(entry)
    if entry.name in problems:
        common.show_refusal(f"Model {entry.name} cannot classify the drawn digits. "
                            f"{problems[entry.name]} Choose another model.",
                            problems[entry.name].detail)
        return
    try:
        model, classify = stored_classifier(entry.name, entry.path.stat().st_mtime)
    except (store.ModelLoadError, OSError, ValueError) as e:  # changed since it was checked
        common.show_refusal(f"The model cannot be used: {e}", getattr(e, "detail", ""))
        return
    try:
        rgba = canvas.image_data  # uint8 (H, W, 4), or None before the first stroke
        prep = preprocess.preprocess_canvas(rgba) if rgba is not None else None
    except ValueError as e:
        st.error(f"The drawing could not be read: {e}")
        return
    if prep is None or prep.image is None:
        right.info("Draw a digit on the black canvas with the mouse, a pen or a finger: "
                   "the prediction appears when the stroke ends.")
        return
    digit = prep.image  # (28, 28, 1) float32 in [0, 1]
    st.session_state[LAST_DIGIT_KEY] = digit[..., 0]  # read by the Convolution page
    with right:
        best = prediction(names, classify(digit), "classify_digit_chart", line=line)
    st.subheader("Preprocessing, as MNIST was made")
    st.caption("Grayscale; crop to the ink; fit the longer side into 20 pixels keeping the "
               "aspect ratio (anti-aliased); place in 28x28 with the centre of mass at the centre.")
    show_steps(prep.steps)
    digit_gradcam(model, digit, best, names[best])


@st.fragment
def digit_gradcam(model, digit, best, name):
    try:
        cam = gradcam.gradcam(model, digit, class_index=best)
    except ValueError as e:  # no convolution, or none with a map of at least 3x3
        st.subheader("Grad-CAM")
        st.info(str(e))
        return
    except Exception as e:  # a stored model can be anything Keras loads: never a traceback
        st.subheader("Grad-CAM")
        st.info(f"Grad-CAM cannot be computed for this model ({type(e).__name__}: {e}).")
        return
    h, w = cam.map_size
    st.subheader(f"Grad-CAM on layer {cam.layer} ({h}x{w})")
    if not cam.heatmap.any():
        st.info(f"No region of this drawing raises the score of '{name}' on layer {cam.layer}: "
                "every gradient-weighted map is zero or negative, so the overlay is empty.")
    opacity = st.slider("Overlay opacity", 0.0, 1.0, 0.5, 0.05, key="classify_digit_opacity")
    st.image(enlarge(overlay(digit, cam.heatmap, opacity), 224),
             caption=f"Regions that drove '{name}' (layer {cam.layer}, {h}x{w} upsampled to "
                     f"28x28; gradients of the {cam.score}). {HEAT_CAPTION}")


@st.fragment  # a change here reruns the gallery alone, not the page and its sidebar
def cifar_tab():
    entries = [m for m in store.list_models() if m.dataset in ("cifar10", "cifar10_3class")]
    if not entries:
        st.warning("There is no CIFAR-10 model in the store. Train one on the Train page, or run "
                   "`python -m cnnlib train --dataset cifar10 --save cifar10`.")
        return
    info = datasets.DATASETS  # the images and classes of each dataset, known without loading it
    problems = classifier_problems(entries, lambda m: (info[m.dataset].image_shape,
                                                       len(info[m.dataset].class_names)))
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    with c1:
        entry = pick_model(entries, "classify_cifar_model", default="cifar10", problems=problems)
    try:
        ds = load_dataset(entry.dataset)
    except (datasets.DatasetUnavailableError, ValueError) as e:
        dataset_error(e)
        return
    names = list(ds.class_names)
    choice = c2.selectbox("Images", ["random, all classes"] + names, key="classify_cifar_class")
    c3.button("New samples", icon=":material/shuffle:", on_click=new_samples,
              key="classify_cifar_shuffle")
    idx = gallery_indices(ds.y_test, names.index(choice) if choice in names else None,
                          N_SAMPLES, st.session_state["classify_cifar_seed"])
    if entry.name in problems:
        common.show_refusal(f"Model {entry.name} cannot classify the {entry.dataset} test "
                            f"images. {problems[entry.name]} Choose another model.",
                            problems[entry.name].detail)
        return
    try:  # the whole test split, once per model version: a rerun only indexes it
        all_probs, softmax_applied = test_split_probabilities(
            entry.name, entry.path.stat().st_mtime, entry.dataset)
    except (store.ModelLoadError, OSError, ValueError) as e:  # changed since it was checked
        common.show_refusal(f"The model cannot be used: {e}", getattr(e, "detail", ""))
        return
    probs = all_probs[idx]  # (n, classes) in [0, 1], rows summing to 1
    st.caption(f"{len(idx)} of the {len(ds.y_test)} test images of {ds.source}, classified by "
               f"{entry.label()}. Green: right, red: wrong."
               + (f" {SOFTMAX_NOTE}" if softmax_applied else ""))
    prediction_grid(ds.x_test[idx], ds.y_test[idx], probs, names, per_row=6, side=96, top_k=3,
                    on_pick=select_sample, key="classify_cifar")
    k = min(st.session_state["classify_cifar_selected"], len(idx) - 1)
    i = idx[k]
    st.subheader(f"Image {k + 1}: a {names[ds.y_test[i]]}, predicted {names[int(probs[k].argmax())]}")
    a, b = st.columns([1, 2])
    a.image(enlarged_png(ds.x_test[i], 256), output_format="PNG",
            caption=f"test image #{i} (32x32, enlarged)")
    b.plotly_chart(probability_chart(names, probs[k], "All class probabilities"),
                   key="classify_cifar_chart")


def photo_tab():
    source = st.radio("Photo", ["Upload a file", "Take one with the camera"], horizontal=True,
                      key="classify_photo_source")
    if source == "Upload a file":
        f = st.file_uploader("A photo (JPEG, PNG, WebP, BMP or GIF)", key="classify_upload",
                             type=["jpg", "jpeg", "png", "webp", "bmp", "gif"])
    else:
        f = st.camera_input("Take a photo", key="classify_camera")
    mode, k = photo_options_ui()
    if f is None:
        st.info("Upload a photo or take one: VGG16 (trained on ImageNet's 1,000 classes) "
                "will say what it sees, and Grad-CAM where it looked.")
        return
    try:
        photo = images.decode_image(f.getvalue())
    except images.ImageError as e:
        st.error(str(e))
        return
    for note in photo.notes:
        st.caption(note)
    # resized: the (224, 224, 3) uint8 RGB crop; the steps show what the model does with it
    _, resized, steps = vgg16.preprocess_steps(photo.array, mode)
    x = datasets.to_float(resized)[None]  # (1, 224, 224, 3) in [0, 1]: vgg16.build_unit_input's
    st.subheader("Preprocessing")
    show_steps(steps, width=180)
    try:
        model, predict, weights = vgg16_predictor()
    except vgg16.WeightsUnavailableError as e:
        missing_file_ui(e, VGG16_WEIGHTS, "VGG16 cannot look at the photo without them.")
        return
    try:
        index = vgg16_class_index()
    except vgg16.ClassIndexUnavailableError as e:
        missing_file_ui(e, IMAGENET_CLASS_INDEX, "The classes are shown by number.")
        index = [(f"n?{i}", f"class {i}") for i in range(1000)]
    # The hash of the network's input: a mode that changes the pixels changes it, so the
    # caches below hold one entry per (photo, resize mode) without a mode of their own.
    digest = hashlib.sha1(x.tobytes()).hexdigest()
    probs = photo_probabilities(digest, weights, x, predict)
    top = vgg16.top_k(probs, index, k=k)
    st.subheader(f"ImageNet top-{k}")
    st.plotly_chart(probability_chart([t.name for t in top], [t.probability for t in top],
                                      f"VGG16 top-{k}", horizontal=True), key="classify_photo_chart")
    photo_gradcam(model, (digest, weights), x, resized, top[0])


RESIZE_LABELS = {"center_crop": "Centre crop", "squash": "Squash to 224x224, as tutorial 001 does"}


def photo_options_ui() -> tuple[str, int]:
    """The resize mode (a key of ``RESIZE_LABELS``) and how many classes to list."""
    a, b = st.columns([3, 2], gap="large")
    with a:
        mode = st.radio("Fit the photo into VGG16's 224x224 input by", list(RESIZE_LABELS),
                        format_func=RESIZE_LABELS.get, horizontal=True,
                        key="classify_photo_resize")
        st.caption("Squashing keeps the whole photo but stretches a non-square one out of "
                   "shape; a centre crop keeps shapes true but cuts off the ends of its "
                   "longer side.")
    with b:
        k = st.slider("Classes to list (top-k; tutorial 001 prints the top 3)", 1, 10, 5,
                      key="classify_photo_top_k")
    return mode, k


@st.cache_data(max_entries=16, show_spinner="VGG16 is looking...")
def photo_probabilities(digest: str, weights: str, _x: np.ndarray, _predict) -> np.ndarray:
    """Softmax ``(1000,)`` of one photo (in [0, 1]), cached by its digest and the weights file."""
    return _predict(_x)[0]


@st.cache_data(max_entries=16, show_spinner="Computing Grad-CAM...")
def photo_heatmap(key: tuple[str, str], _model, _x: np.ndarray, class_index: int) -> gradcam.GradCam:
    """Grad-CAM (heatmap ``(224, 224)`` in [0, 1]) of block5_conv3, cached by (digest, weights file)."""
    return gradcam.gradcam(_model, _x, class_index, layer_name=vgg16.LAST_CONV_LAYER)


@st.fragment
def photo_gradcam(model, key, x, resized, top1):
    cam = photo_heatmap(key, model, x, top1.index)
    h, w = cam.map_size
    st.subheader(f"Grad-CAM on layer {cam.layer} ({h}x{w})")
    opacity = st.slider("Overlay opacity", 0.0, 1.0, 0.5, 0.05, key="classify_photo_opacity")
    st.image(overlay(resized, cam.heatmap, opacity), width=336,
             caption=f"Regions that drove '{top1.name}' (layer {cam.layer}, {h}x{w} upsampled "
                     f"to 224x224). {HEAT_CAPTION}")


st.title("Classify")
tabs = st.tabs(TABS, key="classify_tab", on_change="rerun")
for tab, render in zip(tabs, (digit_tab, cifar_tab, photo_tab, live_tab, probe_tab)):
    with tab:
        if tab.open:
            render()
