"""Inside the network: every layer of a model for one input, CNN Explainer-style.

Choose a model (a stored one, VGG16, or an uploaded ``.keras`` file loaded in
safe mode) and an input (a test image, a picture of the own dataset a model of
yours learned from, the digit drawn on Classify, a sample picture or a photo) in
the sidebar; another person's own-data models are not listed. The page shows every
layer's output from the input to the softmax; a click on a feature map (or a bar) explains that
neuron under its layer: its inputs, weights, sums and activation recomputed in
numpy beside the value Keras computed. The last section finds the test images
that excite one channel most. All numbers come from :mod:`cnnlib.network`.
"""

import hashlib

import numpy as np
import streamlit as st

from cnnlib import owndata, store
from cnnlib.data import datasets, images, samples
from cnnlib.intake.cache import model_bytes
from cnnlib.network import inputs, layer_outputs, reader
from cnnlib.owndata import refs
from cnnlib.viz.colour import to_rgb8
from cnnlib.viz.raster import enlarge
from pages import common, identity
from pages.inside_layers import overview_section
from pages.inside_scores import filter_section, scores_section
from pages.inside_state import Explored, chosen_neuron, default_neuron, explored_overview, select
from pages.model_choice import choose_model, upload_cache

common.require_app_navigation()  # a deep link to a fresh server must still go through app.py
common.import_keras()  # every view here needs TensorFlow

INPUTS = {"test": "a test image", "own": "a picture of my dataset",
          "digit": "the digit drawn on Classify", "sample": "a sample picture",
          "photo": "a picture of mine"}


def explorable(model) -> tuple:
    """``(model, chain, activation model)`` of ``model``. Use the model returned rather
    than a fresh copy from another cache, whose layers would not belong to this chain's
    graph. Raises :class:`cnnlib.network.reader.NotExplorableError`."""
    chain = reader.chain(model)
    return model, chain, layer_outputs.extractor(model, chain)


@st.cache_resource(show_spinner=False, max_entries=16, ttl=3600)
def explorer(key: tuple, _model):
    """:func:`explorable`, built once per model version (``key``).
    Raises :class:`cnnlib.network.reader.NotExplorableError` (not cached)."""
    return explorable(_model)


def explore(key: tuple, model):
    """:func:`explorer`'s ``(model, chain, activation model)``; an upload's is kept in the
    byte-bounded :func:`upload_cache` instead (or not kept, with a caption, when its
    weights alone are over the budget). Raises :class:`reader.NotExplorableError`."""
    if key[0] != "upload":
        return explorer(key, model)
    cache = upload_cache()
    built = cache.get(key[1])
    if built is None:
        built = explorable(model)
        if not cache.put(key[1], built, model_bytes(model)):
            st.sidebar.caption(f"This model's weights ({model_bytes(model) / 2**20:,.0f} MB) are over "
                               f"the upload memory budget ({cache.budget / 2**20:,.0f} MB): it is "
                               "explored without being kept, and read again on each change.")
    return built


def own_picture(dataset: str, shape):
    """Sidebar widgets over the pictures of the viewer's own dataset ``dataset``
    (``"own:<name>"``); ``(PreparedInput, caption)`` or a sentence (why not)."""
    me, store_ = identity.owner(), owndata.OwnDataStore()
    try:
        ds = store_.get(me, refs.name_of(dataset))
        name = st.selectbox("Class", ds.class_names, key=f"inside_own_class_{ds.name}")
        ids = store_.picture_ids(me, ds.name, name)
        if not ids:
            return f"The class {name} of {ds.name} has no pictures: choose another class."
        i = st.number_input("Picture number", 0, len(ids) - 1, 0,
                            key=f"inside_own_index_{ds.name}_{name}")
        image = store_.read_picture(me, ds.name, name, ids[i])  # uint8 (S, S, C)
    except owndata.ERRORS as e:
        return f"The dataset cannot be read. {e}"
    return inputs.from_dataset(image, shape), f"{ds.name} picture {i} of class {name}"


def photo(upload) -> np.ndarray:
    """An uploaded picture decoded once per file and session (uint8 RGB ``(H, W, 3)``,
    at most ``samples.MAX_UPLOAD_SIDE`` a side). Raises ``images.ImageError``."""
    cached = st.session_state.get("inside_photo")
    if cached is not None and cached[0] == upload.file_id:
        return cached[1]
    rgb = images.decode_image(upload.getvalue(), max_side=samples.MAX_UPLOAD_SIDE).array
    st.session_state["inside_photo"] = (upload.file_id, rgb)
    return rgb


