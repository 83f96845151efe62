"""Convolution: the arithmetic of a convolutional layer, made visible on real images.

Every setting (image, kernel, padding, stride, dilation, ReLU, pooling, the
output position) is a widget bound to the URL query string, so a link such as
``/convolution?conv_kernel=sobel+x&conv_stride=2`` opens on that setting. A
custom kernel travels as ``conv_custom=0,1,0;1,-4,1;0,1,0``. A value in the
address that its widget cannot take is dropped with a warning naming it
(``conv_sections.drop_bad_numbers``, ``choose_kernel``).
"""

import numpy as np
import pandas as pd
import streamlit as st

from cnnlib.conv import formulas, kernels, layer
from cnnlib.data import datasets, images, samples
from cnnlib.viz import figures_conv as figs
from cnnlib.viz.matrix_html import matrix_html
from pages import cell_picker, common
from pages.conv_sections import (
    drop_bad_numbers,
    explanation_section,
    feature_map_view,
    input_png,
    sliding_section,
    trained_network_section,
)

common.require_app_navigation()  # a deep link to a fresh server must still go through app.py

# Bound widgets put their option's text in the URL, so the options are short words.
SOURCES = ["sample", "MNIST", "CIFAR-10", "drawn digit", "upload"]
DATASETS = {"MNIST": "mnist", "CIFAR-10": "cifar10"}
N_DATASET = 100  # test images offered per dataset
CUSTOM = "custom"
POOLING = {"none": None, "max": "max", "average": "avg"}
IN_URL = {"bind": "query-params"}  # widget arguments that bind its value to the URL
#: The whole numbers of the bound number inputs: key -> (min, max); None: the image decides
#: (the output position), and Streamlit resets a value beyond it to the default.
NUMBERS = {"conv_index": (0, N_DATASET - 1), "conv_pad": (0, 64), "conv_stride": (0, 64),
           "conv_dilation": (0, 16), "conv_pool_size": (1, 16), "conv_pool_stride": (1, 16),
           "conv_row": (0, None), "conv_col": (0, None)}

st.session_state.setdefault("conv_custom_tables", {})  # size -> starting table of the custom editor


@st.cache_data(show_spinner="Loading the dataset...")
def dataset_samples(name: str, n: int):
    """``n`` stratified test images (uint8 NHWC), their labels and class names."""
    d = datasets.load(name, n_train=1, n_test=n)
    return d.x_test, d.y_test, d.class_names


def uploaded_picture(upload) -> np.ndarray:
    """The uploaded file as a float picture in [0, 1] (at most ``samples.MAX_UPLOAD_SIDE``
    a side), decoded once per file and session: a slider moved later does not decode it
    again (decoding a large picture takes a second and one of the server's few decoding
    slots, see :mod:`cnnlib.data.images`). Raises ``images.ImageError``."""
    cached = st.session_state.get("conv_upload_picture")
    if cached is not None and cached[0] == upload.file_id:
        return cached[1]
    decoded = images.decode_image(upload.getvalue(), max_side=samples.MAX_UPLOAD_SIDE)
    picture = samples.from_dataset_image(decoded.array)
    st.session_state["conv_upload_picture"] = (upload.file_id, picture)
    return picture


def choose_image():
    """Image widgets in the sidebar; returns (float image in [0, 1], caption)."""
    source = st.selectbox("Image", SOURCES, key="conv_source", **IN_URL,
                          help="A sample picture, a test image of a dataset, the digit drawn on the "
                               "Classify page, or a picture of your own.")
    if source in DATASETS:
        index = st.number_input("Test image number", *NUMBERS["conv_index"], 0, key="conv_index", **IN_URL)
        try:
            x, y, names = dataset_samples(DATASETS[source], N_DATASET)
            caption = f"{source} test image {index}: a {names[y[index]]}"
            return samples.from_dataset_image(x[index]), caption
        except (datasets.DatasetUnavailableError, ValueError) as e:
            st.error(f"The dataset cannot be loaded. {e} Showing a sample picture instead.")
    elif source == "drawn digit":
        digit = st.session_state.get(common.LAST_DIGIT_KEY)
        if digit is not None:
            return images.to_gray(digit), "The digit drawn on the Classify page"
        st.info("No digit drawn yet: draw one on the Classify page. Showing a sample picture meanwhile.")
    elif source == "upload":
        upload = st.file_uploader("Picture (PNG or JPEG)", type=["png", "jpg", "jpeg"], key="conv_upload")
        if upload is not None:
            try:
                return uploaded_picture(upload), upload.name
            except images.ImageError as e:
                st.error(str(e))
    name = st.selectbox("Sample picture", samples.names(), key="conv_sample", **IN_URL)
    return samples.sample(name), samples.DESCRIPTIONS[name]


