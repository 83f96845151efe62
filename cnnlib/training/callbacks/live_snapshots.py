"""Snapshots of the first convolutional layer while a model trains, for the live view."""

from __future__ import annotations

import time
from typing import Callable

import keras
import numpy as np

from cnnlib.rundir import SnapshotEvent


class LiveSnapshots(keras.callbacks.Callback):
    """Every ``every_s`` seconds of training, sends a :class:`~cnnlib.rundir.SnapshotEvent`:
    the first Conv2D layer's kernels and the feature maps (after its batch norm and
    activation: the first of :func:`cnnlib.network.reader.conv_blocks`) of one fixed
    image, so that a class can watch the filters take shape.

    Runs before a training batch, in the training thread, so the weights it reads are
    those of a finished step. A model without a Conv2D layer sends nothing.

    Args:
        emit: receives each event.
        image: float32 ``(H, W, C)`` in [0, 1], the fixed image (a test image).
        every_s: seconds between snapshots (> 0).
        t0: ``time.perf_counter()`` at the start of the run (for ``elapsed``).
        max_maps: feature maps sent at most (the first channels).

    Raises:
        ValueError: ``every_s <= 0``.
    """

    def __init__(self, emit: Callable[[dict], None], image: np.ndarray, every_s: float, t0: float,
                 max_maps: int = 16):
        super().__init__()
        if every_s <= 0:
            raise ValueError(f"every_s must be positive. Received: every_s={every_s}")
        self.emit, self.image, self.every_s, self.t0 = emit, image[None], every_s, t0
        self.max_maps = max_maps
        self.epoch = 0
        self.last = -np.inf
        self.extractor = None
        self.conv = None

    def on_train_begin(self, logs=None):
        from cnnlib.network import reader

        blocks = reader.conv_blocks(self.model)
        if blocks:
            self.conv, last = blocks[0]
            self.extractor = reader.outputs_model(self.model, last)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_begin(self, batch, logs=None):
        now = time.perf_counter()
        if self.extractor is None or now - self.last < self.every_s:
            return
        self.last = now
        self.emit(self.snapshot(batch))

    def snapshot(self, batch: int) -> SnapshotEvent:
        """The event for the weights as they are now (``batch`` 0-based in the epoch)."""
        kernels = np.asarray(self.conv.kernel, np.float32)  # (K_h, K_w, C, F)
        full = np.asarray(self.extractor(self.image, training=False), np.float32)[0]  # (H, W, F)
        maps = full[..., :self.max_maps]
        return SnapshotEvent(type="snapshot", elapsed=time.perf_counter() - self.t0,
                             epoch=self.epoch, batch=batch, layer=self.conv.name,
                             kernels=np.round(kernels, 4).tolist(),
                             maps=np.round(maps, 3).tolist(),
                             maps_range=[float(full.min()), float(full.max())])
