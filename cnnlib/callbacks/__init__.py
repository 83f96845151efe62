"""The Keras callbacks of the training engine, one per file (as Keras keeps them).

* :class:`StopOnRequest`: stops ``fit`` after the batch in flight when asked.
* :class:`KeepBest`: remembers (and saves) the weights of the best epoch.
* :class:`EventReporter`: turns batches and epochs into :mod:`cnnlib.rundir` events.
* :class:`LiveSnapshots`: the first conv layer's kernels and feature maps, every few seconds.
* :class:`QuickStart`: the first batches eagerly, before the training step is traced.

Importing this package imports Keras (and TensorFlow).
"""

from .event_reporter import EventReporter
from .keep_best import KeepBest
from .live_snapshots import LiveSnapshots
from .quick_start import EAGER_BATCHES, QuickStart
from .stop_on_request import StopOnRequest

__all__ = ["EAGER_BATCHES", "EventReporter", "KeepBest", "LiveSnapshots", "QuickStart", "StopOnRequest"]
