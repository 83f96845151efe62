"""Keep the weights of the best epoch, in memory and as a ``.keras`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import keras
import numpy as np


class KeepBest(keras.callbacks.Callback):
    """After each complete epoch whose ``monitor`` improves on the best so far, copy
    the model's weights and save the model to ``path`` (atomically: written beside it,
    then renamed).

    Args:
        monitor: the epoch log to compare (``"val_loss"``, ``"loss"``...).
        path: where the best model is saved (``.keras``).
        mode: ``"min"`` (lower is better, losses) or ``"max"`` (accuracies).
        is_partial: returns True when the epoch that just ended was cut short by a
            stop; such an epoch is never kept.

    Attributes:
        best: the best value so far (``inf`` / ``-inf`` before the first epoch).
        best_epoch: 1-based epoch of ``best``, or None.
        best_weights: the weights of ``best_epoch`` (``model.get_weights()``), or None.

    Raises:
        ValueError: ``mode`` is not ``"min"`` or ``"max"``.
    """

    def __init__(self, monitor: str, path: str | Path, mode: str = "min",
                 is_partial: Callable[[], bool] = lambda: False):
        super().__init__()
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max'. Received: mode={mode!r}")
        self.monitor, self.path, self.mode, self.is_partial = monitor, Path(path), mode, is_partial
        self.best = np.inf if mode == "min" else -np.inf
        self.best_epoch: int | None = None
        self.best_weights: list | None = None

    def _better(self, value: float) -> bool:
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or self.is_partial() or not self._better(float(value)):
            return
        self.best, self.best_epoch = float(value), epoch + 1
        self.best_weights = self.model.get_weights()
        # a temporary file renamed into place: a process killed while saving leaves
        # the previous best epoch's file whole (an interrupted run can still be saved)
        tmp = self.path.with_name(f".{self.path.stem}.tmp.keras")
        self.model.save(tmp)
        tmp.replace(self.path)

    def restore(self) -> bool:
        """Put the best epoch's weights back into the model; False if there is none."""
        if self.best_weights is None:
            return False
        self.model.set_weights(self.best_weights)
        return True
