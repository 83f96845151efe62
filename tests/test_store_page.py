"""The store as the pages use it: the Train page's save form for two browsers (owner
tokens "A" and "B"), and the Home page's model listing."""

import errno
import shutil

import pytest
from streamlit.testing.v1 import AppTest
from testutil import REPO

from cnnlib import paths, store
from cnnlib.models import zoo
from cnnlib.owners import owner_tag
from tests.support.fake_runs import make_run


def results_page(run_path):
    """The results of one finished run, as the Train page shows them (key "t")."""
    from cnnlib.rundir import RunDir
    from pages import train_results

    run = RunDir(run_path)
    train_results.show_results(run, run.events(), "t")


def browser(run, owner: str) -> AppTest:
    """A session of the browser whose owner token is ``owner``, showing ``run``."""
    at = AppTest.from_function(results_page, args=(str(run.path),), default_timeout=60)
    at.session_state["identity_owner"] = owner  # what pages.identity.owner() keeps
    at.run()
    assert not at.exception
    return at


def save(at: AppTest, name: str, replace: bool = False) -> tuple[list[str], list[str]]:
    """Fill in and submit the save form; the success and error texts shown after it."""
    at.text_input(key="train_save_name_t").set_value(name)
    box = at.checkbox(key="train_overwrite_t")
    box.check() if replace else box.uncheck()
    at.button(key="train_save_submit_t").click().run()
    assert not at.exception
    return [s.value for s in at.success], [e.value for e in at.error]


@pytest.fixture
def run(tmp_path):
    return make_run(tmp_path / "runs", 1)


def test_only_the_browser_that_saved_a_model_replaces_it(run, tmp_path):
    a, b = browser(run, "A"), browser(make_run(tmp_path / "runs", 2), "B")
    assert save(a, "mine") == (["Saved as 'mine': it is now available on the Convolution and "
                                "Classify pages."], [])
    assert save(b, "mine", replace=True) == ([], [
        "The model 'mine' was saved by someone else: only they can replace it. Choose another "
        "name."])
    assert save(b, "mine") == ([], ["A model named 'mine' already exists; choose another name."])
    assert store.read_card("mine")["run_dir"] == str(run.path)  # still A's
    successes, errors = save(a, "mine", replace=True)
    assert successes and not errors
    (entry,) = [m for m in store.list_models() if m.name == "mine"]
    assert entry.owner_tag == owner_tag("A") and entry.ok


def test_a_bundled_name_is_refused_and_the_repository_untouched(run, monkeypatch):
    folder = REPO / "models"
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(folder))
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    at = browser(run, "B")
    for name in ("mnist", "cifar10"):
        assert save(at, name, replace=True) == ([], [
            f"'{name}' is one of CNN Studio's bundled models, which cannot be replaced. "
            "Choose another name."])
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_a_full_disk_is_a_sentence_and_leaves_no_file(run, monkeypatch):
    at = browser(run, "A")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", full)
    successes, (error,) = save(at, "big")
    assert not successes and error.startswith("There is no space left on the disk of ")
    assert "the model was not saved" in error and "Traceback" not in error
    assert list(paths.user_models_dir().iterdir()) == []


def test_home_says_whose_each_model_is(monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(REPO / "models"))
    model = zoo.build("logistic", (8, 8, 1), 3)
    store.save_model(model, "mine", owner="A", card={"dataset": "mnist"})
    store.save_model(model, "theirs", owner="B", card={"dataset": "mnist"})
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.session_state["identity_owner"] = "A"
    at.run()
    assert not at.exception
    (models,) = [df.value for df in at.expander[0].dataframe if "whose" in df.value]
    assert dict(zip(models["model"], models["whose"])) == {
        "cifar10": "bundled", "mnist": "bundled", "mine": "yours", "theirs": "someone else's"}
    captions = " ".join(c.value for c in at.caption)
    assert str(paths.user_models_dir()) in captions and str(REPO / "models") in captions
