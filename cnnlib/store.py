"""The model store: ``.keras`` files with a JSON model card beside each.

A model ``NAME`` is the pair ``<models_dir>/NAME.keras`` and
``<models_dir>/NAME.json``. The card records what the model is and how well
it did: ``name``, ``dataset``, ``dataset_source``, ``n_train``, ``arch``,
``params``, ``input_shape``, ``class_names``, ``epochs``, ``test_accuracy``
(fraction in [0, 1]), ``test_loss``, ``n_test``, ``created`` (ISO 8601 UTC),
``history`` (the epoch events) and free ``notes``.

Loading uses ``keras.saving.load_model(..., safe_mode=True)``, which refuses
to deserialise arbitrary Python code (lambdas) from a file.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from . import paths, rundir
from .rundir import RunDir

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ModelLoadError(RuntimeError):
    """A stored model that cannot be loaded; the message says why."""


@dataclasses.dataclass
class StoredModel:
    """One entry of :func:`list_models`."""

    name: str
    path: Path
    card: dict  # the JSON card, {} when missing or unreadable
    error: str | None = None  # why the model cannot be used, or None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def dataset(self) -> str | None:
        return self.card.get("dataset")

    def label(self) -> str:
        """A one-line description for a select box."""
        if not self.ok:
            return f"{self.name} (unusable: {self.error})"
        acc = self.card.get("test_accuracy")
        acc_s = f", test accuracy {acc:.1%}" if isinstance(acc, (int, float)) else ""
        return f"{self.name} ({self.card.get('arch', '?')} on {self.card.get('dataset', '?')}{acc_s})"


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid store name, else raise ValueError.

    Valid names: 1 to 64 characters, letters, digits, ``_``, ``.`` and ``-``,
    starting with a letter or digit.
    """
    if not isinstance(name, str) or not NAME_RE.match(name) or name.endswith(".keras"):
        raise ValueError("A model name uses 1-64 letters, digits, '_', '.' or '-' and starts "
                         f"with a letter or digit. Received: name={name!r}")
    return name


def _dir(models_dir) -> Path:
    return Path(models_dir) if models_dir is not None else paths.models_dir()


def _check_file(path: Path) -> str | None:
    """Structural check of a .keras file (a zip with config.json whose members
    pass their CRC check); the verdict is remembered until the file changes."""
    try:
        st = path.stat()
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    return _check_file_cached(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=256)
def _check_file_cached(path_str: str, mtime_ns: int, size: int) -> str | None:
    path = Path(path_str)
    try:
        if path.stat().st_size == 0:
            return "the file is empty"
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if "config.json" not in names:
                return "not a Keras model archive (no config.json inside)"
            bad = z.testzip()
            if bad is not None:
                return f"the archive is corrupt ({bad} fails its checksum)"
    except zipfile.BadZipFile:
        return "not a Keras model archive (not a zip file)"
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    return None


def read_card(name: str, models_dir=None) -> dict:
    """The JSON card of model ``name``; ``{}`` if missing or unreadable."""
    path = _dir(models_dir) / f"{name}.json"
    try:
        card = json.loads(path.read_text())
        return card if isinstance(card, dict) else {}
    except (OSError, ValueError):
        return {}


def list_models(models_dir=None) -> list[StoredModel]:
    """Every ``*.keras`` file in the store, sorted by name, unusable ones too.

    Never raises for a bad file: its :attr:`StoredModel.error` says what is
    wrong. Imports no TensorFlow (checks the archive structure only).
    """
    folder = _dir(models_dir)
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.keras")):
        name = path.stem
        out.append(StoredModel(name, path, read_card(name, folder), _check_file(path)))
    return out


def load_model(name: str, models_dir=None):
    """Load model ``name`` from the store (Keras safe mode, not compiled).

    Returns:
        The ``keras.Model``: input float32 ``(N, H, W, C)`` in [0, 1], output
        softmax probabilities ``(N, num_classes)``.

    Raises:
        ValueError: an invalid name.
        ModelLoadError: missing, corrupt or unloadable file; the message says which.
    """
    validate_name(name)
    path = _dir(models_dir) / f"{name}.keras"
    if not path.is_file():
        raise ModelLoadError(f"There is no model named {name!r} in {path.parent}.")
    return load_model_file(path)


def load_model_file(path: str | Path):
    """Load any ``.keras`` file in safe mode; ModelLoadError with the reason if it fails."""
    path = Path(path)
    problem = _check_file(path)
    if problem:
        raise ModelLoadError(f"{path.name} cannot be loaded: {problem}.")
    import keras

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as e:  # Keras raises many types for bad files
        raise ModelLoadError(f"{path.name} cannot be loaded: {type(e).__name__}: {e}") from e


