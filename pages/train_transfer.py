"""Train, transfer learning: the "Start from" choice (a stored model's convolutional base
or VGG16's, frozen, under a new head; cnnlib.models.transfer), its model summary and the
results' sentence. Offered for people's own datasets."""

import streamlit as st

from cnnlib import store
from cnnlib.models import transfer, vgg16_files, zoo
from cnnlib.training import config
from pages import common

FROM_SCRATCH = "nothing (train from scratch)"
VGG16_LABEL = "VGG16 (ImageNet): its 13 convolutions, trained on 1.28 million photos"


def stored_bases() -> dict[str, str]:
    """``{name: one line}`` of the store's usable models with a convolutional base
    (by their card's architecture), bundled first: what each was trained on."""
    out = {}
    for m in store.list_models():
        arch = m.card.get("arch")
        if m.ok and m.name != transfer.VGG16 and arch in zoo.ARCHITECTURES \
                and arch not in transfer.NO_CONV_ARCHS:
            out[m.name] = f"{m.label()}: its convolutional base"
    return out


def vgg16_problem() -> str | None:
    """Why VGG16 cannot be a starting point here (its weights file is missing), or None."""
    try:
        vgg16_files.find_weights()
        return None
    except vgg16_files.WeightsUnavailableError as e:
        return str(e)


def start_from(value: str | None) -> str | None:
    """The "Start from" select (key ``train_base_model``): None (from scratch), a stored
    model's name, or ``"vgg16"`` when its weights file is present (else a caption says
    how to get it). Returns the chosen base."""
    labels = {None: FROM_SCRATCH, **stored_bases()}
    missing = vgg16_problem()
    if missing is None:
        labels[transfer.VGG16] = VGG16_LABEL
    options = list(labels)
    key = config.widget_key("base_model")
    if st.session_state.get(key) not in options:
        st.session_state.pop(key, None)  # a model deleted meanwhile, or VGG16's file gone
    base = st.selectbox("Start from", options, key=key, format_func=labels.get,
                        index=options.index(value) if value in options else 0,
                        help=config.field_help("base_model"))
    if missing is not None:
        st.caption(f"VGG16 (ImageNet) is offered once its weights file is here. {missing}")
    if base is not None:
        st.caption("Transfer learning: the base's layers keep the weights they learned "
                   "(frozen), only a new head learns your classes: global average pooling, "
                   f"dense {transfer.HEAD_UNITS} (ReLU), dropout {transfer.HEAD_DROPOUT}, "
                   "softmax. Your pictures are resized to the base's input. Yosinski et al., "
                   "'How transferable are features in deep neural networks?', 2014.")
    return base


@st.cache_data(show_spinner="Reading the base model...", max_entries=16)
def transfer_summary(base: str, shape: tuple, num_classes: int, version) -> tuple[list, str]:
    """``(summary rows, the sentence of its counts)`` of the transfer model; VGG16's
    built with random weights (the same layers and counts; no 58 MB read). ``version``
    (the stored model's file time) makes a replaced model read again."""
    model = transfer.build(base, shape, num_classes, vgg16_weights=None)
    trainable, frozen = transfer.param_counts(model)
    return zoo.summary_rows(model), transfer.describe(base, frozen, trainable)


def summary_section(base: str, shape: tuple, num_classes: int) -> None:
    """The transfer model's counts and its layers (folded), or the refusal's sentence."""
    found = None if base == transfer.VGG16 else store.catalog.locate(base, None)
    version = found and store.catalog.model_path(found[0], base).stat().st_mtime_ns
    try:
        rows, sentence = transfer_summary(base, tuple(shape), num_classes, version)
    except (transfer.TransferError, store.ModelLoadError) as e:
        common.show_refusal(str(e), getattr(e, "detail", ""))
        return
    st.markdown(f"On {'x'.join(map(str, shape))} images: {sentence}.")
    summary = st.expander("Model summary (each layer)", key="train_summary_open",
                          on_change="rerun")
    if summary.open:
        summary.dataframe(rows, hide_index=True, width="stretch")


def results_sentence(events: list[dict]) -> str | None:
    """"cifar10's convolutional base (frozen, N weights) + new head (M weights)" of a
    run that started from a base (its start event), else None."""
    start = next((e for e in events if e.get("type") == "start"), None)
    base = start and start.get("config", {}).get("base_model")
    if not base or "trainable_params" not in start:
        return None
    trainable = int(start["trainable_params"])
    return transfer.describe(base, int(start["params"]) - trainable, trainable)
