"""The model and its card change together: full disk, read-only folders, and many
threads and processes saving under one name at once."""

import concurrent.futures
import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import pytest
from testutil import REPO, tiny_classifier

from cnnlib import paths, store
from cnnlib.owners import owner_tag
from cnnlib.store import files
from tests.support.fake_runs import make_run

pytestmark = pytest.mark.usefixtures("no_bundled_models")  # see conftest.py




def pair_now(folder, name):
    """(card, sha256 of the model file) read together, or None before the first save."""
    def read():
        return (json.loads(files.card_path(folder, name).read_text()),
                files.sha256_file(files.model_path(folder, name)))
    try:
        return files.read_pair(folder, name, read)
    except FileNotFoundError:
        return None


def assert_no_temporary_files(folder):
    left = [n for n in os.listdir(folder) if n.startswith(".") and not n.endswith(".lock")]
    assert left == []


def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


# ---------------------------------------------------------------- full disk --

def test_a_full_disk_while_writing_the_model_leaves_nothing(tmp_path, monkeypatch):
    run = make_run(tmp_path / "runs", 1)

    def half_then_full(src, dst, *args, **kwargs):
        with open(dst, "wb") as f:
            f.write(b"PK\x03\x04 half a zip")
        full_disk()

    monkeypatch.setattr(shutil, "copyfile", half_then_full)
    with pytest.raises(store.StoreWriteError) as e:
        store.import_run(run, "big", owner="A")
    folder = paths.user_models_dir()
    assert e.value.errno == errno.ENOSPC and isinstance(e.value, OSError)
    assert str(e.value) == (f"There is no space left on the disk of {folder}: the model was not "
                            "saved. Free some space (old training runs are a good start) and try "
                            "again.")
    assert os.listdir(folder) == [] and store.list_models() == []


@pytest.mark.parametrize("where", ["fsync", "card move"])
def test_a_full_disk_before_the_card_is_in_place_keeps_the_old_pair(tmp_path, monkeypatch, where):
    """A failure after the model file moved into place undoes the move: the old model
    and the old card, or (a first save) neither."""
    old = store.save_model(tiny_classifier(3), "kept", owner="A")
    old_sha, old_card = files.sha256_file(old), store.read_card("kept")
    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        if str(dst).endswith(".json"):
            full_disk()
        return real_replace(src, dst, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, *(("fsync", full_disk) if where == "fsync" else ("replace", replace)))
        for name in ("kept", "first"):
            with pytest.raises(store.StoreWriteError, match="no space left"):
                store.save_model(tiny_classifier(4), name, owner="A", overwrite=True)
    assert files.sha256_file(old) == old_sha and store.read_card("kept") == old_card
    assert [(m.name, m.ok) for m in store.list_models()] == [("kept", True)]
    assert_no_temporary_files(paths.user_models_dir())


# ---------------------------------------------------------- read-only folder --

def test_a_read_only_folder_is_a_sentence(tmp_path):
    folder = paths.user_models_dir()
    store.save_model(tiny_classifier(3), "there", owner="A")
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as root: a 0o555 folder stays writable")
        for call in (lambda: store.save_model(tiny_classifier(4), "new", owner="A"),
                     lambda: store.save_model(tiny_classifier(4), "there", owner="A", overwrite=True),
                     lambda: store.delete_model("there", owner="A")):
            with pytest.raises(store.StoreWriteError, match="cannot be written .it is read-only"):
                call()
        assert [m.name for m in store.list_models()] == ["there"]  # reading still works
        assert store.load_model("there").count_params() == 8 * 8 * 3 + 3
    finally:
        folder.chmod(0o755)
    assert_no_temporary_files(folder)


@pytest.mark.parametrize("done", ["saved", "deleted"])
def test_permission_denied_is_a_sentence_even_as_root(monkeypatch, done):
    """The same refusal, simulated (root writes into a 0o555 folder)."""
    store.save_model(tiny_classifier(3), "there", owner="A")

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", denied)
    with pytest.raises(store.StoreWriteError) as e:
        if done == "saved":
            store.save_model(tiny_classifier(4), "there", owner="A", overwrite=True)
        else:
            store.delete_model("there", owner="A")
    assert e.value.errno == errno.EACCES and "Errno" not in str(e.value)
    assert str(e.value).startswith(f"The folder {paths.user_models_dir()} cannot be written "
                                   f"(it is read-only or belongs to another user): the model "
                                   f"was not {done}. ")
    assert store.load_model("there").count_params() == 8 * 8 * 3 + 3


