"""Train: configure a model, train it in a separate process, watch it live.

The job runs in a spawned process (cnnlib.jobs); this page only polls it from
a fragment, so a refresh, a second tab or a widget change never disturbs it.
"""

import numpy as np
import streamlit as st

from cnnlib import datasets, jobs, runs, store, train_plots, training, zoo
from pages import common

common.require_app_navigation()
common.import_keras()  # this page needs TensorFlow; see import_keras for the gc.freeze

st.title("Train")

# What a new session's widgets start from (TrainConfig's own defaults, shorter runs).
PAGE_DEFAULTS = training.TrainConfig(epochs=3, n_train=5000)


@st.cache_resource
def job_manager() -> jobs.JobManager:
    """One job manager for the whole server: every session and tab sees the same jobs."""
    return jobs.JobManager()


@st.cache_data(show_spinner="Building the model...", max_entries=32)
def model_summary(arch: str, shape: tuple, num_classes: int) -> list[dict]:
    return zoo.summary_rows(zoo.build(arch, shape, num_classes))


manager = job_manager()
st.session_state.setdefault("train_job_id", None)
if "train_defaults" not in st.session_state:
    # A refresh or a second tab while a job runs: the widgets start from that job's settings.
    running = manager.latest()
    attached = running is not None and not running.poll().done
    st.session_state["train_defaults"] = (running.config if attached else PAGE_DEFAULTS).to_dict()
D = training.TrainConfig.from_dict(st.session_state["train_defaults"])  # this session's defaults

# ---------------------------------------------------------------- configure --
left, right = st.columns([1, 2])
with left:
    dataset = st.selectbox("Dataset", datasets.names(), key="train_dataset",
                           index=datasets.names().index(D.dataset),
                           format_func=lambda n: datasets.DATASETS[n].title)
    arch_names = list(zoo.ARCHITECTURES)
    arch = st.selectbox("Architecture", arch_names, key="train_arch",
                        index=arch_names.index(D.arch if D.arch in arch_names else zoo.DEFAULT_ARCH[dataset]),
                        help="The classic architectures of the teaching material, and CNN Studio's "
                             "recommended default (studio_cnn).")
    info = zoo.ARCHITECTURES[arch]
    st.caption(f"{info.description}  \nSource: {info.source}")

try:
    data = common.load_dataset(dataset)
except datasets.DatasetUnavailableError as e:
    common.dataset_error(e)
    data = None

with right:
    if data is not None:
        st.markdown(f"**{len(data.x_train):,}** training and **{len(data.x_test):,}** test images "
                    f"of {data.image_shape[0]}x{data.image_shape[1]}x{data.image_shape[2]}, "
                    f"from `{data.source}`")
        per_class = 2 if data.num_classes > 5 else 4
        picks = np.concatenate([np.flatnonzero(data.y_train == c)[:per_class]
                                for c in range(data.num_classes)])
        cols = st.columns(10)
        for i, idx in enumerate(picks[:20]):
            img = data.x_train[idx]
            cols[i % 10].image(img if img.shape[-1] == 3 else img[..., 0],
                               caption=data.class_names[data.y_train[idx]], width=56)
        with st.expander("Images per class"):
            st.plotly_chart(train_plots.class_counts_figure(data.y_train, data.class_names),
                            key="train_counts")

with st.expander("Model summary", expanded=False):
    if data is not None:
        try:
            rows = model_summary(arch, tuple(data.image_shape), data.num_classes)
            st.dataframe(rows, hide_index=True, width="stretch")
            st.markdown(f"Total parameters: **{sum(r['params'] for r in rows):,}**")
        except ValueError as e:
            st.error(f"This architecture does not fit the dataset's images: {e}")

