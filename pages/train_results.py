"""Sections of the Train page after training: one run's results, and past runs.

Each section reads a run through :mod:`cnnlib.rundir` only. Widget keys carry
the run directory's name, so that two runs shown one after the other never share
a widget's state (a "Saved as" message stays with its run). A run that ended
without its evaluation (interrupted, failed) but kept a model shows its curves
and can be saved like any other.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
import streamlit as st

from cnnlib import jobs, owndata, rundir, store
from cnnlib.data import datasets
from cnnlib.export import run_files
from cnnlib.owndata import refs
from cnnlib.owndata.store import OwnDataStore
from cnnlib.rundir import RunDir
from cnnlib.training import evaluation
from cnnlib.viz import train_plots
from pages import common, identity, take_home


@dataclasses.dataclass(frozen=True)
class Alert:
    """A message kept in session state until it is shown."""

    kind: Literal["success", "warning", "error"]
    text: str

    def show(self, where=st) -> None:
        """Draw it with ``where`` (``st`` or a column/container)."""
        if self.kind == "success":
            where.success(self.text)
        elif self.kind == "warning":
            where.warning(self.text)
        else:
            where.error(self.text)


def _save_run(run: RunDir, key: str) -> None:
    """Form callback: copy the run's model into the store under the typed name, as this
    browser's model (only its owner may replace it; bundled models never)."""
    name = st.session_state[f"train_save_name_{key}"].strip()
    try:
        store.import_run(run, name, overwrite=st.session_state[f"train_overwrite_{key}"],
                         owner=identity.owner())
        alert = Alert("success", f"Saved as '{name}': it is now available on the Convolution "
                                 "and Classify pages.")
    except store.ERRORS as e:  # each is a sentence: bad name, taken, not yours, disk full...
        alert = Alert("error", str(e))
    st.session_state[f"train_saved_{key}"] = alert


def _test_images(cfg, preds: rundir.Predictions) -> tuple[np.ndarray | None, str]:
    """The images ``preds`` were made on, from the dataset as it is now, or None with
    the reason. An own dataset's pictures are shown to its owner only."""
    if refs.is_own(cfg.dataset):
        if jobs.owner_tag(identity.owner()) != cfg.dataset_owner:
            return None, "This run trained on someone else's pictures, which only they can see."
        try:
            ds = OwnDataStore().dataset_for_training(cfg.dataset_owner, refs.name_of(cfg.dataset),
                                                     seed=cfg.seed)
        except owndata.ERRORS as e:
            return None, f"Your dataset cannot be read now. {e}"
    else:
        try:
            ds = common.load_dataset(cfg.dataset)
        except datasets.DatasetUnavailableError as e:
            return None, f"The dataset cannot be loaded. {e}"
    images = preds.test_images(ds.x_test, ds.y_test)
    if images is None:
        return None, (f"The test images in {ds.source} are not the ones this run was evaluated "
                      "on (another data folder or file?), so its samples cannot be shown.")
    return images, ""


def _prediction_tabs(run: RunDir, cfg, names: list[str], key: str) -> None:
    preds = run.predictions()
    if preds is None:
        st.info("This run stored no test predictions that can be shown (an older version of "
                "CNN Studio wrote it, or the file is damaged).")
        return
    tab1, tab2, tab3 = st.tabs(["Confusion matrix", "Test samples", "Worst misclassifications"])
    with tab1:
        cm = evaluation.confusion_matrix(preds.y_true, preds.probs.argmax(1), len(names))
        st.plotly_chart(train_plots.confusion_figure(cm, names), key=f"train_cm_{key}")
    images, why = _test_images(cfg, preds)
    if images is None:
        tab2.warning(why)
        tab3.warning(why)
        return
    with tab2:
        idx = np.random.default_rng(0).choice(len(images), size=min(16, len(images)), replace=False)
        common.prediction_grid(images[idx], preds.y_true[idx], preds.probs[idx], names)
    with tab3:
        idx = evaluation.worst_errors(preds.probs, preds.y_true, 16)
        if len(idx) == 0:
            st.success("No test image was misclassified.")
        else:
            common.prediction_grid(images[idx], preds.y_true[idx], preds.probs[idx], names)


def _unevaluated(run: RunDir, events: list[dict], key: str, curves: bool) -> bool:
    """A run without its end event: says why there are no test figures and which epoch
    its model file holds; draws its epoch curves when ``curves``. Returns whether
    there is a model to save (keep-best writes ``best.keras`` after each better epoch)."""
    state = run.state()
    if not run.ended():
        st.info("This run is still running: its results appear when it ends.")
        return False
    why = (run.job() or {}).get("error") or f"It ended as {state}."
    epochs = rundir.of_type(events, "epoch")
    kept = [e["epoch"] for e in epochs if e.get("best") and not e.get("partial")]
    text = (f"No test figures: this run ended before its evaluation on the test images. "
            f"{why.rstrip('.')}.")
    if run.model_path.exists():
        text += (f" Its model file holds epoch {kept[-1]}, the best one it completed" if kept
                 else " Its model file holds the last weights it saved")
        text += ": you can still save it, without test figures."
    else:
        text += (" It kept no model file (keep-best writes one after each better complete "
                 "epoch: there was none yet, or keep-best was off), so there is nothing to save.")
    st.warning(text)
    if curves and epochs:
        st.plotly_chart(train_plots.epoch_curves(epochs), key=f"train_unevaluated_{key}")
    return run.model_path.exists()


