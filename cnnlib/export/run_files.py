"""A model's take-home files in one call: TFLite and ONNX, each checked against Keras; for
a finished run also its script and notebook.

What the Train page offers for download beside the ``.keras`` file, for a run
(:func:`run_files`) and for a stored model (:func:`model_files`); each call converts
and checks anew (the page caches the result). A format that fails is kept as the
sentence why, so that the others are still offered.

Where: by default in a limited child process, a bounded number at once
(:mod:`cnnlib.export.child`, :class:`~cnnlib.intake.limits.ExportLimits`): the
server's way. ``in_process=True`` converts in the calling process
(:func:`cnnlib.export.formats.convert`): the command line's, on the person's own
machine. The run's script and notebook are written in the calling process (cheap).
"""

from __future__ import annotations

import dataclasses

from cnnlib.export.formats import (  # noqa: F401  (re-exported: the take-home files' public names)
    TOLERANCE,
    Converted,
    ModelFiles,
    convert,
    test_images,
)


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

    @property
    def lasting(self) -> bool:
        """Whether this result may be cached (:attr:`ModelFiles.lasting`)."""
        return self.model.lasting

    def files(self, stem: str) -> dict[str, bytes]:
        """``{file name: bytes}``: the model's files (:meth:`ModelFiles.files`), then
        ``<stem>.py`` and ``<stem>.ipynb`` (UTF-8) when the run could be written as code."""
        out = self.model.files(stem)
        if self.script is not None:
            out[f"{stem}.py"] = self.script.encode("utf-8")
            out[f"{stem}.ipynb"] = self.notebook.encode("utf-8")
        return out


def model_files(path, config: dict | None, n_images: int = 64, limits=None,
                in_process: bool = False) -> ModelFiles:
    """A stored model's TFLite and ONNX files, checked on its run's test images.

    Args:
        path: the model's ``.keras`` file (read through the intake's cheap check and
            Keras's safe mode).
        config: its card's ``config`` (:func:`test_images`), or None: checked on random
            images.
        n_images: how many images are compared, >= 1.
        limits: the child's :class:`~cnnlib.intake.limits.ExportLimits` (default: from
            the environment).
        in_process: convert here instead of in a limited child (the command line).

    Raises:
        cnnlib.store.ModelLoadError: the file cannot be read as a model.
        cnnlib.export.child.ExportBusyError: every conversion slot stayed taken (not
            ``in_process``).
        ValueError: ``n_images < 1``.
    """
    if in_process:
        from cnnlib import store

        model = store.load_model_file(path)
        return convert(model, test_images(config, n_images) if config else None, n_images)
    from cnnlib.export import child

    return child.convert_file(path, config, n_images, limits)


def run_files(run, n_images: int = 64, limits=None, in_process: bool = False) -> RunFiles:
    """Convert a finished run's kept model and write its code.

    Args:
        run: a :class:`cnnlib.rundir.RunDir` with ``config.json`` and ``best.keras``; an
            own dataset's is read by the tag in its config (the caller checks the owner).
        n_images: how many of the run's test images (uint8 from the dataset, scaled to
            float32 [0, 1]) the checks compare, >= 1.
        limits, in_process: as :func:`model_files`.

    Returns:
        A :class:`RunFiles`.

    Raises:
        FileNotFoundError: no ``config.json`` or ``best.keras``.
        cnnlib.store.ModelLoadError: ``best.keras`` cannot be read as a model.
        cnnlib.export.child.ExportBusyError: as :func:`model_files`.
        ValueError: ``n_images < 1``.
    """
    from cnnlib.export import code

    config = run.config()
    if config is None or not run.model_path.exists():
        raise FileNotFoundError(f"A run to export needs config.json and best.keras. "
                                f"Received: run={str(run.path)!r}")
    files = model_files(run.model_path, config.to_dict(), n_images, limits, in_process)
    why = code.why_not_code(config.to_dict())  # before run_cells: a transfer model is not loaded here
    if why:
        return RunFiles(files, None, None, why)
    try:
        cells = code.run_cells(run)
    except ValueError as e:  # a layer the code export cannot write
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
