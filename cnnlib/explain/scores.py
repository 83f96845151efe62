"""A classifier's class scores as a differentiable function of its input: the one
score that the saliency maps (:mod:`cnnlib.explain.attributions`), occlusion
(:mod:`cnnlib.explain.occlusion`) and the attacks (:mod:`cnnlib.probe.attacks`)
differentiate or compare.

The score is the logits, found by :func:`cnnlib.network.logits.find_logits` (the
rule Grad-CAM, Classify and Inside the network follow): the output of the layer
before a separate softmax, the pre-softmax of a ``Dense`` with the softmax built in
(VGG16), the output of a linear last layer; for any other last activation, the log
of the output (``log probability``).
"""

from __future__ import annotations

import weakref
from typing import Callable, NamedTuple

import numpy as np

from cnnlib.network import reader
from cnnlib.network.logits import find_logits


class Scores(NamedTuple):
    """What :func:`scores_of` returns."""

    logits: Callable  # tf tensor (N, H, W, C) float32 -> (N, K) float32 class scores
    label: str  # "logits", "dense pre-softmax", "output scores" or "log probability"
    softmax: bool  # whether the model's output is the softmax of these scores


#: The score's name, by where the logits are (:class:`cnnlib.network.logits.Logits`).
SCORE_LABELS = {"softmax layer": "logits", "built-in softmax": "dense pre-softmax",
                "output": "output scores", "other activation": "log probability"}

_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def scores_of(model) -> Scores:
    """The class-score function of ``model`` (cached per model; entries go with it).

    Args:
        model: a ``keras.Model``, one image ``(N, H, W, C)`` in, one row of ``K`` scores out.

    Returns:
        :class:`Scores`; ``logits(x)`` runs the model with ``training=False``.

    Raises:
        ValueError: a model that is not one image in and one row of scores out
            (:func:`cnnlib.network.reader.check_structure`).
    """
    if model in _CACHE:
        return _CACHE[model]
    import tensorflow as tf

    found = find_logits(model)
    read_model = reader.outputs_model(model, found.read) if found.read is not None else None

    def logits(x):
        out = read_model(x, training=False) if read_model is not None else x
        if found.head is not None:
            return found.head(out)
        if found.how == "other activation":
            return tf.math.log(out + 1e-12)
        return out

    _CACHE[model] = Scores(logits, SCORE_LABELS[found.how], found.softmax)
    return _CACHE[model]


def check_batch(model, x, class_indices) -> tuple[np.ndarray, np.ndarray]:
    """``(x, c)``: the batch as float32 ``(N, H, W, C)`` of the model's input shape and
    the class indices as int32 ``(N,)`` (one index is repeated for every image).

    Raises:
        ValueError: a batch of another shape, a different number of indices, an index
            out of ``[0, K)``.
    """
    x = np.asarray(x, dtype=np.float32)
    want = tuple(model.input_shape[1:])
    if x.ndim != 4 or tuple(x.shape[1:]) != want:
        raise ValueError(f"Expected a batch of shape (N, {', '.join(map(str, want))}). "
                         f"Received: shape={x.shape}")
    try:
        c = np.broadcast_to(np.asarray(class_indices, dtype=np.int64), (len(x),)).astype(np.int32)
    except ValueError:
        raise ValueError(f"Expected one class index or {len(x)}. Received: "
                         f"{np.shape(class_indices)}") from None
    k = int(model.output_shape[-1])
    if len(c) and (c.min() < 0 or c.max() >= k):
        raise ValueError(f"Class indices must be in [0, {k}). Received: {c.tolist()[:8]}")
    return x, c


#: Images per gradient call (bounds memory: a VGG16 batch of 16 is ~1.5 GB of activations).
BATCH = 16


def input_gradient(model, x: np.ndarray, labels: np.ndarray, objective: Callable) -> np.ndarray:
    """``d objective(score(x), labels) / d x``, computed ``BATCH`` images at a time.

    Args:
        model: a ``keras.Model`` classifier.
        x: float32 ``(N, H, W, C)`` and labels int32 ``(N,)``, as :func:`check_batch`
            gives them.
        objective: ``(scores (n, K) tensor, labels (n,)) -> (n,)`` tensor, one value per
            image (a class's score, a loss).

    Returns:
        float32 ``(N, H, W, C)``.
    """
    import tensorflow as tf

    logits = scores_of(model).logits
    out = []
    for i in range(0, len(x), BATCH):
        xb = tf.constant(x[i:i + BATCH])
        with tf.GradientTape() as tape:
            tape.watch(xb)
            value = objective(logits(xb), labels[i:i + BATCH])  # (n,)
        out.append(tape.gradient(value, xb).numpy())
    return np.concatenate(out) if out else np.zeros_like(x)
