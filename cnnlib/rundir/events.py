"""The events of a training run: what the engine reports, typed; reading them.

Every event is a plain JSON-able dict with ``type`` and ``elapsed`` (seconds
since the run started); the TypedDicts below say which keys each type has.
No TensorFlow, no Streamlit.
"""

from __future__ import annotations

import dataclasses
from typing import Literal, TypedDict


class StartEvent(TypedDict):
    """Data loaded and model built; training is about to begin."""

    type: Literal["start"]
    elapsed: float
    config: dict  # TrainConfig.to_dict()
    n_train: int  # images trained on (after the validation hold-out)
    n_val: int  # validation images (0 = none)
    n_test: int  # test images evaluated at the end
    batches: int  # batches per epoch
    params: int  # the model's parameter count
    trainable_params: int  # the trainable part of params (less for a frozen transfer base)
    run_dir: str
    dataset_source: str  # file path or "keras.datasets.<name>"
    class_names: list[str]
    monitor: str  # the metric keep-best and early stopping watch (config.effective_monitor)
    standardize: list[float] | None  # (mean, std) the model's first layer applies, or None
    eager_batches: int  # first batches run eagerly, before the training step was traced


class BatchEvent(TypedDict):
    """One training batch done. May arrive slightly out of order (Keras reports
    batches from worker threads): sort by ``(epoch, batch)`` when order matters."""

    type: Literal["batch"]
    elapsed: float
    epoch: int  # 1-based
    batch: int  # 1-based within the epoch
    batches: int  # per epoch
    loss: float | None  # Keras's running mean over the epoch so far (see batch_values)
    accuracy: float | None  # likewise, fraction in [0, 1]
    seen: int  # training images of this epoch seen so far, this batch included
    samples_per_s: float  # training images per second since the epoch began


class EpochEvent(TypedDict):
    """One epoch done (or cut short by a stop: ``partial``)."""

    type: Literal["epoch"]
    elapsed: float
    epoch: int  # 1-based
    loss: float | None
    accuracy: float | None
    val_loss: float | None  # None without validation data
    val_accuracy: float | None
    samples_per_s: float  # training images per second, validation excluded
    partial: bool  # a stop cut the epoch short
    best: bool  # this epoch's weights were kept (keep-best)


class EndEvent(TypedDict):
    """The run ended and the kept model was evaluated on the test and training images."""

    type: Literal["end"]
    elapsed: float
    status: Literal["finished", "stopped", "early_stopped"]
    epochs_done: int  # epochs begun and ended, a partial one included
    complete_epochs: int  # epochs that ran to their end
    best_epoch: int | None  # the best complete epoch by monitor (keep-best), else None
    kept_epoch: int | None  # the epoch whose weights the model holds; None: a partial epoch's
    monitor: str
    kept_value: float | None  # monitor's value at kept_epoch
    test_loss: float
    test_accuracy: float  # fraction in [0, 1]
    n_test: int
    train_loss: float  # the kept model on the training images, without augmentation
    train_accuracy: float
    status_text: str  # status_sentence() of this event, for readers of result.json


class SnapshotEvent(TypedDict):
    """The first conv layer as it is now, for the live view. Sent to the job's readers
    only: not written to ``history.jsonl`` (a snapshot is tens of kilobytes)."""

    type: Literal["snapshot"]
    elapsed: float
    epoch: int  # 1-based
    batch: int  # batches done in the epoch before this snapshot
    layer: str  # the conv layer's name
    kernels: list  # float (K_h, K_w, C, F): its kernels
    maps: list  # float (H, W, F'): feature maps of the fixed image, first F' <= 16 channels
    maps_range: list  # [min, max] over all F channels: the layer's one colour scale


class ErrorEvent(TypedDict):
    """The training process failed (sent by :mod:`cnnlib.jobs`)."""

    type: Literal["error"]
    message: str
    traceback: str


Event = StartEvent | BatchEvent | EpochEvent | EndEvent | SnapshotEvent | ErrorEvent


def of_type(events: list[dict], kind: str) -> list[dict]:
    """The events of one ``type`` (``"batch"``, ``"epoch"``...); batches sorted by
    ``(epoch, batch)``, the others in arrival order."""
    out = [e for e in events if e.get("type") == kind]
    if kind == "batch":
        out.sort(key=lambda e: (e["epoch"], e["batch"]))
    return out


def last(events: list[dict], kind: str) -> dict | None:
    """The latest event of one ``type``, or None."""
    return next((e for e in reversed(events) if e.get("type") == kind), None)


