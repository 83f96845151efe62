"""What people are told about the queue: the wait ahead of a job, and the others' jobs
as counts."""

from __future__ import annotations

import dataclasses
from typing import Literal


def format_duration(seconds: float) -> str:
    """``seconds`` for people: ``"40 s"``, ``"12 min"``, ``"1 h 05 min"``."""
    s = max(0, round(seconds))
    if s < 90:
        return f"{s} s"
    if s < 90 * 60:
        return f"{round(s / 60)} min"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


@dataclasses.dataclass(frozen=True)
class WaitEstimate:
    """How long a queued job will wait, as far as anyone can tell.

    Attributes:
        position: 1-based place in the queue (1: next to start).
        seconds: the estimate, or None when it is unknown (a running job has not
            measured its speed yet).
        bound: "about" (the time left of the job whose end frees a worker) or
            "at least" (jobs ahead in the queue must run first, and their length is
            not known before they run).
    """

    position: int
    seconds: float | None
    bound: Literal["about", "at least"] = "about"

    def describe(self) -> str:
        """E.g. ``"about 2 min"``, ``"at least 40 s"`` or ``"unknown ..."``."""
        if self.seconds is None:
            return "unknown until the running jobs have measured their speed"
        return f"{self.bound} {format_duration(self.seconds)}"


def estimate_wait(position: int, free_workers: int, seconds_left: list[float | None]
                  ) -> WaitEstimate:
    """The wait of the job at ``position`` in the queue.

    Args:
        position: 1-based place in the queue.
        free_workers: workers with no job now (the job starts at the manager's next
            round when ``position`` is within them).
        seconds_left: each running job's time left (:class:`cnnlib.rundir.Progress`;
            its test evaluation excepted), None where not measured yet.

    Returns:
        0 s when a worker is free for it; else "about" the shortest time left for
        position 1 (the first running job to end frees its worker), "at least" that for
        later positions (the jobs ahead run first, for a time nobody knows yet); unknown
        while any running job's time left is.
    """
    if position <= free_workers:
        return WaitEstimate(position, 0.0)
    if not seconds_left or any(s is None for s in seconds_left):
        return WaitEstimate(position, None)
    return WaitEstimate(position, min(seconds_left), "about" if position == 1 else "at least")


@dataclasses.dataclass(frozen=True)
class QueueView:
    """The server's jobs as someone who owns none of them may see them: counts only."""

    running: int  # jobs running (starting included), everyone's
    queued: int  # jobs waiting, everyone's
    others_running: int  # running jobs of other owners
    others_queued: int  # queued jobs of other owners
    max_jobs: int  # jobs run at once

    def describe(self) -> str:
        """What one person may know of the others' jobs, in two sentences, e.g. ``"1 job of
        other people running; 2 waiting in the queue. This server trains 1 job at a time,
        first come, first served, one per person."``"""
        n = self.others_running
        running = f"{n} job{'s' if n != 1 else ''} of other people running" if n else \
            "No one else's job is running"
        return (f"{running}; {self.queued} waiting in the queue. This server trains "
                f"{self.max_jobs} job{'s' if self.max_jobs != 1 else ''} at a time, first "
                "come, first served, one per person.")
