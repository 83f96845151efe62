"""One convolutional layer as the Convolution page computes it, in a single call
per interaction (:func:`compute_layer`: convolution, ReLU, pooling, one
position explained), with the sizes known before computing
(:func:`layer_sizes`, :func:`uncovered`) and the positions an animation
visits. numpy only.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from cnnlib.conv.arithmetic import conv2d, output_size, padding_amounts, pool2d, pool_winners, relu
from cnnlib.conv.window import Explanation, explain_position


def layer_sizes(input_hw: tuple[int, int], kernel_hw: tuple[int, int], stride: int = 1,
                padding: str | int = "valid",
                dilation: int = 1) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    """The zeros added and the output size of one layer, before computing it.

    Returns:
        ``((top, bottom, left, right), (O_h, O_w))``.

    Raises:
        ValueError: as :func:`cnnlib.conv.arithmetic.output_size` (a sentence for the user).
    """
    (h, w), (kh, kw) = input_hw, kernel_hw
    oh, ow = output_size(h, kh, stride, padding, dilation), output_size(w, kw, stride, padding, dilation)
    top, bottom = padding_amounts(h, kh, stride, padding, dilation)
    left, right = padding_amounts(w, kw, stride, padding, dilation)
    return (top, bottom, left, right), (oh, ow)


def animation_positions(out_hw: tuple[int, int], row: int, max_frames: int) -> list[tuple[int, int]]:
    """The output positions an animation visits, in reading order.

    Every position when there are at most ``max_frames``; otherwise output
    row ``row`` alone, its columns evenly spread when they are more than
    ``max_frames`` (the first and the last always included).
    """
    oh, ow = out_hw
    if oh * ow <= max_frames:
        return [(r, c) for r in range(oh) for c in range(ow)]
    cols = np.unique(np.linspace(0, ow - 1, min(ow, max_frames)).round().astype(int))
    return [(row, int(c)) for c in cols]


@dataclasses.dataclass(frozen=True)
class LayerResult:
    """Everything the Convolution page draws for one setting.

    Attributes:
        pads: ``(top, bottom, left, right)`` zeros added.
        padded_shape: shape of the padded input, ``(H + top + bottom, W + left + right[, C])``.
        feature_map: float32 ``(O_h, O_w)``, the convolution output.
        activated: ``relu(feature_map)`` if ReLU is on, else ``feature_map``.
        explanation: the chosen output position written out.
        pooled: float32 ``(P_h, P_w)`` pooled ``activated``, or None.
        winners: int64 ``(P_h, P_w, 2)`` for max pooling, else None.
        pool_error: why pooling could not run (a sentence), or None.
    """

    pads: tuple[int, int, int, int]
    padded_shape: tuple[int, ...]
    feature_map: np.ndarray
    activated: np.ndarray
    explanation: Explanation
    pooled: np.ndarray | None
    winners: np.ndarray | None
    pool_error: str | None


def compute_layer(image, kernel, *, stride: int = 1, padding: str | int = "valid",
                  dilation: int = 1, use_relu: bool = False, pool_mode: str | None = None,
                  pool_size: int = 2, pool_stride: int | None = None, row: int = 0,
                  col: int = 0) -> LayerResult:
    """Convolution, optional ReLU, optional pooling and one explained position.

    Args:
        image: ``(H, W)`` or ``(H, W, C)``, float in any range.
        kernel: ``(K_h, K_w)`` for a 2-D image, ``(K_h, K_w, C)`` for a
            ``(H, W, C)`` image (one filter summed over channels).
        stride, padding, dilation: as :func:`cnnlib.conv.arithmetic.conv2d`.
        use_relu: apply ReLU to the feature map before pooling.
        pool_mode: None, ``"max"`` or ``"avg"``; pooling uses ``"valid"`` padding.
        pool_size, pool_stride: as :func:`cnnlib.conv.arithmetic.pool2d`.
        row, col: output position to explain; clipped into the output.

    Returns:
        A :class:`LayerResult`. A pooling problem is reported in
        ``pool_error`` rather than raised, so the convolution still shows.

    Raises:
        ValueError: invalid convolution settings; the message is a sentence
            that can be shown to the user.
    """
    x = np.asarray(image)
    fmap = conv2d(x, kernel, stride, padding, dilation)  # (O_h, O_w)
    top, bottom = padding_amounts(x.shape[0], np.shape(kernel)[0], stride, padding, dilation)
    left, right = padding_amounts(x.shape[1], np.shape(kernel)[1], stride, padding, dilation)
    padded = (x.shape[0] + top + bottom, x.shape[1] + left + right) + x.shape[2:]
    row, col = min(max(row, 0), fmap.shape[0] - 1), min(max(col, 0), fmap.shape[1] - 1)
    explanation = explain_position(x, kernel, row, col, stride, padding, dilation)
    activated = relu(fmap) if use_relu else fmap
    pooled = winners = error = None
    if pool_mode is not None:
        try:
            pooled = pool2d(activated, pool_size, pool_stride, pool_mode)
            if pool_mode == "max":
                winners = pool_winners(activated, pool_size, pool_stride)
        except ValueError as e:
            error = f"Pooling cannot run on the {fmap.shape[0]} x {fmap.shape[1]} feature map. {e}"
    return LayerResult((top, bottom, left, right), padded, fmap, activated, explanation,
                       pooled, winners, error)


def uncovered(n: int, kernel: int, stride: int = 1, padding: str | int = "valid",
              dilation: int = 1) -> int:
    """Pixels at the end of the padded input that no window reaches
    (``(N + P - span) mod S``); Keras drops them silently."""
    before, after = padding_amounts(n, kernel, stride, padding, dilation)
    output_size(n, kernel, stride, padding, dilation)  # raises on an empty output
    return (n + before + after - dilation * (kernel - 1) - 1) % stride
