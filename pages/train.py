"""Train: configure a model, train it in a separate process, watch it live.

The job runs in a spawned process (cnnlib.jobs); this page only polls it from
a fragment, so a refresh, a second tab or a widget change never disturbs it.
Jobs belong to the browser that started them (pages/identity.py): this page
shows and stops only this browser's job; of other people's it shows counts.
"""

import dataclasses

import numpy as np
import streamlit as st

from cnnlib import jobs, owndata
from cnnlib.data import datasets
from cnnlib.models import zoo
from cnnlib.owndata import refs
from cnnlib.owndata.store import OwnDataStore
from cnnlib.training import config
from cnnlib.viz import train_plots
from pages import common, identity
from pages.train_lessons import comparison_section, data_note, lesson_box, lesson_selector
from pages.train_live import live_panel
from pages.train_results import Alert, past_runs_section, show_results, visible_runs
from pages.train_transfer import results_sentence, start_from, summary_section

common.require_app_navigation()
common.import_keras()  # this page needs TensorFlow; see import_keras for the gc.freeze

st.title("Train")
# In presentation mode a running job's controls and curves go here, above the form.
top = st.container()

# What a new session's widgets start from (TrainConfig's own defaults, shorter runs).
PAGE_DEFAULTS = config.TrainConfig(epochs=3, n_train=5000)
VALIDATE_ON_TEST = ("Validating on the test images, as the tutorials do: the epoch kept and the "
                    "moment training stops are chosen on the same images the test accuracy is "
                    "measured on, so that accuracy flatters the model. Hold out part of the "
                    "training images for an honest figure.")


@st.cache_resource(on_release=jobs.JobManager.shutdown)
def job_manager() -> jobs.JobManager:
    """One job manager for the whole server: every session and tab sees the same jobs
    (each person only their own). Clearing the cache shuts it down."""
    return jobs.JobManager()


@st.cache_data(show_spinner="Building the model...", max_entries=32)
def model_summary(arch: str, shape: tuple, num_classes: int) -> list[dict]:
    return zoo.summary_rows(zoo.build(arch, shape, num_classes))


try:
    manager = job_manager()
except ValueError as e:  # a limit's environment variable that is not a number
    st.error(f"Training is not available: the server's settings are wrong. {e}")
    st.stop()
except jobs.RayUnavailableError as e:  # CNN_STUDIO_RAY_ADDRESS set, the cluster not there
    st.error(f"Training is not available. {e}")
    st.stop()
me = identity.owner()
if "train_defaults" not in st.session_state:
    # A refresh or a second tab shows this person's latest job (running or finished) below:
    # the form starts from that job's settings, so that the form and the results describe
    # one run. Other people's jobs never fill it.
    shown = manager.latest(me)
    st.session_state["train_defaults"] = (shown.config if shown else PAGE_DEFAULTS).to_dict()
# What this session's widgets start from (defaults.epochs, ...).
defaults = config.TrainConfig.from_dict(st.session_state["train_defaults"])


@st.cache_resource(show_spinner=False, max_entries=8)
def class_counts(name: str):
    """The bars of images per class of dataset ``name``, built once per server and
    shared (``st.plotly_chart`` does not change a figure)."""
    data = common.load_dataset(name)
    return train_plots.class_counts_figure(data.y_train, data.class_names)


@st.cache_data(show_spinner=False, max_entries=8)
def sample_pictures(name: str) -> list[tuple[bytes, str]]:
    """20 training images of built-in dataset ``name``, encoded once per server
    (:func:`samples`)."""
    return samples(common.load_dataset(name))


@st.cache_data(show_spinner="Reading your pictures...", max_entries=4)
def own_dataset(owner: str, name: str, version: tuple) -> datasets.Dataset:
    """The person's own dataset ``name`` as the engine will read it (its test split held
    out with seed 0; the training job splits with its own seed), read again when
    ``version`` (its pictures per class) changes. Kept in this server's memory only."""
    return owndata.as_dataset(OwnDataStore(), owner, name)


def samples(data: datasets.Dataset) -> list[tuple[bytes, str]]:
    """20 training images of ``data`` (2 per class, 4 with fewer than 6 classes) as
    ``(PNG of 56 px, class name)``."""
    per_class = 2 if data.num_classes > 5 else 4
    picks = np.concatenate([np.flatnonzero(data.y_train == c)[:per_class]
                            for c in range(data.num_classes)])
    return [(common.enlarged_png(data.x_train[i], 56), data.class_names[data.y_train[i]])
            for i in picks[:20]]


