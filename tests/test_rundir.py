"""The run protocol without training: events, progress arithmetic, run directories."""

import json

import numpy as np
import pytest

from cnnlib import rundir
from cnnlib.rundir import RunDir
from cnnlib.training.config import TrainConfig


def start(batches=10, n_train=640, epochs=3):
    return {"type": "start", "elapsed": 0.0, "batches": batches, "n_train": n_train,
            "config": TrainConfig(epochs=epochs).to_dict()}


def batch(epoch, b, batches=10, rate=100.0):
    return {"type": "batch", "elapsed": 1.0, "epoch": epoch, "batch": b, "batches": batches,
            "loss": 1.0, "accuracy": 0.5, "samples_per_s": rate}


def test_progress_fraction_rate_and_time_left():
    # 3 epochs of 10 batches of 64 images, one batch every 0.5 s (128 images/s);
    # done: epoch 2, batch 5 -> 15 of 30 batches
    events = [start()]
    for k in range(15):
        epoch, b = 1 + k // 10, 1 + k % 10
        events.append(dict(batch(epoch, b), elapsed=0.5 * k))
    events[-1], events[-2] = events[-2], events[-1]  # out of order
    p = rundir.progress(events)
    assert (p.epoch, p.batch, p.batches) == (2, 5, 10)
    assert p.fraction == pytest.approx(0.5) and p.samples_per_s == pytest.approx(128.0)
    # 15 batches x 64 images left at 128 images/s
    assert p.seconds_left == pytest.approx(15 * 64 / 128)


def test_progress_before_the_first_batch_and_at_the_end():
    assert rundir.progress([]) is None and rundir.progress([start()]) is None
    p = rundir.progress([start(epochs=1), batch(1, 10)])
    assert p.fraction == 1.0 and p.seconds_left == 0
    assert rundir.progress([start(), batch(1, 1, rate=0.0)]).seconds_left is None


def test_of_type_sorts_batches_and_last_finds_the_latest():
    events = [batch(1, 2), {"type": "epoch", "epoch": 1}, batch(1, 1), {"type": "epoch", "epoch": 2}]
    assert [e["batch"] for e in rundir.of_type(events, "batch")] == [1, 2]
    assert rundir.last(events, "epoch")["epoch"] == 2 and rundir.last(events, "end") is None


def test_run_dir_round_trip(tmp_path):
    cfg = TrainConfig(epochs=2, run_root=str(tmp_path))
    run = RunDir.create(cfg)
    assert run.config() == cfg and run.state() == "unknown" and run.events() == []
    with run.history_writer() as write:
        write(start())
        write(batch(1, 1))
    (run.path / "history.jsonl").open("a").write('{"type": "epo')  # a torn last line
    assert [e["type"] for e in run.events()] == ["start", "batch"]
    run.write_job({"id": "job1", "state": "running"})
    assert run.state() == "running"
    run.write_result({"type": "end", "status": "finished"})
    assert run.result()["status"] == "finished"
    assert not list(run.path.glob(".*.tmp"))  # atomic writes leave nothing behind


def test_list_runs_newest_first_and_only_with_a_config(tmp_path):
    a = RunDir.create(TrainConfig(run_root=str(tmp_path)))
    b = RunDir.create(TrainConfig(run_root=str(tmp_path), dataset="cifar10"))
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    assert rundir.list_runs(tmp_path) == [b, a]
    assert rundir.list_runs(tmp_path / "absent") == []


def test_predictions_check_the_images_they_were_made_on(tmp_path):
    run = RunDir.create(TrainConfig(run_root=str(tmp_path)))
    rng = np.random.default_rng(0)
    x_test = rng.integers(0, 256, (20, 4, 4, 1), dtype=np.uint8)
    y_test = rng.integers(0, 3, 20)
    idx = np.array([1, 5, 7])
    probs = rng.dirichlet(np.ones(3), 3).astype(np.float32)
    run.write_predictions(probs, y_test[idx], idx, x_test[idx])
    p = run.predictions()
    np.testing.assert_array_equal(p.probs, probs)
    np.testing.assert_array_equal(p.test_images(x_test, y_test), x_test[idx])
    # same length, other images: caught (the page used to compare lengths only)
    assert p.test_images(x_test[::-1].copy(), y_test[::-1].copy()) is None
    assert p.test_images(x_test[:5], y_test[:5]) is None  # indices out of range


