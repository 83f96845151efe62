"""Taking home a run on an own dataset: TFLite and ONNX checked on its test pictures, and
the script that reads the dataset's unzipped folder and splits it as the library does.

The dataset is made of real CIFAR-10 test pictures (three classes, 30 each, upscaled to
64 px PNGs and imported at 32 px, as tests/test_owndata_training.py does)."""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_owndata_training import cifar_zip
from testutil import requires_shared_data

from cnnlib import rundir
from cnnlib.export import code, run_files
from cnnlib.owndata.store import OwnDataStore
from cnnlib.owners import owner_tag
from cnnlib.training import config, engine

ALICE, BOB = "alice-browser-token-000000", "bob-browser-token-00000000"


@pytest.fixture(scope="module")
def own_run(tmp_path_factory):
    """``(result, home)``: a 1-epoch cifar_small run (seed 3, 10% validation, flips) on
    ALICE's "cifar3", kept under ``home`` (each test points CNN_STUDIO_HOME there)."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CNN_STUDIO_HOME", str(home))
        OwnDataStore().import_zip(ALICE, "cifar3", cifar_zip(30), size=32, gray=False)
        cfg = config.TrainConfig(dataset="own:cifar3", dataset_owner=owner_tag(ALICE),
                                 arch="cifar_small", epochs=1, batch_size=16, seed=3,
                                 validation_split=0.1, augment_flip=True, snapshot_every_s=0,
                                 run_root=str(tmp_path_factory.mktemp("runs")))
        return engine.train(cfg), home


def machine_lines(stdout: str) -> dict[str, str]:
    keys = ("DATA", "TEST_IMAGES", "LAYERS", "PARAMS", "TEST_ACCURACY")
    return {ln.split(" ", 1)[0]: ln.split(" ", 1)[1] for ln in stdout.splitlines()
            if ln.split(" ", 1)[0] in keys}


@requires_shared_data
@pytest.mark.slow
def test_own_run_exports_checked_files_and_a_script_on_its_folder(own_run, tmp_path, monkeypatch):
    result, home = own_run
    monkeypatch.setenv("CNN_STUDIO_HOME", str(home))
    run = result.run_dir
    files = run_files.run_files(run)
    n_test = result.n_test
    for converted in (files.model.tflite, files.model.onnx):
        print(converted.check_sentence())
        assert converted.data is not None and converted.n_checked == n_test == 18
        assert converted.images == "test images" and converted.max_difference <= 1e-5
    assert files.code_error is None and "cnnlib" not in files.script.replace("CNN Studio", "")

    # the zip the page offers, unzipped: the script finds the pictures beside it
    bundle = run_files.bundle(files, run.name, OwnDataStore().export_zip(ALICE, "cifar3"))
    with zipfile.ZipFile(__import__("io").BytesIO(bundle)) as z:
        z.extractall(tmp_path)
    assert (tmp_path / f"{run.name}.ipynb").exists() and len(list((tmp_path / "cifar3").glob("*/*.png"))) == 90
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CNN_STUDIO_DATA_DIR")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    proc = subprocess.run([sys.executable, "-I", str(tmp_path / f"{run.name}.py"), "--epochs", "1"],
                          cwd=tmp_path / "cifar3", capture_output=True, text=True, env=env,
                          timeout=600)  # another working folder: DATA_DIR is beside the script
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = machine_lines(proc.stdout)
    start = rundir.last(run.events(), "start")
    assert lines["DATA"].split() == [str(start["n_train"]), str(start["n_val"]), str(n_test)]
    digest, counts = lines["TEST_IMAGES"].split(" ", 1)
    preds = run.predictions()
    assert digest == preds.images_digest  # the same test pictures, in the same order
    assert json.loads(counts) == np.bincount(preds.y_true).tolist()
    assert "not the run's" not in proc.stdout
    model = result.model
    assert json.loads(lines["LAYERS"]) == [[type(la).__name__, la.name, int(la.count_params())]
                                           for la in model.layers]
    assert int(lines["PARAMS"]) == model.count_params()
    print(f"script on the unzipped folder: DATA {lines['DATA']}, test images {digest} "
          f"{counts}, {lines['PARAMS']} parameters")

    # one picture fewer: the script says its test images are not the run's
    next(iter(sorted((tmp_path / "cifar3" / "frog").glob("*.png")))).unlink()
    proc = subprocess.run([sys.executable, "-I", str(tmp_path / f"{run.name}.py"), "--epochs", "0"],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert "not the run's" in proc.stdout, proc.stderr[-2000:]


@requires_shared_data
def test_own_run_notebook_holds_the_script(own_run, monkeypatch):
    result, home = own_run
    monkeypatch.setenv("CNN_STUDIO_HOME", str(home))
    cells = code.run_cells(result.run_dir)
    script = code.script_of(cells)
    assert "DATA_DIR = HERE / 'cifar3'" in script and "from PIL import Image" in script
    nb = json.loads(code.notebook_of(cells))
    assert "\n\n\n".join("".join(c["source"]) for c in nb["cells"]
                         if c["cell_type"] == "code") + "\n" == script


def test_a_run_on_a_frozen_base_is_not_written_as_code():
    assert code.why_not_code({"dataset": "mnist"}) is None
    assert code.why_not_code({"base_model": None}) is None
    why = code.why_not_code({"base_model": "vgg16"})
    assert "'vgg16'" in why and "self-contained" in why and why.count(". ") == 0


def results_page(run_path):
    from cnnlib.rundir import RunDir
    from pages import train_results

    run = RunDir(run_path)
    train_results.show_results(run, run.events(), "t")


@requires_shared_data
@pytest.mark.slow
def test_page_offers_the_owner_onnx_and_a_zip_with_the_pictures(own_run, monkeypatch):
    result, home = own_run
    monkeypatch.setenv("CNN_STUDIO_HOME", str(home))

    def browser(owner):
        at = AppTest.from_function(results_page, args=(str(result.run_dir.path),), default_timeout=60)
        at.session_state["identity_owner"] = owner
        return at.run()

    bob = browser(BOB)
    assert not [b for b in bob.button if b.key and b.key.startswith("take_home_prepare")]
    assert any("someone else's pictures" in c.value for c in bob.caption)
    alice = browser(ALICE)
    alice.button(key="take_home_prepare_t").click().run(timeout=300)
    assert not alice.exception and not alice.error, [e.value for e in alice.error]
    labels = {e.proto.label for e in alice.get("download_button")}
    assert {"Download TFLite", "Download ONNX", "Download as Python script", "Download as notebook",
            "Download script, notebook and pictures (.zip)"} <= labels
    checks = [c.value for c in alice.caption if "outputs match Keras" in c.value]
    assert len(checks) == 2 and all(f"on {result.n_test} test images" in c for c in checks)
