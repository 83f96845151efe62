"""The training engine: one ``model.fit`` run, observable and stoppable.

``train(config, on_event, should_stop)`` loads the dataset, builds the model
from :mod:`cnnlib.zoo`, fits it and reports what happens as plain dict
events. It knows nothing about Streamlit; the Train page runs it in a
separate process (:mod:`cnnlib.jobs`) and the CLI runs it directly.

Events (every one has ``"type"`` and ``"elapsed"``, seconds since start):

* ``start``: ``config``, ``n_train``, ``n_val``, ``n_test``, ``batches``
  (per epoch), ``params``, ``run_dir``, ``dataset_source``.
* ``batch``: ``epoch`` (1-based), ``batch`` (1-based within the epoch),
  ``batches``, ``loss``, ``accuracy`` (running means over the epoch so far,
  as Keras reports them), ``samples_per_s``. Batch events may arrive slightly
  out of order (Keras dispatches them from worker threads): sort by
  ``(epoch, batch)`` when order matters.
* ``epoch``: ``epoch``, ``loss``, ``accuracy``, ``val_loss``,
  ``val_accuracy`` (None without validation data), ``samples_per_s``
  (training images per second of the epoch's training phase, validation
  excluded), ``partial`` (True when a stop cut the epoch short), ``best``
  (True when this epoch's weights were kept).
* ``end``: ``status`` (``"finished"``, ``"stopped"`` or
  ``"early_stopped"``), ``epochs_done``, ``best_epoch``, ``test_loss``,
  ``test_accuracy``, ``n_test``.

The run directory holds ``config.json``, ``history.jsonl`` (the events, one
JSON object a line), ``best.keras`` (the kept model), ``result.json`` (the
end event) and ``test_predictions.npz`` (``probs`` float32 ``(N_test,
num_classes)`` and ``y_true`` int64 ``(N_test,)``; the test images are those
of ``datasets.load(dataset, n_test=n_test, seed=seed)``).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from . import augment, datasets, paths, zoo

OPTIMIZERS = ("adam", "sgd", "rmsprop")
LR_SCHEDULES = ("constant", "cosine")


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines one training run."""

    dataset: str = "mnist"  # a name from cnnlib.datasets.names()
    arch: str = "studio_cnn"  # a key of cnnlib.zoo.ARCHITECTURES
    epochs: int = 5  # full passes over the training images
    batch_size: int = 64  # images per gradient step
    optimizer: str = "adam"  # adam | sgd (with momentum 0.9) | rmsprop
    learning_rate: float = 1e-3  # step size of the optimizer (initial one with a schedule)
    lr_schedule: str = "constant"  # constant | cosine (decays to 0 over all epochs)
    validation_split: float = 0.1  # fraction of training images held out for val_* metrics (0 = none)
    augment_flip: bool = False  # random horizontal flips (photos, never digits)
    augment_shift: float = 0.0  # random translation, fraction of height/width (0..0.5)
    augment_rotation: float = 0.0  # random rotation, degrees (0..180)
    augment_zoom: float = 0.0  # random zoom, fraction (0..0.9)
    augment_stroke: bool = False  # random stroke thickening/thinning (grey dilation/erosion), for digits
    early_stopping_patience: int = 0  # epochs without val_loss improvement before stopping (0 = off)
    keep_best: bool = True  # end with the weights of the best epoch (by val_loss), not the last
    seed: int = 0  # seeds the subset, the split, the weights and the augmentation
    n_train: int | None = None  # stratified training subset size (None = all)
    n_test: int | None = None  # stratified test subset size (None = all)
    data_dir: str | None = None  # folder with <dataset>.npz; None = $CNN_STUDIO_DATA_DIR, then keras
    run_root: str | None = None  # where run directories go; None = cnnlib.paths.runs_dir()

    def validate(self) -> None:
        """Raise ValueError naming the first bad field."""
        if self.dataset not in datasets.DATASETS:
            raise ValueError(f"Unknown dataset. Received: dataset={self.dataset!r}")
        if self.arch not in zoo.ARCHITECTURES:
            raise ValueError(f"Unknown architecture. Received: arch={self.arch!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}. "
                             f"Received: lr_schedule={self.lr_schedule!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}. Received: optimizer={self.optimizer!r}")
        checks = [
            ("epochs", self.epochs >= 1), ("batch_size", self.batch_size >= 1),
            ("learning_rate", 0 < self.learning_rate < 10),
            ("validation_split", 0 <= self.validation_split < 0.9),
            ("augment_shift", 0 <= self.augment_shift <= 0.5),
            ("augment_rotation", 0 <= self.augment_rotation <= 180),
            ("augment_zoom", 0 <= self.augment_zoom <= 0.9),
            ("early_stopping_patience", self.early_stopping_patience >= 0),
            ("n_train", self.n_train is None or self.n_train >= 2),
            ("n_test", self.n_test is None or self.n_test >= 1),
        ]
        for field, ok in checks:
            if not ok:
                raise ValueError(f"Invalid {field}. Received: {field}={getattr(self, field)!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in fields})


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` returns."""

    model: object  # the keras.Model, with the kept (best or last) weights
    status: str  # finished | stopped | early_stopped
    history: list[dict]  # the epoch events
    test_loss: float
    test_accuracy: float  # fraction in [0, 1]
    n_test: int
    run_dir: Path
    dataset: datasets.Dataset


def make_optimizer(name: str, learning_rate, total_steps: int | None = None,
                   schedule: str = "constant"):
    """A fresh Keras optimizer. SGD uses momentum 0.9.

    With ``schedule="cosine"`` the learning rate follows a cosine decay from
    ``learning_rate`` to 0 over ``total_steps`` batches (Loshchilov & Hutter,
    SGDR, 2017).
    """
    import keras

    if schedule == "cosine" and total_steps:
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, total_steps)

    if name == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=learning_rate)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}. Received: optimizer={name!r}")


def compile_model(model, config: TrainConfig, steps_per_epoch: int | None = None) -> None:
    """Compile for integer labels: sparse categorical cross-entropy, accuracy."""
    total = steps_per_epoch * config.epochs if steps_per_epoch else None
    model.compile(optimizer=make_optimizer(config.optimizer, config.learning_rate, total,
                                           config.lr_schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def split_validation(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/validation index split of labels ``y`` ``(N,)``."""
    if fraction <= 0:
        return np.arange(len(y)), np.arange(0)
    n_val = max(1, int(round(len(y) * fraction)))
    val = datasets.stratified_indices(y, n_val, seed=seed + 1)
    train = np.setdiff1d(np.arange(len(y)), val)
    return train, val


def new_run_dir(config: TrainConfig) -> Path:
    root = Path(config.run_root) if config.run_root else paths.runs_dir()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    run_dir = root / f"{stamp}-{config.dataset}-{config.arch}"
    run_dir.mkdir(parents=True, exist_ok=False)
    return run_dir


def _float(v):
    return None if v is None else float(v)


def _make_callbacks(emit, should_stop, batches, batch_size, n_samples, t0, run_dir, keep_best,
                    has_val):
    import keras

    class EventEmitter(keras.callbacks.Callback):
        """Reports batch and epoch events and stops at the next batch on request."""

        # Keras may run on_train_batch_end in a worker thread, so that reading
        # the logs (a device sync) does not stall the training loop.
        async_safe = True

        def __init__(self):
            super().__init__()
            self.epoch = 0
            self.best = np.inf
            self.best_epoch = None
            self.best_weights = None
            self.epoch_t0 = t0
            self.stopped = False

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch + 1
            self.epoch_t0 = time.perf_counter()
            self.train_t1 = None

        def on_test_begin(self, logs=None):
            # validation starts: the training phase of the epoch is over
            if self.train_t1 is None:
                self.train_t1 = time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            if should_stop is not None and should_stop():
                self.stopped = True
                self.model.stop_training = True

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter()
            logs = logs or {}
            emit({"type": "batch", "epoch": self.epoch, "batch": batch + 1, "batches": batches,
                  "loss": _float(logs.get("loss")), "accuracy": _float(logs.get("accuracy")),
                  "samples_per_s": (batch + 1) * batch_size / max(now - self.epoch_t0, 1e-9),
                  "elapsed": now - t0})

        def on_epoch_end(self, epoch, logs=None):
            now = time.perf_counter()
            logs = logs or {}
            train_s = (self.train_t1 or now) - self.epoch_t0  # without validation
            ev = {"type": "epoch", "epoch": epoch + 1,
                  "loss": _float(logs.get("loss")), "accuracy": _float(logs.get("accuracy")),
                  "val_loss": _float(logs.get("val_loss")),
                  "val_accuracy": _float(logs.get("val_accuracy")),
                  "samples_per_s": n_samples / max(train_s, 1e-9),
                  "elapsed": now - t0, "partial": self.stopped}
            monitor = ev["val_loss"] if has_val else ev["loss"]
            if keep_best and not self.stopped and monitor is not None and monitor < self.best:
                self.best, self.best_epoch = monitor, epoch + 1
                self.best_weights = self.model.get_weights()
                self.model.save(run_dir / "best.keras")
                ev["best"] = True
            emit(ev)

    return EventEmitter()


def train(config: TrainConfig, on_event: Callable[[dict], None] | None = None,
          should_stop: Callable[[], bool] | None = None) -> TrainResult:
    """Train ``config.arch`` on ``config.dataset`` and evaluate on the test split.

    Args:
        config: the run's settings; validated first.
        on_event: called with each event dict (see the module docstring), from
            the training thread or a Keras worker thread.
        should_stop: polled before every batch; when it returns True the run
            stops after the batch in progress and keeps the best epoch so far.

    Returns:
        A :class:`TrainResult`; ``test_accuracy`` is a fraction in [0, 1].

    Raises:
        ValueError: an invalid config.
        cnnlib.datasets.DatasetUnavailableError: the dataset cannot be loaded.
    """
    config.validate()
    t0 = time.perf_counter()
    run_dir = new_run_dir(config)
    (run_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
    history_file = open(run_dir / "history.jsonl", "a", buffering=1)
    epochs_seen: list[dict] = []
    lock = threading.Lock()  # batch events may come from Keras worker threads

    def emit(event: dict) -> None:
        with lock:
            history_file.write(json.dumps(event) + "\n")
            if event["type"] == "epoch":
                epochs_seen.append(event)
            if on_event is not None:
                on_event(event)

    try:
        import keras

        data = datasets.load(config.dataset, config.data_dir, n_train=config.n_train,
                             n_test=config.n_test, seed=config.seed)
        keras.utils.set_random_seed(config.seed)
        tr, va = split_validation(data.y_train, config.validation_split, config.seed)
        x_train = datasets.to_float(data.x_train[tr])  # (N, H, W, C) float32 [0, 1]
        y_train = data.y_train[tr]
        x_val, y_val = datasets.to_float(data.x_train[va]), data.y_train[va]
        x_test, y_test = datasets.to_float(data.x_test), data.y_test

        model = zoo.build(config.arch, data.image_shape, data.num_classes)
        batch_size = min(config.batch_size, len(x_train))
        batches = int(np.ceil(len(x_train) / batch_size))
        compile_model(model, config, batches)
        emit({"type": "start", "config": config.to_dict(), "n_train": len(x_train),
              "n_val": len(x_val), "n_test": len(x_test), "batches": batches,
              "params": int(model.count_params()), "run_dir": str(run_dir),
              "dataset_source": data.source, "class_names": list(data.class_names),
              "elapsed": time.perf_counter() - t0})

        train_input = augment.train_input(x_train, y_train, batch_size, config)
        emitter = _make_callbacks(emit, should_stop, batches, batch_size, len(x_train), t0,
                                  run_dir, config.keep_best, len(x_val) > 0)
        callbacks = [emitter]
        if config.early_stopping_patience > 0:
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor="val_loss" if len(x_val) else "loss",
                patience=config.early_stopping_patience))
        fit_kwargs = dict(epochs=config.epochs, callbacks=callbacks, verbose=0,
                          validation_data=(x_val, y_val) if len(x_val) else None)
        if isinstance(train_input, tuple):
            model.fit(*train_input, batch_size=batch_size, shuffle=True, **fit_kwargs)
        else:
            model.fit(train_input, shuffle=False, **fit_kwargs)  # tf.data shuffles itself

        if emitter.stopped:
            status = "stopped"
        elif len(epochs_seen) < config.epochs:
            status = "early_stopped"
        else:
            status = "finished"
        if config.keep_best and emitter.best_weights is not None:
            model.set_weights(emitter.best_weights)
        else:
            model.save(run_dir / "best.keras")
        test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
        probs = predict_probs(model, x_test)  # (N_test, num_classes)
        np.savez_compressed(run_dir / "test_predictions.npz", probs=probs, y_true=y_test)
        end = {"type": "end", "status": status, "epochs_done": len(epochs_seen),
               "best_epoch": emitter.best_epoch, "test_loss": float(test_loss),
               "test_accuracy": float(test_acc), "n_test": len(x_test),
               "elapsed": time.perf_counter() - t0}
        emit(end)
        (run_dir / "result.json").write_text(json.dumps(end, indent=2))
        return TrainResult(model, status, epochs_seen, float(test_loss), float(test_acc),
                           len(x_test), run_dir, data)
    finally:
        history_file.close()


def predict_probs(model, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Softmax probabilities ``(N, num_classes)`` float32 for float32 images
    ``(N, H, W, C)`` in [0, 1], by direct model calls in batches."""
    out = [np.asarray(model(x[i:i + batch_size], training=False), dtype=np.float32)
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, model.output_shape[-1]), np.float32)


def read_history(run_dir: str | Path) -> list[dict]:
    """The events of a run directory's ``history.jsonl``; a torn last line is skipped."""
    events = []
    path = Path(run_dir) / "history.jsonl"
    if not path.exists():
        return events
    for line in path.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events