def test_predictions_of_an_older_run_without_indices_are_not_used(tmp_path):
    run = RunDir.create(TrainConfig(run_root=str(tmp_path)))
    np.savez_compressed(run.path / "test_predictions.npz", probs=np.ones((2, 2), np.float32),
                        y_true=np.zeros(2, np.int64))
    assert run.predictions() is None
    (run.path / "test_predictions.npz").write_bytes(b"damaged")
    assert run.predictions() is None
    assert json.loads((run.path / "config.json").read_text())["epochs"] == 5


@pytest.mark.parametrize("end,config,expected", [
    ({"status": "early_stopped", "epochs_done": 4, "complete_epochs": 4, "kept_epoch": 1,
      "monitor": "val_accuracy", "kept_value": 0.35},
     {"early_stopping_patience": 3, "keep_best": True},
     "Stopped early at epoch 4 (no better val_accuracy for 3 epochs); kept epoch 1 "
     "(val_accuracy 0.35)."),
    ({"status": "finished", "epochs_done": 10, "complete_epochs": 10, "kept_epoch": 10,
      "monitor": "val_loss", "kept_value": 0.1234},
     {"keep_best": False}, "Finished all 10 epochs; kept the last epoch, 10 (val_loss 0.123)."),
    ({"status": "stopped", "epochs_done": 3, "complete_epochs": 2, "kept_epoch": 2,
      "monitor": "loss", "kept_value": 0.5},
     {"keep_best": True}, "Stopped on request during epoch 3; kept epoch 2 (loss 0.5)."),
    ({"status": "stopped", "epochs_done": 1, "complete_epochs": 0, "kept_epoch": None,
      "monitor": "val_loss", "kept_value": None},
     {"keep_best": True}, "Stopped on request during epoch 1; no epoch was complete, so the "
     "model keeps the weights it had when it stopped."),
    ({"status": "early_stopped", "epochs_done": 2, "complete_epochs": 2, "kept_epoch": 1,
      "monitor": "loss", "kept_value": 1.0},
     {"early_stopping_patience": 1, "keep_best": True},
     "Stopped early at epoch 2 (no better loss for 1 epoch); kept epoch 1 (loss 1)."),
])
def test_status_sentence_says_how_it_ended_and_what_it_kept(end, config, expected):
    assert rundir.status_sentence(end, config) == expected


def test_batch_values_undo_keras_running_means():
    """Running means over 10 + 10 + 5 images (a short last batch), then a new epoch."""
    own = [0.9, 0.3, 0.6]
    seen = [10, 20, 25]
    means = [sum(o * (s - p) for o, s, p in zip(own[:i + 1], seen, [0] + seen)) / seen[i]
             for i in range(3)]
    events = [dict(batch(1, b + 1, batches=3), loss=means[b], accuracy=None, seen=seen[b])
              for b in range(3)]
    events.append(dict(batch(2, 1, batches=3), loss=0.2, accuracy=0.5, seen=10))
    out = rundir.batch_values(events[::-1])  # any order in
    assert [e["loss"] for e in out] == pytest.approx(own + [0.2])
    assert [e["accuracy"] for e in out] == [None, None, None, 0.5]
    # a missing batch leaves a gap rather than a wrong value
    gap = rundir.batch_values([events[0], events[2]])
    assert gap[0]["loss"] == pytest.approx(0.9) and gap[1]["loss"] is None


def test_time_left_ignores_tracing_and_waits_for_a_few_batches():
    """The first batch takes 5 s (graph tracing), every later one 0.1 s: the estimate
    comes after a few batches and matches the real time left, not the slow start."""
    events = [start(batches=100, n_train=6400, epochs=1)]
    for b in range(1, 51):
        events.append(dict(batch(1, b, batches=100), elapsed=5.0 + 0.1 * (b - 1),
                           samples_per_s=64 * b / (5.0 + 0.1 * (b - 1))))
        p = rundir.progress(events)
        if b <= rundir.events.MIN_BATCHES_FOR_ESTIMATE + 1:
            assert p.seconds_left is None
    true_left = 50 * 0.1  # 50 batches of 0.1 s
    assert p.seconds_left == pytest.approx(true_left, rel=0.3)
    assert p.samples_per_s == pytest.approx(640, rel=0.01)


