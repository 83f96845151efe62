"""The run protocol: a training run's events and its directory, in one place.

The training engine (:mod:`cnnlib.training.engine`) reports a run as a stream of
events, plain JSON-able dicts typed here (:class:`StartEvent`,
:class:`BatchEvent`, :class:`EpochEvent`, :class:`EndEvent`, and the job
runner's :class:`ErrorEvent`). Every event has ``type`` and ``elapsed``
(seconds since the run started).

A run directory (:class:`RunDir`) holds:

* ``config.json``: the :class:`~cnnlib.training.config.TrainConfig` as a dict;
* ``history.jsonl``: every event, one JSON object a line;
* ``best.keras``: the kept model (the best epoch's weights with keep-best,
  else the last);
* ``result.json``: the end event;
* ``test_predictions.npz``: the test images' softmax outputs (see
  :class:`Predictions`);
* ``job.json``: the job runner's view (id, state, error, pid, owner), when run as a
  job; its states are :data:`JOB_STATES`.

Everything that writes or reads these files goes through this module; it
imports neither TensorFlow nor Streamlit.

Three small modules, one protocol: :mod:`cnnlib.rundir.events` (the event types,
reading a stream, progress, the status sentence),
:mod:`cnnlib.rundir.directory` (:class:`RunDir`, :class:`Predictions`,
:func:`list_runs`, the job states) and :mod:`cnnlib.rundir.retention`
(:func:`prune_runs`: the runs folder under a size); everything is importable
from ``cnnlib.rundir``.
"""

from cnnlib.rundir.directory import (
    FINAL_JOB_STATES,
    JOB_STATES,
    Predictions,
    RunDir,
    images_digest,
    list_runs,
)
from cnnlib.rundir.events import (
    BatchEvent,
    EndEvent,
    EpochEvent,
    ErrorEvent,
    Event,
    Progress,
    SnapshotEvent,
    StartEvent,
    batch_values,
    last,
    of_type,
    progress,
    status_sentence,
)
from cnnlib.rundir.retention import prune_runs

__all__ = ["FINAL_JOB_STATES", "JOB_STATES", "BatchEvent", "EndEvent", "EpochEvent", "ErrorEvent",
           "Event", "Predictions", "Progress", "RunDir", "SnapshotEvent", "StartEvent",
           "batch_values", "images_digest", "last", "list_runs", "of_type", "progress",
           "prune_runs", "status_sentence"]
