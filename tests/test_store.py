"""The model store: round trip, cards, corrupt files listed instead of crashing."""

import json

import numpy as np
import pytest

from cnnlib import store
from cnnlib.models import zoo


@pytest.fixture
def tiny_model():
    return zoo.build("logistic", (8, 8, 1), 3)


def test_round_trip_keeps_predictions_and_card(tmp_path, tiny_model):
    x = np.random.default_rng(0).random((4, 8, 8, 1), dtype=np.float32)
    before = np.asarray(tiny_model(x))
    store.save_model(tiny_model, "tiny", card={"dataset": "mnist", "test_accuracy": 0.5},
                     models_dir=tmp_path)
    (entry,) = store.list_models(tmp_path)
    assert entry.ok and entry.name == "tiny"
    assert entry.card["params"] == 8 * 8 * 3 + 3 and entry.card["input_shape"] == [8, 8, 1]
    assert entry.card["dataset"] == "mnist" and "created" in entry.card
    loaded = store.load_model("tiny", models_dir=tmp_path)
    np.testing.assert_allclose(np.asarray(loaded(x)), before, rtol=1e-6)
    assert "50.0%" in entry.label()


def test_name_taken_and_bad_names(tmp_path, tiny_model):
    store.save_model(tiny_model, "a", models_dir=tmp_path)
    with pytest.raises(FileExistsError):
        store.save_model(tiny_model, "a", models_dir=tmp_path)
    store.save_model(tiny_model, "a", models_dir=tmp_path, overwrite=True)
    for bad in ("", "../evil", "a/b", "x" * 65, ".hidden"):
        with pytest.raises(ValueError, match="name="):
            store.save_model(tiny_model, bad, models_dir=tmp_path)


@pytest.mark.parametrize("content,reason", [
    (b"", "empty"),
    (b"this is not a zip file at all", "not a zip"),
])
def test_corrupt_files_are_listed_with_reason(tmp_path, tiny_model, content, reason):
    store.save_model(tiny_model, "good", models_dir=tmp_path)
    (tmp_path / "broken.keras").write_bytes(content)
    entries = {m.name: m for m in store.list_models(tmp_path)}
    assert entries["good"].ok
    assert not entries["broken"].ok and reason in entries["broken"].error
    assert "unusable" in entries["broken"].label()
    with pytest.raises(store.ModelLoadError, match=reason):
        store.load_model("broken", models_dir=tmp_path)


def test_truncated_archive_fails_to_load_cleanly(tmp_path, tiny_model):
    path = store.save_model(tiny_model, "t", models_dir=tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    (entry,) = store.list_models(tmp_path)
    assert not entry.ok
    with pytest.raises(store.ModelLoadError):
        store.load_model("t", models_dir=tmp_path)


def test_safe_mode_refuses_lambda_layers(tmp_path):
    import keras

    inp = keras.Input((4,))
    out = keras.layers.Lambda(lambda t: t * 2, name="double")(inp)
    keras.Model(inp, out).save(tmp_path / "lam.keras")
    with pytest.raises(store.ModelLoadError, match="lam.keras"):
        store.load_model("lam", models_dir=tmp_path)


def test_missing_model_and_card(tmp_path):
    with pytest.raises(store.ModelLoadError, match="no model named"):
        store.load_model("nothing", models_dir=tmp_path)
    (tmp_path / "x.json").write_text("{not json")
    assert store.read_card("x", tmp_path) == {}
    assert store.list_models(tmp_path / "absent") == []


def test_the_card_of_an_interrupted_run_names_its_state_and_kept_epoch(tmp_path):
    """A run cut short (no end event; job.json "interrupted") whose best epoch 2 of 3
    complete epochs is on disk: its card says so instead of leaving the fields empty."""
    from cnnlib.rundir import RunDir
    from tests.support.fake_runs import make_run

    run = make_run(tmp_path / "runs", 1)
    epochs = [{"type": "epoch", "elapsed": float(e), "epoch": e, "loss": 1.0 / e, "accuracy": 0.5,
               "val_loss": [0.9, 0.5, 0.7][e - 1], "val_accuracy": 0.5, "samples_per_s": 10.0,
               "partial": False, "best": e in (1, 2)} for e in (1, 2, 3)]
    start = [json.loads(line) for line in (run.path / "history.jsonl").read_text().splitlines()][0]
    (run.path / "history.jsonl").write_text("\n".join(json.dumps(e) for e in [start] + epochs) + "\n")
    (run.path / "result.json").unlink()
    run.write_job({"id": "job1", "state": "interrupted", "error": "the server stopped"})
    card = store.card_from_run(RunDir(run.path))
    assert (card["status"], card["epochs"], card["kept_epoch"]) == ("interrupted", 3, 2)
    assert card["test_accuracy"] is None  # never evaluated, and not made up
