"""How a training run names an own dataset: ``TrainConfig.dataset = "own:<name>"`` and
``TrainConfig.dataset_owner = <owner tag>`` (16 hex digits, :func:`cnnlib.owners.owner_tag`).

The tag, never the token, goes into a run's config: the config is written to disk
(``config.json``, ``job.json``) and sent to a worker, which reads the dataset by tag
(:meth:`cnnlib.owndata.store.OwnDataStore.dataset_for_training`). No Pillow, no
TensorFlow: :mod:`cnnlib.training.config` validates with this module.
"""

from __future__ import annotations

from cnnlib.owndata.errors import OwnDataError
from cnnlib.owndata.pictures import validate_name
from cnnlib.owners import TAG_RE

#: The prefix of an own dataset in ``TrainConfig.dataset``.
PREFIX = "own:"


def is_own(dataset) -> bool:
    """Whether ``dataset`` (a ``TrainConfig.dataset``) names an own dataset."""
    return isinstance(dataset, str) and dataset.startswith(PREFIX)


def ref(name: str) -> str:
    """``"own:<name>"``, the ``TrainConfig.dataset`` of the own dataset ``name``."""
    return PREFIX + name


def name_of(dataset: str) -> str:
    """The own dataset's name in ``"own:<name>"``.

    Raises:
        OwnDataError: not ``own:`` followed by a valid dataset name (the sentence says
            what a name may hold).
    """
    if not is_own(dataset):
        raise OwnDataError(f"An own dataset is named own:<name>. Received: dataset={dataset!r:.60}.")
    return validate_name(dataset[len(PREFIX):], "An own dataset's name")


def check_tag(tag) -> str:
    """``tag`` if it is an owner tag (16 lowercase hex digits).

    Raises:
        OwnDataError: anything else (a token, say, which must never be written down).
    """
    if not isinstance(tag, str) or not TAG_RE.match(tag):
        raise OwnDataError("An own dataset's owner is given by the owner's tag, 16 hex digits "
                           "(cnnlib.owners.owner_tag); what was given is not one (it is not "
                           "repeated here: it may be a token, which is never written down).")
    return tag
