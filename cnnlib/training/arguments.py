"""The command line's training flags: one per :class:`~cnnlib.training.config.TrainConfig`
field, and ``--lesson`` to start from a lesson's settings.

``python -m cnnlib train`` (:mod:`cnnlib.__main__`) adds these flags to its parser
with :func:`add_arguments` and turns what was given into a config with
:func:`from_args`. Here, above both :mod:`~cnnlib.training.config` and
:mod:`~cnnlib.training.lessons`, the command line may know of both; neither of
them knows of the other's users.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from cnnlib.training import lessons
from cnnlib.training.config import TrainConfig, field_choices, field_types

#: Older spellings of a flag, still accepted: README commands and scripts of earlier
#: versions say ``--tutorial NAME`` for the lesson.
ALIASES = {"lesson": ("--tutorial",)}


def flag(name: str) -> str:
    """The command-line flag of field ``name``: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one flag per :class:`TrainConfig` field to ``parser`` (booleans as
    ``--flag/--no-flag``; ``--lesson``, alias ``--tutorial``, takes a lesson's name). A
    flag left out leaves its field unset in the namespace (its help shows the
    dataclass default), so that :func:`from_args` can tell a given flag from a default."""
    hints = field_types()
    for f in dataclasses.fields(TrainConfig):
        base, _ = hints[f.name]
        help_text = f.metadata["help"]
        if f.metadata["range"] is not None:
            help_text += f" ({f.metadata['range'].describe()})"
        kwargs: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS}
        if base is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = base
            choices = tuple(lessons.LESSONS) if f.name == "lesson" else field_choices(f)
            if f.name == "dataset":  # or own:<name>, which TrainConfig.validate checks
                help_text += f" Built in: {', '.join(choices)}."
                kwargs["metavar"] = "{" + ",".join(choices) + ",own:NAME}"
            elif choices is not None:
                kwargs["choices"] = choices
        parser.add_argument(flag(f.name), *ALIASES.get(f.name, ()),
                            help=f"{help_text} (default: {f.default})", **kwargs)


def from_args(args: argparse.Namespace) -> TrainConfig:
    """The config of a namespace parsed with :func:`add_arguments` (not yet validated):
    the lesson's settings when ``--lesson`` was given, else the dataclass defaults,
    then every flag that was given.

    Raises:
        ValueError: an unknown ``--lesson`` (the message lists the lessons).
    """
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
             if hasattr(args, f.name)}
    base = lessons.lesson(given["lesson"]).config if given.get("lesson") else TrainConfig()
    return dataclasses.replace(base, **given)
