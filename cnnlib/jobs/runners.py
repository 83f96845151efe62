"""Who runs a training job: this machine's process pool, or a Ray cluster.

The job manager (:mod:`cnnlib.jobs.manager`) queues jobs and decides when one
starts; a *runner* gives it an :class:`Execution` to start it in and says how many
jobs may run at once. Two runners, one interface:

* :class:`LocalRunner` (the default, no set-up): spawned worker processes on the
  server's machine (:class:`cnnlib.jobs.worker.Worker`), a few kept warm.
* :class:`cnnlib.jobs.ray_runner.RayRunner`, when ``$CNN_STUDIO_RAY_ADDRESS`` is set
  (``auto`` or ``host:port``): each job a Ray task on the cluster, its events
  streamed back while it trains and its files sent back at the end.

:func:`make_runner` picks one from the environment; Ray is imported only then.
The pages and :class:`~cnnlib.jobs.job.Job` see the same events, run directory and
states whichever ran the job.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from typing import Protocol

from cnnlib.training.config import TrainConfig

#: The Ray cluster to run jobs on: ``auto`` (the cluster this machine joined with
#: ``ray start``) or ``host:port`` of its head; unset: the local runner.
ENV_RAY_ADDRESS = "CNN_STUDIO_RAY_ADDRESS"


class Execution(Protocol):
    """What a :class:`~cnnlib.jobs.job.Job` needs from whoever runs it: a local worker
    process or a Ray task.

    Attributes:
        where: the machine that runs it, in words (``"this server"``, or a Ray
            node's host name and address); may change from "" once the job is placed.
        pid: the process id on the server's machine, or None (a Ray task).
    """

    where: str
    pid: int | None

    def run(self, config: TrainConfig, job_id: str = "") -> None:
        """Start training ``config`` (with the server's environment of now)."""

    def take_events(self) -> list[dict]:
        """The :mod:`cnnlib.rundir` events that arrived since the last call, in order."""

    def request_stop(self) -> None:
        """Ask the job to stop after the batch in flight, keeping its best epoch so far."""

    @property
    def stop_requested(self) -> bool:
        """Whether :meth:`request_stop` was called."""

    def failure(self) -> str | None:
        """None while it may still send events; once it has ended, a sentence saying
        why a job that sent no end event failed."""

    def kill(self) -> None:
        """End it at once."""


class LocalRunner:
    """Worker processes on this machine: :attr:`warm` of them kept started and waiting.

    Spawn from one long-lived thread (the manager's): a worker's parent-death signal
    follows the thread that spawned it (:mod:`cnnlib.jobs.worker`).

    Args:
        warm: how many workers to keep started ahead of their jobs (>= 0).
    """

    name = "local"

    def __init__(self, warm: int = 1):
        from cnnlib.jobs.worker import Worker

        self._worker_cls = Worker
        self.warm = max(0, warm)
        self.idle: list = []
        self._ctx = mp.get_context("spawn")

    def capacity(self, max_jobs: int, max_jobs_set: bool = True) -> int:
        """Jobs run at once: ``max_jobs`` (:attr:`Limits.max_jobs`), set or not."""
        return max_jobs

    def take(self):
        """A worker for the next job: a warm one if one waits, else a new process."""
        self.idle = [w for w in self.idle if w.process.is_alive()]
        return self.idle.pop(0) if self.idle else self._worker_cls(self._ctx)

    def give_back(self, execution) -> None:
        """A worker whose job was cancelled before it ran: it waits for the next."""
        self.idle.insert(0, execution)

    def top_up(self) -> None:
        """Drop idle workers that died; start new ones up to :attr:`warm`."""
        self.idle = [w for w in self.idle if w.process.is_alive()]
        while len(self.idle) < self.warm:
            self.idle.append(self._worker_cls(self._ctx))

    def shutdown(self) -> None:
        """Kill the idle workers."""
        for worker in self.idle:
            worker.kill()
        self.idle = []


def make_runner(warm_workers: int = 1):
    """The runner the environment asks for: a :class:`~cnnlib.jobs.ray_runner.RayRunner`
    connected to ``$CNN_STUDIO_RAY_ADDRESS`` when it is set, else a :class:`LocalRunner`
    keeping ``warm_workers`` workers.

    Raises:
        cnnlib.jobs.ray_runner.RayUnavailableError: the variable is set but Ray is not
            installed or the cluster cannot be reached (the message says which).
    """
    address = os.environ.get(ENV_RAY_ADDRESS, "").strip()
    if address:
        from cnnlib.jobs.ray_runner import RayRunner

        return RayRunner(address)
    return LocalRunner(warm_workers)
