"""A model's take-home files in one call: TFLite and ONNX, each checked against Keras; for
a finished run also its script and notebook.

What the Train page offers for download beside the ``.keras`` file, for a run
(:func:`run_files`) and for a stored model (:func:`model_files`); each call converts
and checks anew (the page caches the result). A format that fails is kept as the
sentence why, so that the others are still offered.
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: Within this ``max |keras - other|`` (probability units) a converted model "matches".
TOLERANCE = 1e-5


@dataclasses.dataclass(frozen=True)
class Converted:
    """One format of a model, checked, or the reason it is missing.

    Attributes:
        fmt: ``"TFLite"`` or ``"ONNX"``.
        data: the file's bytes, or None when the conversion failed.
        max_difference: ``max |keras - converted|`` of the softmax outputs on the
            ``n_checked`` images (probability units, >= 0), or None when not converted.
        n_checked: how many images were compared.
        images: what they were: ``"test images"``, or ``"random images"`` when the
            model's test images could not be read.
        error: why there is no file (a sentence), or None.
    """

    fmt: str
    data: bytes | None
    max_difference: float | None = None
    n_checked: int = 0
    images: str = "test images"
    error: str | None = None

    def check_sentence(self) -> str:
        """E.g. ``"ONNX outputs match Keras within 3e-07 on 64 test images."``."""
        if self.data is None:
            return f"No {self.fmt} file: {self.error}"
        verdict = ("match Keras within" if self.max_difference <= TOLERANCE
                   else "differ from Keras by up to")
        return (f"{self.fmt} outputs {verdict} {self.max_difference:.1g} on {self.n_checked} "
                f"{self.images}.")


@dataclasses.dataclass(frozen=True)
class ModelFiles:
    """The converted files of one model."""

    tflite: Converted
    onnx: Converted

    def files(self, stem: str) -> dict[str, bytes]:
        """``{file name: bytes}``: ``<stem>.tflite`` and ``<stem>.onnx``, those converted."""
        return {f"{stem}.{c.fmt.lower()}": c.data for c in (self.tflite, self.onnx)
                if c.data is not None}


@dataclasses.dataclass(frozen=True)
class RunFiles:
    """The files of one run.

    Attributes:
        model: its kept model as TFLite and ONNX.
        script: the run as a self-contained Python script
            (:func:`cnnlib.export.code.script`), or None (see ``code_error``).
        notebook: the same code as a Jupyter notebook, JSON text, or None.
        code_error: why the run cannot be written as code (a sentence), or None.
    """

    model: ModelFiles
    script: str | None
    notebook: str | None
    code_error: str | None = None

    def files(self, stem: str) -> dict[str, bytes]:
        """``{file name: bytes}``: the model's files (:meth:`ModelFiles.files`), then
        ``<stem>.py`` and ``<stem>.ipynb`` (UTF-8) when the run could be written as code."""
        out = self.model.files(stem)
        if self.script is not None:
            out[f"{stem}.py"] = self.script.encode("utf-8")
            out[f"{stem}.ipynb"] = self.notebook.encode("utf-8")
        return out


def _convert(fmt: str, model, images: np.ndarray, kind: str) -> Converted:
    """``model`` as ``fmt``, checked on ``images``; a failure kept as its sentence."""
    from cnnlib.export import onnx_model, tflite

    to, check = {"TFLite": (tflite.to_tflite, tflite.max_difference),
                 "ONNX": (onnx_model.to_onnx, onnx_model.max_difference)}[fmt]
    try:
        data = to(model)
        return Converted(fmt, data, check(model, data, images), len(images), kind)
    except (RuntimeError, ImportError, ValueError) as e:  # ImportError: onnx(runtime) missing
        return Converted(fmt, None, error=str(e).rstrip(".") + ".")


def convert(model, images: np.ndarray | None, n_images: int = 64) -> ModelFiles:
    """Convert a Keras model to TFLite and ONNX and check both against it.

    Args:
        model: a built ``keras.Model`` with input float32 ``(N, H, W, C)`` in [0, 1].
        images: float32 ``(N, H, W, C)`` in [0, 1], the model's test images, ``N >= 1``;
            or None: ``n_images`` uniform random images (seed 0) instead, said so.
        n_images: at most this many images are compared, >= 1.

    Returns:
        A :class:`ModelFiles`; a format that failed holds the reason.

    Raises:
        ValueError: ``n_images < 1``, or images whose shape is not the model's input.
    """
    if n_images < 1:
        raise ValueError(f"n_images must be at least 1. Received: n_images={n_images}")
    kind = "test images"
    if images is None or len(images) == 0:
        shape = tuple(int(d) for d in model.input_shape[1:])
        images = np.random.default_rng(0).random((n_images, *shape), dtype=np.float32)
        kind = "random images (the test images could not be read)"
    images = np.asarray(images, np.float32)[:n_images]  # (n, H, W, C)
    return ModelFiles(_convert("TFLite", model, images, kind), _convert("ONNX", model, images, kind))


def test_images(config: dict, n_images: int = 64) -> np.ndarray | None:
    """The first ``n_images`` of the test images a run with ``config`` was evaluated on.

    Args:
        config: a ``TrainConfig.to_dict()`` (a run's, or a model card's ``config``): its
            ``dataset`` (an own one is read by its ``dataset_owner`` tag: the caller makes
            sure it is the person's own), ``data_dir``, ``n_test`` and ``seed``.
        n_images: how many, >= 1.

    Returns:
        float32 ``(n, H, W, C)`` in [0, 1], or None when the dataset cannot be read.
    """
    from cnnlib import owndata
    from cnnlib.data import datasets
    from cnnlib.training import engine
    from cnnlib.training.config import TrainConfig

    try:
        cfg = TrainConfig.from_dict(config)
        ds = engine.load_data(dataclasses.replace(cfg, n_train=None))
    except (datasets.DatasetUnavailableError, *owndata.ERRORS, ValueError, TypeError, KeyError):
        return None
    idx = engine.eval_indices(ds.y_test, cfg.n_test, cfg.seed)[:n_images]
    return datasets.to_float(ds.x_test[idx]) if len(idx) else None  # (n, H, W, C) float32


def model_files(path, config: dict | None, n_images: int = 64) -> ModelFiles:
    """A stored model's TFLite and ONNX files, checked on its run's test images.

    Args:
        path: the model's ``.keras`` file (read with
            :func:`cnnlib.store.load_model_file`).
        config: its card's ``config`` (:func:`test_images`), or None: checked on random
            images.
        n_images: how many images are compared, >= 1.

    Raises:
        cnnlib.store.ModelLoadError: the file cannot be read as a model.
        ValueError: ``n_images < 1``.
    """
    from cnnlib import store

    model = store.load_model_file(path)
    return convert(model, test_images(config, n_images) if config else None, n_images)


def run_files(run, n_images: int = 64) -> RunFiles:
    """Convert a finished run's kept model and write its code.

    Args:
        run: a :class:`cnnlib.rundir.RunDir` with ``config.json`` and ``best.keras``; an
            own dataset's is read by the tag in its config (the caller checks the owner).
        n_images: how many of the run's test images (uint8 from the dataset, scaled to
            float32 [0, 1]) the checks compare, >= 1.

    Returns:
        A :class:`RunFiles`.

    Raises:
        FileNotFoundError: no ``config.json`` or ``best.keras``.
        ValueError: ``n_images < 1``.
    """
    from cnnlib.export import code

    config, model = code.read_run(run)
    files = convert(model, test_images(config.to_dict(), n_images), n_images)
    try:
        cells = code.run_cells(run)
    except ValueError as e:  # base_model, or a layer the code export cannot write
        return RunFiles(files, None, None, str(e))
    return RunFiles(files, code.script_of(cells), code.notebook_of(cells))


def write(files: dict[str, bytes], folder) -> list:
    """Write ``files`` (:meth:`RunFiles.files`; a name may hold sub-folders) into ``folder``
    (made if missing).

    Returns:
        The paths written, in order.

    Raises:
        OSError: the folder cannot be made or written.
        ValueError: a name that leads outside ``folder``.
    """
    from pathlib import Path

    folder = Path(folder)
    paths = []
    for name, data in files.items():
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ValueError(f"A file to write must stay inside the folder. Received: {name!r}")
        path = folder / name  # a name may hold sub-folders: <dataset>/<class>/<id>.png
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        paths.append(path)
    return paths


def bundle(files: RunFiles, stem: str, dataset_zip: bytes) -> bytes:
    """One zip of a run on an own dataset: ``<stem>.py``, ``<stem>.ipynb`` and the
    dataset's folder, so that the unzipped script finds its pictures beside it.

    Args:
        files: the run's files, with a script (:attr:`RunFiles.script` not None).
        stem: the script's name without extension (the run's name).
        dataset_zip: the dataset's zip
            (:meth:`cnnlib.owndata.store.OwnDataStore.export_zip`: ``<name>/<class>/<id>.png``),
            copied member by member (stored, not compressed again: PNGs do not shrink).

    Returns:
        The zip's bytes.

    Raises:
        ValueError: ``files`` holds no script.
    """
    import io
    import zipfile

    if files.script is None:
        raise ValueError(f"This run has no script to bundle: {files.code_error}")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out, \
            zipfile.ZipFile(io.BytesIO(dataset_zip)) as data:
        out.writestr(f"{stem}.py", files.script)
        out.writestr(f"{stem}.ipynb", files.notebook)
        for info in data.infolist():
            out.writestr(info, data.read(info), compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()
