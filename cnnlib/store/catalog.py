"""Reading the store: its folders, the listing, cards and loading (see :mod:`cnnlib.store`)."""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from pathlib import Path

from cnnlib import paths
from cnnlib.intake.load import check_untrusted, load_untrusted
from cnnlib.owners import is_owner
from cnnlib.store import cards, files
from cnnlib.store.errors import ModelLoadError, ModelNotFoundError
from cnnlib.store.files import model_path

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclasses.dataclass
class StoredModel:
    """One entry of :func:`list_models`."""

    name: str
    path: Path
    card: dict  # the JSON card, {} when missing or unreadable
    error: str | None = None  # why the model cannot be used, or None
    bundled: bool = False  # shipped with the app: nobody may replace or delete it
    owner_tag: str | None = None  # the tag of who saved it (:mod:`cnnlib.owners`); None for
    # bundled models and for a script's that named no owner
    error_detail: str = ""  # the technical detail of ``error`` (shown folded), "" if none

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def dataset(self) -> str | None:
        return self.card.get("dataset")

    def owned_by(self, owner: str | None) -> bool:
        """Whether ``owner`` may replace or delete this model."""
        return not self.bundled and is_owner(self.owner_tag, owner)

    def label(self) -> str:
        """A one-line description for a select box."""
        if not self.ok:
            return f"{self.name} (unusable: {self.error})"
        acc = self.card.get("test_accuracy")
        acc_s = f", test accuracy {acc:.1%}" if isinstance(acc, (int, float)) else ""
        config = self.card.get("config") if isinstance(self.card.get("config"), dict) else {}
        arch = self.card.get("arch", "?")
        if isinstance(config.get("base_model"), str):  # a transfer run: its base and a new head
            arch = f"{config['base_model']}'s base + new head"
        data = str(self.card.get("dataset", "?"))
        if data.startswith("own:"):
            data = f"your images '{data[4:]}'"
        return f"{self.name} ({arch} on {data}{acc_s})"


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid store name, else raise ValueError.

    Valid names: 1 to 64 characters, letters, digits, ``_``, ``.`` and ``-``,
    starting with a letter or digit.
    """
    if not isinstance(name, str) or not NAME_RE.match(name) or name.endswith(".keras"):
        raise ValueError("A model name uses 1-64 letters, digits, '_', '.' or '-' and starts "
                         f"with a letter or digit. Received: name={name!r}")
    return name


def _is_name(name: str) -> bool:
    try:
        validate_name(name)
        return True
    except ValueError:
        return False


# ------------------------------------------------------------------ folders --

def _folders(models_dir) -> list[tuple[Path, bool]]:
    """The store's folders in listing order, each with whether it holds bundled models."""
    if models_dir is not None:
        return [(Path(models_dir), False)]
    bundled, user = paths.models_dir(), paths.user_models_dir()
    if os.path.realpath(bundled) == os.path.realpath(user):  # set up so: all of it is bundled
        return [(bundled, True)]
    return [(bundled, True), (user, False)]


def where(models_dir) -> str:
    return " or ".join(str(folder) for folder, _ in _folders(models_dir))


def _names(folder: Path) -> list[str]:
    """The models of one folder, sorted; hidden and temporary files are no models."""
    try:
        files = sorted(folder.glob("*.keras"))
    except OSError:
        return []
    return [p.stem for p in files if _is_name(p.stem)]


def locate(name: str, models_dir) -> tuple[Path, bool] | None:
    """The folder that holds model ``name`` (bundled first) and whether it is the
    bundled one; None if no folder does."""
    for folder, bundled in _folders(models_dir):
        if model_path(folder, name).is_file():
            return folder, bundled
    return None


# -------------------------------------------------------------------- reading --

def _inspect(path: Path) -> tuple[ModelLoadError | None, str | None]:
    """The intake's cheap check of a .keras file (:func:`cnnlib.intake.load.check_untrusted`:
    the archive's members by their declared sizes, its config.json, its weights' shapes,
    the configuration against the limits; nothing built) and its SHA-256:
    ``(the refusal or None, sha256 or None)``. The answer is remembered until the
    file changes."""
    try:
        st = path.stat()
    except OSError as e:
        return ModelLoadError(f"{path.name} cannot be read ({e.strerror or e})."), None
    return _inspect_cached(str(path), st.st_ino, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=256)
def _inspect_cached(path_str: str, ino: int, mtime_ns: int,
                    size: int) -> tuple[ModelLoadError | None, str | None]:
    path = Path(path_str)
    try:
        check_untrusted(path)
        return None, files.sha256_file(path)
    except ModelLoadError as e:
        return e, None
    except OSError as e:
        return ModelLoadError(f"{path.name} cannot be read ({e.strerror or e})."), None


