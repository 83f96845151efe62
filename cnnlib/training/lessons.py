"""Lessons: each tutorial's training workflow as an exact :class:`TrainConfig`.

CNN Studio is built from five tutorials (their titles are below; the texts are
not part of the project). Each :class:`Lesson` holds the settings one of them
trains with, the figure the text reports and the data that figure was
measured on, so that a learner can run the same workflow in one click
(``python -m cnnlib train --lesson NAME``, or the Train page's Lesson
selector) and put their own figure beside the text's.

Where the app differs from a text, the difference is the data: the texts train
on the full datasets (60,000 MNIST or 50,000 CIFAR-10 training images); a
machine without internet trains on what its data folder holds, and the Train
page says how much smaller that is. Every other setting is the text's.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from cnnlib.rundir import last, of_type
from cnnlib.training.config import TrainConfig

#: The tutorials, by the number their file starts with.
TITLES = {
    "000": "Image Classification with CNNs",
    "001": "Convolution Neural Network for image classification: CIFAR10",
    "002": "Image Classification With Convolutional Neural Networks",
    "003": "Image Classification with Tensorflow",
    "004": "Keras Image Classification",
}

#: The tutorials' files (in the teaching material's folder, not in this project).
FILES = {
    "000": "000_6229d7352e8be663.txt",
    "001": "001_f8b2c0bab2d7d92f.txt",
    "002": "002_2e65d49c26f79a30.txt",
    "003": "003_922cb00102fa4371.txt",
    "004": "004_75501fd6b4999d23.txt",
}

#: How a lesson's figure is read from a run's events.
Metric = Literal["best_val_accuracy", "last_val_accuracy", "test_accuracy"]

METRIC_TEXT = {
    "best_val_accuracy": "best val_accuracy",
    "last_val_accuracy": "val_accuracy of the last epoch",
    "test_accuracy": "test accuracy",
}


@dataclasses.dataclass(frozen=True)
class Lesson:
    """One tutorial workflow.

    Attributes:
        name: the lesson's key (also ``TrainConfig.lesson`` of its runs).
        tutorial: the tutorial's number, a key of :data:`TITLES`.
        summary: one sentence: what the workflow shows.
        config: the exact settings (``lesson`` set to ``name``).
        figure: the accuracy the text reports, a fraction in [0, 1], or None when
            it reports none.
        metric: how that figure is measured (see :data:`METRIC_TEXT`).
        text_n_train: training images the text used.
        text_data: the data the figure was measured on, in words.
        compare_with: another lesson the text trains beside this one and compares.
    """

    name: str
    tutorial: str
    summary: str
    config: TrainConfig
    figure: float | None
    metric: Metric
    text_n_train: int
    text_data: str
    compare_with: str | None = None

    @property
    def title(self) -> str:
        return TITLES[self.tutorial]

    @property
    def file(self) -> str:
        """The tutorial's file name in the teaching material."""
        return FILES[self.tutorial]

    def figure_text(self) -> str:
        """The text's figure in words, e.g. ``"best val_accuracy 0.883 (15,000 ...)"``."""
        if self.figure is None:
            return f"the text reports no accuracy (it shows curves only; {self.text_data})"
        return f"{METRIC_TEXT[self.metric]} {self.figure:.4g} ({self.text_data})"


def _lesson(name, tutorial, summary, figure, metric, text_n_train, text_data,
            compare_with=None, **settings) -> Lesson:
    return Lesson(name, tutorial, summary, TrainConfig(lesson=name, **settings), figure,
                  metric, text_n_train, text_data, compare_with)


_CIFAR_FULL = "the 50,000 CIFAR-10 training images, validated on the 10,000 test images"
_MNIST_FULL = "the 60,000 MNIST training images, tested on the 10,000 test images"

