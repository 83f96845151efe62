"""The command line, run as a user would."""

import subprocess
import sys

from cnnlib import __main__ as cli
from cnnlib import store
from testutil import REPO, requires_shared_data


@requires_shared_data
def test_train_and_save(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(tmp_path))
    rc = cli.main(["train", "--dataset", "mnist", "--arch", "logistic", "--epochs", "1",
                   "--n-train", "500", "--save", "clitest"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "test accuracy" in out and "saved" in out
    (entry,) = store.list_models(tmp_path)
    assert entry.card["arch"] == "logistic" and entry.card["n_train"] == 500
    assert entry.card["n_test"] == 8000


def test_bad_arguments_exit_2(capsys):
    assert cli.main(["train", "--epochs", "0"]) == 2
    assert "epochs=0" in capsys.readouterr().err


def test_models_lists_the_store():
    out = subprocess.run([sys.executable, "-m", "cnnlib", "models"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    assert "mnist" in out.stdout