def check_file(path: Path) -> str | None:
    """Why a .keras file is refused (one sentence naming it, see :func:`_inspect`), or None."""
    problem = _inspect(path)[0]
    return str(problem) if problem else None


def _upgrade_after_read(folder: Path, name: str, bundled: bool, legacy: bool) -> None:
    """A reader met an older version's card: rewrite it on disk (see
    :mod:`cnnlib.store.cards`); never in a bundled folder."""
    if legacy and not bundled:
        cards.upgrade(folder, name)


def _entry(folder: Path, name: str, bundled: bool) -> StoredModel:
    """One listing entry; its card and its file check are of one version of the model."""
    path = model_path(folder, name)

    def read():
        card, legacy = cards.read(folder, name)
        problem, sha = _inspect(path)
        if problem is None and card.get("model_sha256") not in (None, sha):
            problem = ModelLoadError(f"{path.name} cannot be used: its card describes another "
                                     "version of the file; save the model again.")
        return card, legacy, problem

    card, legacy, problem = files.read_pair(folder, name, read)
    _upgrade_after_read(folder, name, bundled, legacy)
    return StoredModel(name, path, card, str(problem) if problem else None, bundled,
                       None if bundled else card.get(cards.OWNER_TAG),
                       problem.detail if problem else "")


def read_card(name: str, models_dir=None) -> dict:
    """The JSON card of model ``name`` (as :mod:`cnnlib.store.cards` reads it: the
    owner as ``owner_tag``); ``{}`` if the model or its card is missing or unreadable."""
    found = locate(name, models_dir) if _is_name(name) else None
    if not found:
        return {}
    card, legacy = cards.read(found[0], name)
    _upgrade_after_read(found[0], name, found[1], legacy)
    return card


def list_models(models_dir=None) -> list[StoredModel]:
    """Every model of the store: the bundled ones, then the user ones, each sorted by
    name; unusable ones too.

    A user model under a bundled model's name (a file put there by hand) is left
    out: the name means the bundled one. Hidden and temporary files are never
    listed. Never raises for a bad file: its :attr:`StoredModel.error` says what
    is wrong. Imports no TensorFlow (the intake's cheap check only: the archive, its
    configuration and its weights' shapes; nothing built).
    """
    out, seen = [], set()
    for folder, bundled in _folders(models_dir):
        for name in _names(folder):
            if name not in seen:
                seen.add(name)
                out.append(_entry(folder, name, bundled))
    return out


def load_with_card(name: str, models_dir=None) -> tuple:
    """Load model ``name`` (bundled first, then the user models) and its card, both
    of one version even while someone replaces it.

    Returns:
        ``(model, card)``: the ``keras.Model`` (input float32 ``(N, H, W, C)`` in
        [0, 1], output softmax probabilities ``(N, num_classes)``; Keras safe mode,
        not compiled) and its card (``{}`` if missing or unreadable).

    Raises:
        ValueError: an invalid name.
        ModelNotFoundError: no model of that name (a :class:`ModelLoadError`).
        ModelLoadError: a corrupt or unloadable file; the message says which.
    """
    validate_name(name)
    found = locate(name, models_dir)
    if found is None:
        raise ModelNotFoundError(f"There is no model named {name!r} in {where(models_dir)}.")
    folder, bundled = found
    model, (card, legacy) = files.read_pair(folder, name, lambda: (
        load_model_file(model_path(folder, name)), cards.read(folder, name)))
    _upgrade_after_read(folder, name, bundled, legacy)
    return model, card


def load_model(name: str, models_dir=None):
    """Load model ``name``: :func:`load_with_card` without the card.

    Returns:
        The ``keras.Model``: input float32 ``(N, H, W, C)`` in [0, 1], output
        softmax probabilities ``(N, num_classes)``.

    Raises:
        ValueError: an invalid name.
        ModelLoadError: missing (:class:`ModelNotFoundError`), corrupt or unloadable
            file; the message says which.
    """
    return load_with_card(name, models_dir)[0]


def load_model_file(path: str | Path):
    """Load any ``.keras`` file through the intake (:func:`cnnlib.intake.load.load_untrusted`:
    the cheap check, the limited child, then Keras's safe mode in this process).

    Raises:
        ModelLoadError: refused or unloadable; one sentence naming the file, ``detail`` apart.
    """
    path = Path(path)
    problem, sha = _inspect(path)
    if problem:  # a new error each time: the remembered one carries no traceback
        raise ModelLoadError(str(problem), problem.detail)
    return load_untrusted(path, sha256=sha)
