"""The training process: spawned ahead of its job, dies with its server.

A worker is a ``multiprocessing`` "spawn" process that imports and warms up
TensorFlow, waits for one task (a config), trains it and reports its events
through a queue. Whatever ends the server (Ctrl-C, SIGTERM, the out-of-memory
killer's SIGKILL), its workers end too:

* Linux's parent-death signal: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, set first
  thing in the worker. The kernel sends it when the *thread* that spawned the
  worker ends, not the process: :class:`~cnnlib.jobs.JobManager` therefore
  spawns every worker from its own long-lived thread.
* A watchdog thread that checks ``os.getppid()`` every second: the fallback
  where ``prctl`` is missing, and the guard for the moment before it was set.
* At exit, the event queue's feeder thread is joined for a bounded time only,
  and not at all once the server is gone: a worker never hangs on a full pipe
  that nobody reads.

Each worker names itself :data:`PROCESS_NAME` (``/proc/<pid>/comm``), so that a
server started later can tell a live worker from a reused process id
(:func:`is_worker`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import queue
import signal
import threading
import time
import traceback
from pathlib import Path
from typing import Callable

from cnnlib.keras_home import ENV_KERAS_HOME
from cnnlib.rundir import ErrorEvent
from cnnlib.training.config import TrainConfig

#: The name a worker gives itself (``/proc/<pid>/comm``, at most 15 bytes).
PROCESS_NAME = "cnn-studio-job"
#: Seconds between two checks of the watchdog, and between two looks at the task queue.
WATCH_INTERVAL_S = 1.0
#: Seconds a worker whose server is alive waits at exit for its last events to be sent.
FLUSH_TIMEOUT_S = 30.0
#: Environment variables a job's process takes from the server at the moment the job
#: starts (a warm worker was spawned earlier, possibly under other values).
JOB_ENV_PREFIXES = ("CNN_STUDIO_", ENV_KERAS_HOME)

#: Niceness a worker adds to itself: training is batch work, and on a shared server the
#: clicks of a class come first (nice 19 weighs 15 against a server's 1024 in Linux's
#: scheduler). Alone on the machine a job runs at full speed all the same.
WORKER_NICENESS = 19

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_PR_SET_NAME = 15


def job_environment() -> dict[str, str]:
    """The variables of :data:`JOB_ENV_PREFIXES` in this process's environment now."""
    return {k: v for k, v in os.environ.items() if k.startswith(JOB_ENV_PREFIXES)}


def _prctl(option: int, arg: int | bytes) -> bool:
    """Linux ``prctl(option, arg, 0, 0, 0)``; False where it is unavailable or fails."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        return libc.prctl(option, arg, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent_pid: int, on_orphan: Callable[[], None] | None = None,
                    interval: float = WATCH_INTERVAL_S) -> bool:
    """Make this process end when its parent ``parent_pid`` does.

    Sets the parent-death signal to SIGKILL (Linux) and starts a daemon thread
    (:func:`watch_parent`) that calls ``on_orphan`` (default: ``os._exit(1)``) once
    ``os.getppid()`` is no longer ``parent_pid``; if the parent is already gone,
    ``on_orphan`` runs at once.

    Returns:
        Whether the parent-death signal was set (False: the watchdog alone guards).
    """
    on_orphan = on_orphan or (lambda: os._exit(1))
    armed = _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent_pid:  # the parent died before the signal was set
        on_orphan()
        return armed
    threading.Thread(target=watch_parent, args=(parent_pid, on_orphan, interval),
                     name="cnn-studio-parent-watchdog", daemon=True).start()
    return armed


def watch_parent(parent_pid: int, on_orphan: Callable[[], None],
                 interval: float = WATCH_INTERVAL_S) -> None:
    """Check every ``interval`` seconds whether ``os.getppid()`` is still ``parent_pid``;
    when it is not (the parent died and this process was re-parented), call
    ``on_orphan`` and return."""
    while os.getppid() == parent_pid:
        time.sleep(interval)
    on_orphan()


def is_worker(pid: int | None) -> bool:
    """Whether ``pid`` is a live training process of CNN Studio: the process exists,
    is not a zombie and is named :data:`PROCESS_NAME` (so a process id reused by
    another program does not count). Reads ``/proc`` (Linux)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]  # the field after "(comm)"
    return comm == PROCESS_NAME and state not in ("Z", "X")