LESSONS: dict[str, Lesson] = {lesson.name: lesson for lesson in [
    _lesson("cifar3_batchnorm", "000",
            "A batch-norm CNN on three CIFAR-10 classes, stopped early and checkpointed on "
            "val_accuracy.", 0.883, "best_val_accuracy", 15_000,
            "15,000 training images of airplanes, automobiles and birds, validated on their "
            "3,000 test images",
            dataset="cifar10_3class", arch="cifar_bn3", optimizer="adam", batch_size=128,
            epochs=10, validation="test", monitor="val_accuracy", early_stopping_patience=3,
            keep_best=True),
    _lesson("cifar_small", "001", "The smallest CIFAR-10 CNN: one conv layer of 10 filters.",
            0.6156, "last_val_accuracy", 50_000, _CIFAR_FULL,
            dataset="cifar10", arch="cifar_small", optimizer="adam", batch_size=32, epochs=10,
            validation="test", keep_best=False),
    _lesson("cifar_wide", "001", "A wider CIFAR-10 CNN: conv 8-512-256.",
            0.7045, "last_val_accuracy", 50_000, _CIFAR_FULL,
            dataset="cifar10", arch="cifar_wide", optimizer="adam", batch_size=32, epochs=10,
            validation="test", keep_best=False),
    _lesson("lenet5_mnist", "001", "LeNet-5 on handwritten digits.",
            None, "test_accuracy", 60_000, "the text builds the model but shows no training run",
            dataset="mnist", arch="lenet5", optimizer="adam", batch_size=32, epochs=10,
            validation_split=0.0, keep_best=False),
    _lesson("mnist_cnn", "002", "A CNN on MNIST, with training and test accuracy side by "
            "side, compared with logistic regression.", 0.9916, "test_accuracy", 60_000,
            _MNIST_FULL, compare_with="mnist_logistic",
            dataset="mnist", arch="mnist_cnn", optimizer="adam", batch_size=32, epochs=10,
            validation_split=0.0, keep_best=False),
    _lesson("mnist_logistic", "002", "Multinomial logistic regression on MNIST with plain "
            "SGD: the baseline the CNN is compared with.", 0.9231, "test_accuracy", 60_000,
            _MNIST_FULL, compare_with="mnist_cnn",
            dataset="mnist", arch="logistic", optimizer="sgd", learning_rate=0.01, momentum=0.0,
            batch_size=32, epochs=50, validation_split=0.0, keep_best=False),
    _lesson("mnist_mlp", "003", "A two-layer perceptron on standardized MNIST pixels with "
            "plain SGD.", 0.9611, "test_accuracy", 60_000, _MNIST_FULL,
            dataset="mnist", arch="mlp", optimizer="sgd", learning_rate=0.01, momentum=0.0,
            batch_size=32, epochs=3, normalization="standardize", validation_split=0.0,
            keep_best=False),
    _lesson("cifar_6conv_augment", "004", "Six conv layers on CIFAR-10 with RMSprop, random "
            "shifts and horizontal flips.", None, "last_val_accuracy", 50_000, _CIFAR_FULL,
            dataset="cifar10", arch="cifar_6conv", optimizer="rmsprop", batch_size=256,
            epochs=100, augment_shift=0.1, augment_flip=True, augment_fill_mode="nearest",
            validation="test", keep_best=False),
]}


def lesson(name: str) -> Lesson:
    """The lesson ``name``.

    Raises:
        ValueError: no such lesson (the message lists them).
    """
    if name not in LESSONS:
        raise ValueError(f"Unknown lesson. Expected one of {list(LESSONS)}. Received: name={name!r}")
    return LESSONS[name]


def own_figure(lesson: Lesson, events: list[dict]) -> float | None:
    """The lesson's metric measured on a run's events (the learner's figure to put
    beside the text's), or None while the run has not produced it.

    Args:
        lesson: the lesson.
        events: the run's :mod:`cnnlib.rundir` events.

    Returns:
        A fraction in [0, 1]; partial epochs are not counted.
    """
    epochs = [e for e in of_type(events, "epoch") if not e.get("partial")]
    vals = [e["val_accuracy"] for e in epochs if e.get("val_accuracy") is not None]
    if lesson.metric == "best_val_accuracy":
        return max(vals) if vals else None
    if lesson.metric == "last_val_accuracy":
        return vals[-1] if vals else None
    end = last(events, "end")
    return end["test_accuracy"] if end else None


def differences(config: TrainConfig, lesson: Lesson) -> list[tuple[str, object, object]]:
    """The settings in which ``config`` departs from the lesson's:
    ``[(field, config's value, lesson's value), ...]``, the data subset sizes
    (``n_train``, ``n_test``, ``data_dir``, ``run_root``) left out: they say how much of
    the local data to use, not how to train."""
    ignore = {"n_train", "n_test", "data_dir", "run_root"}
    mine, theirs = config.to_dict(), lesson.config.to_dict()
    return [(k, mine[k], theirs[k]) for k in mine if k not in ignore and mine[k] != theirs[k]]