def choose_kernel():
    """Kernel widgets in the sidebar.

    Returns:
        ``(kernel, size, error)``: a float32 ``(K, K)`` kernel, its size
        ``K``, and None; or, when a custom kernel cannot be read, ``(None, K,
        the reason as a sentence)`` (the page shows it where the kernel goes).
    """
    name = st.selectbox("Kernel", kernels.names() + [CUSTOM], key="conv_kernel", **IN_URL)
    if name != CUSTOM:
        st.caption(kernels.PRESETS[name].description)
        if "conv_custom" in st.query_params:
            del st.query_params["conv_custom"]
        k = kernels.preset(name)
        return k, k.shape[0], None
    tables = st.session_state["conv_custom_tables"]
    if not tables:  # first time: start from the shared link's kernel, if any
        shared_text = st.query_params.get("conv_custom")
        try:
            shared = kernels.from_param(shared_text or "")
            tables[shared.shape[0]] = [[f"{v:g}" for v in row] for row in shared]
        except ValueError as e:
            if shared_text:
                st.warning(f"The address's custom kernel (conv_custom) was ignored. {e}")
    default_size = next(iter(tables), 3)
    size = st.radio("Size", kernels.CUSTOM_SIZES, index=kernels.CUSTOM_SIZES.index(default_size),
                    horizontal=True, format_func=lambda s: f"{s}x{s}", key="conv_ksize", **IN_URL)
    start = tables.setdefault(size, [[f"{v:g}" for v in row] for row in kernels.identity(size)])
    cols = [str(j + 1) for j in range(size)]
    edited = st.data_editor(
        pd.DataFrame(start, columns=cols, dtype=str), key=f"conv_custom_{size}", hide_index=True,
        num_rows="fixed", column_config={c: st.column_config.TextColumn(c) for c in cols})
    st.caption("Type numbers such as 2, -0.5 or 1/9.")
    try:
        kernel = kernels.parse_kernel(edited)
    except ValueError as e:
        return None, size, str(e)
    st.query_params["conv_custom"] = kernels.to_param(kernel)
    return kernel, size, None


def choose_position(oh: int, ow: int) -> tuple[int, int]:
    """The explained output position: sidebar inputs, also set by a click on the feature map."""
    for key, limit in (("conv_row", oh), ("conv_col", ow)):  # keep a position from the URL inside
        if st.session_state.get(key, 0) >= limit:
            st.session_state[key] = limit - 1
    st.sidebar.subheader("Explained position")
    help_ = ("The output position whose window is outlined and written out; or click a cell of "
             "the feature map.")
    return (st.sidebar.number_input("Output row", NUMBERS["conv_row"][0], oh - 1, key="conv_row", **IN_URL,
                                    help=help_),
            st.sidebar.number_input("Output column", NUMBERS["conv_col"][0], ow - 1, key="conv_col", **IN_URL,
                                    help=help_))


def pick_cell() -> None:
    """A click on the feature map: the clicked cell becomes the explained position."""
    pick = cell_picker.picked("conv_fig_map")
    if pick:
        st.session_state["conv_row"], st.session_state["conv_col"] = pick[1], pick[2]


presenting = common.presenting()  # one screen: the pictures under one formula line
st.title("Convolution")
drop_bad_numbers(NUMBERS)  # before any widget: Streamlit raises on ?conv_stride=inf
if not presenting:
    st.caption("Choose an image and a kernel in the sidebar; every output value is the sum of the "
               "kernel times the patch of input under it. Click a cell of the feature map to see its "
               "window and its sum. The address bar keeps the settings: copy it to share this exact "
               "view.")

with st.sidebar:
    st.subheader("Input")
    chosen, image_caption = choose_image()
    image = chosen
    channels = "gray"
    if image.ndim == 3:
        channels = st.radio("Colour", ["gray", "RGB"], horizontal=True, key="conv_channels", **IN_URL,
                            help="gray: convert to grayscale first. RGB: apply the kernel to R, G and B "
                                 "and sum the three, as one Conv2D filter does.")
    st.subheader("Kernel")
    kernel2d, ksize, kernel_error = choose_kernel()
    st.subheader("Layer")
    pad_mode = st.selectbox("Padding", ["valid", "same", "number"], key="conv_padding", **IN_URL,
                            help="valid: none. same: enough zeros to keep ceil(N / stride) outputs "
                                 "(the odd one at the bottom/right, as TensorFlow). number: that many "
                                 "zeros on every side.")
    pad_n = st.number_input("Zeros on each side", *NUMBERS["conv_pad"], 1, key="conv_pad", **IN_URL,
                            disabled=pad_mode != "number")
    stride = st.number_input("Stride", *NUMBERS["conv_stride"], 1, key="conv_stride", **IN_URL)
    dilation = st.number_input("Dilation", *NUMBERS["conv_dilation"], 1, key="conv_dilation", **IN_URL)
    use_relu = st.toggle("ReLU on the feature map", key="conv_relu", **IN_URL)
    pool = st.selectbox("Pooling", list(POOLING), key="conv_pool", **IN_URL)
    pool_size = st.number_input("Pool size", *NUMBERS["conv_pool_size"], 2, key="conv_pool_size", **IN_URL,
                                disabled=pool == "none")
    pool_stride = st.number_input("Pool stride", *NUMBERS["conv_pool_stride"], 2, key="conv_pool_stride",
                                  **IN_URL, disabled=pool == "none")

