"""What one server allows: jobs at once, and the size of one job and of the runs folder.

Each limit is an environment variable of the server, read when its
:class:`~cnnlib.jobs.JobManager` is made; unset or empty means no limit
(except :data:`ENV_MAX_JOBS`, default 1).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Mapping

from cnnlib.training.config import TrainConfig

ENV_MAX_JOBS = "CNN_STUDIO_MAX_JOBS"
ENV_MAX_EPOCHS = "CNN_STUDIO_MAX_EPOCHS"
ENV_MAX_TRAIN_IMAGES = "CNN_STUDIO_MAX_TRAIN_IMAGES"
ENV_RUNS_MAX_MB = "CNN_STUDIO_RUNS_MAX_MB"


class LimitError(ValueError):
    """A job asks for more than this server allows; the message names the limit."""


def _positive(environ: Mapping[str, str], name: str, kind: type = int):
    """``environ[name]`` as a positive ``kind``, or None when unset or empty.

    Raises:
        ValueError: a value that is not a positive number, naming the variable.
    """
    text = environ.get(name, "").strip()
    if not text:
        return None
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or value <= 0:
        raise ValueError(f"{name} must be a positive {'whole ' if kind is int else ''}number. "
                         f"Received: {name}={text!r}")
    return value


@dataclasses.dataclass(frozen=True)
class Limits:
    """The server's limits.

    Attributes:
        max_jobs: training processes running at once; more jobs wait in the queue.
        max_epochs: epochs one job may ask for, or None.
        max_train_images: training images (``n_train``, before the validation hold-out)
            one job may ask for, or None. A job that asks for "all" images is refused
            under this limit: the count is known only once the dataset is loaded.
        runs_max_mb: MiB the runs folder may hold; the oldest ended runs are deleted
            when a new run starts (:func:`cnnlib.rundir.prune_runs`), or None.
    """

    max_jobs: int = 1
    max_epochs: int | None = None
    max_train_images: int | None = None
    runs_max_mb: float | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Limits":
        """The limits of :data:`ENV_MAX_JOBS`, :data:`ENV_MAX_EPOCHS`,
        :data:`ENV_MAX_TRAIN_IMAGES` and :data:`ENV_RUNS_MAX_MB`.

        Raises:
            ValueError: a variable that is set to anything but a positive number.
        """
        env = os.environ if environ is None else environ
        return cls(max_jobs=_positive(env, ENV_MAX_JOBS) or 1,
                   max_epochs=_positive(env, ENV_MAX_EPOCHS),
                   max_train_images=_positive(env, ENV_MAX_TRAIN_IMAGES),
                   runs_max_mb=_positive(env, ENV_RUNS_MAX_MB, float))

    def check(self, config: TrainConfig) -> None:
        """Refuse a config that asks for more than these limits.

        Raises:
            LimitError: a sentence naming the limit, its variable and the value asked for.
        """
        if self.max_epochs is not None and config.epochs > self.max_epochs:
            raise LimitError(f"This server trains at most {self.max_epochs:,} epochs per job "
                             f"({ENV_MAX_EPOCHS}); ask for {self.max_epochs:,} or fewer. "
                             f"Received: epochs={config.epochs}")
        cap = self.max_train_images
        if cap is not None and (config.n_train is None or config.n_train > cap):
            asked = "all of them" if config.n_train is None else f"{config.n_train:,}"
            raise LimitError(f"This server trains on at most {cap:,} training images per job "
                             f"({ENV_MAX_TRAIN_IMAGES}); ask for {cap:,} or fewer. "
                             f"Received: n_train={asked}")

    def describe(self) -> str:
        """The per-job limits in one sentence, or "" when there are none."""
        parts = []
        if self.max_epochs is not None:
            parts.append(f"{self.max_epochs:,} epochs")
        if self.max_train_images is not None:
            parts.append(f"{self.max_train_images:,} training images")
        return f"This server allows at most {' and '.join(parts)} per job." if parts else ""