# --------------------------------------------------------------- concurrency --

def test_threads_saving_under_one_name(tmp_path):
    """8 threads x 5 saves of different models under one name, while a reader loads:
    no error, and every card the reader or the listing sees describes its model."""
    models = [[tiny_classifier(2 + 5 * t + i) for i in range(5)] for t in range(8)]
    stop, seen = threading.Event(), []

    def saver(t):
        for i, model in enumerate(models[t]):
            store.save_model(model, "race", owner="T", overwrite=True, card={"notes": f"{t}.{i}"})

    def reader():
        while not stop.is_set():
            try:
                model, card = store.load_with_card("race")
            except store.ModelNotFoundError:
                continue
            seen.append((model.count_params(), card["params"]))
            assert all(m.ok for m in store.list_models()), store.list_models()

    with concurrent.futures.ThreadPoolExecutor(9) as pool:
        read = pool.submit(reader)
        for done in [pool.submit(saver, t) for t in range(8)]:
            done.result()
        stop.set()
        read.result()
    assert seen and all(a == b for a, b in seen)
    model, card = store.load_with_card("race")
    t, i = map(int, card["notes"].split("."))
    assert model.count_params() == card["params"] == models[t][i].count_params()
    assert card["model_sha256"] == files.sha256_file(files.model_path(paths.user_models_dir(), "race"))
    assert_no_temporary_files(paths.user_models_dir())


CHILD = """
import sys, time
from pathlib import Path
from cnnlib import store
go, runs, first = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
while not go.exists():
    time.sleep(0.001)
for i in range(first, first + 5):
    store.import_run(runs / f"run-{i:03d}", "race", owner="P", overwrite=True)
"""


def test_processes_saving_under_one_name(tmp_path):
    """8 processes x 5 saves of different models under one name: none fails, and the
    card the parent reads meanwhile (and at the end) always describes the model file."""
    runs = [make_run(tmp_path / "runs", i) for i in range(40)]
    sha_of_run = {str(r.path): files.sha256_file(r.model_path) for r in runs}
    go = tmp_path / "go"
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(go), str(tmp_path / "runs"),
                                  str(5 * p)], cwd=REPO, stderr=subprocess.PIPE, text=True)
                for p in range(8)]
    folder, checked = paths.user_models_dir(), 0
    try:
        time.sleep(1.0)  # the children import cnnlib and wait
        go.touch()
        while any(c.poll() is None for c in children):
            pair = pair_now(folder, "race")
            if pair is not None:
                card, sha = pair
                assert card["model_sha256"] == sha == sha_of_run[card["run_dir"]]
                checked += 1
    finally:
        errors = [c.communicate(timeout=120)[1] for c in children]
    assert [c.returncode for c in children] == [0] * 8, errors
    card, sha = pair_now(folder, "race")
    assert card["model_sha256"] == sha == sha_of_run[card["run_dir"]] and card["owner_tag"] == owner_tag("P")
    (entry,) = store.list_models()
    assert entry.ok and entry.card == card
    assert store.load_model("race").count_params() == entry.card["params"]
    assert_no_temporary_files(folder)


def test_owners_racing_for_a_new_name_one_wins(tmp_path):
    """8 owners save a new name at once, each with overwrite: the first in owns it, the
    seven others are told it is someone else's, and the files are the winner's."""
    runs = [make_run(tmp_path / "runs", i) for i in range(8)]
    barrier = threading.Barrier(8)

    def save(i):
        barrier.wait()
        try:
            store.import_run(runs[i], "prize", owner=f"o{i}", overwrite=True)
            return i
        except store.NotOwnerError:
            return None

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(save, range(8)))
    (winner,) = [r for r in results if r is not None]
    card, sha = pair_now(paths.user_models_dir(), "prize")
    assert card["owner_tag"] == owner_tag(f"o{winner}") and sha == files.sha256_file(runs[winner].model_path)


def test_a_card_that_does_not_describe_its_file_is_flagged(tmp_path):
    """The last defence (a process killed between the two moves): the card's SHA-256."""
    store.save_model(tiny_classifier(3), "x", models_dir=tmp_path)
    store.save_model(tiny_classifier(4), "y", models_dir=tmp_path)
    shutil.copyfile(tmp_path / "y.keras", tmp_path / "x.keras")
    entries = {m.name: m for m in store.list_models(tmp_path)}
    assert entries["y"].ok and "another version" in entries["x"].error
