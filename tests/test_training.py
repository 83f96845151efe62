"""The training engine on a tiny real subset: events, cooperative stop, run directory."""

import json

import numpy as np
import pytest

from cnnlib import augment, training
from testutil import requires_shared_data, tiny_config

pytestmark = requires_shared_data


def test_one_epoch_emits_events_and_writes_run_dir():
    events = []
    result = training.train(tiny_config(), on_event=events.append)
    types = [e["type"] for e in events]
    assert types[0] == "start" and types[-1] == "end"
    batches = sorted((e for e in events if e["type"] == "batch"), key=lambda e: e["batch"])
    assert [e["batch"] for e in batches] == list(range(1, 10))  # 288 train images / 32
    assert all(np.isfinite(e["loss"]) and 0 <= e["accuracy"] <= 1 for e in batches)
    assert all(e["samples_per_s"] > 0 for e in batches)
    (epoch,) = [e for e in events if e["type"] == "epoch"]
    assert epoch["val_loss"] is not None and 0 <= epoch["val_accuracy"] <= 1
    assert result.status == "finished" and result.n_test == 64
    assert 0 <= result.test_accuracy <= 1
    run = result.run_dir
    assert json.loads((run / "config.json").read_text())["arch"] == "mnist_cnn"
    lines = [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]
    assert len(lines) == len(events)
    assert (run / "best.keras").stat().st_size > 0
    assert json.loads((run / "result.json").read_text())["status"] == "finished"
    assert training.read_history(run)[-1]["type"] == "end"


def test_learns_something_in_a_few_epochs():
    """Not a stub: three epochs on 1,000 real digits beat chance by far."""
    result = training.train(tiny_config(arch="mlp", epochs=3, n_train=1000, n_test=500))
    assert result.test_accuracy > 0.7
    losses = [e["loss"] for e in result.history]
    assert losses[-1] < losses[0]


def test_stops_within_one_batch():
    events = []
    seen = {"batches": 0}

    def on_event(e):
        events.append(e)
        if e["type"] == "batch":
            seen["batches"] += 1

    stop_after = 3
    result = training.train(tiny_config(epochs=5, n_train=640),
                            on_event=on_event, should_stop=lambda: seen["batches"] >= stop_after)
    n_batches = sum(e["type"] == "batch" for e in events)
    # the batch in flight when the request came may finish, nothing more
    assert stop_after <= n_batches <= stop_after + 2
    assert result.status == "stopped"
    assert events[-1]["type"] == "end" and events[-1]["status"] == "stopped"
    assert (result.run_dir / "best.keras").exists()


def test_augmentation_and_schedule_run():
    config = tiny_config(arch="logistic", augment_flip=True, augment_shift=0.1,
                         augment_rotation=10, augment_zoom=0.1, augment_stroke=True,
                         lr_schedule="cosine", optimizer="sgd", early_stopping_patience=1, epochs=2)
    result = training.train(config)
    assert result.status in {"finished", "early_stopped"}


@pytest.mark.parametrize("field,value", [("epochs", 0), ("optimizer", "adagrad"),
                                         ("validation_split", 0.95), ("learning_rate", -1.0),
                                         ("augment_rotation", 500), ("lr_schedule", "step")])
def test_invalid_config_raises(field, value):
    with pytest.raises(ValueError, match=field):
        training.train(tiny_config(**{field: value}))


def test_random_stroke_width_thickens_or_thins():
    import tensorflow as tf

    img = np.zeros((64, 9, 9, 1), np.float32)
    img[:, 4, :, 0] = 1.0  # a one-pixel horizontal line
    out = np.asarray(augment.random_stroke_width(tf.constant(img), seed=1))
    ink = out.reshape(64, -1).sum(1)
    # kept (9), thickened by one or two pixels (18, 27), thinned away (0)
    assert set(np.round(ink).astype(int)) == {0, 9, 18, 27}