image = images.to_gray(image) if image.ndim == 3 and channels == "gray" else image
padding = pad_n if pad_mode == "number" else pad_mode
(h, w), depth = image.shape[:2], (image.shape[2] if image.ndim == 3 else 1)
shape = " x ".join(str(v) for v in image.shape)
try:
    pads, (oh, ow) = layer.layer_sizes((h, w), (ksize, ksize), stride, padding, dilation)
except ValueError as e:
    st.error(f"This setting has no output. {e}")
    st.stop()
row, col = choose_position(oh, ow)
top, bottom, left_pad, right_pad = pads
if presenting:  # the output size with the current numbers, the line the class reads
    st.latex(formulas.formula_latex(h, ksize, stride, padding, dilation, "O_h")
             + rf"\qquad O_w = {ow}")  # the width's own numbers are under Sizes
else:
    st.markdown(f"**Input** {shape} → **padded input** {h + top + bottom} x {w + left_pad + right_pad}"
                f"{' x 3' if depth == 3 else ''} → **output** {oh} x {ow} (kernel {ksize} x {ksize}"
                f"{' x 3' if depth == 3 else ''}, stride {stride}, dilation {dilation}, "
                f"padding {padding})")

left, mid, right = st.columns(3)  # equal thirds: each >= 300 px on a 1280 px screen without the sidebar
left.markdown(f"**Input image** {shape}")
mid.markdown(f"**Kernel** {ksize} x {ksize}")
right.markdown(f"**Feature map** {oh} x {ow}" + (" after ReLU" if use_relu else ""))
padded_note = " Dashed blue: the image inside its zero padding." if any(pads) else ""
if kernel_error:  # shown where the kernel and the feature map would be
    left.image(input_png(image, pads)[0], width="stretch", output_format="PNG")
    left.caption(f"{image_caption.rstrip('.')}.{padded_note}")
    mid.error(f"This custom kernel cannot be used. {kernel_error}")
    right.info("The feature map appears once every cell of the kernel holds a number.")
    st.stop()

kernel = np.repeat(kernel2d[..., None], 3, axis=2) if depth == 3 else kernel2d  # (K, K[, 3])
result = layer.compute_layer(
    image, kernel, stride=stride, padding=padding, dilation=dilation, use_relu=use_relu,
    pool_mode=POOLING[pool], pool_size=pool_size, pool_stride=pool_stride,
    row=row, col=col)
e = result.explanation
drawn, inset = input_png(image, pads, e.window, e.patch)
left.image(drawn, width="stretch", output_format="PNG")
left.caption(f"{image_caption.rstrip('.')}. Orange: the window of output ({row}, {col})"
             + ("; in the corner, its patch enlarged." if inset else ".") + padded_note)
mid.html(matrix_html(kernel2d, label=f"kernel {ksize} x {ksize}"))
if depth == 3:
    mid.caption("The same kernel on R, G and B; the three results are summed.")
with right:
    feature_map_view(result.activated, (row, col), float(depth), "conv_fig_map", pick_cell)
explanation_section(e, row, col, use_relu)

st.subheader("Sizes")
st.latex(formulas.FORMULA_LATEX)
st.caption("N: input size, P: zeros added before and after, D: dilation, K: kernel size, S: stride. "
           "With the current numbers, for the height and the width:")
lost = []
for name, n, what in (("O_h", h, "row"), ("O_w", w, "column")):
    st.latex(formulas.formula_latex(n, ksize, stride, padding, dilation, name))
    if left_out := layer.uncovered(n, ksize, stride, padding, dilation):
        lost.append(f"the last {left_out} {what}{'s' if left_out > 1 else ''}")
if lost:
    st.info(f"With stride {stride}, {' and '.join(lost)} of the padded input never fall under the "
            "window: the floor in the formula drops them, as Keras does.")

sliding_section(image, result, row, stride, padding, dilation, white=float(depth))

if pool != "none":
    st.subheader("Pooling")
    if result.pool_error:
        st.error(result.pool_error)
    else:
        st.markdown(f"{pool_size} x {pool_size} windows, stride {pool_stride}: "
                    f"{result.activated.shape[0]} x {result.activated.shape[1]} → "
                    f"{result.pooled.shape[0]} x {result.pooled.shape[1]}."
                    + (" Each window's winner keeps its colour and gets a cross; the others are faded."
                       if pool == "max" else ""))
        st.plotly_chart(figs.pooling_figure(result.activated, result.pooled, result.winners, pool),
                        key="conv_fig_pool")

section = st.expander("What a trained network sees", key="conv_trained", on_change="rerun")
if section.open:  # TensorFlow is imported only here, when the section is opened
    with section:
        trained_network_section(chosen)
