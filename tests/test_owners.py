"""One owner concept (cnnlib.owners): a token is never written down, only its tag; the
job manager and the store refuse with the one NotOwnerError; older cards that hold the
raw token are upgraded on their first read and keep their owner."""

import hashlib
import json
import os
from pathlib import Path

import pytest
from testutil import requires_shared_data, tiny_classifier, tiny_config

from cnnlib import jobs, owners, paths, store
from cnnlib.store import files
from tests.support.fake_runs import make_run

#: A distinctive token, as identity.owner() makes them (token_urlsafe(18): 24 characters).
TOKEN = "X-owner-token-7f3Qz9LmWc2K"


pytestmark = pytest.mark.usefixtures("no_bundled_models")  # see conftest.py




def files_holding(root: Path, needle: bytes) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle`` (zip members are stored
    uncompressed or deflated: a .keras file is searched inside too)."""
    import zipfile

    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if needle in data:
            found.append(path)
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                if any(needle in z.read(m) for m in z.namelist()):
                    found.append(path)
    return found


def test_the_tag_is_the_sha256_prefix_and_one_refusal_serves_jobs_and_store():
    assert owners.owner_tag(TOKEN) == hashlib.sha256(TOKEN.encode()).hexdigest()[:16]
    assert owners.TAG_RE.match(owners.owner_tag("cli")) and owners.owner_tag(None) is None
    assert owners.owner_tag("a") != owners.owner_tag("b")
    assert owners.is_owner(owners.owner_tag("a"), "a") and not owners.is_owner(
        owners.owner_tag("a"), "b")
    assert owners.is_owner(None, None) and not owners.is_owner(None, "a")
    with pytest.raises(TypeError, match="owner=3"):
        owners.owner_tag(3)
    assert store.NotOwnerError is jobs.NotOwnerError is owners.NotOwnerError
    assert jobs.owner_tag is owners.owner_tag


def test_a_saved_model_s_owner_token_is_nowhere_under_the_home_folder(tmp_path):
    home = Path(os.environ["CNN_STUDIO_HOME"])
    assert paths.user_models_dir().is_relative_to(home)
    store.save_model(tiny_classifier(3), "saved", owner=TOKEN)
    store.import_run(make_run(tmp_path, 1), "imported", owner=TOKEN)
    store.save_model(tiny_classifier(4), "saved", owner=TOKEN, overwrite=True)  # a replace too
    assert files_holding(home, TOKEN.encode()) == []
    card = store.read_card("saved")
    assert card["owner_tag"] == owners.owner_tag(TOKEN) and "owner" not in card
    assert all(m.owned_by(TOKEN) and not m.owned_by("someone") for m in store.list_models())
    # the files searched are the right ones: the tag is there
    assert {p.name for p in files_holding(home, owners.owner_tag(TOKEN).encode())} == {
        "saved.json", "imported.json"}


@requires_shared_data
def test_a_trained_and_saved_job_leaves_no_token_in_runs_models_or_job_files(monkeypatch):
    """The whole path a browser takes: a job trains as TOKEN (run directory, job.json,
    history), its model is saved to the store as TOKEN; the token is in no file."""
    home = Path(os.environ["CNN_STUDIO_HOME"])
    monkeypatch.delenv("CNN_STUDIO_RUNS_DIR")  # runs in $CNN_STUDIO_HOME/runs
    assert paths.runs_dir().is_relative_to(home)
    manager = jobs.JobManager(max_running=1, warm_workers=0)
    try:
        job = manager.start(tiny_config(), owner=TOKEN).wait(timeout=240)
    finally:
        manager.shutdown()
    assert job.state == "finished", job.error
    assert job.run_dir.path.is_relative_to(home) and job.run_dir.job()["owner"] == owners.owner_tag(
        TOKEN)
    store.import_run(job.run_dir, "trained", owner=TOKEN)
    assert (home / "runs").is_dir() and any(files_holding(home, b"trained"))
    assert files_holding(home, TOKEN.encode()) == []


def old_style(folder: Path, name: str, token: str | None) -> dict:
    """Rewrite a card as an earlier version wrote it: the raw token as ``owner``."""
    path = files.card_path(folder, name)
    card = json.loads(path.read_text())
    card.pop("owner_tag")
    card["owner"] = token
    path.write_text(json.dumps(card, indent=2))
    return card


def test_an_old_card_is_upgraded_by_a_reader_who_is_not_its_owner_and_keeps_its_owner():
    folder = paths.user_models_dir()
    store.save_model(tiny_classifier(3), "old", owner=TOKEN)
    before = old_style(folder, "old", TOKEN)
    assert TOKEN.encode() in files.card_path(folder, "old").read_bytes()
    (entry,) = store.list_models()  # the first read, by anyone: B's Home page
    assert entry.ok and entry.owned_by(TOKEN) and not entry.owned_by("B")
    on_disk = json.loads(files.card_path(folder, "old").read_text())
    assert on_disk == {**{k: v for k, v in before.items() if k != "owner"},
                       "owner_tag": owners.owner_tag(TOKEN)}
    assert files_holding(folder, TOKEN.encode()) == []
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(store.NotOwnerError, match="only they can delete it"):
        store.delete_model("old", owner="B")
    with pytest.raises(store.NotOwnerError):
        store.save_model(tiny_classifier(4), "old", owner="B", overwrite=True)
    assert store.delete_model("old", owner=TOKEN).name == "old.keras"


@pytest.mark.parametrize("read", [lambda: store.read_card("old"),
                                  lambda: store.load_with_card("old")[1]])
def test_each_reader_upgrades_and_a_script_s_card_stays_nobody_s(read):
    folder = paths.user_models_dir()
    store.save_model(tiny_classifier(3), "old")  # a script's: owner None
    old_style(folder, "old", None)
    card = read()
    assert card["owner_tag"] is None and "owner" not in card
    assert "owner" not in json.loads(files.card_path(folder, "old").read_text())
    with pytest.raises(store.NotOwnerError):
        store.delete_model("old", owner="cli")
    store.save_model(tiny_classifier(4), "old", overwrite=True)  # scripts still replace each other's


def test_an_old_card_that_cannot_be_rewritten_is_still_read_by_its_tag(tmp_path, monkeypatch):
    """A bundled folder (never written by a reader) and a read-only folder: the card stays
    as it is on disk, and every reader still sees the owner as a tag."""
    bundled = tmp_path / "bundled"
    store.save_model(tiny_classifier(3), "shipped", models_dir=bundled, owner="cli")
    old_style(bundled, "shipped", "cli")
    text = files.card_path(bundled, "shipped").read_text()
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(bundled))
    (entry,) = store.list_models()
    assert entry.bundled and "owner" not in entry.card and entry.card["owner_tag"] == \
        owners.owner_tag("cli")
    assert files.card_path(bundled, "shipped").read_text() == text
    monkeypatch.setattr(files, "rewrite_card", lambda *a: (_ for _ in ()).throw(
        PermissionError(13, "Permission denied")))
    store.save_model(tiny_classifier(3), "mine", owner=TOKEN)
    old_style(paths.user_models_dir(), "mine", TOKEN)
    card = store.read_card("mine")  # the rewrite fails: converted in memory all the same
    assert card["owner_tag"] == owners.owner_tag(TOKEN) and "owner" not in card
    assert [m.owned_by(TOKEN) for m in store.list_models()] == [False, True]