def follow_dataset() -> None:
    """Dataset callback: augmentation defaults that suit the new images (flips for
    photos; stroke width for digits only, off until asked for)."""
    chosen = st.session_state[config.widget_key("dataset")]
    photos = chosen.startswith("cifar") or refs.is_own(chosen)
    st.session_state[config.widget_key("augment_flip")] = photos
    st.session_state[config.widget_key("augment_stroke")] = False
    # the number of training and test images follows the new dataset (set where it is known)
    st.session_state["train_dataset_switched"] = True


# ---------------------------------------------------------------- configure --
lesson = lesson_selector(defaults.lesson)
# This person's own datasets (pages/own_data.py) follow the built-in ones; nobody else's.
mine = {refs.ref(d.name): d for d in OwnDataStore().list(me)}


def dataset_title(name: str) -> str:
    if name in mine:
        d = mine[name]
        return (f"{d.name} (your images, {len(d.class_names)} classes, {d.size}x{d.size}"
                f"{', gray' if d.gray else ''})")
    return datasets.DATASETS[name].title


left, right = st.columns([1, 2])
with left:
    dataset_names = datasets.names() + list(mine)
    if st.session_state.get(config.widget_key("dataset"), dataset_names[0]) not in dataset_names:
        del st.session_state[config.widget_key("dataset")]  # a dataset deleted meanwhile
    dataset = st.selectbox("Dataset", dataset_names, key=config.widget_key("dataset"),
                           index=dataset_names.index(defaults.dataset)
                           if defaults.dataset in dataset_names else 0,
                           on_change=follow_dataset, format_func=dataset_title)
    own = mine.get(dataset)
    # Own datasets may start from a trained network's convolutional base (transfer learning).
    base = start_from(defaults.base_model) if own else None
    # Own pictures are 32-96 px a side: only the architectures that stay small on them.
    arch_names = list(zoo.OWN_DATA_ARCHS if own else zoo.ARCHITECTURES)
    arch_default = zoo.DEFAULT_ARCH.get(dataset, "studio_cnn")
    if st.session_state.get(config.widget_key("arch"), arch_default) not in arch_names:
        st.session_state[config.widget_key("arch")] = arch_default
    arch = st.selectbox("Architecture", arch_names, key=config.widget_key("arch"),
                        index=arch_names.index(defaults.arch if defaults.arch in arch_names
                                               else arch_default),
                        help="The classic architectures of the teaching material, and CNN Studio's "
                             "recommended default (studio_cnn).", disabled=base is not None)
    info = zoo.ARCHITECTURES[arch]
    if base is None:
        st.caption(f"{info.description}  \nSource: {info.source}")

try:
    # the pictures per class and the class folders' times: a picture added, removed or swapped
    version = (own.counts, tuple((own.path / c).stat().st_mtime_ns for c in own.class_names)
               ) if own else None
    data = own_dataset(me, own.name, version) if own else common.load_dataset(dataset)
except datasets.DatasetUnavailableError as e:
    common.dataset_error(e)
    data = None
except (*owndata.ERRORS, OSError) as e:  # too few pictures yet, a damaged file, deleted
    st.error(f"{e} Add pictures on the Your images page.")
    data = None

with right:
    if data is not None:
        st.markdown(f"**{len(data.x_train):,}** training and **{len(data.x_test):,}** test images "
                    f"of {data.image_shape[0]}x{data.image_shape[1]}x{data.image_shape[2]}, "
                    + ("from your images (a fifth of each class kept for the test)" if own
                       else f"from `{data.source}`"))
        # one element for all 20 (each costs every rerun)
        pictures = samples(data) if own else sample_pictures(dataset)
        st.image([png for png, _ in pictures], caption=[label for _, label in pictures], width=56,
                 output_format="PNG")
        # Closed sections are not drawn: each rerun of every viewer would pay for them.
        counts = st.expander("Images per class", key="train_counts_open", on_change="rerun")
        if counts.open:
            with counts:
                st.plotly_chart(train_plots.class_counts_figure(data.y_train, data.class_names)
                                if own else class_counts(dataset), key="train_counts")

if data is not None and base is not None:
    summary_section(base, tuple(data.image_shape), data.num_classes)