with st.expander("Hyperparameters", expanded=True):
    # Values are read back from session state by config_from_widgets().
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input("Epochs", 1, 500, D.epochs, key="train_epochs",
                    help="Full passes over the training images.")
    sizes = [8, 16, 32, 64, 128, 256, 512]
    c1.select_slider("Batch size", sizes, D.batch_size if D.batch_size in sizes else 64,
                     key="train_batch_size", help="Images per gradient step.")
    c2.selectbox("Optimizer", training.OPTIMIZERS, key="train_optimizer",
                 index=training.OPTIMIZERS.index(D.optimizer),
                 help="Adam adapts the step per weight; SGD uses momentum 0.9.")
    c2.number_input("Learning rate", 1e-5, 1.0, D.learning_rate, format="%.5f", key="train_lr",
                    help="Step size of the optimizer.")
    c2.selectbox("Learning-rate schedule", training.LR_SCHEDULES, key="train_schedule",
                 index=training.LR_SCHEDULES.index(D.lr_schedule),
                 help="cosine: decays the learning rate to 0 over the run.")
    n_max = len(data.x_train) if data is not None else 60000
    c3.number_input("Training images", 10, n_max, min(D.n_train or n_max, n_max), step=500,
                    key="train_n_train", help="A stratified subset, for quick demos.")
    c3.slider("Validation fraction", 0.0, 0.5, D.validation_split, 0.05, key="train_val",
              help="Held out from the training images to measure val_loss and val_accuracy "
                   "after each epoch.")
    c3.number_input("Seed", 0, 2**31 - 1, D.seed, key="train_seed",
                    help="Seeds the subsets, the validation split, the initial weights and the "
                         "augmentation: the same seed gives the same run.")
    n_test_max = len(data.x_test) if data is not None else 10000
    c4.number_input("Test images", 1, n_test_max, min(D.n_test or n_test_max, n_test_max),
                    step=100, key="train_n_test",
                    help="A stratified subset of the test split, for the final test accuracy, "
                         "the confusion matrix and the samples.")
    c4.number_input("Early stopping patience", 0, 100, D.early_stopping_patience,
                    key="train_patience",
                    help="Stop after this many epochs without a better val_loss (0 = off).")
    c4.checkbox("Keep the best epoch", D.keep_best, key="train_keep_best",
                help="End with the weights of the epoch with the lowest val_loss.")
    st.markdown("**Augmentation** (random changes to each training image)")
    a1, a2, a3, a4, a5 = st.columns(5)
    a1.checkbox("Horizontal flip", D.augment_flip or dataset.startswith("cifar"), key="train_flip",
                help="Not for digits: a mirrored 2 is no 2.")
    a2.slider("Shift (fraction)", 0.0, 0.3, D.augment_shift, 0.02, key="train_shift")
    a3.slider("Rotation (degrees)", 0, 45, int(D.augment_rotation), key="train_rotation")
    a4.slider("Zoom (fraction)", 0.0, 0.3, D.augment_zoom, 0.02, key="train_zoom")
    a5.checkbox("Stroke width", D.augment_stroke, key="train_stroke",
                help="Thicker or thinner strokes (digits).")



def config_from_widgets() -> training.TrainConfig:
    """The TrainConfig the widgets show now (read from session state, so that a
    click callback sees the values of widgets changed in the same interaction)."""
    ss = st.session_state
    return training.TrainConfig(
        dataset=ss["train_dataset"], arch=ss["train_arch"], epochs=int(ss["train_epochs"]),
        batch_size=int(ss["train_batch_size"]), optimizer=ss["train_optimizer"],
        learning_rate=float(ss["train_lr"]), lr_schedule=ss["train_schedule"],
        validation_split=float(ss["train_val"]), augment_flip=ss["train_flip"],
        augment_shift=float(ss["train_shift"]), augment_rotation=float(ss["train_rotation"]),
        augment_zoom=float(ss["train_zoom"]), augment_stroke=ss["train_stroke"],
        early_stopping_patience=int(ss["train_patience"]), keep_best=ss["train_keep_best"],
        seed=int(ss["train_seed"]), n_train=int(ss["train_n_train"]), n_test=int(ss["train_n_test"]))



def start_job() -> None:
    """Button callback (callbacks survive the reruns that a click's own run may trigger)."""
    st.session_state["train_message"] = None
    try:
        job = manager.start(config_from_widgets())
        st.session_state["train_job_id"] = job.id
    except jobs.BusyError as e:
        st.session_state["train_message"] = ("warning", str(e))
        st.session_state["train_job_id"] = e.running[0].id
    except ValueError as e:
        st.session_state["train_message"] = ("error", f"These settings cannot be trained: {e}")


