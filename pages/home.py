"""Home: what CNN Studio is and what is installed for offline use."""

import streamlit as st

from cnnlib import datasets, paths, store, vgg16
from pages import common

common.require_app_navigation()

st.title("CNN Studio")
st.markdown(
    "See and touch convolutional neural networks on real data, in the browser.\n\n"
    "- **Train**: pick a dataset, an architecture and hyperparameters, and watch the "
    "loss and accuracy curves grow live.\n"
    "- **Convolution**: convolution, padding, stride, dilation and pooling on real images, "
    "with the arithmetic written out.\n"
    "- **Classify**: draw a digit, classify CIFAR-10 samples, or send a photo through "
    "VGG16 with Grad-CAM."
)

st.subheader("Datasets available offline")
rows = []
for name, where in datasets.availability().items():
    info = datasets.DATASETS[name]
    rows.append({"dataset": name, "title": info.title, "classes": len(info.class_names),
                 "available": "yes" if where else "no", "source": where or "-"})
st.dataframe(rows, hide_index=True, width="stretch")
if not all(r["available"] == "yes" for r in rows):
    st.info(f"To use a missing dataset offline, put `<name>.npz` (keras.datasets layout) in a "
            f"folder and set `{datasets.ENV_DATA_DIR}` to it, or run `python -m cnnlib prefetch` "
            "once with internet access.")

st.subheader("Models in the store")
models = store.list_models()
if not models:
    st.info(f"No saved models in `{paths.models_dir()}`. Train one on the Train page.")
else:
    st.dataframe([
        {"model": m.name, "dataset": m.card.get("dataset", "?"), "arch": m.card.get("arch", "?"),
         "params": m.card.get("params"),
         "test accuracy": (f"{m.card['test_accuracy']:.2%}" if isinstance(m.card.get("test_accuracy"), float) else "-"),
         "status": "ok" if m.ok else f"unusable: {m.error}"}
        for m in models], hide_index=True, width="stretch")

st.subheader("VGG16 for photos")
for what, find, error, env in (
        ("ImageNet weights (528 MB)", vgg16.find_weights, vgg16.WeightsUnavailableError,
         vgg16.ENV_WEIGHTS),
        ("ImageNet class index", vgg16.find_class_index, vgg16.ClassIndexUnavailableError,
         vgg16.ENV_CLASS_INDEX)):
    try:
        st.markdown(f"- {what}: `{find()}`")
    except error:
        st.markdown(f"- {what}: **not available offline**: run `python -m cnnlib prefetch --vgg16` "
                    f"once with internet, or set `{env}` to the file.")
