"""The training config: one dataclass, the single source of every setting.

Each field of :class:`TrainConfig` carries, in ``dataclasses.field(metadata=...)``,
its help text and what values it accepts (:class:`Range` or ``choices``).
Everything else is derived from the fields:

* :meth:`TrainConfig.validate` checks every field against its metadata;
* :mod:`cnnlib.training.arguments` makes one command-line flag per field
  (``--batch-size`` for ``batch_size``), with the dataclass's defaults;
* :func:`from_state` turns a mapping of widget values (the Train page's session
  state, keys ``train_<field>``) into a config.

Adding a setting therefore needs one edit here, plus its widget on the page.
No TensorFlow, no Streamlit. This module imports neither the lessons (which are
configs: :mod:`cnnlib.training.lessons` imports this) nor the run protocol
(:mod:`cnnlib.rundir` imports this), so the dependencies go one way:
config <- lessons <- arguments, config <- rundir.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, Mapping

from cnnlib.data import datasets
from cnnlib.models import zoo

OPTIMIZERS = ("adam", "sgd", "rmsprop")
LR_SCHEDULES = ("constant", "cosine")
MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")
VALIDATIONS = ("holdout", "test")
NORMALIZATIONS = ("scale", "standardize")
FILL_MODES = ("nearest", "constant", "reflect", "wrap")

#: Session-state prefix of the Train page's widgets: ``train_<field>``.
WIDGET_PREFIX = "train_"


@dataclasses.dataclass(frozen=True)
class Range:
    """Allowed interval of a numeric field: ``lo <= x <= hi``, or strict where
    ``lo_open`` / ``hi_open`` say so. ``None`` leaves a side unbounded."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    def __contains__(self, x: float) -> bool:
        if not math.isfinite(x):
            return False
        if self.lo is not None and (x <= self.lo if self.lo_open else x < self.lo):
            return False
        if self.hi is not None and (x >= self.hi if self.hi_open else x > self.hi):
            return False
        return True

    def describe(self) -> str:
        """The interval as text, e.g. ``"0 <= x < 0.9"``."""
        parts = []
        if self.lo is not None:
            parts.append(f"{self.lo:g} {'<' if self.lo_open else '<='} ")
        parts.append("x")
        if self.hi is not None:
            parts.append(f" {'<' if self.hi_open else '<='} {self.hi:g}")
        return "".join(parts)