elif data is not None:
    try:
        rows = model_summary(arch, tuple(data.image_shape), data.num_classes)  # cached
        st.markdown(f"{arch} on {data.image_shape[0]}x{data.image_shape[1]}x{data.image_shape[2]} "
                    f"images: total parameters **{sum(r['params'] for r in rows):,}**")
        summary = st.expander("Model summary (each layer)", key="train_summary_open",
                              on_change="rerun")
        if summary.open:
            summary.dataframe(rows, hide_index=True, width="stretch")
    except ValueError as e:
        st.error(f"This architecture does not fit the dataset's images: {e}")


def number(col, name: str, label: str, value, lo=None, hi=None, **kw):
    """A number input for TrainConfig field ``name`` with its key, help and range
    (``lo`` / ``hi`` narrow the range for the page)."""
    rng = config.field_range(name)
    lo = lo if lo is not None else rng.lo
    hi = hi if hi is not None else rng.hi
    return col.number_input(label, lo, hi, value, key=config.widget_key(name),
                            help=config.field_help(name), **kw)


def slider(col, name: str, label: str, hi, step, value, **kw):
    """A slider for TrainConfig field ``name`` from its range's low end to ``hi``."""
    return col.slider(label, type(hi)(config.field_range(name).lo), hi, value, step,
                      key=config.widget_key(name), help=config.field_help(name), **kw)


def checkbox(col, name: str, label: str, value: bool):
    return col.checkbox(label, value, key=config.widget_key(name), help=config.field_help(name))


def choice(col, name: str, label: str, options, value, **kw):
    return col.selectbox(label, options, index=list(options).index(value),
                         key=config.widget_key(name), help=config.field_help(name), **kw)


with st.expander("Hyperparameters", expanded=True):
    # Keys are train_<field>; config.from_state() reads them back into a TrainConfig.
    c1, c2, c3, c4 = st.columns(4)
    number(c1, "epochs", "Epochs", defaults.epochs, hi=500)
    sizes = [8, 16, 32, 64, 128, 256, 512]
    c1.select_slider("Batch size", sizes,
                     defaults.batch_size if defaults.batch_size in sizes else 64,
                     key=config.widget_key("batch_size"), help=config.field_help("batch_size"))
    choice(c1, "normalization", "Input normalization", config.NORMALIZATIONS,
           defaults.normalization, disabled=base is not None)  # a base brings its own
    number(c1, "snapshot_every_s", "Live view every (s)", float(defaults.snapshot_every_s),
           0.0, 60.0, step=1.0)
    optimizer = choice(c2, "optimizer", "Optimizer", config.OPTIMIZERS, defaults.optimizer)
    number(c2, "momentum", "SGD momentum", defaults.momentum, 0.0, 0.99, step=0.1,
           disabled=optimizer != "sgd")
    number(c2, "learning_rate", "Learning rate", defaults.learning_rate, 1e-5, 1.0, format="%.5f")
    choice(c2, "lr_schedule", "Learning-rate schedule", config.LR_SCHEDULES, defaults.lr_schedule)
    n_max = len(data.x_train) if data is not None else 60000
    n_test_max = len(data.x_test) if data is not None else 10000
    if st.session_state.pop("train_dataset_switched", False):  # the new dataset's own numbers
        st.session_state[config.widget_key("n_train")] = min(PAGE_DEFAULTS.n_train or n_max, n_max)
        st.session_state[config.widget_key("n_test")] = n_test_max
    for name, most in (("n_train", n_max), ("n_test", n_test_max)):  # a smaller dataset chosen
        if (st.session_state.get(config.widget_key(name)) or 0) > most:
            st.session_state[config.widget_key(name)] = most
    number(c3, "n_train", "Training images", min(defaults.n_train or n_max, n_max),
           min(10, n_max), n_max, step=500 if n_max > 2000 else 10)
    validation = choice(c3, "validation", "Validate on", config.VALIDATIONS, defaults.validation)
    slider(c3, "validation_split", "Validation fraction", 0.5, 0.05, defaults.validation_split,
           disabled=validation != "holdout")
    number(c3, "seed", "Seed", defaults.seed)
    number(c4, "n_test", "Test images", min(defaults.n_test or n_test_max, n_test_max), 1,
           n_test_max, step=100)
    choice(c4, "monitor", "Monitor (early stopping, keep best)", config.MONITORS, defaults.monitor)
    number(c4, "early_stopping_patience", "Early stopping patience",
           defaults.early_stopping_patience, hi=100)
    checkbox(c4, "keep_best", "Keep the best epoch", defaults.keep_best)
    if validation == "test":
        st.warning(VALIDATE_ON_TEST)
    st.markdown("**Augmentation** (random changes to each training image)")
    a = st.columns(5)
    checkbox(a[0], "augment_flip", "Horizontal flip",
             defaults.augment_flip or dataset.startswith("cifar"))
    checkbox(a[0], "augment_vertical_flip", "Vertical flip", defaults.augment_vertical_flip)
    slider(a[1], "augment_shift", "Shift (fraction)", 0.3, 0.02, defaults.augment_shift)
    slider(a[2], "augment_rotation", "Rotation (degrees)", 45, 1, int(defaults.augment_rotation))
    slider(a[3], "augment_zoom", "Zoom (fraction)", 0.3, 0.02, defaults.augment_zoom)
    choice(a[4], "augment_fill_mode", "Fill uncovered pixels", config.FILL_MODES,
           defaults.augment_fill_mode)
    checkbox(a[4], "augment_stroke", "Stroke width", defaults.augment_stroke)
    st.markdown("**Adversarial training** (each batch trained with its FGSM examples too: a "
                "model that is harder to fool; compare it on Classify's *Where it breaks*)")
    slider(st.columns(2)[0], "adversarial_epsilon", "FGSM epsilon (of the [0, 1] range, 0 = off)",
           0.3, 0.01, float(defaults.adversarial_epsilon))


