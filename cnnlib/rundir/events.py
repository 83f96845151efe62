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
    run_dir: str
    dataset_source: str  # file path or "keras.datasets.<name>"
    class_names: list[str]
    monitor: str  # the metric keep-best and early stopping watch (config.effective_monitor)
    standardize: list[float] | None  # (mean, std) the model's first layer applies, or None


class BatchEvent(TypedDict):
    """One training batch done. May arrive slightly out of order (Keras reports
    batches from worker threads): sort by ``(epoch, batch)`` when order matters."""

    type: Literal["batch"]
    elapsed: float
    epoch: int  # 1-based
    batch: int  # 1-based within the epoch
    batches: int  # per epoch
    loss: float | None  # Keras's running mean over the epoch so far
    accuracy: float | None  # likewise, fraction in [0, 1]
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


class ErrorEvent(TypedDict):
    """The training process failed (sent by :mod:`cnnlib.jobs`)."""

    type: Literal["error"]
    message: str
    traceback: str


Event = StartEvent | BatchEvent | EpochEvent | EndEvent | ErrorEvent


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
        config: its :class:`~cnnlib.config.TrainConfig` as a dict.

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


def progress(events: list[dict]) -> Progress | None:
    """Progress of a run from its events alone, or None before its first batch.

    Args:
        events: the run's events so far (any order).

    Returns:
        A :class:`Progress`. The planned batches are the start event's ``batches``
        times the config's ``epochs``; ``seconds_left`` is the images left (batches
        left x the mean images per batch, ``n_train / batches``) over the current
        samples per second.
    """
    start, batches = last(events, "start"), of_type(events, "batch")
    if start is None or not batches:
        return None
    batch = batches[-1]
    total = start["batches"] * start["config"]["epochs"]
    done = (batch["epoch"] - 1) * batch["batches"] + batch["batch"]
    rate = batch["samples_per_s"]
    images_left = max(total - done, 0) * start["n_train"] / start["batches"]
    return Progress(min(done / total, 1.0), batch["epoch"], batch["batch"], batch["batches"],
                    rate, images_left / rate if rate > 0 else None)
