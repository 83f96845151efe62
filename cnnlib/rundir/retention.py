"""Keeping the runs folder under a size: the oldest ended runs go first.

A shared server trains many runs; each keeps its model, history and test
predictions (a few MB for the small CNNs, more for big ones). Models saved to
the store are copies in the models folder (:mod:`cnnlib.store`), so deleting a
run never touches a saved model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from cnnlib.rundir.directory import list_runs

MIB = 1024 * 1024


def prune_runs(root: str | Path, max_bytes: int, keep: set[Path] | frozenset = frozenset()
               ) -> list[Path]:
    """Delete the oldest ended runs under ``root`` until its runs take at most ``max_bytes``.

    Only runs that have ended (:meth:`RunDir.ended`: finished, stopped, failed,
    cancelled or interrupted) are deleted, oldest first (run names start with their
    UTC start time); a running run, one in ``keep`` and one whose state is unknown (a
    command-line run that may still be running) are kept, and still count towards
    the size. So the folder may stay above ``max_bytes`` when what is left may not go.

    Each run is first renamed to a hidden name (atomic: readers never see half a run;
    :func:`list_runs` skips hidden folders), then removed.

    Args:
        root: the runs folder (absent: nothing to do).
        max_bytes: the size allowed, in bytes, >= 0.
        keep: run directories never deleted (the runs of the jobs alive now).

    Returns:
        The paths deleted, oldest first.

    Raises:
        ValueError: a negative ``max_bytes``.
    """
    if max_bytes < 0:
        raise ValueError(f"max_bytes must be >= 0. Received: max_bytes={max_bytes}")
    runs = list_runs(root)[::-1]  # oldest first
    sizes = {run: run.size_bytes() for run in runs}
    total = sum(sizes.values())
    keep = {Path(p) for p in keep}
    deleted = []
    for run in runs:
        if total <= max_bytes:
            break
        if run.path in keep or not run.ended():
            continue
        hidden = run.path.with_name(f".deleting-{run.name}")
        try:
            run.path.rename(hidden)
        except OSError:
            continue  # gone already, or not ours to delete
        shutil.rmtree(hidden, ignore_errors=True)
        total -= sizes[run]
        deleted.append(run.path)
    return deleted
