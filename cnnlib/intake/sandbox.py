"""A model file loaded in a short-lived child process with limits, before the server
loads it.

The child is a fresh interpreter (``python -m cnnlib.intake.sandbox PATH MB CPU_S``)
that first limits itself with ``resource.setrlimit``: its address space
(``RLIMIT_AS``, ``limits.sandbox_mb``, default 3072: importing TensorFlow takes
~1.7 GB of address space; the bundled models and a 25 MB model load under 2048 and
not under 1536, measured on the 2-core class server) and its CPU
time (``RLIMIT_CPU``, ``limits.sandbox_cpu_s``: SIGXCPU at the soft limit, SIGKILL a
second later), then runs ``keras.saving.load_model(path, compile=False,
safe_mode=True)`` on one thread and prints one JSON line: the weight count and the
input and output shapes, or the error's class and message. The parent kills the
child's whole process group after ``limits.sandbox_wall_s`` of wall-clock time.

Cost: each check is a TensorFlow import in the child, ~3 s of one core; callers
remember a verdict by the file's SHA-256 (:mod:`cnnlib.intake.load`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from cnnlib.intake.errors import ModelLoadError
from cnnlib.intake.limits import Limits

MARK = "CNN-STUDIO-SANDBOX "
#: Words of an out-of-memory failure in TensorFlow's and the C++ runtime's messages.
_MEMORY_WORDS = ("OOM when allocating", "Resource exhausted", "ResourceExhausted",
                 "bad_alloc", "Cannot allocate memory", "MemoryError", "out of memory")


def _child_env() -> dict:
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [env.get("PYTHONPATH")] if p])
    env.update(CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3", OMP_NUM_THREADS="1",
               TF_ENABLE_ONEDNN_OPTS="0",  # its allocator retries a failed allocation for 10 s
               TF_NUM_INTEROP_THREADS="1", TF_NUM_INTRAOP_THREADS="1")
    return env


def _tail(text: str, n: int = 600) -> str:
    return text[-n:].strip()


def _sentence(name: str, result: dict | None, returncode: int | None, stderr: str,
              limits: Limits, timed_out: bool) -> ModelLoadError:
    """The one sentence for each way the child can end without a model."""
    mem = f"{limits.sandbox_mb / 1024:g} GB" if limits.sandbox_mb >= 1024 else f"{limits.sandbox_mb} MB"
    if timed_out:
        return ModelLoadError(f"{name} is refused: it took longer than {limits.sandbox_wall_s} s to "
                              "read; upload a smaller model.", f"wall-clock limit; stderr: {_tail(stderr)}")
    if result is None:
        if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            return ModelLoadError(f"{name} is refused: it needs more than {limits.sandbox_cpu_s} s "
                                  "of computing to build; upload a smaller model.",
                                  f"child ended by signal {-returncode}; stderr: {_tail(stderr)}")
        text = stderr
        if any(w in text for w in _MEMORY_WORDS) or returncode in (-signal.SIGABRT, -signal.SIGSEGV):
            return ModelLoadError(f"{name} is refused: it needs more than {mem} of memory to "
                                  "build; upload a smaller model.",
                                  f"child exit status {returncode}; stderr: {_tail(stderr)}")
        return ModelLoadError(f"{name} cannot be loaded: the model check stopped unexpectedly; "
                              "try again, or save the model again with model.save('name.keras').",
                              f"child exit status {returncode}; stderr: {_tail(stderr)}")
    kind, message = result.get("error", ""), result.get("message", "")
    detail = f"{kind}: {message}"[:2000]
    if kind == "MemoryError" or any(w in message for w in _MEMORY_WORDS):
        return ModelLoadError(f"{name} is refused: it needs more than {mem} of memory to build; "
                              "upload a smaller model.", detail)
    if kind == "RecursionError":
        return ModelLoadError(f"{name} is refused: its layers are nested or chained too deeply "
                              "to build; upload a simpler model.", detail)
    if "safe_mode" in message or "Lambda" in message or "lambda" in message:
        return ModelLoadError(f"{name} is refused: it contains Python code (a Lambda layer), "
                              "which is never run here; rebuild the model without Lambda layers.", detail)
    if "weights" in message.lower() or kind in ("OSError", "KeyError"):
        return ModelLoadError(f"{name} cannot be loaded: its weights do not fit its layers or the "
                              "weights file is damaged; save the model again with "
                              "model.save('name.keras').", detail)
    return ModelLoadError(f"{name} cannot be loaded: Keras cannot build it in safe mode; save the "
                          "model again with model.save('name.keras') from Keras 3.", detail)


def check_in_child(path, name: str, limits: Limits) -> dict:
    """Load ``path`` in a limited child process.

    Returns:
        ``{"params": int, "inputs": [shape, ...], "outputs": [shape, ...]}`` (shapes
        as lists, ``None`` for the batch axis) when the model loaded within budget.

    Raises:
        ModelLoadError: the child ran out of memory, CPU time or wall-clock time, hit
            the recursion limit, refused a Lambda, or met a bad weights file; one
            sentence naming the file and the limit, the child's text in ``detail``.
    """
    cmd = [sys.executable, "-m", "cnnlib.intake.sandbox", os.fspath(path),
           str(limits.sandbox_mb), str(limits.sandbox_cpu_s)]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace",
                            env=_child_env(), start_new_session=True)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=limits.sandbox_wall_s)
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
    if result is not None and result.get("ok"):
        return {k: result[k] for k in ("params", "inputs", "outputs")}
    raise _sentence(name, result, proc.returncode, err, limits, timed_out)


def _shapes(tensors) -> list:
    return [[None if d is None else int(d) for d in t.shape] for t in tensors]


def _main(argv: list) -> None:  # the child
    import resource

    path, mb, cpu_s = argv[0], int(argv[1]), int(argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (mb * 2**20, mb * 2**20))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    try:
        import keras

        model = keras.saving.load_model(path, compile=False, safe_mode=True)
        result = {"ok": True, "params": int(model.count_params()),
                  "inputs": _shapes(model.inputs), "outputs": _shapes(model.outputs)}
    except BaseException as e:  # every way a load can fail is reported to the parent
        result = {"ok": False, "error": type(e).__name__, "message": str(e)[:4000]}
    sys.stdout.write(MARK + json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)  # no interpreter teardown (TensorFlow's can take seconds)


if __name__ == "__main__":
    _main(sys.argv[1:])
