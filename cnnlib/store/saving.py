"""Writing the store: save, import a training run, delete (see :mod:`cnnlib.store`)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from cnnlib import paths, rundir
from cnnlib.owners import is_owner
from cnnlib.rundir import RunDir
from cnnlib.store import cards, files
from cnnlib.store.catalog import check_file, locate, validate_name, where
from cnnlib.store.errors import (
    REFUSALS,
    BundledModelError,
    ModelLoadError,
    ModelNotFoundError,
    NameTakenError,
    NotOwnerError,
    write_error,
)
from cnnlib.store.files import model_path


def _target(name: str, models_dir, overwrite_bundled: bool) -> tuple[Path, bool]:
    """The folder a save of ``name`` goes to, and whether it is the bundled one.

    Raises:
        ValueError: an invalid name.
        BundledModelError: a bundled name without ``overwrite_bundled``.
    """
    validate_name(name)
    if models_dir is not None:
        return Path(models_dir), False
    bundled = paths.models_dir()
    if model_path(bundled, name).is_file():
        if not overwrite_bundled:
            raise _bundled_error(name, "replaced")
        return bundled, True
    return paths.user_models_dir(), False


def _bundled_error(name: str, done: str) -> BundledModelError:
    """The refusal to touch bundled model ``name``; ``done``: "replaced" or "deleted"."""
    return BundledModelError(f"{name!r} is one of CNN Studio's bundled models, which cannot be "
                             f"{done}." + (" Choose another name." if done == "replaced" else ""))


def _refuse_other_owner(folder: Path, name: str, owner: str | None, verb: str) -> None:
    """NotOwnerError unless ``owner`` saved model ``name`` of ``folder`` (compared as
    tags: an older version's card, with the raw token, is compared by its tag too)."""
    if not is_owner(cards.read_card_file(folder, name).get(cards.OWNER_TAG), owner):
        raise NotOwnerError(f"The model {name!r} was saved by someone else: only they can "
                            f"{verb} it." + (" Choose another name." if verb == "replace" else ""))


def _refuse_replace(folder: Path, name: str, bundled: bool, owner: str | None,
                    overwrite: bool) -> None:
    """Raise unless a save of ``name`` in ``folder`` may go ahead now."""
    if bundled or not model_path(folder, name).exists():
        return
    if not overwrite:
        raise NameTakenError(f"A model named {name!r} already exists; choose another name.")
    _refuse_other_owner(folder, name, owner, "replace")


def check_can_save(name: str, *, owner: str | None = None, models_dir=None,
                   overwrite: bool = False, overwrite_bundled: bool = False) -> Path:
    """Whether a save of ``name`` would be allowed now (same arguments as
    :func:`save_model`), without writing anything; for a caller that wants to know
    before it trains.

    Returns:
        The path the ``.keras`` file would have.

    Raises:
        The refusals of :func:`save_model`: ValueError, BundledModelError,
        NameTakenError, NotOwnerError.
    """
    folder, bundled = _target(name, models_dir, overwrite_bundled)
    _refuse_replace(folder, name, bundled, owner, overwrite)
    return model_path(folder, name)


def save_model(model, name: str, *, card: dict | None = None, models_dir=None,
               overwrite: bool = False, owner: str | None = None,
               overwrite_bundled: bool = False) -> Path:
    """Save ``model`` as ``NAME.keras`` with its card ``NAME.json``, in the user
    folder (or ``models_dir``); the two files appear together or not at all.

    Args:
        model: a ``keras.Model``.
        name: store name (see :func:`validate_name`).
        card: card fields (see :mod:`cnnlib.store`; a training run's card comes
            from :func:`card_from_run`, or use :func:`import_run`). ``name``,
            ``params``, ``input_shape``, ``owner_tag``, ``model_sha256`` and ``created``
            are filled in here.
        models_dir: one folder to use as the whole store; default: the user folder.
        overwrite: replace an existing model of that name, if ``owner`` saved it.
        owner: who saves it (the app: the browser's owner token; the command line:
            ``"cli"``); None for nobody in particular. The card records its tag
            (:func:`cnnlib.owners.owner_tag`), never the token.
        overwrite_bundled: replace a bundled model of that name, in the bundled
            folder (the command line's ``--overwrite-bundled``).

    Returns:
        The path of the ``.keras`` file.

    Raises:
        ValueError: an invalid name.
        BundledModelError: a bundled model's name without ``overwrite_bundled``.
        NameTakenError: the name is taken and ``overwrite`` is False (a FileExistsError).
        NotOwnerError: the name is another owner's model (a PermissionError).
        StoreWriteError: the folder cannot be written (full disk, read-only); nothing
            changed and no temporary file is left.
    """
    full = dict(card or {})
    full.update({"params": int(model.count_params()), "input_shape": list(model.input_shape[1:])})
    return _write(name, model.save, full, models_dir=models_dir, overwrite=overwrite,
                  owner=owner, overwrite_bundled=overwrite_bundled)


def _write(name: str, write_keras, card: dict, *, models_dir, overwrite: bool,
           owner: str | None, overwrite_bundled: bool) -> Path:
    """Store ``NAME.keras`` (written by ``write_keras(path)``) and its card, adding
    ``name``, ``owner_tag``, ``created`` and ``model_sha256`` to the card (see
    :func:`save_model` for the arguments and errors)."""
    folder, bundled = _target(name, models_dir, overwrite_bundled)

    def card_text(model_file: Path) -> str:
        return cards.card_text({**card, "name": name,
                                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                "model_sha256": files.sha256_file(model_file)}, owner)

    try:
        return files.replace_pair(
            folder, name, write_keras, card_text,
            check=lambda: _refuse_replace(folder, name, bundled, owner, overwrite))
    except REFUSALS:
        raise
    except OSError as e:
        raise write_error(e, folder, "saved") from e


def delete_model(name: str, *, owner: str | None = None, models_dir=None,
                 overwrite_bundled: bool = False) -> Path:
    """Delete model ``name`` (its ``.keras`` and its card, both or neither).

    Args:
        name: the model's name.
        owner: who asks; only the owner who saved a user model may delete it.
        models_dir: one folder to use as the whole store; default: bundled and user.
        overwrite_bundled: allow deleting a bundled model (the command line's
            ``--overwrite-bundled``).

    Returns:
        The path the ``.keras`` file had.

    Raises:
        ValueError: an invalid name.
        ModelNotFoundError: no model of that name.
        BundledModelError: a bundled model without ``overwrite_bundled``.
        NotOwnerError: another owner's model.
        StoreWriteError: the folder cannot be written; nothing changed.
    """
    validate_name(name)
    found = locate(name, models_dir)
    missing = ModelNotFoundError(f"There is no model named {name!r} in {where(models_dir)}.")
    if found is None:
        raise missing
    folder, bundled = found
    if bundled and not overwrite_bundled:
        raise _bundled_error(name, "deleted")
    check = (lambda: None) if bundled else (
        lambda: _refuse_other_owner(folder, name, owner, "delete"))
    try:
        return files.remove_pair(folder, name, check)
    except REFUSALS:
        raise
    except FileNotFoundError:  # another call deleted it first
        raise missing from None
    except OSError as e:
        raise write_error(e, folder, "deleted") from e


def card_from_run(run: RunDir, notes: str = "") -> dict:
    """The model card of a training run, built from its files alone (no TensorFlow).

    Args:
        run: a finished (or stopped) run's directory.
        notes: free text for the card.

    Returns:
        The card fields (see :mod:`cnnlib.store`) but ``name``, ``owner_tag``, ``created`` and
        ``model_sha256``.
        Fields the run never recorded (a run that crashed before its start event)
        are None. ``input_shape`` is the built-in dataset's image shape, else (a run on
        an own dataset, ``own:<name>``) the one the run's saved model declares
        (:func:`_model_input_shape`).

    Raises:
        ModelLoadError: the run has no readable ``config.json``.
    """
    from cnnlib.data.datasets import DATASETS

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
        "input_shape": list(info.image_shape) if info else _model_input_shape(run),
        "epochs": end.get("complete_epochs", len([e for e in rundir.of_type(events, "epoch")
                                                   if not e.get("partial")])),
        "kept_epoch": end.get("kept_epoch", max((e["epoch"] for e in rundir.of_type(events, "epoch")
                                                 if e.get("best")), default=None)),
        "test_accuracy": end.get("test_accuracy"), "test_loss": end.get("test_loss"),
        "n_test": end.get("n_test"), "train_accuracy": end.get("train_accuracy"),
        "train_loss": end.get("train_loss"),
        "status": end.get("status") or run.state(),  # a run without an end: interrupted, failed
        "status_text": end.get("status_text") or (
            rundir.status_sentence(end, config.to_dict()) if end else None),
        "standardize": start.get("standardize"),
        "config": config.to_dict(), "run_dir": str(run.path),
        "history": rundir.of_type(events, "epoch"), "notes": notes,
    }


