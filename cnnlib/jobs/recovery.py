"""After a server died: runs its jobs left "running" are marked for what they are."""

from __future__ import annotations

from pathlib import Path

from cnnlib.jobs.worker import is_worker
from cnnlib.rundir import RunDir, list_runs

#: ``job.json`` states of a run whose training process should still be alive.
LIVE_STATES = ("starting", "running")


def mark_interrupted(root: str | Path | None = None) -> list[RunDir]:
    """Mark the runs under ``root`` whose training process is gone.

    A run's ``job.json`` says "starting" or "running" until its server reads the run's
    end; a server killed mid-job (out-of-memory killer, SIGKILL) leaves it so forever.
    For each such run whose process ``pid`` is no longer a live CNN Studio worker
    (:func:`~cnnlib.jobs.worker.is_worker`: gone, a zombie, or the id reused by another
    program; a Ray task, ``pid`` None, ended with its server's Ray driver),
    ``job.json`` is rewritten: the end's status ("finished" or "stopped")
    when the worker got as far as writing ``result.json``, else "interrupted" with the
    reason in ``error``. A run whose worker is alive (another server on the same
    folder) is left alone.

    Args:
        root: the runs folder (default :func:`cnnlib.paths.runs_dir`).

    Returns:
        The runs rewritten, newest first.
    """
    marked = []
    for run in list_runs(root):
        job = run.job()
        if not job or job.get("state") not in LIVE_STATES or is_worker(job.get("pid")):
            continue
        end = run.result()
        if end is not None:
            job.update(state="stopped" if end.get("status") == "stopped" else "finished",
                       error=None)
        elif job.get("pid") is None and job.get("where"):  # a Ray task: it ended with its server
            job.update(state="interrupted",
                       error=f"The server stopped during the run (its Ray task on "
                             f"{job['where']} ended with it).")
        else:
            job.update(state="interrupted",
                       error=f"The server stopped during the run (its training process, pid "
                             f"{job.get('pid')}, is gone).")
        try:
            run.write_job(job)
        except OSError:
            continue
        marked.append(run)
    return marked
