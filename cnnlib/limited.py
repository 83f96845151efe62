"""A short-lived child process with limits: the one home of "run ``python -m MODULE`` with
an address-space limit, a CPU-time limit and a wall-clock timeout, and read its one result
line back".

Work that may cost more than a shared class server can give (loading an untrusted model
file, :mod:`cnnlib.intake.sandbox`; converting a model to TFLite and ONNX,
:mod:`cnnlib.export.child`) runs in a fresh interpreter:

- the parent calls :func:`run` (``python -m MODULE MB CPU_S ARGS...``, its own process
  group, single-threaded TensorFlow, no GPU) and gets an :class:`Ended`: the child's one
  JSON result line, or how it ended without one;
- the child calls :func:`start_child` first, which limits its address space
  (``RLIMIT_AS``, ``MB`` MiB: a failed allocation is a ``MemoryError``, a C++
  ``bad_alloc`` abort or TensorFlow's "Resource exhausted") and its CPU time
  (``RLIMIT_CPU``: SIGXCPU at ``CPU_S``, SIGKILL a second later), and ends with
  :func:`report`, which prints the result line and leaves without the interpreter's
  teardown;
- the parent kills the child's whole process group after the wall-clock limit.

Each caller turns an :class:`Ended` into its own sentences (:meth:`Ended.out_of_cpu`,
:meth:`Ended.out_of_memory` say which limit was met). Linux only (``resource``,
process groups). Importing this module imports no TensorFlow.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys

#: The start of the child's result line on its stdout.
MARK = "CNN-STUDIO-SANDBOX "
#: Words of an out-of-memory failure in TensorFlow's, the C++ runtime's and the dynamic
#: loader's messages ("failed to map segment": TensorFlow's library under a small ``RLIMIT_AS``).
MEMORY_WORDS = ("OOM when allocating", "Resource exhausted", "ResourceExhausted",
                "bad_alloc", "Cannot allocate memory", "MemoryError", "out of memory",
                "failed to map segment")


@dataclasses.dataclass(frozen=True)
class Budget:
    """What one child may use.

    Attributes:
        mb: address space, MiB (``RLIMIT_AS``; importing TensorFlow alone takes ~1.7 GB).
        cpu_s: CPU time, seconds (``RLIMIT_CPU``), >= 1.
        wall_s: wall-clock time, seconds (the TensorFlow import included), > 0.
    """

    mb: int
    cpu_s: int
    wall_s: float

    def memory_text(self) -> str:
        """The memory limit for a sentence: ``"3 GB"`` from 1024 MiB up, else ``"512 MB"``."""
        return f"{self.mb / 1024:g} GB" if self.mb >= 1024 else f"{self.mb} MB"


@dataclasses.dataclass(frozen=True)
class Ended:
    """How a child ended.

    Attributes:
        result: its result line (:func:`report`) as a dict, or None when it printed none.
        returncode: its exit status (negative: the signal that ended it), or None.
        stderr: its standard error, as text.
        timed_out: it was killed at the wall-clock limit.
    """

    result: dict | None
    returncode: int | None
    stderr: str
    timed_out: bool

    def out_of_cpu(self) -> bool:
        """Ended by the CPU-time limit (SIGXCPU, or SIGKILL at the hard limit) without a
        result, and not at the wall-clock limit."""
        return (not self.timed_out and self.result is None
                and self.returncode in (-signal.SIGXCPU, -signal.SIGKILL))

    def out_of_memory(self, message: str = "") -> bool:
        """Ended (or failed, ``message`` being the child's reported error) for want of
        memory: an allocator's words in ``message`` or, without a result, in stderr, or
        an abort or a segmentation fault without a result."""
        if any(w in message for w in MEMORY_WORDS):
            return True
        if self.timed_out or self.result is not None:
            return False
        return (any(w in self.stderr for w in MEMORY_WORDS)
                or self.returncode in (-signal.SIGABRT, -signal.SIGSEGV))

    def stderr_tail(self, n: int = 600) -> str:
        """The last ``n`` characters of stderr, stripped (for a folded detail)."""
        return self.stderr[-n:].strip()


def child_env() -> dict:
    """The child's environment: the server's, with this checkout on ``PYTHONPATH``, no
    GPU, TensorFlow quiet and on one thread (a class server has two cores), oneDNN off
    (its allocator retries a failed allocation for 10 s)."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [env.get("PYTHONPATH")] if p])
    env.update(CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3", OMP_NUM_THREADS="1",
               TF_ENABLE_ONEDNN_OPTS="0", TF_NUM_INTEROP_THREADS="1", TF_NUM_INTRAOP_THREADS="1")
    return env


def run(module: str, args: list[str], budget: Budget, env: dict | None = None) -> Ended:
    """Run ``python -m module MB CPU_S *args`` within ``budget`` and wait for it.

    Args:
        module: an importable module whose ``__main__`` calls :func:`start_child` first
            and :func:`report` last.
        args: its own arguments, strings.
        budget: its limits.
        env: variables to set in the child besides :func:`child_env`'s (e.g. ``TMPDIR``).

    Returns:
        An :class:`Ended`. Never raises for the child's failure; the wall-clock limit
        kills the child's process group (SIGKILL), its grandchildren too.

    Raises:
        OSError: the interpreter cannot be started.
    """
    cmd = [sys.executable, "-m", module, str(budget.mb), str(budget.cpu_s), *args]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace",
                            env={**child_env(), **(env or {})}, start_new_session=True)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=budget.wall_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
    result = None
    for line in reversed(out.splitlines()):
        if line.startswith(MARK):
            result = json.loads(line[len(MARK):])
            break
    return Ended(result, proc.returncode, err, timed_out)


def start_child(argv: list[str]) -> list[str]:
    """In the child, first thing: apply the limits :func:`run` passed.

    Args:
        argv: ``sys.argv[1:]``: ``MB CPU_S ARGS...``.

    Returns:
        ``ARGS``, the module's own arguments.
    """
    import resource

    mb, cpu_s = int(argv[0]), int(argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (mb * 2**20, mb * 2**20))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    return argv[2:]


def report(result: dict) -> None:
    """In the child, last thing: print ``result`` (JSON-able) as the result line and
    exit 0 at once (no interpreter teardown: TensorFlow's can take seconds)."""
    sys.stdout.write(MARK + json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)
