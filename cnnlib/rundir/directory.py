"""A training run's directory: its files, written and read in one place, and the
test predictions with the indices of the images they were made on."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from cnnlib import paths
from cnnlib.rundir.events import EndEvent
from cnnlib.training.config import TrainConfig

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

#: The states a job goes through, as ``job.json`` records them: ``queued`` (waiting for a
#: free training process; such a job has no directory yet), ``starting``, ``running``,
#: then one of :data:`FINAL_JOB_STATES`.
JOB_STATES = ("queued", "starting", "running", "finished", "stopped", "failed", "cancelled",
              "interrupted")
#: States after which nothing writes to a run directory any more. ``interrupted``: the
#: server stopped (or was killed) during the run, so its training process went with it.
FINAL_JOB_STATES = ("finished", "stopped", "failed", "cancelled", "interrupted")

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
        dataset = re.sub(r"[^A-Za-z0-9_.-]", "_", config.dataset)  # own:my pens -> own_my_pens
        run = cls(root / f"{stamp}-{dataset}-{config.arch}")
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
        """``job.json``: ``id``, ``state`` (one of :data:`JOB_STATES`), ``error`` (why it
        failed or was interrupted, or None), ``pid`` (the training process's), ``owner``
        (a digest of the owner's token, see :func:`cnnlib.owners.owner_tag`), ``config``."""
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

    def ended(self) -> bool:
        """Whether nothing will write to the run any more: it has its end event
        (``result.json``) or ``job.json`` says a final state (:data:`FINAL_JOB_STATES`).
        A run of the command line that crashed has neither: it stays "unknown"."""
        return self.result() is not None or self.state() in FINAL_JOB_STATES

    def owner(self) -> str | None:
        """The owner tag ``job.json`` records, or None (a run of the command line, or of
        a version before owners)."""
        owner = (self.job() or {}).get("owner")
        return owner if isinstance(owner, str) and owner else None

    def size_bytes(self) -> int:
        """Bytes of every file in the directory (0 when it is gone)."""
        total = 0
        for root, _, files in os.walk(self.path):
            for name in files:
                try:
                    total += os.lstat(os.path.join(root, name)).st_size
                except OSError:
                    pass
        return total

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
    has a readable ``config.json``, newest first (names start with the UTC time);
    hidden folders (a run being deleted) are skipped."""
    root = Path(root) if root is not None else paths.runs_dir()
    if not root.is_dir():
        return []
    runs = (RunDir(p) for p in sorted((p for p in root.iterdir()
                                       if p.is_dir() and not p.name.startswith(".")), reverse=True))
    return [r for r in runs if r.config() is not None]
