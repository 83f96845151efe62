"""The training engine on a tiny real subset: events, cooperative stop, run directory."""

import json
import math

import numpy as np
import pytest
from testutil import requires_shared_data, tiny_config

from cnnlib import rundir, store
from cnnlib.data import augment, datasets
from cnnlib.training import engine
from cnnlib.training.config import TrainConfig


@requires_shared_data
def test_one_epoch_emits_events_and_writes_run_dir():
    events = []
    result = engine.train(tiny_config(), on_event=events.append)
    types = [e["type"] for e in events]
    assert types[0] == "start" and types[-1] == "end"
    assert events[0]["eager_batches"] == 3  # QuickStart: the first points before tracing
    assert not result.model.run_eagerly  # evaluation and later use run traced
    batches = sorted((e for e in events if e["type"] == "batch"), key=lambda e: e["batch"])
    assert [e["batch"] for e in batches] == list(range(1, 10))  # 288 train images / 32
    assert all(np.isfinite(e["loss"]) and 0 <= e["accuracy"] <= 1 for e in batches)
    assert all(e["samples_per_s"] > 0 for e in batches)
    (epoch,) = [e for e in events if e["type"] == "epoch"]
    assert epoch["val_loss"] is not None and 0 <= epoch["val_accuracy"] <= 1
    assert result.status == "finished" and result.n_test == 64
    assert 0 <= result.test_accuracy <= 1
    run = result.run_dir
    assert run.config().arch == "mnist_cnn"
    lines = [json.loads(x) for x in (run.path / "history.jsonl").read_text().splitlines()]
    assert len(lines) == len([e for e in events if e["type"] != "snapshot"])
    assert run.model_path.stat().st_size > 0
    assert run.result()["status"] == "finished"
    assert run.events()[-1]["type"] == "end"
    assert rundir.list_runs(run.path.parent) == [run]


@requires_shared_data
def test_predictions_record_which_test_images_they_are():
    """The stored indices select, from the full test split, exactly the images and labels
    the run was evaluated on; another split is recognised as different."""
    result = engine.train(tiny_config(n_test=50, seed=3))
    preds = result.run_dir.predictions()
    full = datasets.load("mnist")
    assert preds.probs.shape == (50, 10) and len(preds.test_indices) == 50
    np.testing.assert_array_equal(full.y_test[preds.test_indices], preds.y_true)
    # the images the run saw: the engine's own subset of the full split
    expected = full.x_test[engine.eval_indices(full.y_test, 50, 3)]
    np.testing.assert_array_equal(preds.test_images(full.x_test, full.y_test), expected)
    # the same probabilities as the kept model gives on those images now
    np.testing.assert_allclose(engine.predict_probs(result.model, datasets.to_float(expected)),
                               preds.probs, atol=1e-5)
    # a data folder whose test split differs (here: images shifted by one) is caught
    assert preds.test_images(full.x_test[1:], full.y_test[1:]) is None
    changed = full.x_test.copy()
    changed[preds.test_indices[0]] ^= 1
    assert preds.test_images(changed, full.y_test) is None


@requires_shared_data
def test_keep_best_restores_the_best_epochs_weights():
    """With keep-best, the returned model and best.keras hold the weights of the epoch
    with the lowest val_loss: evaluating them on the validation images gives that
    epoch's val_loss, not the last epoch's."""
    # a high learning rate makes val_loss move around, so the best epoch is rarely the last
    config = tiny_config(arch="mlp", epochs=6, n_train=600, validation_split=0.2,
                         optimizer="sgd", learning_rate=0.5, seed=1)
    result = engine.train(config)
    val = [e["val_loss"] for e in result.history]
    best = int(np.argmin(val)) + 1
    assert best != len(val), f"the last epoch was the best ({val}): choose other settings"
    end = result.run_dir.result()
    assert end["best_epoch"] == best
    assert [e["epoch"] for e in result.history if e["best"]][-1] == best
    data = datasets.load("mnist", n_train=600, seed=1)
    _, va = engine.split_validation(data.y_train, 0.2, 1)
    x_val, y_val = datasets.to_float(data.x_train[va]), data.y_train[va]
    for model in (result.model, store.load_model_file(result.run_dir.model_path)):
        model.compile(loss="sparse_categorical_crossentropy")
        loss = model.evaluate(x_val, y_val, verbose=0, batch_size=256, return_dict=True)["loss"]
        assert loss == pytest.approx(val[best - 1], rel=1e-3)
        assert loss != pytest.approx(val[-1], rel=1e-3)