def start_job() -> None:
    """Button callback (callbacks survive the reruns that a click's own run may trigger).
    Reads the widgets from session state, so it sees values changed in the same click.
    The job starts at once when a training process is free, else waits in the queue."""
    st.session_state["train_message"] = None
    cfg = config.from_state(st.session_state)
    if refs.is_own(cfg.dataset):  # the owner's tag goes with the job, never the token
        cfg = dataclasses.replace(cfg, dataset_owner=jobs.owner_tag(me))
    try:
        manager.start(cfg, owner=me)
    except jobs.OwnerBusyError as e:
        st.session_state["train_message"] = Alert("warning", str(e))
    except jobs.LimitError as e:
        st.session_state["train_message"] = Alert("error", str(e))
    except ValueError as e:
        st.session_state["train_message"] = Alert("error", f"These settings cannot be trained: {e}")


def stop_job(job_id: str) -> None:
    """Stop or Cancel button callback: only the job's owner gets the button, and the
    manager checks again."""
    try:
        manager.stop(job_id, me)
    except (KeyError, jobs.NotOwnerError) as e:
        st.session_state["train_message"] = Alert("error", str(e).strip("'\""))


if lesson is not None:
    lesson_box(lesson, config.from_state(st.session_state, defaults))
    if data is not None:
        st.caption(data_note(lesson, len(data.x_train), data.source))

# ---------------------------------------------------------------------- live --
# This person's latest job: a refresh or a second tab of the same browser finds it.
job = manager.latest(me)
present_live = common.presenting() and job is not None and not job.poll().done
live_area = top if present_live else st.container()
live_area.button("Train", type="primary", key="train_start", disabled=data is None,
                 on_click=start_job)
if manager.limits.describe():
    live_area.caption(manager.limits.describe())
if job is None or job.done:
    live_area.caption(manager.queue_view(me).describe())
if st.session_state.get("train_message"):
    st.session_state["train_message"].show(live_area)


if job is not None:
    job.poll()
    if not job.done:
        st.session_state["train_live_job"] = job.id
    with live_area:
        st.fragment(live_panel, run_every=None if job.done else 0.5)(job.id, manager, me, stop_job)

# ------------------------------------------------------------------- results --
# A job that failed after keeping an epoch (keep-best) has a model to save, but no test figures.
if job is not None and job.done and job.run_dir is not None and (
        job.last("end") or job.run_dir.model_path.exists()):
    st.subheader("Results")
    if sentence := results_sentence(job.events):
        st.markdown(f"Started from {sentence}.")
    show_results(job.run_dir, job.events, f"job_{job.run_dir.name}", curves=False)

runs = visible_runs(me)
if lesson is not None:
    comparison_section(lesson, runs)
past_runs_section(runs)
