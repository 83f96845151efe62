"""The Keras callbacks of the training engine, one per file (as Keras keeps them).

* :class:`StopOnRequest`: stops ``fit`` after the batch in flight when asked.
* :class:`KeepBest`: remembers (and saves) the weights of the best epoch.
* :class:`EventReporter`: turns batches and epochs into :mod:`cnnlib.rundir` events.
* :class:`LiveSnapshots`: the first conv layer's kernels and feature maps, every few seconds.
* :class:`QuickStart`: the first batches eagerly, before the training step is traced.

Importing this package imports Keras (and TensorFlow).
"""

from cnnlib.training.callbacks.event_reporter import EventReporter
from cnnlib.training.callbacks.keep_best import KeepBest
from cnnlib.training.callbacks.live_snapshots import LiveSnapshots
from cnnlib.training.callbacks.quick_start import EAGER_BATCHES, QuickStart
from cnnlib.training.callbacks.stop_on_request import StopOnRequest

__all__ = ["EAGER_BATCHES", "EventReporter", "KeepBest", "LiveSnapshots", "QuickStart", "StopOnRequest"]
