"""Past training runs: the run directories that :func:`cnnlib.training.train` writes.

Reading only; imports neither TensorFlow nor Streamlit.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from . import paths


def _json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text())
        return value if isinstance(value, dict) else None
    except (OSError, ValueError):
        return None


def list_runs(root: str | Path | None = None) -> list[dict]:
    """Every run directory under ``root`` (default :func:`cnnlib.paths.runs_dir`), newest first.

    Each entry: ``run_dir`` (Path), ``name`` (folder name), ``config`` (dict),
    ``result`` (the end event, or None while running or after a crash) and
    ``state`` (from ``job.json`` or ``result.json``; ``"unknown"`` otherwise).
    """
    root = Path(root) if root is not None else paths.runs_dir()
    if not root.is_dir():
        return []
    out = []
    for run_dir in sorted((p for p in root.iterdir() if p.is_dir()), reverse=True):
        config = _json(run_dir / "config.json")
        if config is None:
            continue
        result = _json(run_dir / "result.json")
        job = _json(run_dir / "job.json") or {}
        state = job.get("state") or (result or {}).get("status") or "unknown"
        out.append({"run_dir": run_dir, "name": run_dir.name, "config": config,
                    "result": result, "state": state})
    return out


def epoch_events(events: list[dict]) -> list[dict]:
    """The epoch events of a history, in order."""
    return [e for e in events if e.get("type") == "epoch"]


def load_predictions(run_dir: str | Path) -> tuple[np.ndarray, np.ndarray] | None:
    """``(probs (N, C) float32, y_true (N,) int64)`` of a finished run, or None."""
    path = Path(run_dir) / "test_predictions.npz"
    try:
        with np.load(path) as f:
            return f["probs"].astype(np.float32), f["y_true"].astype(np.int64)
    except (OSError, KeyError, ValueError):
        return None


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``(num_classes, num_classes)`` int64: row = true class, column = predicted."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def worst_errors(probs: np.ndarray, y_true: np.ndarray, k: int = 16) -> np.ndarray:
    """Indices of up to ``k`` misclassified samples, most confidently wrong first."""
    pred = probs.argmax(1)
    wrong = np.flatnonzero(pred != y_true)
    conf = probs[wrong, pred[wrong]]
    return wrong[np.argsort(-conf)][:k]


def history_csv(events: list[dict]) -> str:
    """The epoch history as CSV text: epoch, loss, accuracy, val_loss, val_accuracy,
    samples_per_s, elapsed (seconds)."""
    cols = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "samples_per_s", "elapsed"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    writer.writeheader()
    for e in epoch_events(events):
        writer.writerow({c: e.get(c) for c in cols})
    return buf.getvalue()