def test_time_left_skips_the_eager_batches_and_the_tracing_one():
    """Quick start: 3 eager batches of 0.3 s, a 2 s batch (tracing), then 0.1 s each.
    The estimate uses only the fast batches, so it is right at once."""
    events = [dict(start(batches=100, n_train=6400, epochs=1), eager_batches=3)]
    t = 0.0
    for b in range(1, 31):
        t += 0.3 if b <= 3 else 2.0 if b == 4 else 0.1
        events.append(dict(batch(1, b, batches=100), elapsed=t))
        p = rundir.progress(events)
        if b <= 4 + rundir.events.MIN_BATCHES_FOR_ESTIMATE:
            assert p.seconds_left is None, b
    assert p.seconds_left == pytest.approx(70 * 0.1, rel=0.01)


def fake_run(root, stamp, state=None, size=0, result=False, owner=None):
    """A run directory named for its start time ``stamp``, with ``size`` bytes of model,
    a ``job.json`` in ``state`` (None: none) and an end event when ``result``."""
    run = RunDir(root / f"{stamp}-mnist-studio_cnn")
    run.path.mkdir(parents=True)
    (run.path / "config.json").write_text(json.dumps(TrainConfig().to_dict()))
    (run.path / "best.keras").write_bytes(b"\0" * size)
    if state is not None:
        run.write_job({"id": "job1", "state": state, "error": None, "pid": 1, "owner": owner})
    if result:
        run.write_result({"type": "end", "status": "finished"})
    return run


def test_run_states_owner_and_size(tmp_path):
    running = fake_run(tmp_path, "20250101-000001", "running", size=1000, owner="abc")
    assert not running.ended() and running.owner() == "abc"
    assert running.size_bytes() >= 1000
    assert fake_run(tmp_path, "20250101-000002", "interrupted").ended()
    cli = fake_run(tmp_path, "20250101-000003")  # the command line's: no job.json
    assert not cli.ended() and cli.owner() is None and cli.state() == "unknown"
    (cli.path / "result.json").write_text('{"type": "end", "status": "finished"}')
    assert cli.ended() and cli.state() == "finished"
    assert RunDir(tmp_path / "gone").size_bytes() == 0


def test_prune_deletes_the_oldest_ended_runs_first_and_never_a_live_one(tmp_path):
    mb = 1024 * 1024
    old_running = fake_run(tmp_path, "20250101-000001", "running", size=mb)
    old_finished = fake_run(tmp_path, "20250101-000002", "finished", size=mb)
    old_unknown = fake_run(tmp_path, "20250101-000003", None, size=mb)  # a CLI run, maybe live
    kept_by_caller = fake_run(tmp_path, "20250101-000004", "failed", size=mb)
    interrupted = fake_run(tmp_path, "20250101-000005", "interrupted", size=mb)
    newest = fake_run(tmp_path, "20250101-000006", "stopped", size=mb)
    # 6 MB now; 4.5 MB allowed: the two oldest ended runs that may go are deleted
    deleted = rundir.prune_runs(tmp_path, int(4.5 * mb), keep={kept_by_caller.path})
    assert deleted == [old_finished.path, interrupted.path]
    assert rundir.list_runs(tmp_path) == [newest, kept_by_caller, old_unknown, old_running]
    assert not list(tmp_path.glob(".deleting-*"))
    # under the size: nothing to do; nothing may go: the folder stays over it
    assert rundir.prune_runs(tmp_path, 10 * mb) == []
    assert rundir.prune_runs(tmp_path, 0, keep={kept_by_caller.path}) == [newest.path]
    assert rundir.list_runs(tmp_path) == [kept_by_caller, old_unknown, old_running]
    assert rundir.prune_runs(tmp_path / "absent", 0) == []
    with pytest.raises(ValueError, match="max_bytes=-1"):
        rundir.prune_runs(tmp_path, -1)


def test_list_runs_skips_a_run_being_deleted(tmp_path):
    run = fake_run(tmp_path, "20250101-000001", "finished")
    run.path.rename(tmp_path / f".deleting-{run.name}")
    assert rundir.list_runs(tmp_path) == []