@requires_shared_data
def test_learns_something_in_a_few_epochs():
    """Not a stub: three epochs on 1,000 real digits beat chance by far."""
    result = engine.train(tiny_config(arch="mlp", epochs=3, n_train=1000, n_test=500))
    assert result.test_accuracy > 0.7
    losses = [e["loss"] for e in result.history]
    assert losses[-1] < losses[0]


@requires_shared_data
def test_stops_within_one_batch():
    events = []
    seen = {"batches": 0}

    def on_event(e):
        events.append(e)
        if e["type"] == "batch":
            seen["batches"] += 1

    stop_after = 3
    result = engine.train(tiny_config(epochs=5, n_train=640),
                            on_event=on_event, should_stop=lambda: seen["batches"] >= stop_after)
    n_batches = sum(e["type"] == "batch" for e in events)
    # the batch in flight when the request came may finish, nothing more
    assert stop_after <= n_batches <= stop_after + 2
    assert result.status == "stopped"
    assert events[-1]["type"] == "end" and events[-1]["status"] == "stopped"
    assert result.run_dir.model_path.exists()


@requires_shared_data
def test_cosine_schedule_decays_the_learning_rate_to_zero_over_all_batches(monkeypatch):
    """The optimizer's learning rate, read at the end of each epoch of an augmented run,
    is the cosine decay's lr0 * (1 + cos(pi * step / total)) / 2 (Loshchilov & Hutter,
    SGDR, 2017) with total = epochs * batches per epoch: 0 after the last batch."""
    compiled = []
    real_compile = engine.compile_model

    def compile_and_keep(model, *args, **kwargs):
        compiled.append(model)
        return real_compile(model, *args, **kwargs)

    monkeypatch.setattr(engine, "compile_model", compile_and_keep)
    seen = []

    def on_event(event):
        if event["type"] == "epoch":
            optimizer = compiled[-1].optimizer
            seen.append((int(optimizer.iterations), float(optimizer.learning_rate)))

    lr0, epochs, batches = 0.1, 3, 9  # 288 training images in batches of 32
    config = tiny_config(arch="logistic", augment_flip=True, augment_shift=0.1,
                         augment_rotation=10, augment_zoom=0.1, augment_stroke=True,
                         lr_schedule="cosine", optimizer="sgd", learning_rate=lr0, epochs=epochs)
    result = engine.train(config, on_event=on_event)
    assert result.status == "finished"
    total = epochs * batches
    assert [step for step, _ in seen] == [batches * e for e in range(1, epochs + 1)]
    for step, lr in seen:
        assert lr == pytest.approx(lr0 * (1 + math.cos(math.pi * step / total)) / 2, abs=1e-7)
    assert seen[0][1] < lr0 and seen[-1][1] == pytest.approx(0.0, abs=1e-7)


@requires_shared_data
@pytest.mark.parametrize("augmentation", [
    dict(augment_flip=True), dict(augment_shift=0.2), dict(augment_rotation=30),
    dict(augment_zoom=0.3), dict(augment_stroke=True),
    dict(augment_flip=True, augment_shift=0.1, augment_rotation=10, augment_zoom=0.1,
         augment_stroke=True)], ids=["flip", "shift", "rotation", "zoom", "stroke", "all"])
def test_augmented_batches_differ_from_the_originals(augmentation):
    """Each augmentation changes real digits (most of them), keeps their shape, range and
    label; a flip gives the original or its mirror image, nothing else."""
    data = datasets.load("mnist", n_train=64, seed=0)
    x = datasets.to_float(data.x_train)
    index = np.arange(len(x), dtype=np.int64)  # as the label: which original each image is
    batches = list(augment.train_input(x, index, 16, tiny_config(**augmentation)))
    out = np.concatenate([a.numpy() for a, _ in batches])
    which = np.concatenate([b.numpy() for _, b in batches])
    assert sorted(which) == list(index) and out.shape == x.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 + 1e-6
    originals = x[which]
    changed = np.abs(out - originals).reshape(len(x), -1).max(axis=1) > 1e-3
    assert changed.mean() > 0.25, f"only {changed.sum()} of {len(x)} images changed"
    if augmentation == dict(augment_flip=True):
        mirrored = np.flip(originals, axis=2)
        same = np.isclose(out, originals).all(axis=(1, 2, 3))
        flipped = np.isclose(out, mirrored).all(axis=(1, 2, 3))
        assert np.all(same | flipped) and flipped.any() and same.any()


