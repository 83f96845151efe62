"""AppTest of the Train page: a real 1-epoch job on a tiny subset, from click to results;
two people on one server."""

import dataclasses
import json
import time

from streamlit.testing.v1 import AppTest
from testutil import REPO, requires_shared_data

from cnnlib import jobs, paths, rundir
from cnnlib.training import config, lessons
from pages import identity


def open_page(tmp_path, monkeypatch, fresh_server=True, owner=None, past_open=True):
    """The Train page in a new session; ``fresh_server`` drops the cached job manager
    (and datasets), as a new server would: AppTest sessions of one process share them.
    Each session is a new browser with its own owner token, unless ``owner`` gives one
    (the same browser again: a refresh or a second tab). ``past_open``: the Past runs
    section opened (it is drawn only while open)."""
    import streamlit as st

    if fresh_server:
        st.cache_resource.clear()
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(tmp_path / "models"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    if owner is not None:
        at.session_state[identity.KEY] = owner
    if past_open:
        at.session_state["train_past"] = True
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    return at


def wait_for(at, predicate, timeout=240):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        at.run()
        assert not at.exception
        if predicate(at):
            return
        time.sleep(0.5)
    raise AssertionError("timed out waiting for the page")


def markdown_text(at):
    return " ".join(m.value for m in at.markdown)


@requires_shared_data
def test_train_page_runs_a_job_and_shows_results(tmp_path, monkeypatch):
    at = open_page(tmp_path, monkeypatch)
    # before training: preview, summary and every setting
    assert "training and" in markdown_text(at) and "total parameters" in markdown_text(at)
    at.selectbox(key="train_arch").set_value("mnist_cnn")
    at.number_input(key="train_epochs").set_value(1)
    at.number_input(key="train_n_train").set_value(300)
    at.run()
    assert "1,201,578" in markdown_text(at)
    at.button(key="train_start").click().run()
    assert not at.exception
    wait_for(at, lambda a: any("Status: **finished**" in m.value for m in a.markdown))
    charts = at.get("plotly_chart")
    assert len(charts) >= 3  # batch curves, epoch curves, confusion matrix
    assert any(m.label == "Test accuracy" for m in at.metric)
    # the widgets reached the job through config.from_state: the run directory says so
    (run,) = rundir.list_runs()
    assert (run.config().arch, run.config().epochs, run.config().n_train) == ("mnist_cnn", 1, 300)
    # a new tab of the same browser shows this finished job's results under a form with
    # this job's settings
    other = open_page(tmp_path, monkeypatch, fresh_server=False,
                      owner=at.session_state[identity.KEY])
    assert any(m.label == "Test accuracy" for m in other.metric)
    assert other.selectbox(key="train_arch").value == "mnist_cnn"
    assert (other.number_input(key="train_epochs").value,
            other.number_input(key="train_n_train").value) == (1, 300)
    # save it to the store
    (name_box,) = [t for t in at.text_input if t.label == "Save to the model store as"]
    name_box.set_value("from-page")
    at.button[[b.label for b in at.button].index("Save model")].click().run()
    assert any("Saved as 'from-page'" in s.value for s in at.success)
    assert (paths.user_models_dir() / "from-page.keras").exists()  # saved models: $CNN_STUDIO_HOME


def test_every_setting_has_its_widget(tmp_path, monkeypatch):
    """Each TrainConfig field but the two folders, the own dataset's owner (the person's
    tag, set when the job starts: tests/test_page_train_own.py) and the transfer base
    (offered for own datasets: tests/test_page_train_transfer.py) has a widget keyed
    train_<field>, and the widgets' values are the config the page would start."""
    at = open_page(tmp_path, monkeypatch)
    keys = {w.key for w in at.main if getattr(w, "key", None)}
    for f in dataclasses.fields(config.TrainConfig):
        if f.name not in ("data_dir", "run_root", "dataset_owner", "base_model"):
            assert config.widget_key(f.name) in keys, f"no widget for {f.name}"
    at.number_input(key="train_learning_rate").set_value(0.005)
    at.checkbox(key="train_augment_stroke").check()
    at.run()
    cfg = config.from_state(at.session_state)
    cfg.validate()
    assert cfg.learning_rate == 0.005 and cfg.augment_stroke and cfg.epochs == 3


def captions(at):
    return " ".join(c.value for c in at.caption)


def keys(at):
    return {w.key for w in at.main if getattr(w, "key", None)}


@requires_shared_data
def test_two_people_share_the_server(tmp_path, monkeypatch):
    """A trains; A's second tab finds and controls A's job with A's settings. B sees
    neither A's controls nor A's settings, only counts; B's job waits in the queue with
    its place, can be cancelled, and starts by itself when A's job ends."""
    a = open_page(tmp_path, monkeypatch)
    a.number_input(key="train_epochs").set_value(50)
    a.number_input(key="train_n_train").set_value(4000)
    a.button(key="train_start").click().run()
    wait_for(a, lambda p: "Status: **running**" in markdown_text(p))
    # the network learning, live: the first conv layer's kernels and maps, from snapshots
    wait_for(a, lambda p: "The network learning" in markdown_text(p), timeout=60)
    shown = " ".join(c for img in a.get("image") for c in img.captions)
    assert "kernels" in shown and "feature maps of the first test image" in shown

    # A's second tab (the same browser: the same token) attaches to A's job, with A's settings
    a2 = open_page(tmp_path, monkeypatch, fresh_server=False, owner=a.session_state[identity.KEY])
    assert "Status: **running**" in markdown_text(a2) and "train_stop" in keys(a2)
    assert a2.number_input(key="train_epochs").value == 50
    assert a2.number_input(key="train_n_train").value == 4000
    a2.button(key="train_start").click().run()  # one job per person
    assert any("You already have a training job running" in w.value for w in a2.warning)

    # B: another browser sees no job, no Stop, the defaults; and a count of the others'
    b = open_page(tmp_path, monkeypatch, fresh_server=False)
    assert b.session_state[identity.KEY] != a.session_state[identity.KEY]
    assert "Status:" not in markdown_text(b) and not {"train_stop", "train_cancel"} & keys(b)
    assert b.number_input(key="train_epochs").value == 3
    assert "1 job of other people running; 0 waiting in the queue" in captions(b)
    b.number_input(key="train_epochs").set_value(1)
    b.number_input(key="train_n_train").set_value(300)
    b.button(key="train_start").click().run()
    assert "Status: **queued**" in markdown_text(b) and "number 1 in the queue" in markdown_text(b)
    assert "estimated wait" in markdown_text(b) and "train_stop" not in keys(b)
    b.button(key="train_cancel").click().run()
    assert "Status: **cancelled" in markdown_text(b)
    b.button(key="train_start").click().run()
    assert "number 1 in the queue" in markdown_text(b)
    # A's page never shows B's job
    a.run()
    assert "Status: **running**" in markdown_text(a) and "queued" not in markdown_text(a)

    # A stops from the second tab; B's job then starts and runs to its results
    a2.button(key="train_stop").click().run()
    wait_for(a, lambda p: "Status: **stopped" in markdown_text(p))
    wait_for(b, lambda p: "Status: **finished**" in markdown_text(p))
    assert any(m.label == "Test accuracy" for m in b.metric)
    assert b.number_input(key="train_epochs").value == 1
    # each sees only their own run among the past ones
    b_tag = jobs.owner_tag(b.session_state[identity.KEY])
    (b_run,) = [r for r in rundir.list_runs() if r.owner() == b_tag]
    assert len(rundir.list_runs()) == 2
    assert b.selectbox(key="train_reopen").options == [
        "-", f"{b_run.name} - finished, test accuracy {b_run.result()['test_accuracy']:.2%}"]


@requires_shared_data
def test_a_shared_server_limits_one_job(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_MAX_EPOCHS", "2")
    at = open_page(tmp_path, monkeypatch)
    assert "This server allows at most 2 epochs per job." in captions(at)
    at.number_input(key="train_epochs").set_value(5)
    at.button(key="train_start").click().run()
    (error,) = at.error
    assert "at most 2 epochs per job (CNN_STUDIO_MAX_EPOCHS)" in error.value
    assert "Status:" not in markdown_text(at) and rundir.list_runs() == []
    # a server started with a limit that is not a number says so instead of a traceback
    monkeypatch.setenv("CNN_STUDIO_MAX_EPOCHS", "ten")
    at = open_page(tmp_path, monkeypatch)
    (error,) = at.error
    assert "CNN_STUDIO_MAX_EPOCHS must be a positive whole number" in error.value


@requires_shared_data
def test_an_interrupted_run_is_shown_from_its_files_and_can_be_saved(tmp_path, monkeypatch):
    """A run whose server died mid-job (no end event, no test predictions, job.json
    "interrupted") but whose best epoch is on disk: the page says evaluation did not
    happen, draws its curves and offers the save form. Someone else does not see it."""
    from testutil import tiny_config

    from cnnlib.training import engine

    run = engine.train(tiny_config(arch="logistic", n_train=64, n_test=40, epochs=2)).run_dir
    lines = (run.path / "history.jsonl").read_text().splitlines()
    (run.path / "history.jsonl").write_text(
        "\n".join(line for line in lines if json.loads(line)["type"] != "end") + "\n")
    (run.path / "result.json").unlink()
    (run.path / "test_predictions.npz").unlink()
    token = "owner-of-the-interrupted-run-0123"
    run.write_job({"id": "job1", "state": "running", "error": None, "pid": 2**22 + 12345,
                   "owner": jobs.owner_tag(token), "config": run.config().to_dict()})
    other = open_page(tmp_path, monkeypatch)  # a new server marks it; another person: not theirs
    assert run.state() == "interrupted" and "Past runs (0)" in [e.label for e in other.expander]
    at = open_page(tmp_path, monkeypatch, fresh_server=False, owner=token)
    (option,) = [o for o in at.selectbox(key="train_reopen").options if o != "-"]
    assert option == f"{run.name} - interrupted"
    at.selectbox(key="train_reopen").set_value(run.name).run()
    (warning,) = at.warning
    assert "No test figures: this run ended before its evaluation" in warning.value
    assert "The server stopped during the run" in warning.value
    assert "Its model file holds epoch" in warning.value and "you can still save it" in warning.value
    assert any(c.key == f"train_unevaluated_past_{run.name}" for c in at.get("plotly_chart"))
    assert not any(m.label == "Test accuracy" for m in at.metric)
    at.text_input(key=f"train_save_name_past_{run.name}").set_value("rescued")
    at.button(key=f"train_save_submit_past_{run.name}").click().run()
    assert any("Saved as 'rescued'" in s.value for s in at.success), [e.value for e in at.error]
    assert (paths.user_models_dir() / "rescued.keras").exists()  # saved models: $CNN_STUDIO_HOME


def test_missing_dataset_is_explained_with_both_fixes(tmp_path, monkeypatch):
    import keras

    def offline():
        raise Exception("URL fetch failure: Temporary failure in name resolution")

    # a data folder of its own without fashion_mnist.npz (the shared one has it), and no download
    empty = tmp_path / "no_data"
    empty.mkdir()
    monkeypatch.setenv("CNN_STUDIO_DATA_DIR", str(empty))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    at = open_page(tmp_path, monkeypatch)
    at.selectbox(key="train_dataset").set_value("fashion_mnist").run()
    assert not at.exception
    (error,) = at.error
    assert "CNN_STUDIO_DATA_DIR" in error.value and "python -m cnnlib prefetch" in error.value
    assert at.button(key="train_start").disabled


@requires_shared_data
def test_reopened_runs_keep_their_own_state_and_refuse_other_test_images(tmp_path, monkeypatch):
    """Past runs: a "Saved as" message stays with the run it was saved from, and a run whose
    test images are no longer in the data folder shows its confusion matrix but not
    images under the wrong labels."""
    import numpy as np
    from testutil import SHARED_DATA, tiny_config

    from cnnlib.training import engine

    first = engine.train(tiny_config(arch="logistic", n_train=64, n_test=40, seed=1))
    second = engine.train(tiny_config(arch="logistic", n_train=64, n_test=40, seed=2))
    at = open_page(tmp_path, monkeypatch)
    at.selectbox(key="train_reopen").set_value(first.run_dir.name).run()
    name_box = at.text_input(key=f"train_save_name_past_{first.run_dir.name}")
    name_box.set_value("first-run")
    at.button(key=f"train_save_submit_past_{first.run_dir.name}").click().run()
    assert any("Saved as 'first-run'" in s.value for s in at.success), [e.value for e in at.error]
    assert not at.warning  # the test images are those of the shared data
    at.selectbox(key="train_reopen").set_value(second.run_dir.name).run()
    assert not any("Saved as" in s.value for s in at.success)

    # another data folder whose MNIST test split has the same length, in another order
    with np.load(SHARED_DATA / "mnist.npz") as f:
        arrays = dict(f)
    order = np.random.default_rng(0).permutation(len(arrays["y_test"]))
    arrays["x_test"], arrays["y_test"] = arrays["x_test"][order], arrays["y_test"][order]
    other = tmp_path / "other_data"
    other.mkdir()
    np.savez(other / "mnist.npz", **arrays)
    monkeypatch.setenv("CNN_STUDIO_DATA_DIR", str(other))
    at = open_page(tmp_path, monkeypatch)  # a server started on the other folder
    at.selectbox(key="train_reopen").set_value(first.run_dir.name).run()
    assert any("not the ones this run was evaluated on" in w.value for w in at.warning)
    assert len(at.get("plotly_chart")) >= 1  # the confusion matrix, from the stored predictions


@requires_shared_data
def test_lesson_fills_the_form_and_the_page_says_how_the_run_ended(tmp_path, monkeypatch):
    """Tutorial 000's lesson: every widget takes the text's setting, validating on the test
    split is flagged, and after the run the page shows the early stop and the kept epoch,
    the same sentence as the run record."""
    at = open_page(tmp_path, monkeypatch)
    at.selectbox(key="train_lesson").set_value("cifar3_batchnorm").run()
    assert not at.exception
    lesson = lessons.lesson("cifar3_batchnorm")
    assert at.selectbox(key="train_arch").value == "cifar_bn3"
    assert at.select_slider(key="train_batch_size").value == 128
    assert at.selectbox(key="train_monitor").value == "val_accuracy"
    assert at.selectbox(key="train_validation").value == "test"
    assert at.number_input(key="train_early_stopping_patience").value == 3
    assert any("Validating on the test images" in w.value for w in at.warning)
    text = markdown_text(at)
    assert "Image Classification with CNNs" in text and "0.883" in text
    assert any("the text trained on 15,000 images; this machine has" in c.value.lower()
               for c in at.caption)
    # the form is the lesson's, but for the local data sizes
    cfg = config.from_state(at.session_state)
    assert lessons.differences(cfg, lesson) == []
    at.button(key="train_start").click().run()
    wait_for(at, lambda a: "Status: **finished**" in markdown_text(a), timeout=300)
    (run,) = rundir.list_runs()
    sentence = rundir.status_sentence(run.result(), run.config().to_dict())
    assert sentence.startswith("Stopped early at epoch") and "kept epoch" in sentence
    assert sentence in markdown_text(at)
    assert "Your run: **best val_accuracy" in markdown_text(at)


def test_the_002_lesson_offers_the_model_it_is_compared_with(tmp_path, monkeypatch):
    at = open_page(tmp_path, monkeypatch)
    at.selectbox(key="train_lesson").set_value("mnist_cnn").run()
    assert at.selectbox(key="train_arch").value == "mnist_cnn"
    assert "compares **mnist_cnn** with **mnist_logistic**" in markdown_text(at)
    at.button(key="train_load_companion").click().run()
    assert at.selectbox(key="train_lesson").value == "mnist_logistic"
    assert at.selectbox(key="train_arch").value == "logistic"
    assert at.selectbox(key="train_optimizer").value == "sgd"
    assert at.number_input(key="train_epochs").value == 50
    assert len(at.get("plotly_chart")) >= 1  # both models on one chart (bars appear once run)


def test_augmentation_follows_the_dataset(tmp_path, monkeypatch):
    at = open_page(tmp_path, monkeypatch)
    assert at.checkbox(key="train_augment_flip").value is False  # digits: no mirror images
    at.selectbox(key="train_dataset").set_value("cifar10").run()
    assert at.checkbox(key="train_augment_flip").value is True
    at.selectbox(key="train_dataset").set_value("mnist").run()
    assert at.checkbox(key="train_augment_flip").value is False


@requires_shared_data
def test_closed_sections_are_not_drawn(tmp_path, monkeypatch):
    """Past runs, the model summary and the class counts are built only while open:
    every viewer's rerun would pay for them."""
    from testutil import tiny_config

    from cnnlib.training import engine

    engine.train(tiny_config(arch="logistic", n_train=64, n_test=40, seed=1))
    at = open_page(tmp_path, monkeypatch, past_open=False)
    assert "Past runs (1)" in [e.label for e in at.expander]
    assert not [s for s in at.selectbox if s.key == "train_reopen"] and not at.dataframe
    at.session_state["train_past"] = True
    at.session_state["train_summary_open"] = True
    at.run()
    assert at.selectbox(key="train_reopen").options[1].startswith(rundir.list_runs()[0].name)
    assert at.dataframe  # the model summary's layers

