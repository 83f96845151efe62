"""The server's conversions to TFLite and ONNX, in a limited child process, a few at once.

Converting a large model (a VGG16-based transfer model, ~15 M weights) takes seconds
of CPU and GBs of memory; thirty students pressing "Prepare" at once must not take a
2-core class server past its memory. So :func:`convert_file`:

1. takes one of :attr:`ExportLimits.at_once` slots (waits at most
   :attr:`ExportLimits.wait_s`, else :class:`ExportBusyError`: a sentence, no queue);
2. runs ``python -m cnnlib.export.child`` (:func:`cnnlib.limited.run`: address space
   :attr:`ExportLimits.mb`, CPU :attr:`ExportLimits.cpu_s`, wall clock
   :attr:`ExportLimits.wall_s`) on a temporary folder it made, holding the request;
3. the child reads the model from its file (the intake's cheap check, then Keras's
   safe mode), reads the test images itself (:func:`~cnnlib.export.formats.test_images`),
   converts and checks each format (:func:`~cnnlib.export.formats.convert_one`) and
   writes ``model.tflite`` / ``model.onnx`` and ``TFLite.json`` / ``ONNX.json`` (the
   check numbers, or the converter's error) into the folder, one format after the
   other, so a format finished before a limit struck is kept;
4. the parent reads the files back (at most :attr:`ExportLimits.file_mb` each) and
   builds the same :class:`~cnnlib.export.formats.ModelFiles` as the in-process
   :func:`~cnnlib.export.formats.convert`; each way the child can fail is one sentence
   in the formats it did not finish, its text kept as ``detail``.

The server's process never imports tf2onnx nor holds the model for this.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from cnnlib import limited
from cnnlib.export.formats import FORMATS, Converted, ModelFiles
from cnnlib.intake.errors import ModelLoadError
from cnnlib.intake.limits import ExportLimits

#: The sentence when every slot stays taken for :attr:`ExportLimits.wait_s`.
BUSY = "Another model is being converted; press Prepare again in a minute."
_ON_YOUR_MACHINE = "convert the .keras file on your own machine with python -m cnnlib export"
_CONVERTERS = {"TFLite": "TensorFlow Lite's converter", "ONNX": "The ONNX export (tf2onnx)"}


class ExportBusyError(RuntimeError):
    """Every conversion slot stayed taken; ``str()`` is :data:`BUSY`."""


_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def slots(limits: ExportLimits) -> threading.BoundedSemaphore:
    """The process's conversion slots: ``limits.at_once``, fixed at the first call."""
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(limits.at_once)
        return _slots


def _budget(limits: ExportLimits) -> limited.Budget:
    return limited.Budget(limits.mb, limits.cpu_s, limits.wall_s)


def _needs_memory(limits: ExportLimits) -> str:
    return (f"The conversion needs more than {_budget(limits).memory_text()} of memory, more than "
            f"this server gives one model; {_ON_YOUR_MACHINE}.")


def convert_file(path, config: dict | None, n_images: int = 64, limits: ExportLimits | None = None,
                 name: str | None = None) -> ModelFiles:
    """Convert a ``.keras`` file to TFLite and ONNX in a limited child, both checked.

    Args:
        path: the model's file (a stored model, a run's ``best.keras``): input float32
            ``(N, H, W, C)`` in [0, 1], output softmax probabilities.
        config: the ``TrainConfig.to_dict()`` of the run that made it, whose test images
            check the formats (an own dataset is read by its tag: the caller checks the
            owner), or None: ``n_images`` random images, said so.
        n_images: at most this many images are compared, >= 1.
        limits: the budget (default :meth:`ExportLimits.from_env`).
        name: the file's name for sentences (default: the path's).

    Returns:
        A :class:`ModelFiles`; a format that failed holds its sentence and ``detail``,
        and ``lasting=False`` when another try may succeed (wall clock, unexpected end).

    Raises:
        ExportBusyError: no slot within ``limits.wait_s``.
        ModelLoadError: the file cannot be read as a model (the intake's sentence).
        ValueError: ``n_images < 1``.
        OSError: no temporary folder, or the child cannot be started.
    """
    limits = limits or ExportLimits.from_env()
    if n_images < 1:
        raise ValueError(f"n_images must be at least 1. Received: n_images={n_images}")
    name = name or Path(path).name
    slot = slots(limits)
    if not slot.acquire(timeout=limits.wait_s):
        raise ExportBusyError(BUSY)
    try:
        with tempfile.TemporaryDirectory(prefix="cnn-studio-export-") as tmp:
            folder = Path(tmp)
            (folder / "tmp").mkdir()  # the child's own temporary files, removed with the folder
            request = {"path": os.fspath(path), "name": name, "config": config, "n_images": n_images}
            (folder / "request.json").write_text(json.dumps(request), encoding="utf-8")
            ended = limited.run("cnnlib.export.child", [tmp], _budget(limits),
                                env={"TMPDIR": str(folder / "tmp")})
            return _files(ended, folder, limits, name)
    finally:
        slot.release()


def _files(ended: limited.Ended, folder: Path, limits: ExportLimits, name: str) -> ModelFiles:
    result = ended.result or {}
    message = f"{result.get('error')}: {result.get('message', '')}"[:2000] if result else ""
    if result.get("stage") == "load" and not ended.out_of_memory(message):
        if result.get("error") == "ModelLoadError":
            raise ModelLoadError(result["message"], result.get("detail", ""))
        raise ModelLoadError(f"{name} cannot be loaded: Keras cannot build it in safe mode; save the "
                             "model again with model.save('name.keras').", message)
    failed = None if result.get("ok") else _failure(ended, message, limits)
    return ModelFiles(*(_one(fmt, folder, limits, failed) for fmt in FORMATS))