def _flush(events, parent_pid: int) -> None:
    """Send the events still buffered, without ever hanging: not at all once the
    parent is gone (nobody reads the pipe; a full one would block forever), else
    for at most :data:`FLUSH_TIMEOUT_S` seconds."""
    if os.getppid() != parent_pid:
        events.cancel_join_thread()
        return
    events.close()
    joiner = threading.Thread(target=events.join_thread, daemon=True)
    joiner.start()
    joiner.join(FLUSH_TIMEOUT_S)


def _worker(tasks, events, stop, ready, parent_pid: int) -> None:
    """Entry point of a training process (must be importable for spawn).

    Ties itself to its server (:func:`die_with_parent`), names itself
    :data:`PROCESS_NAME`, lowers its priority (:data:`WORKER_NICENESS`), imports and warms up TensorFlow
    (:func:`cnnlib.training.engine.warm_up`), then waits for one task: ``(config dict,
    environment)``, or None to exit without training. So a process started ahead of
    time (a warm worker) has the slow imports behind it when its job arrives.
    """
    die_with_parent(parent_pid)
    _prctl(_PR_SET_NAME, PROCESS_NAME.encode())
    os.nice(WORKER_NICENESS)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from cnnlib.training import engine

        engine.warm_up()  # imports Keras and TensorFlow and starts their runtime: the slow part
        ready.set()
        while True:
            try:
                task = tasks.get(timeout=WATCH_INTERVAL_S)
                break
            except queue.Empty:
                continue
        if task is None:
            return
        config_dict, env = task
        for key in [k for k in os.environ if k.startswith(JOB_ENV_PREFIXES)]:
            del os.environ[key]
        os.environ.update(env)
        config = TrainConfig.from_dict(config_dict)
        engine.train(config, on_event=events.put, should_stop=stop.is_set)
    except BaseException as e:  # report everything, even KeyboardInterrupt
        events.put(ErrorEvent(type="error", message=f"{type(e).__name__}: {e}",
                              traceback=traceback.format_exc()))
        raise SystemExit(1)
    finally:
        _flush(events, parent_pid)


class Worker:
    """A spawned training process with its queues, started before it has a job.

    Spawn it from a thread that lives as long as the process should (see the module
    docstring: the parent-death signal follows the spawning thread).

    Args:
        ctx: a ``multiprocessing`` context (``get_context("spawn")``).

    Attributes:
        process: the ``multiprocessing`` process running :func:`_worker`.
        tasks: where its one task goes.
        events: where it puts its events.
        stop: set to ask it to stop after the batch in flight.
        ready: set by the worker once TensorFlow is imported and warmed up.
        started: ``time.monotonic()`` when it was spawned.
    """

    def __init__(self, ctx):
        self.tasks = ctx.Queue()
        self.events = ctx.Queue()
        self.stop = ctx.Event()
        self.ready = ctx.Event()
        self.process = ctx.Process(target=_worker, args=(self.tasks, self.events, self.stop,
                                                         self.ready, os.getpid()),
                                   name=PROCESS_NAME, daemon=True)
        self.process.start()
        self.started = time.monotonic()

    #: Where a local worker runs, in words (:class:`~cnnlib.jobs.runners.Execution`).
    where = "this server"

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def run(self, config: TrainConfig, job_id: str = "") -> None:
        """Hand the worker its job (with this process's environment now)."""
        self.tasks.put((config.to_dict(), job_environment()))

    def take_events(self) -> list[dict]:
        """The events that arrived since the last call, in order."""
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except (queue.Empty, EOFError, OSError, ValueError):
                return out

    def request_stop(self) -> None:
        """Ask the job to stop after the batch in flight."""
        self.stop.set()

    @property
    def stop_requested(self) -> bool:
        return self.stop.is_set()

    def failure(self) -> str | None:
        """None while the process lives; once it has ended, why a job that sent no
        end event failed (a sentence)."""
        if self.process.is_alive():
            return None
        code = self.process.exitcode
        return ("the training process ended unexpectedly (exit code "
                f"{code})" + (", probably killed: out of memory?" if code and code < 0 else "."))

    def kill(self) -> None:
        """End the process at once (waits up to 5 s for it to go)."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
