"""Speed of the Convolution page's maths against TensorFlow.

Input: one 256 x 256 x 3 float32 image (random, fixed seed) and one 5 x 5 x 3
filter, "same" padding, stride 1. Figures:

- ``conv2d``: :func:`cnnlib.conv.arithmetic.conv2d`, against ``tf.nn.conv2d`` on
  the same input (eager, one image, result copied back to numpy);
- one page interaction: :func:`cnnlib.conv.layer.compute_layer`
  (convolution, ReLU, 2 x 2 max pooling with its winners, one position
  explained), against the same work in TensorFlow: ``tf.nn.conv2d``,
  ``tf.nn.relu`` and ``tf.nn.max_pool_with_argmax``.

Target for both: under 50 ms, and within 2x of TensorFlow. Times are medians
after warm-up, with min and max, in milliseconds.
"""

from __future__ import annotations

import os

import numpy as np

from cnnlib.conv.arithmetic import conv2d
from cnnlib.conv.layer import compute_layer

from .common import time_ms, timed_row

TARGET_MS = 50.0
TARGET_RATIO = 2.0
TARGET = "< 50 ms, within 2x of TensorFlow"


def _inputs():
    rng = np.random.default_rng(0)
    image = rng.random((256, 256, 3), dtype=np.float32)  # (H, W, C)
    kernel = rng.standard_normal((5, 5, 3)).astype(np.float32)  # (K_h, K_w, C)
    return image, kernel


def _row(figure: str, ours: dict, reference: str, ref_ms: float) -> dict:
    ok = ours["median_ms"] < TARGET_MS and ours["median_ms"] / ref_ms <= TARGET_RATIO
    return timed_row(figure, ours, target=TARGET, ok=ok, reference=reference, ref_ms=ref_ms)


def run(quick: bool = False) -> list[dict]:
    """Time conv2d, one page recompute and tf.nn.conv2d; return the table rows.

    Args:
        quick: fewer repeats (for a smoke run).

    Returns:
        Two rows ``{"figure", "value_ms" (median), "min_ms", "max_ms",
        "reference", "reference_ms", "ratio", "target", "ok"}`` (also under
        the generic keys ``value``, ``unit``, ``min``, ``max``,
        ``reference_value`` of :func:`bench.common.row`).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    repeats, warmup = (10, 2) if quick else (50, 5)
    image, kernel = _inputs()
    x, k = tf.constant(image[None]), tf.constant(kernel[..., None])  # (1, H, W, C), (K, K, C, 1)

    def tf_page():
        y = tf.nn.relu(tf.nn.conv2d(x, k, 1, "SAME"))
        pooled, argmax = tf.nn.max_pool_with_argmax(y, 2, 2, "VALID")
        return pooled.numpy(), argmax.numpy()

    ref = time_ms(lambda: tf.nn.conv2d(x, k, 1, "SAME").numpy(), repeats, warmup)
    ref_page = time_ms(tf_page, repeats, warmup)
    conv = time_ms(lambda: conv2d(image, kernel, 1, "same"), repeats, warmup)
    page = time_ms(lambda: compute_layer(image, kernel, stride=1, padding="same", use_relu=True,
                                         pool_mode="max", pool_size=2, row=128, col=128),
                   repeats, warmup)
    return [
        _row("convolution: conv2d 256x256x3, 5x5 filter", conv, "tf.nn.conv2d", ref["median_ms"]),
        _row("convolution: page recompute (conv, ReLU, max pool, explain)", page,
             "tf.nn.conv2d + relu + max_pool_with_argmax", ref_page["median_ms"]),
    ]
