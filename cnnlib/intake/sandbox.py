"""A model file loaded in a short-lived child process with limits, before the server
loads it.

The child is a fresh interpreter (``python -m cnnlib.intake.sandbox MB CPU_S PATH``,
started by :func:`cnnlib.limited.run`, the one home of limited children) that first
limits itself with ``resource.setrlimit``: its address space
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

import sys

from cnnlib import limited
from cnnlib.intake.errors import ModelLoadError
from cnnlib.intake.limits import Limits


def _budget(limits: Limits) -> limited.Budget:
    return limited.Budget(limits.sandbox_mb, limits.sandbox_cpu_s, limits.sandbox_wall_s)


def _sentence(name: str, ended: limited.Ended, limits: Limits) -> ModelLoadError:
    """The one sentence for each way the child can end without a model."""
    mem = _budget(limits).memory_text()
    result, returncode, stderr = ended.result, ended.returncode, ended.stderr_tail()
    if ended.timed_out:
        return ModelLoadError(f"{name} is refused: it took longer than {limits.sandbox_wall_s} s to "
                              "read; upload a smaller model.", f"wall-clock limit; stderr: {stderr}")
    if result is None:
        if ended.out_of_cpu():
            return ModelLoadError(f"{name} is refused: it needs more than {limits.sandbox_cpu_s} s "
                                  "of computing to build; upload a smaller model.",
                                  f"child ended by signal {-returncode}; stderr: {stderr}")
        if ended.out_of_memory():
            return ModelLoadError(f"{name} is refused: it needs more than {mem} of memory to "
                                  "build; upload a smaller model.",
                                  f"child exit status {returncode}; stderr: {stderr}")
        return ModelLoadError(f"{name} cannot be loaded: the model check stopped unexpectedly; "
                              "try again, or save the model again with model.save('name.keras').",
                              f"child exit status {returncode}; stderr: {stderr}")
    kind, message = result.get("error", ""), result.get("message", "")
    detail = f"{kind}: {message}"[:2000]
    if ended.out_of_memory(f"{kind}: {message}"):
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
    """Load ``path`` in a limited child process (:func:`cnnlib.limited.run`).

    Returns:
        ``{"params": int, "inputs": [shape, ...], "outputs": [shape, ...]}`` (shapes
        as lists, ``None`` for the batch axis) when the model loaded within budget.

    Raises:
        ModelLoadError: the child ran out of memory, CPU time or wall-clock time, hit
            the recursion limit, refused a Lambda, or met a bad weights file; one
            sentence naming the file and the limit, the child's text in ``detail``.
    """
    ended = limited.run("cnnlib.intake.sandbox", [str(path)], _budget(limits))
    if ended.result is not None and ended.result.get("ok"):
        return {k: ended.result[k] for k in ("params", "inputs", "outputs")}
    raise _sentence(name, ended, limits)


def _shapes(tensors) -> list:
    return [[None if d is None else int(d) for d in t.shape] for t in tensors]


def _main(argv: list) -> None:  # the child
    (path,) = limited.start_child(argv)
    try:
        import keras

        model = keras.saving.load_model(path, compile=False, safe_mode=True)
        result = {"ok": True, "params": int(model.count_params()),
                  "inputs": _shapes(model.inputs), "outputs": _shapes(model.outputs)}
    except BaseException as e:  # every way a load can fail is reported to the parent
        result = {"ok": False, "error": type(e).__name__, "message": str(e)[:4000]}
    limited.report(result)


if __name__ == "__main__":
    _main(sys.argv[1:])
