"""The store's two folders: bundled models (read-only) and the user folder under
$CNN_STUDIO_HOME; where things go, what is listed, and that the repository's models/
is never written."""

import os
import shutil
from pathlib import Path

import pytest
from testutil import REPO, tiny_classifier

from cnnlib import paths, store
from cnnlib.owners import owner_tag
from tests.support.fake_runs import make_run


@pytest.fixture
def bundled(tmp_path, monkeypatch):
    """A bundled folder holding "zeta" (3 classes), as the app would ship it."""
    folder = tmp_path / "bundled"
    store.save_model(tiny_classifier(3), "zeta", card={"dataset": "mnist"}, models_dir=folder)
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(folder))
    return folder


def snapshot(folder: Path) -> dict:
    """Every entry of ``folder`` with its modification time (ns) and size."""
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir()}


def test_the_user_folder_defaults_outside_the_repository(monkeypatch, tmp_path):
    monkeypatch.delenv("CNN_STUDIO_HOME")
    monkeypatch.delenv("CNN_STUDIO_RUNS_DIR")
    assert paths.home() == Path.home() / ".cnn-studio"
    assert paths.user_models_dir() == Path.home() / ".cnn-studio" / "models"
    assert paths.runs_dir() == Path.home() / ".cnn-studio" / "runs"
    assert REPO not in paths.home().parents
    monkeypatch.setenv("CNN_STUDIO_HOME", str(tmp_path / "h"))
    assert (paths.user_models_dir(), paths.runs_dir()) == (tmp_path / "h" / "models",
                                                           tmp_path / "h" / "runs")
    monkeypatch.setenv("CNN_STUDIO_RUNS_DIR", str(tmp_path / "r"))  # still overrides
    assert paths.runs_dir() == tmp_path / "r"


def test_the_tests_never_use_the_real_user_folder():
    """conftest.py points $CNN_STUDIO_HOME at a temporary folder for every test."""
    home = paths.home().resolve()
    assert home != (Path.home() / ".cnn-studio").resolve() and REPO not in home.parents


def test_saves_go_to_the_user_folder_and_the_listing_puts_bundled_models_first(bundled):
    store.save_model(tiny_classifier(4), "alpha", card={"dataset": "mnist"}, owner="A")
    assert (paths.user_models_dir() / "alpha.keras").is_file()
    assert not (bundled / "alpha.keras").exists()
    entries = store.list_models()
    assert [(m.name, m.bundled, m.owner_tag) for m in entries] == [
        ("zeta", True, None), ("alpha", False, owner_tag("A"))]
    assert all(m.ok for m in entries) and entries[1].owned_by("A")
    assert not entries[0].owned_by(None)  # a bundled model is nobody's to replace
    # load_model finds either; the card comes from the same folder
    assert store.load_model("zeta").count_params() == 8 * 8 * 3 + 3
    model, card = store.load_with_card("alpha")
    assert model.count_params() == card["params"] == 8 * 8 * 4 + 4 and card["owner_tag"] == owner_tag("A")
    assert store.read_card("zeta")["dataset"] == "mnist"


def test_a_user_model_cannot_take_a_bundled_name(bundled, tmp_path):
    before = (bundled / "zeta.keras").read_bytes(), (bundled / "zeta.json").read_bytes()
    run = make_run(tmp_path / "runs", 1)
    for save in (lambda **kw: store.save_model(tiny_classifier(5), "zeta", **kw),
                 lambda **kw: store.import_run(run, "zeta", **kw),
                 lambda **kw: store.check_can_save("zeta", **kw)):
        for overwrite in (False, True):
            with pytest.raises(store.BundledModelError, match="'zeta' is one of CNN Studio's "
                                                              "bundled models") as e:
                save(owner="A", overwrite=overwrite)
            assert isinstance(e.value, PermissionError) and "Choose another name." in str(e.value)
    with pytest.raises(store.BundledModelError, match="cannot be deleted"):
        store.delete_model("zeta", owner="A")
    assert ((bundled / "zeta.keras").read_bytes(), (bundled / "zeta.json").read_bytes()) == before
    assert not paths.user_models_dir().exists() or not any(paths.user_models_dir().iterdir())


def test_overwrite_bundled_replaces_and_deletes_in_the_bundled_folder(bundled):
    path = store.save_model(tiny_classifier(6), "zeta", owner="cli", overwrite_bundled=True)
    assert path == bundled / "zeta.keras"
    (entry,) = store.list_models()
    assert entry.bundled and entry.ok and entry.card["params"] == 8 * 8 * 6 + 6
    assert store.delete_model("zeta", overwrite_bundled=True) == bundled / "zeta.keras"
    assert store.list_models() == []
    with pytest.raises(store.ModelNotFoundError, match="no model named 'zeta'"):
        store.load_model("zeta")


def test_the_repository_models_are_never_written(monkeypatch, tmp_path):
    """Save, replace and delete attempts under the bundled names, and reads, leave the
    repository's models/ exactly as it was: same files, same times (no lock or temporary
    file either)."""
    folder = REPO / "models"
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(folder))
    before = snapshot(folder)
    run = make_run(tmp_path / "runs", 1)
    for name in ("mnist", "cifar10"):
        with pytest.raises(store.BundledModelError):
            store.save_model(tiny_classifier(), name, overwrite=True, owner="B")
        with pytest.raises(store.BundledModelError):
            store.import_run(run, name, overwrite=True, owner="B")
        with pytest.raises(store.BundledModelError):
            store.delete_model(name, owner="B")
    store.save_model(tiny_classifier(), "fresh", owner="B")  # a new name goes to the user folder
    assert [m.name for m in store.list_models()][:2] == ["cifar10", "mnist"]
    model, card = store.load_with_card("mnist")
    assert card["dataset"] == "mnist" and model.output_shape == (None, 10)
    assert snapshot(folder) == before
    assert (paths.user_models_dir() / "fresh.keras").is_file()


def test_hidden_and_temporary_files_are_never_listed(tmp_path):
    store.save_model(tiny_classifier(), "real", models_dir=tmp_path)
    shutil.copyfile(tmp_path / "real.keras", tmp_path / ".real.tmp.keras")  # an old version's leftover
    (tmp_path / ".real~abc123.tmp").mkdir()  # a temporary directory of a save
    shutil.copyfile(tmp_path / "real.keras", tmp_path / ".real~abc123.tmp" / "new.keras")
    (tmp_path / "orphan.json").write_text("{}")  # a card without its model
    assert [m.name for m in store.list_models(tmp_path)] == ["real"]
    assert sorted(os.listdir(tmp_path)) == [".real.lock", ".real.tmp.keras", ".real~abc123.tmp",
                                            "orphan.json", "real.json", "real.keras"]


def test_a_hand_made_user_model_under_a_bundled_name_stays_hidden(bundled):
    user = paths.user_models_dir()
    user.mkdir(parents=True)
    shutil.copyfile(bundled / "zeta.keras", user / "zeta.keras")
    assert [(m.name, m.bundled) for m in store.list_models()] == [("zeta", True)]
