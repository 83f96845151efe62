"""Home, the place to start: what each page teaches, a lecture path through them, and
(folded) what is installed for offline use."""

import streamlit as st

from cnnlib import paths, store
from cnnlib.data import datasets
from cnnlib.models import vgg16
from cnnlib.training import lessons
from pages import common, identity

common.require_app_navigation()

#: The Convolution page's opening setting for the first lesson (its widgets are bound to
#: the URL, so these query parameters choose the picture, the kernel and the stride).
CONV_LESSON = {"conv_sample": "house", "conv_kernel": "sobel x", "conv_stride": "1"}
#: The Train page lesson of the lecture path (chosen in that page's Lesson box).
TRAIN_LESSON = lessons.LESSONS["mnist_cnn"]

#: Each page: its file, name, icon and what it teaches, in the navigation's order.
PAGES = (
    ("pages/convolution.py", "Convolution", "grid_on",
     "A kernel slides over an image: the feature map, its size from padding, stride and "
     "dilation (with your numbers), ReLU and pooling."),
    ("pages/inside.py", "Inside the network", "account_tree",
     "Every layer of any model on one input, to the logits and softmax; click a neuron to see "
     "its sum worked out."),
    ("pages/train.py", "Train", "model_training",
     "Dataset, architecture, epochs, batch size, learning rate; loss and accuracy live; "
     "overfitting; the confusion matrix."),
    ("pages/classify.py", "Classify", "image_search",
     "Probabilities for a digit you draw, CIFAR-10 test images with their top-k, a photo "
     "through VGG16, and Grad-CAM: where it looked."),
)

st.title("CNN Studio")
st.markdown("Convolutional neural networks on real images, one idea per page. Start here.")

st.subheader("What each page teaches")
for column, (path, name, icon, teaches) in zip(st.columns(len(PAGES), gap="medium"), PAGES):
    with column:
        st.page_link(path, label=f"**{name}**", icon=f":material/{icon}:")
        st.markdown(teaches)

st.subheader("A lecture path")
first, second, third = st.columns(3, gap="medium")
with first:
    st.page_link("pages/convolution.py", query_params=CONV_LESSON, icon=":material/counter_1:",
                 label="**Convolution**: edges")
    st.caption("The house picture and the Sobel x kernel: follow one output back to its "
               "patch; raise the stride; padding \"same\".")
with second:
    st.page_link("pages/train.py", icon=":material/counter_2:",
                 label=f"**Train**: `{TRAIN_LESSON.name}`")
    st.caption(f"Pick `{TRAIN_LESSON.name}` in the Lesson box (tutorial {TRAIN_LESSON.tutorial}), "
               "press Train, read the curves beside the text's figure.")
with third:
    st.page_link("pages/classify.py", icon=":material/counter_3:",
                 label="**Classify**: the model at work")
    st.caption("Draw digits, neat and sloppy; then a photo through VGG16 and its Grad-CAM.")

# ------------------------------------------------------------- diagnostics --
availability = datasets.availability()
models = store.list_models()
vgg16_files = []
for what, find, error, env in (
        ("ImageNet weights (528 MB)", vgg16.find_weights, vgg16.WeightsUnavailableError,
         vgg16.ENV_WEIGHTS),
        ("ImageNet class index", vgg16.find_class_index, vgg16.ClassIndexUnavailableError,
         vgg16.ENV_CLASS_INDEX)):
    try:
        vgg16_files.append((what, find(), env))
    except error:
        vgg16_files.append((what, None, env))

n_data = sum(bool(where) for where in availability.values())
n_vgg = sum(path is not None for _, path, _ in vgg16_files)
summary = (f"{n_data} of {len(availability)} datasets offline, {len(models)} stored "
           f"model{'s' if len(models) != 1 else ''}, {n_vgg} of {len(vgg16_files)} VGG16 files")
with st.expander(f"Installation diagnostics: {summary}", icon=":material/build:"):
    st.markdown("**Datasets available offline**")
    rows = []
    for name, where in availability.items():
        info = datasets.DATASETS[name]
        rows.append({"dataset": name, "title": info.title, "classes": len(info.class_names),
                     "available": "yes" if where else "no", "source": where or "-"})
    st.dataframe(rows, hide_index=True, width="stretch")
    if n_data < len(rows):
        st.info(f"To use a missing dataset offline, put `<name>.npz` (keras.datasets layout) "
                f"in a folder and set `{datasets.ENV_DATA_DIR}` to it, or run "
                "`python -m cnnlib prefetch` once with internet access.")

    st.markdown("**Models in the store**")
    st.caption(f"Bundled with CNN Studio (read-only): `{paths.models_dir()}`. Saved from the "
               f"Train page: `{paths.user_models_dir()}`.")
    if not models:
        st.info("No models in the store. Train one on the Train page.")
    else:
        me = identity.owner()
        st.dataframe([
            {"model": m.name,
             "whose": "bundled" if m.bundled else "yours" if m.owned_by(me) else "someone else's",
             "dataset": m.card.get("dataset", "?"),
             "arch": m.card.get("arch", "?"), "params": m.card.get("params"),
             "test accuracy": (f"{m.card['test_accuracy']:.2%}"
                               if isinstance(m.card.get("test_accuracy"), float) else "-"),
             "status": "ok" if m.ok else f"unusable: {m.error}"}
            for m in models], hide_index=True, width="stretch")

    st.markdown("**VGG16 for photos**")
    for what, path, env in vgg16_files:
        if path is not None:
            st.markdown(f"- {what}: `{path}`")
        else:
            st.markdown(f"- {what}: **not available offline**: run `python -m cnnlib prefetch "
                        f"--vgg16` once with internet, or set `{env}` to the file.")