def status_sentence(end: dict, config: dict) -> str:
    """How a run ended and which weights it kept, in one sentence for people.

    Args:
        end: the run's :class:`EndEvent`.
        config: its :class:`~cnnlib.training.config.TrainConfig` as a dict.

    Returns:
        E.g. ``"Stopped early at epoch 4 (no better val_accuracy for 3 epochs); kept
        epoch 1 (val_accuracy 0.35)."``
    """
    monitor, done = end.get("monitor", "val_loss"), end["epochs_done"]
    if end["status"] == "early_stopped":
        patience = config.get("early_stopping_patience")
        text = (f"Stopped early at epoch {done} (no better {monitor} for {patience} "
                f"epoch{'' if patience == 1 else 's'})")
    elif end["status"] == "stopped":
        partial = end.get("complete_epochs", done) < done
        text = (f"Stopped on request during epoch {done}" if partial
                else f"Stopped on request after epoch {done}")
    else:
        text = f"Finished all {done} epochs"
    kept, value = end.get("kept_epoch"), end.get("kept_value")
    if kept is None:
        text += ("; no epoch was complete, so the model keeps the weights it had when it "
                 "stopped" if not end.get("complete_epochs") else
                 "; the model keeps the weights of the unfinished last epoch")
    else:
        text += f"; kept epoch {kept}" if config.get("keep_best") else f"; kept the last epoch, {kept}"
        text += f" ({monitor} {value:.3g})" if value is not None else ""
    return text + "."


@dataclasses.dataclass(frozen=True)
class Progress:
    """Where a running job stands, from its events."""

    fraction: float  # batches done / batches planned, in [0, 1]
    epoch: int  # current epoch, 1-based
    batch: int  # batches done in it
    batches: int  # per epoch
    samples_per_s: float  # training images per second in the current epoch
    seconds_left: float | None  # at the current rate; None when the rate is unknown


#: Batches (after the first, which includes graph tracing) needed before a time-left
#: estimate is given: fewer are dominated by start-up costs.
MIN_BATCHES_FOR_ESTIMATE = 5
#: Batches the speed behind the estimate is measured over (the most recent ones).
RATE_WINDOW = 30


def progress(events: list[dict]) -> Progress | None:
    """Progress of a run from its events alone, or None before its first batch.

    Args:
        events: the run's events so far (any order).

    Returns:
        A :class:`Progress`. The planned batches are the start event's ``batches``
        times the config's ``epochs``. The speed is measured over the last
        :data:`RATE_WINDOW` batches, never counting the run's first
        ``eager_batches + 1`` batches (eager steps, then the one that pays for graph
        tracing; runs of older versions: the first batch): images in the window
        (mean ``n_train / batches`` a batch) over the time between the window's
        first and last batch.
        ``seconds_left`` is the images left over that speed, or None until
        :data:`MIN_BATCHES_FOR_ESTIMATE` batches after those have been seen.
    """
    start, batches = last(events, "start"), of_type(events, "batch")  # sorted by (epoch, batch)
    if start is None or not batches:
        return None
    batch = batches[-1]
    total = start["batches"] * start["config"]["epochs"]
    done = (batch["epoch"] - 1) * batch["batches"] + batch["batch"]
    per_batch = start["n_train"] / start["batches"]  # mean images per batch
    slow = start.get("eager_batches", 0) + 1  # eager batches and the tracing one
    window = [e for e in batches if e["epoch"] > 1 or e["batch"] > slow][-(RATE_WINDOW + 1):]
    rate, left = batch["samples_per_s"], (0.0 if done >= total else None)
    if len(window) > MIN_BATCHES_FOR_ESTIMATE:
        seconds = window[-1]["elapsed"] - window[0]["elapsed"]
        if seconds > 0:
            rate = (len(window) - 1) * per_batch / seconds
            left = max(total - done, 0) * per_batch / rate
    return Progress(min(done / total, 1.0), batch["epoch"], batch["batch"], batch["batches"],
                    rate, left)


def batch_values(batch_events: list[dict]) -> list[dict]:
    """Each batch's own loss and accuracy, derived from the running means Keras reports.

    Keras reports, after batch ``b`` of an epoch, the mean over the ``n_b`` images seen
    so far in that epoch (each batch weighted by its size). The batch's own value is
    therefore ``v_b = (m_b n_b - m_(b-1) n_(b-1)) / (n_b - n_(b-1))``, with ``m_0 n_0 = 0``.

    Args:
        batch_events: :class:`BatchEvent` dicts, any order.

    Returns:
        The events sorted by ``(epoch, batch)``, each a copy whose ``loss`` and
        ``accuracy`` are the batch's own values; None where the previous batch of the
        epoch is missing (a gap in the stream) or the event has no ``seen`` count
        (runs of older versions: their running means are kept).
    """
    out, prev = [], None
    for e in sorted(batch_events, key=lambda e: (e["epoch"], e["batch"])):
        e2 = dict(e)
        if "seen" in e:
            first = e["batch"] == 1
            ok = first or (prev is not None and prev["epoch"] == e["epoch"]
                           and prev["batch"] == e["batch"] - 1)
            for key in ("loss", "accuracy"):
                if not ok or e[key] is None or (not first and prev[key] is None):
                    e2[key] = None
                    continue
                total, count = e[key] * e["seen"], e["seen"]
                if not first:
                    total -= prev[key] * prev["seen"]
                    count -= prev["seen"]
                e2[key] = total / count if count > 0 else None
        out.append(e2)
        prev = e
    return out