def _model_input_shape(run: RunDir) -> list[int] | None:
    """The ``[H, W, C]`` input of a run's saved model (``best.keras``), read from its
    configuration by the intake's cheap check (nothing built, no TensorFlow); None when
    the run has no model or the file is refused."""
    from cnnlib.intake.load import check_untrusted

    if not run.model_path.is_file():
        return None
    try:
        return [int(v) for v in check_untrusted(run.model_path)[1].input_shape]
    except (ModelLoadError, OSError):
        return None


def import_run(run_dir: str | Path | RunDir, name: str, *, models_dir=None,
               overwrite: bool = False, notes: str = "", owner: str | None = None,
               overwrite_bundled: bool = False) -> Path:
    """Copy a training run's kept model (``best.keras``) into the store as ``name``,
    with the card of :func:`card_from_run` (the other arguments as in :func:`save_model`).

    Returns:
        The path of the stored ``.keras`` file.

    Raises:
        ModelLoadError: the run has no usable ``best.keras`` or no readable config.
        The errors of :func:`save_model`: ValueError, BundledModelError,
        NameTakenError, NotOwnerError, StoreWriteError.
    """
    import shutil

    check_can_save(name, owner=owner, models_dir=models_dir, overwrite=overwrite,
                   overwrite_bundled=overwrite_bundled)
    run = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
    src = run.model_path
    if not src.exists():
        raise ModelLoadError(f"{run.name} cannot be saved: the run has no saved model.")
    problem = check_file(src)  # a sentence naming the model file
    if problem:
        raise ModelLoadError(f"{run.name} cannot be saved: {problem}")
    card = card_from_run(run, notes)
    return _write(name, lambda tmp: shutil.copyfile(src, tmp), card, models_dir=models_dir,
                  overwrite=overwrite, owner=owner, overwrite_bundled=overwrite_bundled)
