"""Occlusion sensitivity: how much a class's probability drops when a square of the
input is covered (Zeiler & Fergus, "Visualizing and Understanding Convolutional
Networks", ECCV 2014, section 4.2).

A ``patch x patch`` square of value ``fill`` slides over the image with ``stride``
(the last position flush with the far edge, so every pixel is covered); for each
position the drop ``p_c(x) - p_c(x occluded)`` of the softmax probability of class
``c`` is credited to every pixel the square covered; a pixel's value is the mean drop
over the positions that covered it. Positive: covering it lowered the class's
probability (the model needed it); negative: covering it helped the class.
"""

from __future__ import annotations

import numpy as np

from cnnlib.explain.scores import check_batch, scores_of

#: Occluded copies per model call.
BATCH = 64


def positions(size: int, patch: int, stride: int) -> list[int]:
    """The start offsets of a ``patch`` sliding over ``size`` pixels with ``stride``:
    ``0, stride, ...`` and, if the last one leaves pixels uncovered, ``size - patch``."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return starts


def probabilities(model, x: np.ndarray) -> np.ndarray:
    """Softmax of the class scores (:func:`cnnlib.explain.scores.scores_of`): float32
    ``(N, K)``, each row summing to 1."""
    import tensorflow as tf

    logits = scores_of(model).logits
    out = [tf.nn.softmax(logits(x[i:i + BATCH]), axis=-1).numpy() for i in range(0, len(x), BATCH)]
    return np.concatenate(out).astype(np.float32)


def occlusion(model, x: np.ndarray, class_indices, patch: int = 4, stride: int = 2,
              fill: float = 0.0) -> np.ndarray:
    """Occlusion sensitivity maps.

    Args:
        model: a ``keras.Model`` classifier.
        x: float32 ``(N, H, W, C)`` in the model's input range.
        class_indices: an int or ``(N,)`` ints in ``[0, K)``.
        patch: the square's side, pixels, ``1 <= patch <= min(H, W)``.
        stride: pixels between positions, >= 1.
        fill: the square's value (0.0: black in ``[0, 1]``).

    Returns:
        float32 ``(N, H, W)``: the mean drop of the class's probability over the
        positions covering each pixel, in ``[-1, 1]``.

    Raises:
        ValueError: a bad patch or stride, and as :func:`cnnlib.explain.scores.check_batch`.
    """
    x, c = check_batch(model, x, class_indices)
    n, h, w, _ = x.shape
    if not (1 <= patch <= min(h, w)) or stride < 1:
        raise ValueError(f"Expected 1 <= patch <= {min(h, w)} and stride >= 1. Received: "
                         f"patch={patch}, stride={stride}")
    boxes = [(r, q) for r in positions(h, patch, stride) for q in positions(w, patch, stride)]
    out = np.zeros((n, h, w), np.float32)
    for i in range(n):
        base = probabilities(model, x[i:i + 1])[0, c[i]]
        drops = []  # (P,), built BATCH positions at a time (memory: BATCH images)
        for j in range(0, len(boxes), BATCH):
            chunk = boxes[j:j + BATCH]
            covered = np.repeat(x[i][None], len(chunk), axis=0)  # (B, H, W, C)
            for k, (r, q) in enumerate(chunk):
                covered[k, r:r + patch, q:q + patch] = fill
            drops.extend(base - probabilities(model, covered)[:, c[i]])
        total, count = np.zeros((h, w), np.float64), np.zeros((h, w), np.int64)
        for (r, q), d in zip(boxes, drops):
            total[r:r + patch, q:q + patch] += d
            count[r:r + patch, q:q + patch] += 1
        out[i] = total / count
    return out
