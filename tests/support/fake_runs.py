"""Finished training runs made without training: a run directory with its config, a
start and an end event, and a tiny ``best.keras`` (for store and save-form tests).

Imported as ``from tests.support.fake_runs import make_run``.
"""

from __future__ import annotations

import json
from pathlib import Path

from cnnlib.models import zoo
from cnnlib.rundir import RunDir
from cnnlib.training import config


def make_run(root: Path, index: int, *, n_classes: int | None = None) -> RunDir:
    """A finished MNIST "logistic" run under ``root`` whose model is unique to ``index``.

    Args:
        root: the folder of the run directory (created if missing).
        index: makes the run's name and its model: a (8, 8, 1) input and
            ``n_classes`` outputs (default ``index + 2``), so ``8*8*k + k`` parameters.
        n_classes: the model's output count, to override the default.

    Returns:
        The run's directory, with ``config.json``, ``history.jsonl`` and ``best.keras``.
    """
    k = n_classes or index + 2
    run = RunDir(Path(root) / f"run-{index:03d}")
    run.path.mkdir(parents=True)
    cfg = config.TrainConfig(dataset="mnist", arch="logistic", epochs=1)
    (run.path / "config.json").write_text(json.dumps(cfg.to_dict()))
    model = zoo.build("logistic", (8, 8, 1), k)
    model.save(run.model_path)
    start = {"type": "start", "elapsed": 0.0, "config": cfg.to_dict(), "n_train": 90, "n_val": 10,
             "n_test": 20, "batches": 3, "params": int(model.count_params()),
             "run_dir": str(run.path), "dataset_source": "fake", "monitor": "val_loss",
             "class_names": [str(i) for i in range(k)], "standardize": None, "eager_batches": 0}
    end = {"type": "end", "elapsed": 1.0, "status": "finished", "epochs_done": 1,
           "complete_epochs": 1, "best_epoch": None, "kept_epoch": 1, "monitor": "val_loss",
           "kept_value": 0.5, "test_loss": 0.5, "test_accuracy": 0.75, "n_test": 20,
           "train_loss": 0.4, "train_accuracy": 0.8, "status_text": "Finished all 1 epochs."}
    with run.history_writer() as write:
        write(start)
        write(end)
    run.write_result(end)
    return run