def save_model(model, name: str, *, card: dict | None = None, models_dir=None,
               overwrite: bool = False) -> Path:
    """Save ``model`` as ``NAME.keras`` with its card ``NAME.json``.

    Args:
        model: a ``keras.Model``.
        name: store name (see :func:`validate_name`).
        card: card fields (see the module docstring; a training run's card comes
            from :func:`card_from_run`, or use :func:`import_run`). ``name``,
            ``params``, ``input_shape`` and ``created`` are filled in here.
        models_dir: store folder; defaults to :func:`cnnlib.paths.models_dir`.
        overwrite: replace an existing model of that name.

    Returns:
        The path of the ``.keras`` file.

    Raises:
        ValueError: an invalid name.
        FileExistsError: the name is taken and ``overwrite`` is False.
    """
    full = dict(card or {})
    full.update({"params": int(model.count_params()), "input_shape": list(model.input_shape[1:])})
    return _write(name, model.save, full, models_dir, overwrite)


def _write(name: str, write_keras, card: dict, models_dir, overwrite: bool) -> Path:
    """Store ``NAME.keras`` (written by ``write_keras(path)``) and its card.

    The model goes to a temporary file first and is renamed into place, so a
    reader never sees half a file. ``name`` and ``created`` are added to the card.
    """
    validate_name(name)
    folder = _dir(models_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.keras"
    if path.exists() and not overwrite:
        raise FileExistsError(f"A model named {name!r} already exists; choose another name.")
    tmp = folder / f".{name}.tmp.keras"
    write_keras(tmp)
    tmp.replace(path)
    card = {**card, "name": name,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    (folder / f"{name}.json").write_text(json.dumps(card, indent=2))
    return path


def card_from_run(run: RunDir, notes: str = "") -> dict:
    """The model card of a training run, built from its files alone (no TensorFlow).

    Args:
        run: a finished (or stopped) run's directory.
        notes: free text for the card.

    Returns:
        The card fields (see the module docstring) except ``name`` and ``created``.
        Fields the run never recorded (a run that crashed before its start event)
        are None.

    Raises:
        ModelLoadError: the run has no readable ``config.json``.
    """
    from .datasets import DATASETS

    config = run.config()
    if config is None:
        raise ModelLoadError(f"{run.name} cannot be saved: its config.json is missing or unreadable.")
    events = run.events()
    start, end = rundir.last(events, "start") or {}, rundir.last(events, "end") or {}
    info = DATASETS.get(config.dataset)
    return {
        "dataset": config.dataset,
        "dataset_source": start.get("dataset_source"), "n_train": start.get("n_train"),
        "class_names": start.get("class_names") or (list(info.class_names) if info else None),
        "arch": config.arch, "params": start.get("params"),
        "input_shape": list(info.image_shape) if info else None,
        "epochs": end.get("complete_epochs", len(rundir.of_type(events, "epoch"))),
        "test_accuracy": end.get("test_accuracy"), "test_loss": end.get("test_loss"),
        "n_test": end.get("n_test"), "train_accuracy": end.get("train_accuracy"),
        "train_loss": end.get("train_loss"), "status": end.get("status"),
        "status_text": end.get("status_text") or (
            rundir.status_sentence(end, config.to_dict()) if end else None),
        "standardize": start.get("standardize"),
        "config": config.to_dict(), "run_dir": str(run.path),
        "history": rundir.of_type(events, "epoch"), "notes": notes,
    }


def import_run(run_dir: str | Path | RunDir, name: str, *, models_dir=None,
               overwrite: bool = False, notes: str = "") -> Path:
    """Copy a training run's kept model (``best.keras``) into the store as ``name``,
    with the card of :func:`card_from_run`.

    Returns:
        The path of the stored ``.keras`` file.

    Raises:
        ValueError: an invalid name.
        FileExistsError: the name is taken and ``overwrite`` is False.
        ModelLoadError: the run has no usable ``best.keras`` or no readable config.
    """
    import shutil

    validate_name(name)
    run = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
    src = run.model_path
    problem = _check_file(src) if src.exists() else "the run has no saved model"
    if problem:
        raise ModelLoadError(f"{run.name} cannot be saved: {problem}.")
    card = card_from_run(run, notes)
    return _write(name, lambda tmp: shutil.copyfile(src, tmp), card, models_dir, overwrite)