st.button("Train", type="primary", key="train_start", disabled=data is None,
          on_click=start_job)
message = st.session_state.get("train_message")
if message:
    getattr(st, message[0])(message[1])

# ---------------------------------------------------------------------- live --
# A refresh or a second tab has no job id in its session: it attaches to the latest job.
job = manager.get(st.session_state["train_job_id"]) or manager.latest()


def show_progress(job: jobs.Job) -> None:
    start, batch, end = job.last("start"), job.last("batch"), job.last("end")
    cfg = job.config
    if job.state == "starting":
        st.progress(0.0, text=f"Starting the training process for {job.describe()}...")
        return
    if batch is None or start is None:
        st.progress(0.0, text="Loading data and building the model...")
        return
    total = start["batches"] * cfg.epochs
    done = (batch["epoch"] - 1) * batch["batches"] + batch["batch"]
    rate = batch["samples_per_s"]
    left_s = (total - done) * cfg.batch_size / rate if rate else 0
    text = (f"epoch {batch['epoch']}/{cfg.epochs}, batch {batch['batch']}/{batch['batches']}, "
            f"{rate:,.0f} samples/s, ")
    if end is not None:
        text += f"done in {end['elapsed']:,.0f} s"
    elif done >= total or job.stop_requested:
        text += "evaluating on the test images..."
    else:
        text += f"{left_s:,.0f} s left"
    st.progress(min(done / total, 1.0), text=text)


def show_curves(job: jobs.Job) -> None:
    c1, c2 = st.columns(2)
    c1.plotly_chart(train_plots.batch_curves(job.of_type("batch")), key=f"train_batch_{job.id}")
    c2.plotly_chart(train_plots.epoch_curves(job.of_type("epoch")), key=f"train_epoch_{job.id}")


def live_panel(job_id: str) -> None:
    job = manager.get(job_id).poll()
    st.subheader(f"Job {job.id}: {job.config.arch} on {job.config.dataset}")
    status = {"starting": "starting", "running": "running", "finished": "finished",
              "stopped": "stopped (the best epoch so far was kept)", "failed": "failed"}[job.state]
    st.markdown(f"Status: **{status}**")
    show_progress(job)
    show_curves(job)
    if job.state == "failed":
        st.error(f"The training job failed: {job.error}")
    if not job.done:
        st.button("Stop", key="train_stop", help="Stops after the current batch.", on_click=job.stop)
        if job.stop_requested:
            st.caption("Stopping after the current batch...")
    elif st.session_state.get("train_live_job") == job.id:
        # the job ended while this fragment was polling: redraw the whole page with the results
        st.session_state["train_live_job"] = None
        st.rerun()


if job is not None:
    job.poll()
    if not job.done:
        st.session_state["train_live_job"] = job.id
    st.fragment(live_panel, run_every=None if job.done else 0.5)(job.id)

# ------------------------------------------------------------------- results --


def show_image_grid(images: np.ndarray, true: np.ndarray, pred: np.ndarray, probs: np.ndarray,
                    class_names: list[str], per_row: int = 8) -> None:
    for start in range(0, len(images), per_row):
        cols = st.columns(per_row)
        for col, i in zip(cols, range(start, min(start + per_row, len(images)))):
            img = images[i]
            col.image(img if img.shape[-1] == 3 else img[..., 0], width=64)
            ok = pred[i] == true[i]
            colour = "green" if ok else "red"
            col.markdown(f":{colour}[{class_names[pred[i]]}] ({probs[i, pred[i]]:.0%})  \n"
                         f"true: {class_names[true[i]]}")


def save_run(run_dir, key: str) -> None:
    """Form callback: copy the run's model into the store under the typed name."""
    name = st.session_state[f"train_save_name_{key}"].strip()
    try:
        store.import_run(run_dir, name, overwrite=st.session_state[f"train_overwrite_{key}"])
        result = ("success", f"Saved as '{name}': it is now available on the Convolution and "
                             "Classify pages.")
    except (ValueError, FileExistsError, store.ModelLoadError) as e:
        result = ("error", str(e))
    st.session_state[f"train_saved_{key}"] = result