def setting(default, help: str, *, range: Range | None = None, choices=None):
    """A :class:`TrainConfig` field with its help text and accepted values.

    Args:
        default: the default value.
        help: one sentence for the CLI's ``--help`` and the page's tooltip.
        range: for numbers, the accepted interval.
        choices: for strings, a tuple of accepted values, or a callable returning one
            (evaluated when checked, so registries can grow).
    """
    return dataclasses.field(default=default,
                             metadata={"help": help, "range": range, "choices": choices})


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines one training run (see each field's help)."""

    dataset: str = setting("mnist", "Dataset to train on: a built-in one, or own:<name> for one "
                           "of your own (with dataset_owner).", choices=datasets.names)
    dataset_owner: str | None = setting(
        None, "The owner tag (16 hex digits, cnnlib.owners.owner_tag; never the token) of the "
        "own dataset that dataset own:<name> names; None for a built-in dataset.")
    arch: str = setting("studio_cnn", "Architecture from the model zoo.",
                        choices=lambda: tuple(zoo.ARCHITECTURES))
    base_model: str | None = setting(
        None, "Transfer learning: start from a trained network's convolutional base, frozen, "
        "under a new dense head (cnnlib.models.transfer): a stored model's name (cifar10, "
        "mnist: the bundled ones) or vgg16 (VGG16's ImageNet base, when its weights file is "
        "present). None: train arch from scratch. With a base, arch and normalization are "
        "not used.")
    epochs: int = setting(5, "Full passes over the training images.", range=Range(1, 1000))
    batch_size: int = setting(64, "Images per gradient step.", range=Range(1, 8192))
    optimizer: str = setting("adam", "adam, sgd or rmsprop.", choices=OPTIMIZERS)
    learning_rate: float = setting(1e-3, "Step size of the optimizer (the initial one with a "
                                   "schedule).", range=Range(0, 10, lo_open=True, hi_open=True))
    momentum: float = setting(0.0, "SGD momentum (0 = plain SGD, Keras's default); adam and "
                              "rmsprop ignore it.", range=Range(0, 1, hi_open=True))
    lr_schedule: str = setting("constant", "constant, or cosine: decays the learning rate to 0 "
                               "over all epochs.", choices=LR_SCHEDULES)
    validation: str = setting(
        "holdout", "Where val_loss and val_accuracy are measured after each epoch: holdout "
        "(a fraction of the training images, validation_split) or test (the test images, as "
        "the tutorials do; this flatters the model, which is then chosen and stopped on the "
        "images it is scored on).", choices=VALIDATIONS)
    validation_split: float = setting(
        0.1, "Fraction of the training images held out to measure val_loss and val_accuracy "
        "with validation=holdout (0 = none).", range=Range(0, 0.9, hi_open=True))
    monitor: str = setting(
        "val_loss", "The metric early stopping and keep-best watch: losses are minimised, "
        "accuracies maximised. Without validation data a val_ metric falls back to the "
        "training one.", choices=MONITORS)
    normalization: str = setting(
        "scale", "scale: pixels in [0, 1]; standardize: then minus the training images' mean "
        "pixel, divided by their standard deviation (as tutorial 003 does), kept in the model "
        "as its first layer.", choices=NORMALIZATIONS)
    augment_flip: bool = setting(False, "Augmentation: random horizontal flips (photos; a "
                                 "mirrored digit is no digit).")
    augment_vertical_flip: bool = setting(False, "Augmentation: random vertical flips.")
    augment_shift: float = setting(0.0, "Augmentation: random translation, fraction of height "
                                   "and width.", range=Range(0, 0.5))
    augment_rotation: float = setting(0.0, "Augmentation: random rotation, degrees.",
                                      range=Range(0, 180))
    augment_zoom: float = setting(0.0, "Augmentation: random zoom, fraction.", range=Range(0, 0.9))
    augment_fill_mode: str = setting(
        "nearest", "Augmentation: how shifts, rotations and zooms fill the pixels they "
        "uncover: nearest (Keras's ImageDataGenerator default), constant (black), reflect or "
        "wrap.", choices=FILL_MODES)
    augment_stroke: bool = setting(False, "Augmentation: random stroke thickening or thinning "
                                   "(grey dilation or erosion), for digits.")
    adversarial_epsilon: float = setting(
        0.0, "FGSM adversarial training: each batch is trained together with its FGSM "
        "examples at this L-infinity budget, in [0, 1] units (0.1 = 25 grey levels; 0 = off; "
        "Goodfellow et al. 2015).", range=Range(0, 0.5))
    early_stopping_patience: int = setting(
        0, "Stop after this many epochs without a better monitor value (0 = off).",
        range=Range(0, 1000))
    keep_best: bool = setting(True, "End with the weights of the epoch with the best monitor "
                              "value, not the last epoch's.")
    snapshot_every_s: float = setting(
        3.0, "Seconds between live snapshots of the first conv layer (its kernels and the "
        "feature maps of one test image) while training; 0 = none.", range=Range(0, 600))
    seed: int = setting(0, "Seeds the subsets, the validation split, the initial weights and "
                        "the augmentation: the same seed gives the same run.",
                        range=Range(0, 2**31 - 1))
    n_train: int | None = setting(None, "Size of a stratified subset of the training images "
                                  "(default: all).", range=Range(2))
    n_test: int | None = setting(None, "Size of a stratified subset of the test images, for "
                                 "the final test accuracy (default: all).", range=Range(1))
    lesson: str | None = setting(
        None, "The lesson these settings come from (cnnlib.training.lessons); on the command line "
        "it sets every other setting to the lesson's, which later flags can still change.")
    data_dir: str | None = setting(None, "Folder with <dataset>.npz (default: "
                                   f"${datasets.ENV_DATA_DIR}, then keras.datasets).")
    run_root: str | None = setting(None, "Folder for run directories (default: "
                                   "$CNN_STUDIO_RUNS_DIR, else $CNN_STUDIO_HOME/runs).")

    def validate(self) -> None:
        """Check every field against its metadata.

        Raises:
            ValueError: naming the first bad field and its value, e.g.
                ``Invalid epochs: expected 1 <= x <= 1000. Received: epochs=0``.
        """
        # lazy: the package cnnlib.owndata imports its store, which imports this module
        from cnnlib.owndata import refs

        hints = field_types()
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            base, optional = hints[f.name]
            if value is None and optional:
                continue
            if not _is_instance(value, base):
                raise ValueError(f"Invalid {f.name}: expected {base.__name__}. "
                                 f"Received: {f.name}={value!r}")
            if f.name == "dataset" and refs.is_own(value):
                self._validate_own()
                continue
            if f.name == "base_model":
                self._validate_base()
                continue
            if f.name == "dataset_owner":
                if not refs.is_own(self.dataset):
                    raise ValueError(f"Invalid dataset_owner: only an own dataset (own:<name>) "
                                     f"has one; {self.dataset!r} is built in.")
                continue
            choices = field_choices(f)
            if choices is not None and value not in choices:
                also = " or own:<name> (a dataset of your own)" if f.name == "dataset" else ""
                raise ValueError(f"Invalid {f.name}: expected one of {list(choices)}{also}. "
                                 f"Received: {f.name}={value!r}")
            rng = f.metadata["range"]
            if rng is not None and value not in rng:
                raise ValueError(f"Invalid {f.name}: expected {rng.describe()}. "
                                 f"Received: {f.name}={value!r}")

    def _validate_own(self) -> None:
        """ValueError unless ``dataset`` is ``own:<a valid name>`` and ``dataset_owner`` a tag."""
        from cnnlib.owndata import refs

        try:
            refs.name_of(self.dataset)
            refs.check_tag(self.dataset_owner)
        except ValueError as e:
            raise ValueError(f"Invalid dataset: {e}") from None

    def _validate_base(self) -> None:
        """ValueError unless ``base_model`` is ``vgg16`` or a valid store name."""
        from cnnlib.models import transfer  # lazy: it reads the store

        try:
            transfer.check_name(self.base_model)
        except ValueError as e:
            raise ValueError(f"Invalid base_model: {e}") from None

    def model_title(self) -> str:
        """The model as the pages name it: the architecture (``"studio_cnn"``), or, for a
        transfer run, its base and head (``"cifar10's convolutional base + new head"``)."""
        if self.base_model is None:
            return self.arch
        from cnnlib.models import transfer

        return f"{transfer.title(self.base_model)} convolutional base + new head"

    def effective_monitor(self, has_validation: bool) -> str:
        """The metric actually watched: :attr:`monitor`, or its training version
        (``val_loss`` -> ``loss``) when the run has no validation data."""
        if not has_validation and self.monitor.startswith("val_"):
            return self.monitor[len("val_"):]
        return self.monitor

    def to_dict(self) -> dict:
        """Plain JSON-able dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TrainConfig":
        """The config of a dict from :meth:`to_dict`; unknown keys (from other versions)
        are ignored, missing ones take their defaults. The lesson's name, which earlier
        versions wrote as ``tutorial`` (run directories' ``config.json``, model cards),
        is read from that key too."""
        d = dict(d)
        if "lesson" not in d and "tutorial" in d:
            d["lesson"] = d["tutorial"]
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def monitor_mode(metric: str) -> str:
    """``"min"`` for a loss, ``"max"`` for an accuracy."""
    return "min" if metric.endswith("loss") else "max"


def field_choices(f: dataclasses.Field) -> tuple | None:
    """The values field ``f`` accepts (its ``choices``, a callable evaluated now), or None
    for any value of its type."""
    choices = f.metadata["choices"]
    return tuple(choices()) if callable(choices) else choices


@typing.no_type_check
def field_types() -> dict[str, tuple[type, bool]]:
    """``{field: (base type, accepts None)}`` from TrainConfig's annotations."""
    out = {}
    for name, hint in typing.get_type_hints(TrainConfig).items():
        args = typing.get_args(hint)
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            base = next(a for a in args if a is not type(None))
            out[name] = (base, type(None) in args)
        else:
            out[name] = (hint, False)
    return out


def _is_instance(value, base: type) -> bool:
    if base is bool:
        return isinstance(value, bool)
    if base is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if base is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, base)


def _coerce(value, base: type):
    """A widget or CLI value as the field's type (number inputs give floats for ints)."""
    if value is None or base is str:
        return value
    if base is bool:
        return bool(value)
    if base is int and isinstance(value, float) and value.is_integer():
        return int(value)
    return base(value)


# ------------------------------------------------------------------ widgets --

def widget_key(name: str) -> str:
    """The Train page's session-state key of field ``name``: ``train_<name>``."""
    return WIDGET_PREFIX + name


def from_state(state: Mapping[str, Any], base: TrainConfig | None = None) -> TrainConfig:
    """The config that widget values show.

    Args:
        state: a mapping holding ``train_<field>`` keys (Streamlit's session state);
            fields without a key keep ``base``'s value.
        base: where absent fields come from (default: :class:`TrainConfig` defaults).

    Returns:
        A new (not yet validated) :class:`TrainConfig`; numbers are converted to the
        field's type (a number input's ``3.0`` for ``epochs`` becomes ``3``).
    """
    values = (base or TrainConfig()).to_dict()
    hints = field_types()
    for name in values:
        key = widget_key(name)
        if key in state:
            values[name] = _coerce(state[key], hints[name][0])
    return TrainConfig(**values)


def field_help(name: str) -> str:
    """The help text of field ``name`` (for a widget's tooltip).

    Raises:
        KeyError: no such field.
    """
    return _FIELDS[name].metadata["help"]


def field_range(name: str) -> Range | None:
    """The accepted interval of numeric field ``name``, or None.

    Raises:
        KeyError: no such field.
    """
    return _FIELDS[name].metadata["range"]


_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
