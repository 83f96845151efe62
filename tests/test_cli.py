"""The command line, run as a user would."""

import dataclasses
import re
import subprocess
import sys

import pytest
from testutil import REPO, requires_shared_data

from cnnlib import __main__ as cli
from cnnlib import paths, store
from cnnlib.models import zoo
from cnnlib.owners import owner_tag
from cnnlib.training import arguments, config


@requires_shared_data
def test_train_and_save(tmp_path, monkeypatch, capsys):
    """A save goes to the user folder as the command line's model; a bundled model changes
    only with --overwrite-bundled."""
    bundled = tmp_path / "bundled"
    store.save_model(zoo.build("logistic", (28, 28, 1), 10), "shipped", models_dir=bundled)
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(bundled))
    rc = cli.main(["train", "--dataset", "mnist", "--arch", "logistic", "--epochs", "1",
                   "--n-train", "500", "--n-test", "300", "--no-keep-best", "--save", "clitest"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "test accuracy" in out and "saved" in out
    entry = {m.name: m for m in store.list_models()}["clitest"]
    assert not entry.bundled and entry.owned_by(cli.CLI_OWNER) and cli.CLI_OWNER == "cli"
    assert entry.path == paths.user_models_dir() / "clitest.keras"
    # 500 images, 10% held out for validation: 450 trained on (the Train page's card says the same)
    assert entry.card["arch"] == "logistic" and entry.card["n_train"] == 450
    assert entry.card["n_test"] == 300 and entry.card["config"]["keep_best"] is False
    rc = cli.main(["train", "--dataset", "mnist", "--arch", "logistic", "--epochs", "1",
                   "--n-train", "100", "--n-test", "50", "--save", "shipped",
                   "--overwrite-bundled"])
    assert rc == 0 and f"saved {bundled / 'shipped.keras'}" in capsys.readouterr().out
    shipped = {m.name: m for m in store.list_models()}["shipped"]
    assert shipped.bundled and shipped.card["n_test"] == 50


def test_train_refuses_a_bundled_name_before_training(monkeypatch, capsys):
    """Without --overwrite-bundled, before any training: exit 2 and a sentence; the
    repository's models/ is untouched."""
    folder = REPO / "models"
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(folder))
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    for extra in ([], ["--overwrite"]):
        assert cli.main(["train", "--epochs", "1", "--save", "mnist", *extra]) == 2
        captured = capsys.readouterr()
        assert "epoch" not in captured.out  # no training began
        assert "error: 'mnist' is one of CNN Studio's bundled models" in captured.err
        assert "--overwrite-bundled" in captured.err
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_models_and_delete(tmp_path, monkeypatch, capsys):
    bundled = tmp_path / "bundled"
    model = zoo.build("logistic", (8, 8, 1), 3)
    store.save_model(model, "shipped", models_dir=bundled)
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(bundled))
    store.save_model(model, "theirs", owner="a-browser")
    store.save_model(model, "mine", owner="cli")
    assert cli.main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" ")[0] for line in lines] == ["shipped", "mine", "theirs"]
    assert lines[0].endswith("[bundled]") and lines[1].endswith("[owner cli]")
    # another owner's token is never written down, so never printed: its tag is
    assert lines[2].endswith(f"[owner tag {owner_tag('a-browser')}]") and "a-browser" not in lines[2]
    assert cli.main(["delete", "theirs"]) == 1
    assert "saved by someone else" in capsys.readouterr().err
    assert cli.main(["delete", "shipped"]) == 1
    assert "--overwrite-bundled" in capsys.readouterr().err
    assert cli.main(["delete", "mine"]) == 0
    assert cli.main(["delete", "theirs", "--owner", "a-browser"]) == 0
    assert cli.main(["delete", "shipped", "--overwrite-bundled"]) == 0
    assert store.list_models() == []
    assert cli.main(["delete", "shipped"]) == 1
    assert "There is no model named 'shipped'" in capsys.readouterr().err


def test_train_help_lists_a_flag_for_every_config_field():
    out = subprocess.run([sys.executable, "-m", "cnnlib", "train", "--help"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    flags = set(re.findall(r"--[a-z][a-z0-9-]*", out.stdout))
    for f in dataclasses.fields(config.TrainConfig):
        assert arguments.flag(f.name) in flags, f"no flag for TrainConfig.{f.name}"
    assert "--tutorial" in flags  # the lesson's older flag, still accepted


def test_flag_defaults_are_the_dataclass_defaults():
    import argparse

    parser = argparse.ArgumentParser()
    arguments.add_arguments(parser)
    assert arguments.from_args(parser.parse_args([])) == config.TrainConfig()
    args = parser.parse_args(["--epochs", "7", "--no-keep-best", "--augment-flip", "--n-test", "9",
                              "--learning-rate", "0.02"])
    assert arguments.from_args(args) == config.TrainConfig(epochs=7, keep_best=False,
                                                           augment_flip=True, n_test=9,
                                                           learning_rate=0.02)


@pytest.mark.parametrize("argv", [["--optimizer", "adagrad"], ["--epochs", "x"]])
def test_flags_refuse_bad_values(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["train", *argv])
    assert e.value.code == 2


def test_bad_arguments_exit_2(capsys):
    assert cli.main(["train", "--epochs", "0"]) == 2
    assert "epochs=0" in capsys.readouterr().err


def test_models_lists_the_store():
    out = subprocess.run([sys.executable, "-m", "cnnlib", "models"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    assert "mnist" in out.stdout


@requires_shared_data
def test_tutorial_lesson_prints_the_early_stop_and_the_kept_epoch(capsys):
    """Tutorial 000's workflow on the shared data: it stops early on val_accuracy and says
    which epoch it kept, beside the text's figure."""
    assert cli.main(["train", "--lesson", "cifar3_batchnorm"]) == 0
    out = capsys.readouterr().out
    assert "Lesson cifar3_batchnorm" in out and "best val_accuracy 0.883" in out
    assert re.search(r"Stopped early at epoch \d+ \(no better val_accuracy for 3 epochs\); "
                     r"kept epoch \d+ \(val_accuracy [0-9.]+\)\.", out), out
    assert "Your best val_accuracy:" in out
