"""Training jobs in separate processes, queued fairly, observable from any number of readers.

Why a process: Streamlit reruns page scripts on every widget change and calls
``keras.backend.clear_session()`` after each run, so ``model.fit`` inside the
server is slow and is killed by a refresh (see NOTES.md). A job here runs
:func:`cnnlib.training.engine.train` in a spawned process, which streams its events
through a ``multiprocessing`` queue. :meth:`Job.poll` drains the queue into
:attr:`Job.events`, so a reader that attaches late (a page refresh, a second
tab) still sees the whole history. A ``multiprocessing.Event`` asks the worker
to stop; it stops after the batch in flight and keeps the best epoch so far.

One server, many people: each job belongs to the owner token of whoever started
it; jobs wait in a first-in-first-out queue served by ``$CNN_STUDIO_MAX_JOBS``
workers, one job per owner at a time, within the server's :class:`Limits`.

The job's state is also written to ``job.json`` in its run directory
(:meth:`cnnlib.rundir.RunDir.write_job`), beside the ``history.jsonl`` that the
training engine writes; the events are those of :mod:`cnnlib.rundir`. A run
whose server died is marked "interrupted" by the next server.

Modules: :mod:`~cnnlib.jobs.runners` (who runs a job: this machine's worker processes,
or a Ray cluster's tasks, :mod:`~cnnlib.jobs.ray_runner` and :mod:`~cnnlib.jobs.ray_task`,
when ``$CNN_STUDIO_RAY_ADDRESS`` is set),
:mod:`~cnnlib.jobs.worker` (the training process, tied to its server),
:mod:`~cnnlib.jobs.job` (:class:`Job`), :mod:`~cnnlib.jobs.manager`
(:class:`JobManager`: the queue, owners, the manager's thread),
:mod:`~cnnlib.jobs.estimate` (the wait and the others' jobs, told to people),
:mod:`~cnnlib.jobs.limits` (:class:`Limits` from the environment) and
:mod:`~cnnlib.jobs.recovery` (:func:`mark_interrupted`).

No Streamlit import: the Train page keeps one :class:`JobManager` in
``st.cache_resource`` so that every session of the server shares it.
"""

from cnnlib.jobs.estimate import QueueView, WaitEstimate, estimate_wait, format_duration
from cnnlib.jobs.job import FINAL_STATES, STATES, Job
from cnnlib.jobs.limits import (
    ENV_MAX_EPOCHS,
    ENV_MAX_JOBS,
    ENV_MAX_TRAIN_IMAGES,
    ENV_RUNS_MAX_MB,
    LimitError,
    Limits,
)
from cnnlib.jobs.manager import JobManager, OwnerBusyError
from cnnlib.jobs.recovery import mark_interrupted
from cnnlib.jobs.ray_runner import RayUnavailableError
from cnnlib.jobs.runners import ENV_RAY_ADDRESS, LocalRunner, make_runner
from cnnlib.jobs.worker import JOB_ENV_PREFIXES, PROCESS_NAME, Worker, is_worker, job_environment
from cnnlib.owners import NotOwnerError, owner_tag  # the one owner concept, re-exported

__all__ = ["ENV_MAX_EPOCHS", "ENV_MAX_JOBS", "ENV_RAY_ADDRESS", "LocalRunner", "RayUnavailableError",
           "make_runner", "ENV_MAX_TRAIN_IMAGES", "ENV_RUNS_MAX_MB",
           "FINAL_STATES", "JOB_ENV_PREFIXES", "PROCESS_NAME", "STATES", "Job", "JobManager",
           "LimitError", "Limits", "NotOwnerError", "OwnerBusyError", "QueueView",
           "WaitEstimate", "Worker", "estimate_wait", "format_duration", "is_worker",
           "job_environment", "mark_interrupted", "owner_tag"]