@pytest.mark.parametrize("field,value", [("epochs", 0), ("optimizer", "adagrad"),
                                         ("validation_split", 0.95), ("learning_rate", -1.0),
                                         ("augment_rotation", 500), ("lr_schedule", "step")])
def test_invalid_config_raises(field, value):
    with pytest.raises(ValueError, match=field):
        engine.train(tiny_config(**{field: value}))


def test_train_input_is_always_a_dataset_of_shuffled_batches():
    import tensorflow as tf

    x = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1) / 10
    y = np.arange(10, dtype=np.int64)
    for config in (tiny_config(), tiny_config(augment_flip=True)):
        ds = augment.train_input(x, y, 4, config)
        assert isinstance(ds, tf.data.Dataset)
        batches = [(a.numpy(), b.numpy()) for a, b in ds]
        assert [len(b) for _, b in batches] == [4, 4, 2]
        labels = np.concatenate([b for _, b in batches])
        assert sorted(labels) == list(range(10)) and list(labels) != list(range(10))
        if not config.augment_flip:  # no augmentation: images untouched, paired with labels
            images = np.concatenate([a for a, _ in batches]).reshape(-1)
            np.testing.assert_allclose(images, labels / 10)


def test_random_stroke_width_thickens_or_thins():
    import tensorflow as tf

    img = np.zeros((64, 9, 9, 1), np.float32)
    img[:, 4, :, 0] = 1.0  # a one-pixel horizontal line
    out = np.asarray(augment.random_stroke_width(tf.constant(img), seed=1))
    ink = out.reshape(64, -1).sum(1)
    # kept (9), thickened by one or two pixels (18, 27), thinned away (0)
    assert set(np.round(ink).astype(int)) == {0, 9, 18, 27}


def test_sgd_momentum_is_the_config_s_and_zero_by_default():
    assert TrainConfig().momentum == 0.0
    assert engine.make_optimizer("sgd", 0.01).momentum == 0.0
    assert engine.make_optimizer("sgd", 0.01, momentum=0.9).momentum == 0.9


@requires_shared_data
def test_validation_on_the_test_split_measures_the_reported_images():
    """With validation="test", the epoch's val_accuracy is the test accuracy of the same
    weights: the run validates on exactly the images it reports."""
    result = engine.train(tiny_config(validation="test", keep_best=False, n_test=100))
    start = result.run_dir.events()[0]
    assert start["n_val"] == start["n_test"] == 100
    assert start["n_train"] == 320  # nothing held out of the training images
    (epoch,) = result.history
    assert epoch["val_accuracy"] == pytest.approx(result.test_accuracy, abs=1e-6)


@requires_shared_data
def test_standardize_is_kept_in_the_model_and_survives_saving():
    config = tiny_config(arch="logistic", normalization="standardize", n_train=200,
                         validation_split=0.0)
    result = engine.train(config)
    data = datasets.load("mnist", n_train=200, seed=config.seed)
    x = datasets.to_float(data.x_train)
    mean, std = result.run_dir.events()[0]["standardize"]
    assert mean == pytest.approx(float(x.mean())) and std == pytest.approx(float(x.std()))
    loaded = store.load_model_file(result.run_dir.model_path)  # safe mode
    layer = loaded.get_layer("standardize")
    out = np.asarray(layer(x[:2]))
    np.testing.assert_allclose(out, (x[:2] - mean) / std, rtol=1e-4, atol=1e-4)
    assert loaded.layers[1].name == "standardize"  # first after the input


@requires_shared_data
def test_monitor_val_accuracy_keeps_the_highest_and_the_sentence_says_so():
    config = tiny_config(arch="mlp", epochs=6, n_train=600, validation_split=0.2,
                         optimizer="sgd", learning_rate=0.5, seed=1, monitor="val_accuracy",
                         early_stopping_patience=1)
    result = engine.train(config)
    accs = [e["val_accuracy"] for e in result.history]
    end = result.end
    assert end["monitor"] == "val_accuracy"
    assert end["kept_epoch"] == int(np.argmax(accs)) + 1 == end["best_epoch"]
    assert end["kept_value"] == max(accs)
    assert 0 <= end["train_accuracy"] <= 1 and end["train_loss"] > 0
    sentence = rundir.status_sentence(end, config.to_dict())
    if end["status"] == "early_stopped":
        assert sentence.startswith(f"Stopped early at epoch {len(accs)} (no better val_accuracy")
    assert f"kept epoch {end['kept_epoch']} (val_accuracy" in sentence


