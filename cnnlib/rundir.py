"""The run protocol: a training run's events and its directory, in one place.

The training engine (:mod:`cnnlib.training`) reports a run as a stream of
events, plain JSON-able dicts typed here (:class:`StartEvent`,
:class:`BatchEvent`, :class:`EpochEvent`, :class:`EndEvent`, and the job
runner's :class:`ErrorEvent`). Every event has ``type`` and ``elapsed``
(seconds since the run started).

A run directory (:class:`RunDir`) holds:

* ``config.json``: the :class:`~cnnlib.config.TrainConfig` as a dict;
* ``history.jsonl``: every event, one JSON object a line;
* ``best.keras``: the kept model (the best epoch's weights with keep-best,
  else the last);
* ``result.json``: the end event;
* ``test_predictions.npz``: the test images' softmax outputs (see
  :class:`Predictions`);
* ``job.json``: the job runner's view (id, state, error, pid), when run as a job.

Everything that writes or reads these files goes through this module; it
imports neither TensorFlow nor Streamlit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Literal, TypedDict

import numpy as np

from . import paths
from .config import TrainConfig


# ------------------------------------------------------------------ events --

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


# -------------------------------------------------------------- predictions --

def images_digest(images: np.ndarray) -> str:
    """A short fingerprint (SHA-256, 16 hex digits) of an image array's shape, dtype and bytes."""
    h = hashlib.sha256(f"{images.shape}{images.dtype}".encode())
    h.update(np.ascontiguousarray(images).tobytes())
    return h.hexdigest()[:16]


@dataclasses.dataclass
class Predictions:
    """A run's outputs on its test images.

    Attributes:
        probs: float32 ``(N, num_classes)``, softmax outputs, rows sum to 1.
        y_true: int64 ``(N,)``, the true labels.
        test_indices: int64 ``(N,)``, positions of these images in the dataset's full
            test split (``datasets.load(name).x_test``).
        images_digest: :func:`images_digest` of those images (uint8 NHWC).
    """

    probs: np.ndarray
    y_true: np.ndarray
    test_indices: np.ndarray
    images_digest: str

    def test_images(self, x_test: np.ndarray, y_test: np.ndarray) -> np.ndarray | None:
        """The images these predictions were made on, taken from a full test split.

        Args:
            x_test: uint8 ``(M, H, W, C)``, the dataset's full test images now.
            y_test: int64 ``(M,)``, their labels.

        Returns:
            uint8 ``(N, H, W, C)``, or None when the split no longer holds the same
            images with the same labels (another data directory, another file).
        """
        idx = self.test_indices
        if len(idx) != len(self.y_true) or (len(idx) and (idx.min() < 0 or idx.max() >= len(x_test))):
            return None
        images = x_test[idx]
        if not np.array_equal(y_test[idx], self.y_true) or images_digest(images) != self.images_digest:
            return None
        return images


# ------------------------------------------------------------ run directory --

class RunDir:
    """One training run's directory (see the module docstring for its files).

    Args:
        path: the folder (it need not exist yet for reading methods: they return None).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, RunDir) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def model_path(self) -> Path:
        """``best.keras``: the kept model."""
        return self.path / "best.keras"

    @classmethod
    def create(cls, config: TrainConfig) -> "RunDir":
        """A new, empty run directory under ``config.run_root`` (default
        :func:`cnnlib.paths.runs_dir`), named ``<UTC time>-<dataset>-<arch>``, with
        ``config.json`` written."""
        root = Path(config.run_root) if config.run_root else paths.runs_dir()
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
        run = cls(root / f"{stamp}-{config.dataset}-{config.arch}")
        run.path.mkdir(parents=True, exist_ok=False)
        (run.path / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
        return run

    # -- writing -----------------------------------------------------------
    @contextlib.contextmanager
    def history_writer(self) -> Iterator[Callable[[dict], None]]:
        """A thread-safe function that appends one event to ``history.jsonl``,
        flushed line by line, valid inside the ``with`` block."""
        lock = threading.Lock()
        with open(self.path / "history.jsonl", "a", buffering=1) as f:
            def write(event: dict) -> None:
                with lock:
                    f.write(json.dumps(event) + "\n")

            yield write

    def write_result(self, end: EndEvent) -> None:
        self._write_json("result.json", end)

    def write_job(self, job: dict) -> None:
        """``job.json``: ``id``, ``state``, ``error``, ``pid``, ``config``."""
        self._write_json("job.json", job)

    def write_predictions(self, probs: np.ndarray, y_true: np.ndarray, test_indices: np.ndarray,
                          test_images: np.ndarray) -> None:
        """Store :class:`Predictions` for ``test_images`` (uint8 NHWC, the images at
        ``test_indices`` of the full test split)."""
        np.savez_compressed(self.path / "test_predictions.npz", probs=np.asarray(probs, np.float32),
                            y_true=np.asarray(y_true, np.int64),
                            test_indices=np.asarray(test_indices, np.int64),
                            images_digest=np.array(images_digest(test_images)))

    def _write_json(self, name: str, value: dict) -> None:
        tmp = self.path / f".{name}.tmp"
        tmp.write_text(json.dumps(value, indent=2))
        tmp.replace(self.path / name)

    # -- reading -----------------------------------------------------------
    def _json(self, name: str) -> dict | None:
        try:
            value = json.loads((self.path / name).read_text())
            return value if isinstance(value, dict) else None
        except (OSError, ValueError):
            return None

    def config(self) -> TrainConfig | None:
        """The run's config, or None when ``config.json`` is missing or unreadable."""
        d = self._json("config.json")
        return TrainConfig.from_dict(d) if d is not None else None

    def events(self) -> list[dict]:
        """The events of ``history.jsonl`` in file order; a torn last line is skipped."""
        try:
            lines = (self.path / "history.jsonl").read_text().splitlines()
        except OSError:
            return []
        events = []
        for line in lines:
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return events

    def result(self) -> dict | None:
        """The end event (``result.json``), or None while running or after a crash."""
        return self._json("result.json")

    def job(self) -> dict | None:
        return self._json("job.json")

    def state(self) -> str:
        """The job's state (``job.json``), else the end status, else ``"unknown"``."""
        return (self.job() or {}).get("state") or (self.result() or {}).get("status") or "unknown"

    def predictions(self) -> Predictions | None:
        """The stored :class:`Predictions`, or None (missing, corrupt, or written by a
        version that did not record which test images they are)."""
        try:
            with np.load(self.path / "test_predictions.npz", allow_pickle=False) as f:
                return Predictions(f["probs"].astype(np.float32), f["y_true"].astype(np.int64),
                                   f["test_indices"].astype(np.int64), str(f["images_digest"]))
        except (OSError, KeyError, ValueError):
            return None


def list_runs(root: str | Path | None = None) -> list[RunDir]:
    """Every run directory under ``root`` (default :func:`cnnlib.paths.runs_dir`) that
    has a readable ``config.json``, newest first (names start with the UTC time)."""
    root = Path(root) if root is not None else paths.runs_dir()
    if not root.is_dir():
        return []
    runs = (RunDir(p) for p in sorted((p for p in root.iterdir() if p.is_dir()), reverse=True))
    return [r for r in runs if r.config() is not None]
