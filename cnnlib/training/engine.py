"""The training engine: one ``model.fit`` run, observable and stoppable.

``train(config, on_event, should_stop)`` loads the dataset, builds the model
from :mod:`cnnlib.models.zoo`, fits it, evaluates the kept model on the test images
and reports everything as :mod:`cnnlib.rundir` events, which it also writes to
a new run directory. It knows nothing about Streamlit; the Train page runs it
in a separate process (:mod:`cnnlib.jobs`) and the CLI runs it directly.

Pieces: the settings are :class:`cnnlib.training.config.TrainConfig`; the Keras
callbacks are in :mod:`cnnlib.training.callbacks`; the run directory and the events
are defined in :mod:`cnnlib.rundir`; augmentation is :mod:`cnnlib.data.augment`.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

import numpy as np

from cnnlib import rundir
from cnnlib.data import augment, datasets
from cnnlib.models import zoo
from cnnlib.rundir import EndEvent, RunDir, StartEvent
from cnnlib.training.config import OPTIMIZERS, TrainConfig, monitor_mode


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` returns."""

    model: object  # the keras.Model, with the kept (best or last) weights
    status: str  # finished | stopped | early_stopped
    history: list[dict]  # the epoch events
    test_loss: float
    test_accuracy: float  # fraction in [0, 1]
    n_test: int
    run_dir: RunDir
    dataset: datasets.Dataset  # as loaded: the training subset, the full test split
    end: EndEvent  # how it ended (status, kept epoch, train and test metrics)


def make_optimizer(name: str, learning_rate, total_steps: int | None = None,
                   schedule: str = "constant", momentum: float = 0.0):
    """A fresh Keras optimizer: ``adam``, ``sgd`` (with ``momentum``, 0 = plain SGD as
    Keras's default) or ``rmsprop``.

    With ``schedule="cosine"`` the learning rate follows a cosine decay from
    ``learning_rate`` to 0 over ``total_steps`` batches (Loshchilov & Hutter,
    SGDR, 2017).

    Raises:
        ValueError: an unknown ``name``.
    """
    import keras

    if schedule == "cosine" and total_steps:
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, total_steps)

    if name == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=learning_rate)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}. Received: optimizer={name!r}")


def compile_model(model, config: TrainConfig, steps_per_epoch: int | None = None,
                  run_eagerly: bool = False) -> None:
    """Compile ``model`` for integer labels: sparse categorical cross-entropy and
    accuracy, with ``config``'s optimizer; ``steps_per_epoch`` sizes a cosine schedule;
    ``run_eagerly`` as Keras's (:class:`~cnnlib.training.callbacks.QuickStart` needs it)."""
    total = steps_per_epoch * config.epochs if steps_per_epoch else None
    model.compile(optimizer=make_optimizer(config.optimizer, config.learning_rate, total,
                                           config.lr_schedule, config.momentum),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  run_eagerly=run_eagerly)