def show_results(run: RunDir, events: list[dict], key: str, curves: bool = True) -> None:
    """Test metrics, confusion matrix, samples, save and downloads of a run that ended.

    A run that ended without its evaluation (interrupted, failed) shows instead why,
    its epoch curves, and the save form when it kept a model.

    Args:
        run: the run's directory.
        events: its events (a live job's, or read from the directory).
        key: unique among the runs shown on the page (prefixes its widget keys).
        curves: draw the epoch curves of an unevaluated run (False where the page
            shows them already).
    """
    end, start = rundir.last(events, "end"), rundir.last(events, "start")
    config = run.config()
    if start is None or config is None:
        return
    if end is not None:
        st.markdown(rundir.status_sentence(end, config.to_dict()))
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("Test accuracy", f"{end['test_accuracy']:.2%}",
                  help=f"The kept model on {end['n_test']:,} test images.")
        if end.get("train_accuracy") is not None:  # runs of older versions did not measure it
            m2.metric("Training accuracy", f"{end['train_accuracy']:.2%}",
                      help=f"The kept model on its {start['n_train']:,} training images, "
                           "without augmentation; far above the test accuracy means "
                           "overfitting.")
        m3.metric("Test loss", f"{end['test_loss']:.4f}")
        m4.metric("Test images", f"{end['n_test']:,}")
        _prediction_tabs(run, config, list(start["class_names"]), key)
    elif not _unevaluated(run, events, key, curves):
        return
    c1, c2, c3 = st.columns([2, 1, 1])
    with c1.form(f"train_save_{key}", border=False):
        dataset = config.dataset.replace(refs.PREFIX, "own_").replace(" ", "_")
        st.text_input("Save to the model store as", f"{dataset}-{config.arch}-{run.name[:15]}",
                      key=f"train_save_name_{key}")
        st.checkbox("Replace a model of that name", key=f"train_overwrite_{key}",
                    help="Only a model saved from this browser can be replaced; the models "
                         "bundled with CNN Studio never.")
        st.form_submit_button("Save model", on_click=_save_run, args=(run, key),
                              key=f"train_save_submit_{key}")
    saved = st.session_state.get(f"train_saved_{key}")
    if saved:
        saved.show(c1)
    try:
        c2.download_button("Download .keras", run.model_path.read_bytes(),
                           file_name=f"{run.name}.keras", key=f"train_dl_model_{key}")
    except OSError:
        pass  # no model file, or the run was deleted meanwhile (the runs folder's size limit)
    c3.download_button("Download history (CSV)", evaluation.history_csv(events),
                       file_name=f"{run.name}.csv", mime="text/csv", key=f"train_dl_csv_{key}")
    if run.model_path.exists():
        _take_home(run, key)


def _take_home(run: RunDir, key: str) -> None:
    """The run's take-home files (:func:`pages.take_home.exports`); for a run on the
    person's own pictures also one zip of the script, the notebook and the pictures."""
    config = run.config()
    own = refs.is_own(getattr(config, "dataset", None))
    me = identity.owner()
    if own and jobs.owner_tag(me) != config.dataset_owner:
        st.caption("This run trained on someone else's pictures: only they can take it home.")
        return
    files = take_home.exports(key, run.name, lambda: take_home.run_files_of(
        str(run.path), run.model_path.stat().st_mtime_ns),
        "TFLite, ONNX, Python script and notebook")
    if own and files is not None and files.script is not None:
        name = refs.name_of(config.dataset)
        try:
            OwnDataStore().get(me, name)
        except owndata.ERRORS as e:  # deleted since the run, say
            st.caption(f"The script reads your dataset {name!r}, which cannot be read now: {e}")
            return
        st.download_button(
            "Download script, notebook and pictures (.zip)",
            lambda: run_files.bundle(files, run.name, OwnDataStore().export_zip(me, name)),
            file_name=f"{run.name}.zip", mime="application/zip", key=f"train_dl_bundle_{key}",
            help=f"Unzipped, `python {run.name}.py` finds the pictures in the folder `{name}` "
                 "beside it.")
        st.caption(f"The pictures are those of your dataset {name!r} now: if they changed since "
                   "the run, the script says its test images are not the run's.")


def visible_runs(owner: str) -> list[RunDir]:
    """The run directories ``owner`` may see, newest first: their own, and those that
    record no owner (the command line's, older versions')."""
    tag = jobs.owner_tag(owner)
    return [r for r in rundir.list_runs() if r.owner() in (None, tag)]


def past_runs_section(past: list[RunDir]) -> None:
    """The runs this person may see (:func:`visible_runs`): compare their curves, reopen one;
    then the stored models they may take home (:func:`pages.take_home.stored_models_section`)."""
    _past_runs(past)
    take_home.stored_models_section(identity.owner())


def _past_runs(past: list[RunDir]) -> None:
    """The Past runs expander, drawn only while open (reading every run's events on each
    rerun of every viewer cost more than the rest of the page)."""
    section = st.expander(f"Past runs ({len(past)})", key="train_past", on_change="rerun")
    if not section.open:
        return
    with section:
        if not past:
            st.caption("Runs appear here once trained.")
            return
        by_name = {r.name: r for r in past}
        labels = {}
        for r in past:
            result = r.result()
            labels[r.name] = f"{r.name} - {r.state()}" + (
                f", test accuracy {result['test_accuracy']:.2%}" if result else "")
        chosen = st.multiselect("Compare runs", list(labels), default=list(labels)[:3],
                                format_func=labels.get, key="train_compare")
        if chosen:
            series = [(n, rundir.of_type(by_name[n].events(), "epoch")) for n in chosen]
            st.plotly_chart(train_plots.compare_runs_figure(series), key="train_compare_fig")
        reopen = st.selectbox("Reopen a run", [None] + list(labels), key="train_reopen",
                              format_func=lambda n: "-" if n is None else labels[n])
        if reopen:
            run = by_name[reopen]
            show_results(run, run.events(), f"past_{run.name}")
