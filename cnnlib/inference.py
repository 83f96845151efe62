"""Fast inference on a handful of images.

``model.predict`` builds a data pipeline and a progress callback on every
call: about 60 ms of overhead per call on this project's 2-core machines
(see the classify benchmark, ``bench/classify.py``), too much for a
prediction that should follow each pen stroke. :func:`predictor` wraps the
model's forward pass in a ``tf.function`` with a fixed input signature
(any batch size, the model's image shape), traced once, so that each call
runs the graph directly.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def predictor(model) -> Callable[[np.ndarray], np.ndarray]:
    """A fast ``x -> probabilities`` function for ``model``.

    Args:
        model: a ``keras.Model`` with one image input ``(N, H, W, C)``.

    Returns:
        A function taking float32 ``(N, H, W, C)`` (or one ``(H, W, C)``
        image) and returning float32 ``(N, classes)``, the model's output with
        ``training=False`` (dropout off, batch norm in inference mode). Safe
        to share between threads; traced on its first call.

    Raises:
        ValueError (when called): an input of another image shape.
    """
    import tensorflow as tf

    shape = tuple(model.input_shape[1:])
    spec = tf.TensorSpec((None, *shape), tf.float32)
    forward = tf.function(lambda x: model(x, training=False), input_signature=[spec])

    def predict(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == len(shape):
            x = x[None]
        if tuple(x.shape[1:]) != shape:
            raise ValueError(f"Expected images of shape {shape}. Received: shape={x.shape}")
        return np.asarray(forward(x))

    return predict
