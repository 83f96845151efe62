"""The model store: ``.keras`` files with a JSON model card beside each, in two folders.

- **Bundled models** (:func:`cnnlib.paths.models_dir`): shipped with the app,
  read-only. Saving or deleting under a bundled name raises
  :class:`BundledModelError`, unless the caller passes ``overwrite_bundled=True``
  (the command line's ``--overwrite-bundled``, the only way to change them).
- **User models** (:func:`cnnlib.paths.user_models_dir`): the models people
  save. Each card names its ``owner``; only that owner replaces or deletes the
  model (:class:`NotOwnerError`), anyone may load it. A user model cannot take
  a bundled model's name.

:func:`list_models` gives the bundled models first, then the user models, each
sorted by name; :func:`load_model` finds either. A function given
``models_dir`` treats that one folder as the whole store, as a user folder
(tests, scripts and benchmarks use this).

A model ``NAME`` is the pair ``<folder>/NAME.keras`` and ``<folder>/NAME.json``.
The card records what the model is and how well it did: ``name``, ``dataset``,
``dataset_source``, ``n_train``, ``arch``, ``params``, ``input_shape``,
``class_names``, ``epochs``, ``test_accuracy`` (fraction in [0, 1]),
``test_loss``, ``n_test``, ``created`` (ISO 8601 UTC), ``history`` (the epoch
events), free ``notes``, ``owner_tag`` (the tag of who may replace or delete it,
:func:`cnnlib.owners.owner_tag`; None for a script that named no owner: the
token itself is never written down; an earlier version's card, which holds the
raw token as ``owner``, is upgraded on its first read, see
:mod:`cnnlib.store.cards`) and ``model_sha256`` (the model file's SHA-256; a
listing flags a card that does not describe its file). How the two files are
written and read together, by many threads and processes at once, is
:mod:`cnnlib.store.files`.

Loading uses ``keras.saving.load_model(..., safe_mode=True)``, which refuses
to deserialise arbitrary Python code (lambdas) from a file.
"""

from cnnlib.store.catalog import (
    NAME_RE,
    StoredModel,
    list_models,
    load_model,
    load_model_file,
    load_with_card,
    read_card,
    validate_name,
)
from cnnlib.store.errors import (
    ERRORS,
    BundledModelError,
    ModelLoadError,
    ModelNotFoundError,
    NameTakenError,
    NotOwnerError,
    StoreWriteError,
)
from cnnlib.store.saving import card_from_run, check_can_save, delete_model, import_run, save_model

__all__ = [
    "NAME_RE", "StoredModel", "list_models", "load_model", "load_model_file", "load_with_card",
    "read_card", "validate_name",
    "ERRORS", "BundledModelError", "ModelLoadError", "ModelNotFoundError", "NameTakenError",
    "NotOwnerError", "StoreWriteError",
    "card_from_run", "check_can_save", "delete_model", "import_run", "save_model",
]
