"""A finished run as code: the generated script runs without cnnlib, on the same data,
and builds the run's architecture; the notebook holds the same code."""

import json
import os
import subprocess
import sys

import nbformat
import numpy as np
import pytest
from testutil import SHARED_DATA, requires_shared_data, tiny_config

from cnnlib.export import code
from cnnlib.training import engine


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A finished 1-epoch lenet5 run on 320 real MNIST images that uses most settings:
    standardize, cosine schedule, shifts, rotations, stroke width, early stopping."""
    config = tiny_config(arch="lenet5", normalization="standardize", lr_schedule="cosine",
                         optimizer="sgd", momentum=0.9, augment_shift=0.1,
                         augment_rotation=10.0, augment_stroke=True, early_stopping_patience=2,
                         snapshot_every_s=0.0, data_dir=str(SHARED_DATA),
                         run_root=str(tmp_path_factory.mktemp("runs")))
    return engine.train(config)


@requires_shared_data
@pytest.mark.slow
def test_script_rebuilds_the_run_without_cnnlib(tiny_run, tmp_path):
    text = code.script(tiny_run.run_dir)
    assert "cnnlib" not in text.replace("CNN Studio", "")
    compile(text, "run.py", "exec")
    path = tmp_path / "run.py"
    path.write_text(text)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CNN_STUDIO_DATA_DIR")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    # -I: no PYTHONPATH, no working folder on the path: cnnlib cannot be imported
    proc = subprocess.run([sys.executable, "-I", str(path), "--data-dir", str(SHARED_DATA),
                           "--epochs", "1"], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = {ln.split(" ", 1)[0]: ln.split(" ", 1)[1] for ln in proc.stdout.splitlines()
             if ln.split(" ", 1)[0] in ("DATA", "TEST_IMAGES", "LAYERS", "PARAMS", "TEST_ACCURACY")}
    model = tiny_run.model
    expected = [[type(la).__name__, la.name, int(la.count_params())] for la in model.layers]
    assert json.loads(lines["LAYERS"]) == expected
    assert int(lines["PARAMS"]) == model.count_params() == 61_730
    start = next(e for e in tiny_run.run_dir.events() if e["type"] == "start")
    assert lines["DATA"].split() == [str(start["n_train"]), str(start["n_val"]), str(start["n_test"])]
    digest, counts = lines["TEST_IMAGES"].split(" ", 1)  # the same test images, in order
    preds = tiny_run.run_dir.predictions()
    assert digest == preds.images_digest and json.loads(counts) == np.bincount(preds.y_true).tolist()
    assert 0.0 <= float(lines["TEST_ACCURACY"]) <= 1.0
    assert (tmp_path / "model.keras").exists()


@requires_shared_data
@pytest.mark.slow
def test_notebook_is_valid_and_holds_the_script(tiny_run):
    text = code.notebook(tiny_run.run_dir)
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    assert "\n\n\n".join(sources) + "\n" == code.script(tiny_run.run_dir)
    assert sum(c.cell_type == "markdown" for c in nb.cells) == len(sources) + 1  # + the title


def test_a_run_without_a_model_is_refused(tmp_path):
    from cnnlib.rundir import RunDir

    with pytest.raises(FileNotFoundError, match="best.keras"):
        code.script(RunDir(tmp_path / "nothing"))
