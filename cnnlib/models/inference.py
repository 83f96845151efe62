"""Fast inference on a handful of images, and what a classifier's output means.

``model.predict`` builds a data pipeline and a progress callback on every
call: about 60 ms of overhead per call on this project's 2-core machines
(see the classify benchmark, ``bench/classify.py``), too much for a
prediction that should follow each pen stroke. :func:`predictor` wraps the
model's forward pass in a ``tf.function`` with a fixed input signature
(any batch size, the model's image shape), traced once, so that each call
runs the graph directly.

A percentage is shown as a confidence only when it is one. A stored model
may end in a softmax (every model of :mod:`cnnlib.models.zoo` does) or output raw
scores (logits, from a model trained with ``from_logits=True``).
:func:`classifier` tells the two apart: an output counts as probabilities
when the last layer applies a softmax
(:func:`cnnlib.network.logits.find_logits`, the rule Grad-CAM and Inside
the network follow), or when every row lies in [0, 1] and
sums to 1 (within ``SUM_TOLERANCE``); any other output is passed through a
softmax here, and the result says so (``softmax_applied``) so that a page
can say it too. A model that is not an image classifier at all (two inputs,
two outputs, an input that is not ``(H, W, C)``: the model reader,
:func:`cnnlib.network.reader.check_structure`) or does not fit the images and
classes at hand is refused by :func:`check_classifier` with a sentence.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from cnnlib.network.activation_functions import softmax
from cnnlib.network.logits import Logits, find_logits
from cnnlib.network.reader import check_structure, shape_text

#: How far from 1 a row of probabilities may sum (float32 softmax rows are within ~1e-6).
SUM_TOLERANCE = 1e-3


class Probabilities(NamedTuple):
    """What a :func:`classifier` function returns."""

    probs: np.ndarray  # float32 (N, classes), each row in [0, 1] summing to 1
    softmax_applied: bool  # the model's outputs were not probabilities; softmax applied here
    logits_layer: str | None = None  # the layer whose logits these are the softmax of, if known


def predictor(model) -> Callable[[np.ndarray], np.ndarray]:
    """A fast ``x -> model output`` function for ``model``.

    Args:
        model: a ``keras.Model`` with one image input ``(N, H, W, C)``.

    Returns:
        A function taking float32 ``(N, H, W, C)`` (or one ``(H, W, C)``
        image) and returning float32 ``(N, classes)``, the model's output with
        ``training=False`` (dropout off, batch norm in inference mode). Safe
        to share between threads; traced on its first call (and once more
        for each new image size, when the model leaves its sides open).

    Raises:
        ValueError: the model does not have one image input and one row of
            scores out (see :func:`cnnlib.network.reader.check_structure`);
            when called, an input of another image shape (a side the model
            leaves open, None, takes any size).
    """
    import tensorflow as tf

    check_structure(model)
    shape = tuple(model.input_shape[1:])
    spec = tf.TensorSpec((None, *shape), tf.float32)
    forward = tf.function(lambda x: model(x, training=False), input_signature=[spec])

    def predict(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == len(shape):
            x = x[None]
        if not fits(shape, x.shape[1:]):
            raise ValueError(f"Expected images of shape {shape}. Received: shape={x.shape}")
        return np.asarray(forward(x))

    return predict


def check_classifier(model, image_shape: tuple[int, int, int], num_classes: int) -> None:
    """Refuse a model that cannot classify these images into these classes.

    Args:
        model: a ``keras.Model``.
        image_shape: ``(H, W, C)`` of the images it is given.
        num_classes: how many classes the page names.

    Raises:
        ValueError: as :func:`cnnlib.network.reader.check_structure`, or another image shape (a side
            the model leaves open, None, fits any), or another number of outputs
            than ``num_classes``; the message is a sentence with both shapes or counts.
    """
    check_structure(model)
    takes, given = tuple(model.input_shape[1:]), tuple(int(v) for v in image_shape)
    if not fits(takes, given):
        raise ValueError(f"The model takes {shape_text(takes)} images, not "
                         f"{shape_text(given)}.")
    outputs = model.output_shape[-1]
    if outputs != num_classes:
        raise ValueError(f"The model gives {outputs} scores per image, not one for "
                         f"each of the {num_classes} classes.")


def fits(takes: tuple, given: tuple) -> bool:
    """Whether an image of shape ``given`` fits an input of shape ``takes`` (both
    without the batch axis): same rank, each side equal or left open (None)."""
    return len(takes) == len(given) and all(t is None or t == g for t, g in zip(takes, given))


def is_distribution(scores: np.ndarray, tol: float = SUM_TOLERANCE) -> bool:
    """Whether every row of float ``(N, classes)`` lies in [0, 1] and sums to 1 within ``tol``."""
    s = np.asarray(scores, dtype=np.float64)
    return bool(np.all(np.isfinite(s)) and s.min() >= 0.0 and s.max() <= 1.0
                and np.all(np.abs(s.sum(axis=-1) - 1.0) <= tol))


def to_probabilities(scores: np.ndarray, logits: Logits | None = None) -> Probabilities:
    """The model's outputs as probabilities.

    Args:
        scores: float ``(N, classes)`` model outputs.
        logits: where the model's logits are (:func:`cnnlib.network.logits.find_logits`),
            or None when not known.

    Returns:
        :class:`Probabilities`: ``scores`` unchanged (as float32) if they are
        probabilities (the model ends in a softmax, ``logits.softmax``, or
        :func:`is_distribution`), else their softmax
        (:func:`cnnlib.network.activation_functions.softmax`) with
        ``softmax_applied=True``; ``logits_layer`` names the layer whose logits
        they are the softmax of.
    """
    s = np.asarray(scores, dtype=np.float32)
    if logits is not None and logits.softmax:
        return Probabilities(s, False, logits.layer)
    if is_distribution(s):
        return Probabilities(s, False, None)
    last = logits.output if logits is not None else None
    return Probabilities(softmax(s).astype(np.float32), True, last)


def classifier(model) -> Callable[[np.ndarray], Probabilities]:
    """:func:`predictor` followed by :func:`to_probabilities`, the logits found by
    :func:`cnnlib.network.logits.find_logits` (the rule Grad-CAM and Inside follow).

    Returns:
        A function taking float32 ``(N, H, W, C)`` (or one ``(H, W, C)``) and
        returning :class:`Probabilities` ``(N, classes)``.

    Raises:
        ValueError: as :func:`predictor`.
    """
    predict, logits = predictor(model), find_logits(model)
    return lambda x: to_probabilities(predict(x), logits)
