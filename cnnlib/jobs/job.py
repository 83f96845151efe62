"""One training job: queued, then run by a worker process, read by any number of readers."""

from __future__ import annotations

import itertools
import threading
import time

from cnnlib import rundir
from cnnlib.jobs.runners import Execution
from cnnlib.owners import owner_tag
from cnnlib.rundir import FINAL_JOB_STATES, JOB_STATES, RunDir
from cnnlib.training.config import TrainConfig

#: States a job goes through (see :data:`cnnlib.rundir.JOB_STATES`).
STATES = JOB_STATES
#: States a job never leaves.
FINAL_STATES = FINAL_JOB_STATES
_ids = itertools.count(1)


class Job:
    """One training run: waits in the queue, then runs in an
    :class:`~cnnlib.jobs.runners.Execution` (a worker process of this machine, or a
    Ray task on a cluster's node).

    Args:
        config: the run's (validated) settings.
        owner: the owner token of whoever started it; only they may see and stop it.

    Attributes:
        id: short identifier, unique in this server.
        config: the :class:`TrainConfig`.
        owner: the owner token (kept in memory only; ``job.json`` records its
            :func:`~cnnlib.owners.owner_tag`).
        events: every event received so far, in arrival order (snapshots excepted).
        snapshot: the latest :class:`~cnnlib.rundir.SnapshotEvent`, or None.
        state: one of :data:`STATES`; "queued" until :meth:`launch`.
        error: why the job failed or was interrupted, or None.
        run_dir: the :class:`~cnnlib.rundir.RunDir` (known once the ``start`` event arrived).
        created: ``time.time()`` when it was queued.
        launched: ``time.time()`` when a worker took it, or None.
    """

    def __init__(self, config: TrainConfig, owner: str = ""):
        self.id = f"job{next(_ids)}"
        self.config = config
        self.owner = owner
        self.events: list[dict] = []
        self.state = "queued"
        self.error: str | None = None
        self.run_dir: RunDir | None = None
        self.snapshot: dict | None = None  # the latest SnapshotEvent (older ones are dropped)
        self.created = time.time()
        self.launched: float | None = None
        self._worker: Execution | None = None
        self._process = None  # a local worker's process (multiprocessing), else None
        self._lock = threading.RLock()

    # -- starting ----------------------------------------------------------
    def launch(self, execution: Execution) -> bool:
        """Hand the job to ``execution`` (state "starting"). Returns False, doing
        nothing, when the job is no longer queued (it was cancelled meanwhile)."""
        with self._lock:
            if self.state != "queued":
                return False
            self._worker = execution
            self._process = getattr(execution, "process", None)
            execution.run(self.config, self.id)
            self.state, self.launched = "starting", time.time()
            return True

    @property
    def where(self) -> str:
        """The machine that runs or ran the job, in words; "" while queued or not yet placed."""
        return self._worker.where if self._worker is not None else ""

    # -- reading -----------------------------------------------------------
    def poll(self) -> "Job":
        """Take in the events that arrived since the last poll; update the state.

        Safe to call from several threads. Returns the job itself.
        """
        with self._lock:
            if self._worker is None or self.state in FINAL_STATES:
                return self
            self._drain()
            why = self._worker.failure() if self.state not in FINAL_STATES else None
            if why is not None:  # it ended: take what it flushed, then judge it
                time.sleep(0.05)
                self._drain()
                if self.state not in FINAL_STATES:
                    self._set_final("failed", why)
        return self

    def _drain(self) -> None:
        """Take every event that arrived."""
        for ev in self._worker.take_events():
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
            self._set_final("failed", ev["message"])
            return
        else:
            return
        self._persist()

    def _set_final(self, state: str, reason: str | None) -> None:
        self.state = state
        self.error = reason
        self._persist()

    def _persist(self) -> None:
        """Write ``job.json`` (once the run directory is known)."""
        if self.run_dir is None:
            return
        try:
            self.run_dir.write_job({"id": self.id, "state": self.state, "error": self.error,
                                    "pid": self.pid, "where": self.where,
                                    "owner": owner_tag(self.owner),
                                    "config": self.config.to_dict()})
        except OSError:
            pass

    @property
    def stop_requested(self) -> bool:
        """Whether :meth:`stop` was called on a launched job (from any reader)."""
        return self._worker is not None and self._worker.stop_requested

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def pid(self) -> int | None:
        """The training process's id on this machine, or None (queued, or a Ray task)."""
        return self._worker.pid if self._worker is not None else None

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
        return f"{self.id}: {self.config.model_title()} on {self.config.dataset}, {self.state}"

    # -- control -----------------------------------------------------------
    def stop(self) -> None:
        """A queued job is cancelled at once (state "cancelled": it never runs); a
        launched one stops after the batch in flight, keeping its best epoch so far.
        No-op when done. No owner check here: :meth:`JobManager.stop` has it."""
        with self._lock:
            if self.state == "queued":
                self.state = "cancelled"
            elif self._worker is not None and not self.done:
                self._worker.request_stop()

    def kill(self) -> None:
        """End the process at once (used at shutdown and in tests)."""
        if self._worker is not None:
            self._worker.kill()

    def interrupt(self, reason: str) -> None:
        """Kill the process and record the job as "interrupted" with ``reason`` (the
        server shuts down). No-op when done."""
        with self._lock:
            if self.done:
                return
            self.kill()
            self._set_final("interrupted" if self._worker is not None else "cancelled", reason)

    def wait(self, timeout: float = 600, interval: float = 0.1) -> "Job":
        """Poll until the job is in a final state or ``timeout`` seconds passed."""
        end = time.monotonic() + timeout
        while not self.poll().done and time.monotonic() < end:
            time.sleep(interval)
        return self
