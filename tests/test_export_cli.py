"""The command line's take-home files: ``train --dataset own:NAME`` trains on an own
dataset again, ``export RUN --to DIR`` writes TFLite, ONNX, script, notebook (and the
owner's pictures beside the script), ``export --model NAME`` a stored model's files.
Tiny made-up pictures (tests/test_owndata_training.py's folder of three colours)."""

import re

import pytest
from test_owndata_training import write_folder
from testutil import REPO, requires_shared_data

from cnnlib import __main__ as cli
from cnnlib.owners import owner_tag

pytest.importorskip("tf2onnx")

TINY = ["--image-size", "32", "--arch", "logistic", "--epochs", "1", "--batch-size", "8",
        "--snapshot-every-s", "0"]


def run_directory(out: str) -> str:
    return re.search(r"run directory (\S+)", out).group(1)


def test_train_on_an_own_dataset_then_export_the_run(tmp_path, capsys):
    folder = write_folder(tmp_path / "colours")
    assert cli.main(["train", "--images", str(folder), *TINY]) == 0
    capsys.readouterr()
    # the dataset again by name: the owner is --owner's (the command line's) unless named
    assert cli.main(["train", "--dataset", "own:colours", *TINY[2:]]) == 0
    first = run_directory(capsys.readouterr().out)
    assert cli.main(["train", "--dataset", "own:colours", "--dataset-owner",
                     owner_tag(cli.CLI_OWNER), *TINY[2:]]) == 0
    assert "test accuracy" in capsys.readouterr().out

    out_dir = tmp_path / "home"
    assert cli.main(["export", first, "--to", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "TFLite outputs match Keras within" in out and "ONNX outputs match Keras within" in out
    assert "on 4 test images" in out  # 18 pictures, 20% held out
    name = first.rsplit("/", 1)[-1]
    assert {p.name for p in out_dir.iterdir()} == {f"{name}.tflite", f"{name}.onnx", f"{name}.py",
                                                   f"{name}.ipynb", "colours"}
    assert len(list((out_dir / "colours").glob("*/*.png"))) == 18  # where the script looks
    compile((out_dir / f"{name}.py").read_text(), "run.py", "exec")

    # another owner gets the files but not the pictures
    assert cli.main(["export", first, "--to", str(tmp_path / "other"), "--owner", "someone"]) == 0
    assert not (tmp_path / "other" / "colours").exists()


def test_export_refusals_are_sentences(tmp_path, capsys):
    assert cli.main(["train", "--dataset", "own:nothing", *TINY[2:]]) == 1
    assert capsys.readouterr().err.strip() == "error: You have no dataset named 'nothing'."
    assert cli.main(["export", "--to", str(tmp_path)]) == 2
    assert "a run or --model NAME" in capsys.readouterr().err
    assert cli.main(["export", str(tmp_path / "no-run"), "--to", str(tmp_path)]) == 1
    assert "needs config.json and best.keras" in capsys.readouterr().err
    assert cli.main(["export", "--model", "no-such-model", "--to", str(tmp_path)]) == 1
    assert "No usable stored model named 'no-such-model'" in capsys.readouterr().err


@requires_shared_data
@pytest.mark.slow
def test_export_a_bundled_model(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(REPO / "models"))
    assert cli.main(["export", "--model", "mnist", "--to", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "TFLite outputs match Keras within" in out and "on 64 test images" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist.onnx", "mnist.tflite"]
