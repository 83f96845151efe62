"""A finished run's take-home files in one call: TFLite (checked), script, notebook.

What the Train page offers for download beside the ``.keras`` file; each function
call converts and checks anew (the page caches the result per run).
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class RunFiles:
    """The files of one run.

    Attributes:
        tflite: the kept model as ``.tflite`` bytes (:func:`cnnlib.export.tflite.to_tflite`).
        max_difference: ``max |keras - tflite|`` of the softmax outputs on ``n_checked``
            of the run's test images (probability units, >= 0), or None when the
            dataset could not be loaded to check.
        n_checked: how many test images were compared (0 when not checked).
        script: the run as a self-contained Python script (:func:`cnnlib.export.code.script`).
        notebook: the same code as a Jupyter notebook, JSON text.
    """

    tflite: bytes
    max_difference: float | None
    n_checked: int
    script: str
    notebook: str

    def check_sentence(self) -> str:
        """E.g. ``"TFLite outputs match Keras within 3e-07 on 64 test images."``."""
        if self.max_difference is None:
            return "TFLite outputs not checked: the run's test images could not be loaded."
        verdict = "match Keras within" if self.max_difference <= 1e-5 else "differ from Keras by up to"
        return f"TFLite outputs {verdict} {self.max_difference:.1g} on {self.n_checked} test images."


def run_files(run, n_images: int = 64) -> RunFiles:
    """Convert a finished run's kept model and write its code.

    Args:
        run: a :class:`cnnlib.rundir.RunDir` with ``config.json`` and ``best.keras``.
        n_images: how many of the run's test images (uint8 from the dataset, scaled to
            float32 [0, 1]) the TFLite check compares, >= 1.

    Returns:
        A :class:`RunFiles`.

    Raises:
        FileNotFoundError: no ``config.json`` or ``best.keras``.
        ValueError: ``n_images < 1``, or a layer the code export cannot write.
        RuntimeError: the TFLite converter failed.
    """
    from cnnlib import store
    from cnnlib.data import datasets
    from cnnlib.export import code, tflite
    from cnnlib.training import engine

    if n_images < 1:
        raise ValueError(f"n_images must be at least 1. Received: n_images={n_images}")
    config = run.config()
    if config is None or not run.model_path.exists():
        raise FileNotFoundError(f"A run to export needs config.json and best.keras. "
                                f"Received: run={str(run.path)!r}")
    model = store.load_model_file(run.model_path)
    data = tflite.to_tflite(model)
    try:
        ds = datasets.load(config.dataset, config.data_dir)
    except datasets.DatasetUnavailableError:
        diff, n = None, 0
    else:
        idx = engine.eval_indices(ds.y_test, config.n_test, config.seed)[:n_images]
        x = datasets.to_float(ds.x_test[idx])  # (n, H, W, C) float32 [0, 1]
        diff, n = tflite.max_difference(model, data, x), len(x)
    return RunFiles(data, diff, n, code.script(run), code.notebook(run))