def split_validation(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/validation split of labels ``y`` ``(N,)``.

    Returns:
        ``(train, val)`` int64 index arrays; ``val`` holds ``round(N * fraction)``
        indices (at least one when ``fraction > 0``), ``train`` the rest, sorted.
    """
    if fraction <= 0:
        return np.arange(len(y)), np.arange(0)
    n_val = max(1, int(round(len(y) * fraction)))
    val = datasets.stratified_indices(y, n_val, seed=seed + 1)
    train = np.setdiff1d(np.arange(len(y)), val)
    return train, val


def eval_indices(y_test: np.ndarray, n_test: int | None, seed: int) -> np.ndarray:
    """Indices into the full test split of the images a run is evaluated on: all of
    them, or a stratified subset of ``n_test`` (int64 ``(min(n_test, N),)``, sorted)."""
    if n_test is None:
        return np.arange(len(y_test), dtype=np.int64)
    return datasets.stratified_indices(y_test, n_test, seed)


def load_data(config: TrainConfig) -> datasets.Dataset:
    """The run's dataset: a built-in one (:func:`cnnlib.data.datasets.load`), or an own
    one, ``own:<name>`` of the owner tagged ``config.dataset_owner``
    (:meth:`cnnlib.owndata.reader.OwnDataReader.dataset_for_training`, its test split held
    out stratified with ``config.seed``), then its stratified ``config.n_train`` subset.

    Raises:
        cnnlib.data.datasets.DatasetUnavailableError: a built-in dataset cannot be loaded.
        cnnlib.owndata.OwnDataError: an own dataset that is not there (a sentence).
    """
    from cnnlib.owndata import refs

    if not refs.is_own(config.dataset):
        return datasets.load(config.dataset, config.data_dir, n_train=config.n_train,
                             seed=config.seed)
    from cnnlib.owndata.reader import OwnDataReader

    data = OwnDataReader().dataset_for_training(config.dataset_owner, refs.name_of(config.dataset),
                                               seed=config.seed)
    if config.n_train is not None:
        idx = datasets.stratified_indices(data.y_train, config.n_train, config.seed)
        data = dataclasses.replace(data, x_train=data.x_train[idx], y_train=data.y_train[idx])
    return data


def eval_split(config: TrainConfig, owner: str | None) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The test images a run with ``config`` is evaluated on, read for the person ``owner``:
    :func:`load_data`'s test split (an own dataset's held out with ``config.seed``), then
    :func:`eval_indices` with ``config.n_test``. An own dataset is read only for its owner.

    Args:
        config: a run's settings (a model card's ``config``, :meth:`TrainConfig.from_dict`).
        owner: the viewer's token; for ``own:<name>``, the one whose tag is
            ``config.dataset_owner`` (:func:`cnnlib.owners.owner_tag`).

    Returns:
        ``(x, y, class_names)``: ``x`` uint8 ``(N, H, W, C)`` NHWC 0..255, ``y`` int64
        ``(N,)`` in ``0..K-1``, the ``K`` class names in label order.

    Raises:
        cnnlib.owners.NotOwnerError: an own dataset of someone else (a sentence).
        cnnlib.owndata.OwnDataError: an own dataset that cannot be read (a sentence).
        cnnlib.data.datasets.DatasetUnavailableError: a built-in dataset cannot be loaded.
    """
    from cnnlib.owndata import refs
    from cnnlib.owners import NotOwnerError, owner_tag

    if refs.is_own(config.dataset) and (config.dataset_owner is None
                                        or config.dataset_owner != owner_tag(owner)):
        raise NotOwnerError(f"The dataset {refs.name_of(config.dataset)!r} belongs to someone else.")
    return held_out_test(config)


def held_out_test(config: TrainConfig) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """:func:`eval_split` without the owner check, for a caller that made it (the
    conversion child, given a run the person may take home). Same returns; raises
    ``OwnDataError`` and ``DatasetUnavailableError`` as :func:`eval_split`."""
    data = load_data(dataclasses.replace(config, n_train=None))
    idx = eval_indices(data.y_test, config.n_test, config.seed)  # (N,) sorted
    return data.x_test[idx], data.y_test[idx], tuple(data.class_names)


def train(config: TrainConfig, on_event: Callable[[dict], None] | None = None,
          should_stop: Callable[[], bool] | None = None) -> TrainResult:
    """Train ``config.arch`` on ``config.dataset`` and evaluate on the test split; with
    ``config.base_model``, a new head on that network's frozen convolutional base
    (:func:`cnnlib.models.transfer.build`) instead of ``config.arch``.

    Args:
        config: the run's settings; validated first.
        on_event: called with each :mod:`cnnlib.rundir` event, from the training
            thread or a Keras worker thread.
        should_stop: polled before every batch; when it returns True the run
            stops after the batch in progress and keeps the best epoch so far.

    Returns:
        A :class:`TrainResult`; ``test_accuracy`` is a fraction in [0, 1].

    Raises:
        ValueError: an invalid config; an own dataset that cannot be read
            (:class:`cnnlib.owndata.OwnDataError`, a sentence); an unusable base
            (:class:`cnnlib.models.transfer.TransferError`, a sentence).
        cnnlib.models.vgg16_files.WeightsUnavailableError: base_model vgg16 without its
            weights file; the message says how to get it.
        cnnlib.data.datasets.DatasetUnavailableError: the dataset cannot be loaded.
    """
    config.validate()
    t0 = time.perf_counter()
    run = RunDir.create(config)
    epochs_seen: list[dict] = []

    with run.history_writer() as write:
        def emit(event: dict) -> None:
            if event["type"] != "snapshot":  # snapshots go to the readers only
                write(event)
            if event["type"] == "epoch":
                epochs_seen.append(event)
            if on_event is not None:
                on_event(event)

        import keras

        from cnnlib.training.callbacks import (
            EAGER_BATCHES,
            EventReporter,
            KeepBest,
            LiveSnapshots,
            QuickStart,
            StopOnRequest,
        )

        data = load_data(config)
        keras.utils.set_random_seed(config.seed)
        test_idx = eval_indices(data.y_test, config.n_test, config.seed)
        x_test, y_test = datasets.to_float(data.x_test[test_idx]), data.y_test[test_idx]
        if config.validation == "test":  # as the tutorials do: validate on the test images
            tr, va = np.arange(len(data.y_train)), np.arange(0)
            x_val, y_val = x_test, y_test
        else:
            tr, va = split_validation(data.y_train, config.validation_split, config.seed)
            x_val, y_val = datasets.to_float(data.x_train[va]), data.y_train[va]
        x_train = datasets.to_float(data.x_train[tr])  # (N, H, W, C) float32 [0, 1]
        y_train = data.y_train[tr]

        from cnnlib.models import transfer

        standardize = None
        if config.base_model is not None:  # a trained network's frozen base, a new head
            model = transfer.build(config.base_model, data.image_shape, data.num_classes)
        else:
            if config.normalization == "standardize":  # one mean and std over all pixels
                standardize = (float(x_train.mean()), float(x_train.std()))
            model = zoo.build(config.arch, data.image_shape, data.num_classes, standardize)
        trainable_params, _ = transfer.param_counts(model)
        batch_size = min(config.batch_size, len(x_train))
        batches = int(np.ceil(len(x_train) / batch_size))
        # the first batches run eagerly: the first curve point before the graph is traced
        compile_model(model, config, batches, run_eagerly=True)
        if config.adversarial_epsilon > 0:  # each batch doubled with its FGSM examples
            from cnnlib.training.adversarial import use_fgsm_training

            use_fgsm_training(model, config.adversarial_epsilon)
        has_val = len(x_val) > 0
        monitor = config.effective_monitor(has_val)
        emit(StartEvent(type="start", elapsed=time.perf_counter() - t0, config=config.to_dict(),
                        n_train=len(x_train), n_val=len(x_val), n_test=len(x_test),
                        batches=batches, params=int(model.count_params()), run_dir=str(run.path),
                        dataset_source=data.source, class_names=list(data.class_names),
                        monitor=monitor, standardize=standardize, eager_batches=EAGER_BATCHES,
                        trainable_params=trainable_params))

        stopper = StopOnRequest(should_stop or (lambda: False))
        keeper = KeepBest(monitor, run.model_path, mode=monitor_mode(monitor),
                          is_partial=lambda: stopper.stopped)
        callbacks = [QuickStart(EAGER_BATCHES), stopper] + ([keeper] if config.keep_best else []) + [EventReporter(
            emit, batches=batches, batch_size=batch_size, n_samples=len(x_train), t0=t0,
            is_partial=lambda: stopper.stopped, best_epoch=lambda: keeper.best_epoch)]
        if config.snapshot_every_s > 0 and on_event is not None and len(x_test):
            callbacks.append(LiveSnapshots(emit, x_test[0], config.snapshot_every_s, t0))
        if config.early_stopping_patience > 0:
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor=monitor, mode=monitor_mode(monitor),
                patience=config.early_stopping_patience))
        model.fit(augment.train_input(x_train, y_train, batch_size, config),
                  epochs=config.epochs, callbacks=callbacks, verbose=0, shuffle=False,
                  validation_data=(x_val, y_val) if has_val else None)

        complete = [e for e in epochs_seen if not e["partial"]]
        if stopper.stopped:
            status = "stopped"
        elif len(epochs_seen) < config.epochs:
            status = "early_stopped"
        else:
            status = "finished"
        if config.keep_best and keeper.restore():
            kept = keeper.best_epoch
        else:
            model.save(run.model_path)
            kept = complete[-1]["epoch"] if complete and not epochs_seen[-1]["partial"] else None
        kept_value = next((e.get(monitor) for e in complete if e["epoch"] == kept), None)
        test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
        train_loss, train_acc = model.evaluate(x_train, y_train, batch_size=256, verbose=0)
        probs = predict_probs(model, x_test)  # (N_test, num_classes)
        run.write_predictions(probs, y_test, test_idx, data.x_test[test_idx])
        end = EndEvent(type="end", elapsed=time.perf_counter() - t0, status=status,
                       epochs_done=len(epochs_seen), complete_epochs=len(complete),
                       best_epoch=keeper.best_epoch, kept_epoch=kept, monitor=monitor,
                       kept_value=kept_value, test_loss=float(test_loss),
                       test_accuracy=float(test_acc), n_test=len(x_test),
                       train_loss=float(train_loss), train_accuracy=float(train_acc),
                       status_text="")
        end["status_text"] = rundir.status_sentence(end, config.to_dict())
        emit(end)
        run.write_result(end)
    return TrainResult(model, status, epochs_seen, float(test_loss), float(test_acc),
                       len(x_test), run, data, end)


def warm_up() -> None:
    """Initialise Keras and TensorFlow for training in this process, so that the next
    :func:`train` starts at once: imports them and fits, validates, evaluates and calls
    a tiny model for one step on zeros (TensorFlow sets up its runtime, thread pools
    and tracing machinery on first use: ~3-4 s of the first run here, measured). A
    warm worker of :mod:`cnnlib.jobs` calls it while it waits for its job."""
    import keras

    x, y = np.zeros((4, 8, 8, 1), np.float32), np.zeros(4, np.int64)
    model = zoo.build("logistic", (8, 8, 1), 2)
    model.compile(optimizer=make_optimizer("adam", 1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(augment.train_input(x, y, 2, TrainConfig()), epochs=1, verbose=0, shuffle=False,
              validation_data=(x, y))
    model.evaluate(x, y, verbose=0)
    predict_probs(model, x)
    keras.backend.clear_session()


def predict_probs(model, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Softmax probabilities ``(N, num_classes)`` float32 for float32 images
    ``(N, H, W, C)`` in [0, 1], by direct model calls in batches."""
    out = [np.asarray(model(x[i:i + batch_size], training=False), dtype=np.float32)
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, model.output_shape[-1]), np.float32)
