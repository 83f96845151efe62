"""Lessons: each tutorial workflow's settings, field by field, as the issue's table gives
them (transcribed from the tutorials), and the figures the texts report."""

import argparse

import pytest

from cnnlib.training import arguments, lessons
from cnnlib.training.config import TrainConfig

# name: (tutorial, the settings the text uses, the text's figure)
TABLE = {
    "cifar3_batchnorm": ("000", dict(
        dataset="cifar10_3class", arch="cifar_bn3", optimizer="adam", batch_size=128, epochs=10,
        early_stopping_patience=3, monitor="val_accuracy", keep_best=True, validation="test"),
        0.883),
    "cifar_small": ("001", dict(dataset="cifar10", arch="cifar_small", optimizer="adam",
                                batch_size=32, epochs=10, validation="test"), 0.6156),
    "cifar_wide": ("001", dict(dataset="cifar10", arch="cifar_wide", optimizer="adam",
                               batch_size=32, epochs=10, validation="test"), 0.7045),
    "lenet5_mnist": ("001", dict(dataset="mnist", arch="lenet5", optimizer="adam", batch_size=32,
                                 epochs=10), None),
    "mnist_cnn": ("002", dict(dataset="mnist", arch="mnist_cnn", optimizer="adam", batch_size=32,
                              epochs=10), 0.9916),
    "mnist_logistic": ("002", dict(dataset="mnist", arch="logistic", optimizer="sgd",
                                   learning_rate=0.01, momentum=0.0, batch_size=32, epochs=50),
                       0.9231),
    "mnist_mlp": ("003", dict(dataset="mnist", arch="mlp", optimizer="sgd", learning_rate=0.01,
                              momentum=0.0, batch_size=32, epochs=3, normalization="standardize"),
                  0.9611),
    "cifar_6conv_augment": ("004", dict(
        dataset="cifar10", arch="cifar_6conv", optimizer="rmsprop", batch_size=256, epochs=100,
        augment_shift=0.1, augment_flip=True, validation="test"), None),
}

# What every lesson shares unless the table says otherwise: the texts keep the last
# epoch's weights, do not stop early, use Keras's default learning rates, no augmentation,
# [0, 1] inputs, and all of the data.
COMMON = dict(learning_rate=1e-3, momentum=0.0, lr_schedule="constant", normalization="scale",
              monitor="val_loss", early_stopping_patience=0, keep_best=False,
              augment_flip=False, augment_vertical_flip=False, augment_shift=0.0,
              augment_rotation=0.0, augment_zoom=0.0, augment_fill_mode="nearest",
              augment_stroke=False, n_train=None, n_test=None, seed=0)


def test_every_lesson_is_in_the_table():
    assert set(lessons.LESSONS) == set(TABLE)


@pytest.mark.parametrize("name", list(TABLE))
def test_lesson_settings_field_by_field(name):
    tutorial, settings, figure = TABLE[name]
    lesson = lessons.lesson(name)
    assert lesson.tutorial == tutorial and lesson.title == lessons.TITLES[tutorial]
    assert lesson.file.startswith(tutorial + "_") and lesson.file.endswith(".txt")
    assert lesson.figure == figure
    cfg = lesson.config
    cfg.validate()
    expected = {**COMMON, **settings, "lesson": name}
    for field, value in expected.items():
        assert getattr(cfg, field) == value, f"{name}.{field}: {getattr(cfg, field)!r} != {value!r}"
    # validation: the test split where the table says so, else no hold-out (the texts use all
    # training images and report test accuracy)
    if cfg.validation == "holdout":
        assert cfg.validation_split == 0.0


def test_tutorial_files_and_titles_match_the_teaching_material():
    from testutil import REPO

    folder = REPO.parent / "shared" / "tutorials"
    if not folder.is_dir():
        pytest.skip(f"no teaching material at {folder}")
    for number, name in lessons.FILES.items():
        text = (folder / name).read_text(errors="replace")
        assert lessons.TITLES[number] in text, name


def test_the_002_lessons_point_at_each_other():
    assert lessons.lesson("mnist_cnn").compare_with == "mnist_logistic"
    assert lessons.lesson("mnist_logistic").compare_with == "mnist_cnn"


def test_unknown_lesson_is_named():
    with pytest.raises(ValueError, match="name='nope'"):
        lessons.lesson("nope")
    parser = argparse.ArgumentParser()
    arguments.add_arguments(parser)
    with pytest.raises(SystemExit):  # argparse: "invalid choice: 'nope'"
        parser.parse_args(["--lesson", "nope"])
    with pytest.raises(ValueError, match="name='nope'"):  # a namespace made otherwise
        arguments.from_args(argparse.Namespace(lesson="nope"))


@pytest.mark.parametrize("spelling", ["--lesson", "--tutorial"])
def test_lesson_flag_sets_the_lesson_and_later_flags_still_win(spelling):
    """--tutorial, the flag's name in earlier versions, is still accepted."""
    parser = argparse.ArgumentParser()
    arguments.add_arguments(parser)
    cfg = arguments.from_args(parser.parse_args([spelling, "mnist_mlp"]))
    assert cfg == lessons.lesson("mnist_mlp").config and cfg.lesson == "mnist_mlp"
    cfg = arguments.from_args(parser.parse_args([spelling, "mnist_mlp", "--epochs", "1",
                                                 "--n-train", "500"]))
    assert cfg.epochs == 1 and cfg.n_train == 500 and cfg.normalization == "standardize"
    assert lessons.differences(cfg, lessons.lesson("mnist_mlp")) == [("epochs", 1, 3)]


def test_own_figure_reads_the_lesson_metric():
    events = [{"type": "epoch", "epoch": 1, "val_accuracy": 0.5, "partial": False},
              {"type": "epoch", "epoch": 2, "val_accuracy": 0.7, "partial": False},
              {"type": "epoch", "epoch": 3, "val_accuracy": 0.6, "partial": False},
              {"type": "epoch", "epoch": 4, "val_accuracy": 0.9, "partial": True},
              {"type": "end", "test_accuracy": 0.65}]
    assert lessons.own_figure(lessons.lesson("cifar3_batchnorm"), events) == 0.7
    assert lessons.own_figure(lessons.lesson("cifar_small"), events) == 0.6
    assert lessons.own_figure(lessons.lesson("mnist_cnn"), events) == 0.65
    assert lessons.own_figure(lessons.lesson("mnist_cnn"), events[:3]) is None


def test_figure_text_names_the_data():
    text = lessons.lesson("cifar3_batchnorm").figure_text()
    assert "0.883" in text and "15,000" in text
    assert "no accuracy" in lessons.lesson("cifar_6conv_augment").figure_text()


def test_a_run_written_with_the_old_key_tutorial_reads_as_its_lesson():
    """Run directories' config.json of earlier versions name the lesson ``tutorial``."""
    old = {**lessons.lesson("mnist_mlp").config.to_dict(), "epochs": 2}
    old["tutorial"] = old.pop("lesson")
    cfg = TrainConfig.from_dict(old)
    assert cfg.lesson == "mnist_mlp" and cfg.epochs == 2
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg and "tutorial" not in cfg.to_dict()
