"""Show the first training batches before TensorFlow has traced the training step."""

from __future__ import annotations

import keras

#: Batches run eagerly at the start of a run watched live (see :class:`QuickStart`).
EAGER_BATCHES = 3


class QuickStart(keras.callbacks.Callback):
    """Runs the first ``batches`` training steps eagerly, then switches ``fit`` to the
    traced (graph) step.

    Keras traces the training step into a TensorFlow graph on the first batch; for the
    Train page's default model (studio_cnn, 205,546 parameters) that took 1.9 s on
    the 2-core development machine (``model.train_on_batch``, measured), during
    which nothing can be shown. An eager step costs ~0.27 s instead of ~0.07 s, but
    needs no tracing: with 3 eager batches the first curve point arrives after
    ~0.4 s and the run as a whole takes ~0.3 s longer. The maths is the same (the
    same ``train_step``, optimizer and variables).

    The model must be compiled with ``run_eagerly=True``; Keras's ``fit`` looks up
    ``model.train_function`` before every step, so the graph step built here is
    used from the next batch on (its tracing cost falls on that batch).

    Args:
        batches: eager steps before the switch (>= 1).

    Raises:
        ValueError: ``batches < 1``.
    """

    def __init__(self, batches: int = EAGER_BATCHES):
        super().__init__()
        if batches < 1:
            raise ValueError(f"QuickStart needs at least one eager batch. Received: batches={batches}")
        self.batches = batches
        self._seen = 0

    def on_train_batch_end(self, batch, logs=None):
        self._seen += 1
        if self._seen == self.batches:
            self.switch_to_graph()

    def on_train_end(self, logs=None):
        self.switch_to_graph()  # evaluate/predict after fit run traced too

    def switch_to_graph(self) -> None:
        if self.model.run_eagerly:
            self.model.run_eagerly = False
            self.model.make_train_function(force=True)
            self.model.make_test_function(force=True)
            self.model.make_predict_function(force=True)