def show_results(run_dir, events: list[dict], key: str) -> None:
    end = next((e for e in events if e.get("type") == "end"), None)
    if end is None:
        return
    cfg = training.TrainConfig.from_dict(next(e for e in events if e["type"] == "start")["config"])
    m1, m2, m3 = st.columns(3)
    m1.metric("Test accuracy", f"{end['test_accuracy']:.2%}")
    m2.metric("Test loss", f"{end['test_loss']:.4f}")
    m3.metric("Test images", f"{end['n_test']:,}")
    preds = runs.load_predictions(run_dir)
    try:
        test = common.load_dataset(cfg.dataset, cfg.n_test, cfg.seed)
    except datasets.DatasetUnavailableError as e:
        common.dataset_error(e)
        test = None
    if preds is not None and test is not None and len(test.y_test) == len(preds[1]):
        probs, y_true = preds
        y_pred = probs.argmax(1)
        names = list(test.class_names)
        tab1, tab2, tab3 = st.tabs(["Confusion matrix", "Test samples", "Worst misclassifications"])
        with tab1:
            cm = runs.confusion_matrix(y_true, y_pred, len(names))
            st.plotly_chart(train_plots.confusion_figure(cm, names), key=f"train_cm_{key}")
        with tab2:
            idx = np.random.default_rng(0).choice(len(y_true), size=min(16, len(y_true)), replace=False)
            show_image_grid(test.x_test[idx], y_true[idx], y_pred[idx], probs[idx], names)
        with tab3:
            idx = runs.worst_errors(probs, y_true, 16)
            if len(idx) == 0:
                st.success("No test image was misclassified.")
            else:
                show_image_grid(test.x_test[idx], y_true[idx], y_pred[idx], probs[idx], names)
    c1, c2, c3 = st.columns([2, 1, 1])
    with c1.form(f"train_save_{key}", border=False):
        default = f"{cfg.dataset}-{cfg.arch}-{run_dir.name[:15]}"
        st.text_input("Save to the model store as", default, key=f"train_save_name_{key}")
        st.checkbox("Replace a model of that name", key=f"train_overwrite_{key}")
        st.form_submit_button("Save model", on_click=save_run, args=(run_dir, key))
    saved = st.session_state.get(f"train_saved_{key}")
    if saved:
        getattr(c1, saved[0])(saved[1])
    model_file = run_dir / "best.keras"
    if model_file.exists():
        c2.download_button("Download .keras", model_file.read_bytes(), file_name=f"{run_dir.name}.keras",
                           key=f"train_dl_model_{key}")
    c3.download_button("Download history (CSV)", runs.history_csv(events), file_name=f"{run_dir.name}.csv",
                       mime="text/csv", key=f"train_dl_csv_{key}")


if job is not None and job.done and job.run_dir is not None and job.last("end"):
    st.subheader("Results")
    show_results(job.run_dir, job.events, job.id)

# --------------------------------------------------------------- past runs --
past = runs.list_runs()
with st.expander(f"Past runs ({len(past)})"):
    if not past:
        st.caption("Runs appear here once trained.")
    else:
        labels = {r["name"]: (f"{r['name']} - {r['state']}" + (
            f", test accuracy {r['result']['test_accuracy']:.2%}" if r["result"] else "")) for r in past}
        chosen = st.multiselect("Compare runs", list(labels), default=list(labels)[:min(3, len(labels))],
                                format_func=labels.get, key="train_compare")
        if chosen:
            series = [(n, runs.epoch_events(training.read_history(r["run_dir"])))
                      for n in chosen for r in past if r["name"] == n]
            st.plotly_chart(train_plots.compare_runs_figure(series), key="train_compare_fig")
        reopen = st.selectbox("Reopen a run", [None] + list(labels), format_func=lambda n: "-" if n is None else labels[n],
                              key="train_reopen")
        if reopen:
            run = next(r for r in past if r["name"] == reopen)
            show_results(run["run_dir"], training.read_history(run["run_dir"]), "past")
