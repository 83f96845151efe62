"""Report training as :mod:`cnnlib.rundir` batch and epoch events."""

from __future__ import annotations

import time
from typing import Callable

import keras

from cnnlib.rundir import BatchEvent, EpochEvent


def _float(v) -> float | None:
    return None if v is None else float(v)


class EventReporter(keras.callbacks.Callback):
    """Sends a :class:`~cnnlib.rundir.BatchEvent` after every training batch and an
    :class:`~cnnlib.rundir.EpochEvent` after every epoch.

    Args:
        emit: receives each event (called from the training thread, or from a Keras
            worker thread for batch events: it must be thread-safe).
        batches: batches per epoch.
        batch_size: images per batch.
        n_samples: training images per epoch.
        t0: ``time.perf_counter()`` at the start of the run; events' ``elapsed`` counts
            from it.
        is_partial: True when the epoch that just ended was cut short by a stop.
        best_epoch: returns the kept epoch so far (1-based) or None; an epoch event is
            marked ``best`` when it is that epoch. Put the keep-best callback before
            this one so that it has judged the epoch first.
    """

    # Keras may then run on_train_batch_end in a worker thread, so that reading the
    # logs (a device sync) does not stall the training loop.
    async_safe = True

    def __init__(self, emit: Callable[[dict], None], *, batches: int, batch_size: int,
                 n_samples: int, t0: float, is_partial: Callable[[], bool] = lambda: False,
                 best_epoch: Callable[[], int | None] = lambda: None):
        super().__init__()
        self.emit, self.batches, self.batch_size, self.n_samples = emit, batches, batch_size, n_samples
        self.t0, self.is_partial, self.best_epoch = t0, is_partial, best_epoch
        self.epoch = 0
        self.epoch_t0 = t0
        self.train_t1: float | None = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self.epoch_t0 = time.perf_counter()
        self.train_t1 = None

    def on_test_begin(self, logs=None):
        # validation starts: the training phase of the epoch is over
        if self.train_t1 is None:
            self.train_t1 = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        logs = logs or {}
        self.emit(BatchEvent(
            type="batch", elapsed=now - self.t0, epoch=self.epoch, batch=batch + 1,
            batches=self.batches, loss=_float(logs.get("loss")),
            accuracy=_float(logs.get("accuracy")),
            seen=min((batch + 1) * self.batch_size, self.n_samples),
            samples_per_s=(batch + 1) * self.batch_size / max(now - self.epoch_t0, 1e-9)))

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        logs = logs or {}
        train_s = (self.train_t1 or now) - self.epoch_t0  # without validation
        self.emit(EpochEvent(
            type="epoch", elapsed=now - self.t0, epoch=epoch + 1,
            loss=_float(logs.get("loss")), accuracy=_float(logs.get("accuracy")),
            val_loss=_float(logs.get("val_loss")), val_accuracy=_float(logs.get("val_accuracy")),
            samples_per_s=self.n_samples / max(train_s, 1e-9), partial=self.is_partial(),
            best=self.best_epoch() == epoch + 1))
