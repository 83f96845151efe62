"""Confusion matrix, worst errors and the history table, against hand-made cases."""

import csv
import io

import numpy as np
import pytest

from cnnlib.training import evaluation


def test_confusion_matrix_counts_true_rows_predicted_columns():
    cm = evaluation.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert cm.dtype == np.int64 and cm.sum() == 6


@pytest.mark.parametrize("y_true,y_pred,match", [
    ([0, 3], [0, 1], "y_true label 3"), ([0, 1], [0, -1], "y_pred label -1"),
    ([0, 1], [0], "differ in length")])
def test_confusion_matrix_refuses_labels_out_of_range(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        evaluation.confusion_matrix(y_true, y_pred, 3)


def test_worst_errors_most_confident_first():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    y_true = np.array([1, 0, 0, 0])  # wrong: 0 (0.9), 1 (0.8), 3 (0.7)
    np.testing.assert_array_equal(evaluation.worst_errors(probs, y_true), [0, 1, 3])
    np.testing.assert_array_equal(evaluation.worst_errors(probs, y_true, k=2), [0, 1])
    assert len(evaluation.worst_errors(probs, probs.argmax(1))) == 0


def test_history_csv_one_row_per_epoch():
    events = [{"type": "start"},
              {"type": "batch", "epoch": 1, "batch": 1, "loss": 9.0},
              {"type": "epoch", "epoch": 1, "loss": 0.5, "accuracy": 0.8, "val_loss": None,
               "val_accuracy": None, "samples_per_s": 100.0, "elapsed": 2.0},
              {"type": "epoch", "epoch": 2, "loss": 0.25, "accuracy": 0.9, "val_loss": 0.3,
               "val_accuracy": 0.85, "samples_per_s": 120.0, "elapsed": 4.0}]
    rows = list(csv.DictReader(io.StringIO(evaluation.history_csv(events))))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert rows[0]["val_loss"] == "" and float(rows[1]["val_accuracy"]) == 0.85
    assert list(rows[0]) == list(evaluation.HISTORY_COLUMNS)
