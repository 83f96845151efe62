"""The job manager: a fair queue of training jobs, served by a runner.

Jobs wait in one first-in-first-out queue; as many run at once as the runner
allows (:mod:`cnnlib.jobs.runners`: :attr:`Limits.max_jobs` worker processes on
this machine, or a Ray cluster's capacity), each in a worker process
(:mod:`cnnlib.jobs.worker`) or a Ray task (:mod:`cnnlib.jobs.ray_runner`). Each owner (a
browser's token) has at most one job queued or running, sees and stops only their
own jobs, and learns of other people's only how many run and wait.

The manager has a thread of its own that polls the running jobs (so their events
are taken in and ``job.json`` is kept up to date with no page open), starts the
next queued job when one ends, keeps :attr:`warm_workers` workers waiting, and
spawns every worker: a worker's parent-death signal follows the thread that
spawned it, and this thread lives as long as the manager.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import os
import queue
import threading
import traceback
import weakref
from pathlib import Path
from typing import Callable

from cnnlib import paths, rundir
from cnnlib.jobs.estimate import QueueView, WaitEstimate, estimate_wait
from cnnlib.jobs.job import Job
from cnnlib.jobs.limits import ENV_MAX_JOBS, Limits
from cnnlib.jobs.recovery import mark_interrupted
from cnnlib.jobs.runners import make_runner
from cnnlib.owners import NotOwnerError
from cnnlib.training.config import TrainConfig

#: Seconds between two rounds of the manager's thread (polling, starting queued jobs).
POLL_INTERVAL_S = 0.5


class OwnerBusyError(RuntimeError):
    """The owner already has a job queued or running.

    Attributes:
        job: that job.
    """

    def __init__(self, job: Job):
        self.job = job
        where = "waiting in the queue" if job.state == "queued" else "running"
        super().__init__(f"You already have a training job {where} ({job.id}); each person "
                         "runs one job at a time. Stop it or wait for it to end, then start "
                         "the next.")


def _serve(ref: Callable[[], "JobManager | None"], calls: queue.Queue,
           closed: threading.Event) -> None:
    """The manager's thread: runs the calls handed to it, then one round of
    :meth:`JobManager._advance`, every :data:`POLL_INTERVAL_S` seconds at most. Holds the
    manager only weakly: it ends when the manager is closed or garbage-collected."""
    while not closed.is_set():
        try:
            item = calls.get(timeout=POLL_INTERVAL_S)
        except queue.Empty:
            item = None
        manager = ref()
        if manager is None:
            return
        if item is not None:
            fn, future = item
            try:
                future.set_result(fn())
            except BaseException as e:
                future.set_exception(e)
        if not closed.is_set():
            try:
                manager._advance()
            except Exception:  # the thread must outlive any one bad round
                traceback.print_exc()
        del manager


class JobManager:
    """Queues training jobs, runs them in worker processes, keeps them for their readers.

    Made once per server (the Train page keeps it in ``st.cache_resource``). On
    creation it marks the runs of a previous server that died mid-job as interrupted
    (:func:`~cnnlib.jobs.recovery.mark_interrupted`).

    Args:
        max_running: how many jobs run at once (default: ``limits.max_jobs``, from
            ``$CNN_STUDIO_MAX_JOBS``, 1 when unset; on a Ray cluster the cluster's
            capacity unless the variable is set); the others wait in the queue.
        warm_workers: training processes kept started, with TensorFlow imported,
            waiting for the next job, so that a job starts without the ~4 s of spawning
            and importing (default ``$CNN_STUDIO_WARM_WORKERS`` or 1; 0 turns it off).
            Each costs the memory of an idle process with TensorFlow loaded (~0.7 GB).
            The local runner's only.
        runner: who runs the jobs (:mod:`cnnlib.jobs.runners`; default
            :func:`~cnnlib.jobs.runners.make_runner`: a Ray cluster when
            ``$CNN_STUDIO_RAY_ADDRESS`` is set, else this machine's processes).
        limits: the server's :class:`~cnnlib.jobs.limits.Limits` (default: from the
            environment).
        runs_root: the runs folder checked for interrupted runs (default
            :func:`cnnlib.paths.runs_dir`).

    Raises:
        ValueError: a limit's environment variable holds something else than a
            positive number.
    """

    #: Finished jobs kept in memory (with their events) besides each owner's latest;
    #: older ones are still in their run directories (:func:`cnnlib.rundir.list_runs`).
    KEEP_FINISHED = 10

    def __init__(self, max_running: int | None = None, warm_workers: int | None = None,
                 limits: Limits | None = None, runs_root: str | Path | None = None,
                 runner=None):
        # on a Ray cluster the cluster's capacity counts unless a limit was given
        self._max_jobs_set = bool(max_running) or limits is not None or bool(
            os.environ.get(ENV_MAX_JOBS))
        limits = limits or Limits.from_env()
        if max_running:
            limits = dataclasses.replace(limits, max_jobs=int(max_running))
        self.limits = limits
        if warm_workers is None:
            warm_workers = int(os.environ.get("CNN_STUDIO_WARM_WORKERS", 1))
        self.warm_workers = max(0, warm_workers)
        self.runner = runner if runner is not None else make_runner(self.warm_workers)
        self.jobs: dict[str, Job] = {}
        self.interrupted: list[rundir.RunDir] = mark_interrupted(runs_root)
        self._queue: collections.deque[Job] = collections.deque()
        self._lock = threading.RLock()
        self._calls: queue.Queue = queue.Queue()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=_serve, name="cnn-studio-jobs", daemon=True,
                                         args=(weakref.ref(self), self._calls, self._closed))
        self._thread.start()
        self._call(self._top_up)

    @property
    def max_running(self) -> int:
        """Jobs run at once: :attr:`Limits.max_jobs` on this machine; on a Ray cluster its
        capacity, or :attr:`Limits.max_jobs` when ``$CNN_STUDIO_MAX_JOBS`` is set."""
        return self.runner.capacity(self.limits.max_jobs, self._max_jobs_set)

    # -- the manager's thread ------------------------------------------------
    def _call(self, fn: Callable, timeout: float = 60):
        """Run ``fn`` in the manager's thread and return its result (re-raising its
        error). Workers must be spawned there (see the module docstring)."""
        if threading.current_thread() is self._thread:
            return fn()
        if self._closed.is_set():
            raise RuntimeError("This job manager was shut down.")
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._calls.put((fn, future))
        return future.result(timeout)

    def _advance(self) -> None:
        """One round: poll the launched jobs, start queued jobs while workers are free,
        top up the warm workers. Runs in the manager's thread."""
        with self._lock:
            for job in self._launched():
                job.poll()
            self._queue = collections.deque(j for j in self._queue if j.state == "queued")
            while self._queue and len(self._launched()) < self.max_running:
                job = self._queue.popleft()
                self._prune_runs(job.config)
                execution = self.runner.take()
                if not job.launch(execution):  # cancelled meanwhile: it waits for the next
                    self.runner.give_back(execution)
            self._top_up()

    def _launched(self) -> list[Job]:
        """Jobs that have a worker and have not ended."""
        return [j for j in self.jobs.values() if j.state in ("starting", "running")]

    def _top_up(self) -> None:
        """The runner's housekeeping: the local runner's warm workers started."""
        self.runner.top_up()

    def _prune_runs(self, config: TrainConfig) -> None:
        """Keep the folder the next run goes to under :attr:`Limits.runs_max_mb`."""
        if self.limits.runs_max_mb is None:
            return
        root = Path(config.run_root) if config.run_root else paths.runs_dir()
        keep = {j.run_dir.path for j in self._launched() if j.run_dir is not None}
        rundir.prune_runs(root, int(self.limits.runs_max_mb * rundir.retention.MIB), keep)

    # -- starting ----------------------------------------------------------
    def start(self, config: TrainConfig, owner: str = "") -> Job:
        """Validate ``config`` and queue it for ``owner``; it starts at once when a worker
        is free (in a warm worker when one waits, else a new process).

        Args:
            config: the run's settings.
            owner: the owner token of whoever starts it (``pages/identity.py``); only
                they can find it with :meth:`get` / :meth:`latest` and stop it.

        Returns:
            The :class:`Job`: "starting" when it got a worker, else "queued".

        Raises:
            ValueError: an invalid config.
            LimitError: the config asks for more than :attr:`limits` allow (a
                ``ValueError`` whose message names the limit).
            OwnerBusyError: ``owner`` already has a job queued or running.
        """
        config.validate()
        self.limits.check(config)
        with self._lock:
            mine = self.active(owner)
            if mine is not None:
                raise OwnerBusyError(mine)
            job = Job(config, owner)
            self.jobs[job.id] = job
            self._queue.append(job)
            self._forget_old()
        self._call(self._advance)
        return job

    def _forget_old(self) -> None:
        """Let go of ended jobs beyond :attr:`KEEP_FINISHED`, each owner's latest excepted."""
        latest = {}
        for j in sorted(self.jobs.values(), key=lambda j: j.created):
            latest[j.owner] = j
        ended = sorted((j for j in self.jobs.values() if j.done and latest[j.owner] is not j),
                       key=lambda j: j.created)
        for old in ended[:max(0, len(ended) - self.KEEP_FINISHED)]:
            del self.jobs[old.id]

    # -- reading -----------------------------------------------------------
    def get(self, job_id: str | None, owner: str | None = None) -> Job | None:
        """The job ``job_id``, or None (unknown, forgotten, or not ``owner``'s when an
        owner is given)."""
        job = self.jobs.get(job_id) if job_id else None
        return job if job is not None and (owner is None or job.owner == owner) else None

    def latest(self, owner: str | None = None) -> Job | None:
        """The most recently started job (``owner``'s when given), if any."""
        with self._lock:
            mine = [j for j in self.jobs.values() if owner is None or j.owner == owner]
        return max(mine, key=lambda j: j.created, default=None)

    def active(self, owner: str) -> Job | None:
        """``owner``'s job that is queued or running, if any."""
        with self._lock:
            return next((j for j in self.jobs.values() if j.owner == owner and not j.poll().done),
                        None)

    def running(self) -> list[Job]:
        """Every job that has a worker and has not ended, everyone's."""
        with self._lock:
            return [j for j in self._launched() if not j.poll().done]

    def queued(self) -> list[Job]:
        """Every job waiting for a worker, first to start first."""
        with self._lock:
            return [j for j in self._queue if j.state == "queued"]

    def idle_workers(self) -> list:
        """The warm workers waiting for a job (the local runner's; none on Ray)."""
        return list(getattr(self.runner, "idle", []))

    def queue_view(self, owner: str) -> QueueView:
        """Counts of the jobs running and waiting, everyone's and other people's."""
        running, queued = self.running(), self.queued()
        return QueueView(len(running), len(queued),
                         sum(j.owner != owner for j in running),
                         sum(j.owner != owner for j in queued), self.max_running)

    def wait_estimate(self, job: Job) -> WaitEstimate | None:
        """How long ``job`` will wait in the queue (see :func:`estimate_wait`); None
        when it is not queued."""
        queued = self.queued()
        if job not in queued:
            return None
        running = self.running()
        left = [p.seconds_left if p is not None else None for p in (j.progress() for j in running)]
        return estimate_wait(queued.index(job) + 1, self.max_running - len(running), left)

    # -- control -----------------------------------------------------------
    def stop(self, job_id: str, owner: str) -> Job:
        """``owner`` stops their job: a queued one is cancelled (it never runs), a
        running one stops after the batch in flight and keeps its best epoch so far.

        Returns:
            The job.

        Raises:
            KeyError: no job ``job_id`` (or it was forgotten).
            NotOwnerError: the job is not ``owner``'s.
        """
        job = self.jobs.get(job_id)
        if job is None:
            raise KeyError(f"There is no job {job_id!r} on this server.")
        if job.owner != owner:
            raise NotOwnerError(f"Only the person who started {job_id} can stop it.")
        job.stop()
        return job

    def shutdown(self) -> None:
        """Stop the manager's thread, kill every job's process (a job not ended is
        recorded as interrupted) and the idle workers."""
        self._closed.set()
        self._calls.put(None)  # wake the thread
        with self._lock:
            for job in self.jobs.values():
                job.interrupt("The server shut down during the run.")
            self.runner.shutdown()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)