@requires_shared_data
def test_a_val_monitor_without_validation_falls_back_to_the_training_metric():
    result = engine.train(tiny_config(validation_split=0.0, monitor="val_accuracy"))
    assert result.end["monitor"] == "accuracy" and result.end["kept_epoch"] == 1


def test_fill_mode_and_flips_reach_the_augmentation_layers():
    import tensorflow as tf

    ones = tf.ones((8, 12, 12, 1))
    for fill, expect_zeros in (("nearest", False), ("constant", True)):
        aug = augment.augmentation_layers(tiny_config(augment_shift=0.4, augment_fill_mode=fill))
        out = np.asarray(aug(ones, training=True))
        assert (out.min() < 0.5) == expect_zeros, fill  # nearest repeats the edge: still ones
    modes = {(h, v): augment.augmentation_layers(
        tiny_config(augment_flip=h, augment_vertical_flip=v)).get_layer("aug_flip").mode
        for h, v in ((True, False), (False, True), (True, True))}
    assert modes == {(True, False): "horizontal", (False, True): "vertical",
                     (True, True): "horizontal_and_vertical"}


@requires_shared_data
def test_live_snapshots_show_the_first_conv_layer_as_it_learns():
    """Snapshots reach the readers (not history.jsonl), carry the first conv layer's
    kernels and the maps of the first test image, and the kernels change as it learns."""
    events = []
    config = tiny_config(arch="mnist_cnn", epochs=2, n_train=640, snapshot_every_s=1e-6)
    result = engine.train(config, on_event=events.append)
    snaps = [e for e in events if e["type"] == "snapshot"]
    assert len(snaps) >= 2
    first, last_snap = (np.asarray(snaps[i]["kernels"]) for i in (0, -1))
    assert first.shape == (3, 3, 1, 64) and not np.allclose(first, last_snap)
    assert np.asarray(snaps[0]["maps"]).shape == (26, 26, 16) and snaps[0]["layer"] == "conv1"
    assert np.asarray(snaps[0]["maps"]).min() >= 0  # after conv1's ReLU
    assert all(e["type"] != "snapshot" for e in result.run_dir.events())
    # the kernels sent are the model's: the last snapshot before the end matches within rounding
    assert np.abs(last_snap - np.asarray(result.model.get_layer("conv1").kernel)).max() < 0.5


def test_quick_start_runs_the_first_batches_eagerly_with_the_same_maths():
    """QuickStart: batches 1-3 eager, the rest traced; the weights after 8 steps equal a
    run traced from the start (same initial weights, dropout seed, data order and
    optimizer; measured: differences <= 6e-5, while different dropout masks give 0.1)."""
    import keras

    from cnnlib.models import zoo
    from cnnlib.training.callbacks import QuickStart

    rng = np.random.default_rng(0)
    x, y = rng.random((64, 12, 12, 1), dtype=np.float32), rng.integers(0, 3, 64)
    cfg = TrainConfig(learning_rate=0.01)
    first = zoo.build("lenet5", (12, 12, 1), 3)
    start_weights = first.get_weights()

    def fit(quick: bool):
        keras.utils.set_random_seed(5)  # the same dropout masks on both sides
        model = zoo.build("lenet5", (12, 12, 1), 3)
        model.set_weights(start_weights)
        engine.compile_model(model, cfg, run_eagerly=quick)
        eager = []

        class Record(keras.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                eager.append(self.model.run_eagerly)

        callbacks = ([QuickStart(3)] if quick else []) + [Record()]
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=callbacks)
        return model, eager

    quick, eager = fit(True)
    assert eager == [True] * 3 + [False] * 5 and not quick.run_eagerly
    traced, eager = fit(False)
    assert eager == [False] * 8
    for a, b in zip(quick.get_weights(), traced.get_weights()):  # float rounding apart
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=2e-4)
    with pytest.raises(ValueError, match="at least one eager batch"):
        QuickStart(0)
