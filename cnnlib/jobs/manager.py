"""Training jobs in a separate process, observable from any number of readers.

Why a process: Streamlit reruns page scripts on every widget change and calls
``keras.backend.clear_session()`` after each run, so ``model.fit`` inside the
server is slow and is killed by a refresh (see NOTES.md). A job here runs
:func:`cnnlib.training.train` in a spawned process, which streams its events
through a ``multiprocessing`` queue. :meth:`Job.poll` drains the queue into
:attr:`Job.events`, so a reader that attaches late (a page refresh, a second
tab) still sees the whole history. A ``multiprocessing.Event`` asks the worker
to stop; it stops after the batch in flight and keeps the best epoch so far.

The job's state is also written to ``job.json`` in its run directory
(:meth:`cnnlib.rundir.RunDir.write_job`), beside the ``history.jsonl`` that the
training engine writes; the events are those of :mod:`cnnlib.rundir`.

No Streamlit import: the Train page keeps one :class:`JobManager` in
``st.cache_resource`` so that every session of the server shares it.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import queue
import threading
import time
import traceback
from . import rundir
from .config import TrainConfig
from .keras_home import ENV_KERAS_HOME
from .rundir import ErrorEvent, RunDir

#: States a job goes through. "finished", "stopped" and "failed" are final.
STATES = ("starting", "running", "finished", "stopped", "failed")
FINAL_STATES = ("finished", "stopped", "failed")
_ids = itertools.count(1)


class BusyError(RuntimeError):
    """The server already runs its maximum number of training jobs."""

    def __init__(self, running: list["Job"]):
        self.running = running
        names = ", ".join(j.describe() for j in running)
        super().__init__(f"A training job is already running ({names}). "
                         "Wait for it to finish or stop it first.")


#: Environment variables a job's process takes from the server at the moment the job
#: starts (a warm worker was spawned earlier, possibly under other values).
JOB_ENV_PREFIXES = ("CNN_STUDIO_", ENV_KERAS_HOME)


def job_environment() -> dict[str, str]:
    """The variables of :data:`JOB_ENV_PREFIXES` in this process's environment now."""
    return {k: v for k, v in os.environ.items() if k.startswith(JOB_ENV_PREFIXES)}


