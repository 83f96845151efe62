"""A process's own memory, read from ``/proc/self/status`` (Linux): for the tests that
measure what decoding a picture or refusing a model file costs, in the test process or
in a child they start (``python -c`` in the repository, which imports this module)."""

from __future__ import annotations


def status(field: str) -> int:
    """``field`` of ``/proc/self/status`` (``"VmRSS"``, ``"VmHWM"``...) in bytes.

    Raises:
        OSError: no ``/proc`` (not Linux).
        StopIteration: no such field.
    """
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field + ":"))


def reset_peak() -> None:
    """Make the peak (``VmHWM``) the current resident memory (``VmRSS``), by writing 5 to
    ``/proc/self/clear_refs``.

    Raises:
        OSError: the kernel does not allow it (or not Linux).
    """
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