def choose_input(shape, dataset: str | None, style: str):
    """Sidebar widgets; returns ``(PreparedInput, caption)`` or a sentence (why not)."""
    if shape[-1] not in (1, 3):
        return (f"The model takes images of {shape[-1]} channels; this page gives it gray (1 channel) "
                "or colour (3 channels) pictures.")
    own = refs.is_own(dataset)  # the viewer's own dataset (choose_model gives no one else's)
    offered = [k for k in INPUTS if k != "own" or own]
    default = "own" if own else "test" if dataset else "sample"
    # the first run, an input no longer offered ("own"), or an own model just opened: its default
    if (st.session_state.get("inside_input") not in offered
            or (own and st.session_state.get("inside_input_for") != dataset)):
        st.session_state["inside_input"] = default
    st.session_state["inside_input_for"] = dataset
    source = st.selectbox("Input", offered, format_func=INPUTS.get, key="inside_input")
    if source == "own":
        return own_picture(dataset, shape)
    rgb_model = style == "vgg16"
    if source == "test":
        names = datasets.names()
        name = st.selectbox("Dataset", names, index=names.index(dataset) if dataset in names else 0,
                            key=f"inside_input_data_{dataset}")
        try:
            ds = common.load_dataset(name)
        except (datasets.DatasetUnavailableError, ValueError) as e:
            return f"The dataset cannot be loaded. {e}"
        i = st.number_input("Test image number", 0, len(ds.x_test) - 1, 0, key=f"inside_index_{name}")
        image, label = ds.x_test[i], ds.class_names[int(ds.y_test[i])]
        caption = f"{name} test image {i}: a {label}"
        if rgb_model:
            return inputs.from_upload(np.repeat(image, 3 // image.shape[2], axis=2), shape, "vgg16"), caption
        return inputs.from_dataset(image, shape), caption
    if source == "digit":
        digit = st.session_state.get(common.LAST_DIGIT_KEY)
        if digit is None:
            return "No digit drawn yet: draw one on the Classify page, or choose another input."
        if rgb_model:
            return inputs.from_upload(to_rgb8(digit), shape, "vgg16"), "the digit drawn on Classify"
        return inputs.from_picture(np.asarray(digit), shape), "the digit drawn on Classify"
    if source == "sample":
        name = st.selectbox("Sample picture", samples.names(), index=samples.names().index("house"),
                            key="inside_sample")
        image = samples.sample(name)
        if rgb_model:
            return inputs.from_upload(to_rgb8(image), shape, "vgg16"), samples.DESCRIPTIONS[name]
        return inputs.from_picture(image, shape), samples.DESCRIPTIONS[name]
    upload = st.file_uploader("Picture (PNG or JPEG)", type=["png", "jpg", "jpeg"], key="inside_photo_file")
    if upload is None:
        return "Upload a picture in the sidebar, or choose another input."
    try:
        return inputs.from_upload(photo(upload), shape, style), upload.name
    except (images.ImageError, ValueError) as e:
        return str(e)


presenting = common.presenting()
st.title("Inside the network")
if not presenting:
    st.caption("Every layer of a model for one input, from the pixels to the probabilities, as CNN "
               "Explainer shows its one network, but for any model here or any .keras file you upload. "
               "Choose the model and the input in the sidebar; click a feature map to see how that "
               "neuron is computed.")

with st.sidebar:
    st.subheader("Model")
    chosen = choose_model()
if isinstance(chosen, store.ModelLoadError):  # one sentence, the technical text folded below
    common.show_refusal(str(chosen), chosen.detail)
    st.stop()
if isinstance(chosen, str):
    if chosen.startswith("Upload"):
        st.info(chosen)
    else:
        st.error(chosen)
    st.stop()
key, label, model, class_names, dataset, is_vgg = chosen
try:
    model, chain, extractor = explore(key, model)
except reader.NotExplorableError as e:
    st.error(f"This model cannot be explored here. {e}")
    st.stop()

with st.sidebar:
    st.subheader("Input")
    prepared = choose_input(chain[0].output_shape, dataset, inputs.upload_style(dataset, is_vgg))
if isinstance(prepared, str):
    st.warning(prepared)
    st.stop()
prepared, input_caption = prepared
digest = hashlib.sha1(prepared.x.tobytes()).hexdigest()
explored = Explored(key, label, model, chain, extractor, class_names,
                    dataset if not is_vgg and dataset in datasets.names() else None, prepared, digest)
overview = explored_overview(key, digest, chain, extractor, prepared.x)
if st.session_state.get("inside_explored") != key:  # another model: start from its first convolution
    st.session_state["inside_explored"] = key
    select(*default_neuron(overview))

params = sum(i.params for i in chain)
verdict = ""
if overview.scores is not None:
    names = class_names if class_names and len(class_names) == len(overview.scores.probs) else None
    best = overview.scores.predicted
    verdict = (f" Prediction: **{names[best] if names else f'class {best}'}** "
               f"({overview.scores.probs[best]:.1%}).")
st.markdown(f"**{label}**: {len(chain) - 1} layers, {params:,} weights. Input: {input_caption}.{verdict}")
if prepared.steps and not presenting:
    with st.expander("How the input was prepared"):
        for column, (title, image) in zip(st.columns(len(prepared.steps)), prepared.steps):
            column.image(enlarge(image, 128), caption=title)

overview_section(explored, overview, chosen_neuron(overview))
scores_section(overview, class_names)
filter_section(explored, overview)