def _failure(ended: limited.Ended, message: str, limits: ExportLimits) -> tuple[str, str, bool]:
    """``(sentence, detail, lasting)`` for a child that ended before finishing; ``message``
    the error it reported ("" when it reported none)."""
    detail = message or f"child exit status {ended.returncode}; stderr: {ended.stderr_tail()}"
    if ended.timed_out:
        return (f"The conversion took longer than {limits.wall_s} s and was stopped; press Prepare "
                f"again later, or {_ON_YOUR_MACHINE}.", detail, False)
    if ended.out_of_cpu():
        return (f"The conversion needs more than {limits.cpu_s} s of computing, more than this server "
                f"gives one model; {_ON_YOUR_MACHINE}.", detail, True)
    if ended.out_of_memory(message):
        return _needs_memory(limits), detail, True
    return (f"The conversion stopped unexpectedly; press Prepare again, or {_ON_YOUR_MACHINE}.",
            detail, False)


def _one(fmt: str, folder: Path, limits: ExportLimits, failed: tuple | None) -> Converted:
    """One format from the child's files, or the sentence why it is missing."""
    try:
        info = json.loads((folder / f"{fmt}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # not reached before the child ended
        sentence, detail, lasting = failed or (f"The conversion stopped unexpectedly; press Prepare "
                                               f"again, or {_ON_YOUR_MACHINE}.", "", False)
        return Converted(fmt, None, error=sentence, detail=detail, lasting=lasting)
    if info.get("error"):
        text = info["error"]
        if any(w in text for w in limited.MEMORY_WORDS):
            return Converted(fmt, None, error=_needs_memory(limits), detail=text)
        return Converted(fmt, None, error=f"{_CONVERTERS[fmt]} failed on this model (its message "
                         "is below).", detail=text)
    path = folder / f"model.{fmt.lower()}"
    size = path.stat().st_size
    if size > limits.file_mb * 2**20:
        return Converted(fmt, None, error=f"The {fmt} file is {size / 2**20:,.0f} MB, more than the "
                         f"{limits.file_mb} MB this server hands out; {_ON_YOUR_MACHINE}.")
    with open(path, "rb") as f:
        data = f.read(limits.file_mb * 2**20 + 1)
    if len(data) != info["bytes"]:
        return Converted(fmt, None, error=f"The {fmt} file came back incomplete; press Prepare again.",
                         detail=f"{len(data)} of {info['bytes']} bytes", lasting=False)
    return Converted(fmt, data, info["max_difference"], info["n_checked"], info["images"])


# ------------------------------------------------------------------------ the child --

def _write(folder: Path, converted: Converted) -> None:
    """The format's file, then its JSON (renamed into place: the parent never reads half)."""
    info = {"error": converted.error}
    if converted.data is not None:
        (folder / f"model.{converted.fmt.lower()}").write_bytes(converted.data)
        info = {"bytes": len(converted.data), "max_difference": converted.max_difference,
                "n_checked": converted.n_checked, "images": converted.images}
    part = folder / f"{converted.fmt}.json.part"
    part.write_text(json.dumps(info), encoding="utf-8")
    os.replace(part, folder / f"{converted.fmt}.json")


def _cost(start: float) -> dict:
    """The child's peak address space and resident memory (MiB) and CPU and wall time (s)."""
    import resource

    with open("/proc/self/status") as f:
        status = {k: v for k, _, v in (line.partition(":") for line in f)}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"vm_peak_mb": int(status["VmPeak"].split()[0]) // 1024,
            "vm_hwm_mb": int(status["VmHWM"].split()[0]) // 1024,
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "wall_s": round(time.monotonic() - start, 2)}


def _main(argv: list) -> None:
    start = time.monotonic()
    (tmp,) = limited.start_child(argv)
    folder = Path(tmp)
    request = json.loads((folder / "request.json").read_text(encoding="utf-8"))
    try:  # TensorFlow's import alone needs ~1.7 GB of address space
        import keras

        from cnnlib.export import formats
        from cnnlib.intake.load import check_untrusted
    except BaseException as e:
        limited.report({"ok": False, "stage": "start", "error": type(e).__name__, "message": str(e)[:4000]})
    try:
        check_untrusted(request["path"], request["name"])  # the intake's cheap check
        model = keras.saving.load_model(request["path"], compile=False, safe_mode=True)
    except BaseException as e:  # every way a load can fail goes to the parent
        limited.report({"ok": False, "stage": "load", "error": type(e).__name__,
                        "message": str(e)[:4000], "detail": getattr(e, "detail", "")[:2000]})
    try:
        n, config = request["n_images"], request["config"]
        images, kind = formats.check_images(model, formats.test_images(config, n) if config else None, n)
        for fmt in FORMATS:
            _write(folder, formats.convert_one(fmt, model, images, kind))
        result = {"ok": True, **_cost(start)}
    except BaseException as e:  # MemoryError among them; the formats written are kept
        result = {"ok": False, "stage": "convert", "error": type(e).__name__, "message": str(e)[:4000]}
    limited.report(result)


if __name__ == "__main__":
    _main(sys.argv[1:])