def _worker(tasks, events, stop, ready) -> None:
    """Entry point of a training process (must be importable for spawn).

    Imports and warms up TensorFlow first (:func:`cnnlib.training.warm_up`), then waits
    for one task: ``(config dict,
    environment)``, or None to exit without training. So a process started ahead of
    time (a warm worker) has the slow imports behind it when its job arrives.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from . import training

        training.warm_up()  # imports Keras and TensorFlow and starts their runtime: the slow part
        ready.set()

        parent = os.getppid()
        while True:  # wait for the task; an idle worker whose server died exits
            try:
                task = tasks.get(timeout=2.0)
                break
            except queue.Empty:
                if os.getppid() != parent:
                    return
        if task is None:
            return
        config_dict, env = task
        for key in [k for k in os.environ if k.startswith(JOB_ENV_PREFIXES)]:
            del os.environ[key]
        os.environ.update(env)
        config = TrainConfig.from_dict(config_dict)
        training.train(config, on_event=events.put, should_stop=stop.is_set)
    except BaseException as e:  # report everything, even KeyboardInterrupt
        events.put(ErrorEvent(type="error", message=f"{type(e).__name__}: {e}",
                              traceback=traceback.format_exc()))
        raise SystemExit(1)
    finally:
        events.close()
        events.join_thread()  # make sure the last events are flushed before exit


class Worker:
    """A spawned training process with its queues, started before it has a job.

    Attributes:
        process: the ``multiprocessing`` process running :func:`_worker`.
        tasks: where its one task goes.
        events: where it puts its events.
        stop: set to ask it to stop after the batch in flight.
        ready: set by the worker once TensorFlow is imported and warmed up.
    """

    def __init__(self, ctx):
        self.tasks = ctx.Queue()
        self.events = ctx.Queue()
        self.stop = ctx.Event()
        self.ready = ctx.Event()  # set once TensorFlow is imported and warmed up
        self.process = ctx.Process(target=_worker, args=(self.tasks, self.events, self.stop,
                                                         self.ready),
                                   name="cnn-studio-worker", daemon=True)
        self.process.start()
        self.started = time.monotonic()

    def run(self, config: TrainConfig) -> None:
        """Hand the worker its job (with this process's environment now)."""
        self.tasks.put((config.to_dict(), job_environment()))

    def kill(self) -> None:
        """End the process at once."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)


class Job:
    """One training run in its own process.

    Attributes:
        id: short identifier, unique in this server.
        config: the :class:`TrainConfig`.
        events: every event received so far, in arrival order (snapshots excepted).
        snapshot: the latest :class:`~cnnlib.rundir.SnapshotEvent`, or None.
        state: one of :data:`STATES`.
        error: why the job failed, or None.
        run_dir: the :class:`~cnnlib.rundir.RunDir` (known once the ``start`` event arrived).
    """

    def __init__(self, config: TrainConfig, worker: Worker):
        self.id = f"job{next(_ids)}"
        self.config = config
        self.events: list[dict] = []
        self.state = "starting"
        self.error: str | None = None
        self.run_dir: RunDir | None = None
        self.snapshot: dict | None = None  # the latest SnapshotEvent (older ones are dropped)
        self.created = time.time()
        self._worker = worker
        self._queue, self._stop, self._process = worker.events, worker.stop, worker.process
        self._lock = threading.Lock()
        worker.run(config)

    # -- reading -----------------------------------------------------------
    def poll(self) -> "Job":
        """Take in the events that arrived since the last poll; update the state.

        Safe to call from several threads. Returns the job itself.
        """
        with self._lock:
            self._drain()
            if self.state not in FINAL_STATES and not self._process.is_alive():
                # the process ended: take what it flushed, then judge it
                time.sleep(0.05)
                self._drain()
                if self.state not in FINAL_STATES:
                    code = self._process.exitcode
                    self._set_failed(f"the training process ended unexpectedly (exit code {code})"
                                     + (", probably killed: out of memory?" if code and code < 0 else "."))
        return self

    def _drain(self) -> None:
        """Take every event waiting in the queue."""
        while True:
            try:
                ev = self._queue.get_nowait()
            except (queue.Empty, EOFError, OSError):
                return
            self._take(ev)

    def _take(self, ev: dict) -> None:
        t = ev.get("type")
        if t == "snapshot":
            self.snapshot = ev
            return
        self.events.append(ev)
        if t == "start":
            self.state = "running"
            self.run_dir = RunDir(ev["run_dir"])
        elif t == "end":
            self.state = "stopped" if ev["status"] == "stopped" else "finished"
        elif t == "error":
            self._set_failed(ev["message"])
            return
        else:
            return
        self._persist()

    def _set_failed(self, reason: str) -> None:
        self.state = "failed"
        self.error = reason
        self._persist()

    def _persist(self) -> None:
        if self.run_dir is None:
            return
        try:
            self.run_dir.write_job({"id": self.id, "state": self.state, "error": self.error,
                                    "pid": self._process.pid, "config": self.config.to_dict()})
        except OSError:
            pass

    @property
    def stop_requested(self) -> bool:
        """Whether :meth:`stop` was called (from any reader)."""
        return self._stop.is_set()

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES

    def of_type(self, kind: str) -> list[dict]:
        """The events of one type (see :func:`cnnlib.rundir.of_type`)."""
        return rundir.of_type(self.events, kind)

    def last(self, kind: str) -> dict | None:
        """The latest event of one type, or None."""
        return rundir.last(self.events, kind)

    def progress(self) -> rundir.Progress | None:
        """Where the job stands (see :func:`cnnlib.rundir.progress`)."""
        return rundir.progress(self.events)

    def describe(self) -> str:
        return f"{self.id}: {self.config.arch} on {self.config.dataset}, {self.state}"

    # -- control -----------------------------------------------------------
    def stop(self) -> None:
        """Ask the worker to stop after the batch in flight (no-op when done)."""
        self._stop.set()

    def kill(self) -> None:
        """End the process at once (used at shutdown and in tests)."""
        self._worker.kill()

    def wait(self, timeout: float = 600, interval: float = 0.1) -> "Job":
        """Poll until the job is in a final state or ``timeout`` seconds passed."""
        end = time.monotonic() + timeout
        while not self.poll().done and time.monotonic() < end:
            time.sleep(interval)
        return self


class JobManager:
    """Starts training jobs and keeps them for every reader of this server.

    Args:
        max_running: how many jobs may run at once (default
            ``$CNN_STUDIO_MAX_JOBS`` or 1). A start beyond it raises
            :class:`BusyError`.
        warm_workers: training processes kept started, with TensorFlow imported,
            waiting for the next job, so that a job starts without the ~4 s of spawning
            and importing (default ``$CNN_STUDIO_WARM_WORKERS`` or 1; 0 turns it off).
            Each costs the memory of an idle process with TensorFlow loaded.
    """

    #: Finished jobs kept in memory (with their events); older ones are still
    #: in their run directories, listed by :func:`cnnlib.rundir.list_runs`.
    KEEP_FINISHED = 10

    def __init__(self, max_running: int | None = None, warm_workers: int | None = None):
        self.max_running = int(max_running or os.environ.get("CNN_STUDIO_MAX_JOBS", 1))
        if warm_workers is None:
            warm_workers = int(os.environ.get("CNN_STUDIO_WARM_WORKERS", 1))
        self.warm_workers = max(0, warm_workers)
        self.jobs: dict[str, Job] = {}
        self._idle: list[Worker] = []
        self._ctx = mp.get_context("spawn")
        self._lock = threading.Lock()
        self._top_up()

    def _top_up(self) -> None:
        """Drop idle workers that died; start new ones up to :attr:`warm_workers`."""
        self._idle = [w for w in self._idle if w.process.is_alive()]
        while len(self._idle) < self.warm_workers:
            self._idle.append(Worker(self._ctx))

    def idle_workers(self) -> list[Worker]:
        """The warm workers waiting for a job."""
        return list(self._idle)

    def running(self) -> list[Job]:
        return [j for j in self.jobs.values() if not j.poll().done]

    def start(self, config: TrainConfig) -> Job:
        """Validate ``config`` and start it in a warm worker, or a new process.

        Raises:
            ValueError: an invalid config.
            BusyError: ``max_running`` jobs are already running.
        """
        config.validate()
        with self._lock:
            running = self.running()
            if len(running) >= self.max_running:
                raise BusyError(running)
            self._idle = [w for w in self._idle if w.process.is_alive()]
            worker = self._idle.pop(0) if self._idle else Worker(self._ctx)
            job = Job(config, worker)
            self._top_up()
            self.jobs[job.id] = job
            finished = sorted((j for j in self.jobs.values() if j.done), key=lambda j: j.created)
            for old in finished[:-self.KEEP_FINISHED]:
                del self.jobs[old.id]
            return job

    def get(self, job_id: str | None) -> Job | None:
        return self.jobs.get(job_id) if job_id else None

    def latest(self) -> Job | None:
        """The most recently started job, if any."""
        return max(self.jobs.values(), key=lambda j: j.created, default=None)

    def shutdown(self) -> None:
        """Kill every job's process and the idle workers."""
        for job in self.jobs.values():
            job.kill()
        for worker in self._idle:
            worker.kill()
        self._idle = []
