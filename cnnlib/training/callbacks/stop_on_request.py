"""Stop training after the batch in flight when an outside flag says so."""

from __future__ import annotations

from typing import Callable

import keras


class StopOnRequest(keras.callbacks.Callback):
    """Polls ``should_stop()`` before every training batch; once it returns True,
    sets ``model.stop_training`` so that ``fit`` ends after that batch.

    Args:
        should_stop: a cheap, thread-safe predicate (e.g. ``multiprocessing.Event.is_set``).

    Attributes:
        stopped: whether a stop was requested and acted on; the epoch in progress
            then ends early (its results are partial).
    """

    def __init__(self, should_stop: Callable[[], bool]):
        super().__init__()
        self.should_stop = should_stop
        self.stopped = False

    def on_train_batch_begin(self, batch, logs=None):
        if not self.stopped and self.should_stop():
            self.stopped = True
            self.model.stop_training = True
