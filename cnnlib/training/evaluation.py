"""What a finished run's numbers mean: confusion matrix, worst errors, history table.

Pure numpy on the arrays of :class:`cnnlib.rundir.Predictions` and the events of
:mod:`cnnlib.rundir`; imports neither TensorFlow nor Streamlit.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from cnnlib.rundir import of_type


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Count how often each true class was predicted as each class.

    Args:
        y_true: int ``(N,)`` labels in ``0..num_classes - 1``.
        y_pred: int ``(N,)`` predicted labels, same range.
        num_classes: the number of classes, at least 1.

    Returns:
        int64 ``(num_classes, num_classes)``: row = true class, column = predicted.

    Raises:
        ValueError: different lengths, or a label outside ``0..num_classes - 1``
            (naming the first such label).
    """
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true and y_pred differ in length. Received: {len(y_true)} "
                         f"and {len(y_pred)}")
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        bad = labels[(labels < 0) | (labels >= num_classes)]
        if len(bad):
            raise ValueError(f"{name} holds a label outside 0..{num_classes - 1}. "
                             f"Received: {name} label {bad[0]} with num_classes={num_classes}")
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def worst_errors(probs: np.ndarray, y_true: np.ndarray, k: int = 16) -> np.ndarray:
    """Indices (int64) of up to ``k`` misclassified samples, most confidently wrong first.

    Args:
        probs: float ``(N, num_classes)`` softmax outputs.
        y_true: int ``(N,)`` labels.
        k: how many to return at most.
    """
    pred = probs.argmax(1)
    wrong = np.flatnonzero(pred != y_true)
    conf = probs[wrong, pred[wrong]]
    return wrong[np.argsort(-conf, kind="stable")][:k]


HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "samples_per_s",
                   "elapsed", "partial")


def history_csv(events: list[dict]) -> str:
    """The epoch events of a run as CSV text, one row per epoch: epoch, loss, accuracy,
    val_loss, val_accuracy, samples_per_s (training images per second), elapsed
    (seconds since the run started), partial (True for an epoch a stop cut short).
    Missing values are empty cells."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HISTORY_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for e in of_type(events, "epoch"):
        writer.writerow({c: e.get(c) for c in HISTORY_COLUMNS})
    return buf.getvalue()
