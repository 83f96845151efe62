"""The arithmetic of a convolutional layer, in numpy: convolution, pooling,
output sizes. No TensorFlow.

Conventions, the same as ``tf.nn.conv2d`` and ``keras.layers.Conv2D``:

- Images are ``(H, W)`` or channels-last ``(H, W, C)``.
- The convolution is a cross-correlation: the kernel is not flipped.
- ``padding`` is ``"valid"`` (none), ``"same"`` (as much as keeps
  ``ceil(N / S)`` outputs, the odd pixel going to the bottom/right, as
  TensorFlow does) or an int ``P >= 0`` of zeros on every side.
- ``stride`` and ``dilation`` are ints ``>= 1`` applied to both axes.

Output size along one axis (Dumoulin & Visin, "A guide to convolution
arithmetic for deep learning", arXiv:1603.07285, 2016, relationships 6 and 15,
with the padding split as ``P_before + P_after``)::

    O = floor((N + P_before + P_after - D * (K - 1) - 1) / S) + 1

The convolution sums ``K_h * K_w`` strided views of the padded input, one
vectorised multiply-add (a ``matmul`` over the channels) per kernel tap; the
views come from ``numpy.lib.stride_tricks.sliding_window_view`` and are never
copied, which keeps it within a small factor of TensorFlow on one image.
"""

from __future__ import annotations

import math
import operator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

PADDINGS = ("valid", "same")


_MEANING = {  # why a setting has a lower bound, for the error message
    "stride": "The stride is how many pixels the window moves between two outputs",
    "dilation": "The dilation is the spacing between the kernel's taps (1: next to each other)",
    "padding": "The padding is the number of zeros added on each side",
}


def _int_at_least(name: str, value, minimum: int) -> int:
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"The {name} must be a whole number. Received: {name}={value!r}") from None
    if number < minimum:
        why = _MEANING.get(name, f"The {name} counts pixels")
        raise ValueError(f"{why}, so it must be at least {minimum}. Received: {name}={number}")
    return number


def _check_padding(padding) -> str | int:
    if isinstance(padding, str):
        if padding.lower() not in PADDINGS:
            raise ValueError(f'padding must be "valid", "same" or a whole number >= 0. '
                             f"Received: padding={padding!r}")
        return padding.lower()
    return _int_at_least("padding", padding, 0)


def padding_amounts(n: int, kernel: int, stride: int = 1, padding: str | int = "valid",
                    dilation: int = 1) -> tuple[int, int]:
    """Zeros added before and after one axis of length ``n``.

    Args:
        n: input length (pixels), ``>= 1``.
        kernel: kernel length ``K >= 1``.
        stride: ``S >= 1``.
        padding: ``"valid"``, ``"same"`` or an int ``P >= 0``.
        dilation: ``D >= 1``.

    Returns:
        ``(before, after)`` in pixels. ``"same"`` pads
        ``max((ceil(n / S) - 1) * S + D * (K - 1) + 1 - n, 0)`` in total, the
        larger half after (TensorFlow's rule); an int ``P`` gives ``(P, P)``.

    Raises:
        ValueError: a size below 1, a negative padding or an unknown padding
            name; the message names the received value.
    """
    n = _int_at_least("input size", n, 1)
    kernel = _int_at_least("kernel size", kernel, 1)
    stride = _int_at_least("stride", stride, 1)
    dilation = _int_at_least("dilation", dilation, 1)
    padding = _check_padding(padding)
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = max((math.ceil(n / stride) - 1) * stride + dilation * (kernel - 1) + 1 - n, 0)
        return total // 2, total - total // 2
    return padding, padding


def output_size(n: int, kernel: int, stride: int = 1, padding: str | int = "valid",
                dilation: int = 1) -> int:
    """Number of output positions along one axis (see the module docstring).

    Args:
        n: input length ``N >= 1``.
        kernel: kernel length ``K >= 1``.
        stride: ``S >= 1``.
        padding: ``"valid"``, ``"same"`` or an int ``P >= 0``.
        dilation: ``D >= 1``.

    Returns:
        ``O = floor((N + P_before + P_after - D(K - 1) - 1) / S) + 1``, ``>= 1``.

    Raises:
        ValueError: an invalid argument, or a dilated kernel ``D(K - 1) + 1``
            longer than the padded input (the output would be empty).
    """
    before, after = padding_amounts(n, kernel, stride, padding, dilation)
    span = dilation * (kernel - 1) + 1
    out = (n + before + after - span) // stride + 1
    if out < 1:
        raise ValueError(
            f"A window of {span} pixels (dilation {dilation} x (size {kernel} - 1) + 1) does not fit "
            f"in the padded input of {n + before + after} pixels ({n} + {before} + {after}), so the "
            f"output would be empty. Use a smaller window or dilation, or more padding. "
            f"Received: n={n}, kernel={kernel}, stride={stride}, padding={padding!r}, "
            f"dilation={dilation}")
    return out


def _as_float(x, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype != np.float64:
        x = x.astype(np.float32)
    if x.ndim not in (2, 3) or x.size == 0:
        raise ValueError(f"{name} must be a non-empty (H, W) or (H, W, C) array. "
                         f"Received: {name}.shape={x.shape}")
    return x


def _windows(x: np.ndarray, kh: int, kw: int, stride: int, padding, dilation: int,
             fill: float = 0.0):
    """Padded input and its strided, dilated windows ``(O_h, O_w, C, K_h, K_w)`` (a view)."""
    h, w = x.shape[:2]
    oh = output_size(h, kh, stride, padding, dilation)
    ow = output_size(w, kw, stride, padding, dilation)
    (top, bottom), (left, right) = (padding_amounts(h, kh, stride, padding, dilation),
                                    padding_amounts(w, kw, stride, padding, dilation))
    if top or bottom or left or right:
        x = np.pad(x, ((top, bottom), (left, right), (0, 0)), constant_values=fill)
    span_h, span_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    win = sliding_window_view(x, (span_h, span_w), axis=(0, 1))
    return win[:(oh - 1) * stride + 1:stride, :(ow - 1) * stride + 1:stride, :, ::dilation, ::dilation]


def conv2d(image, kernel, stride: int = 1, padding: str | int = "valid",
           dilation: int = 1) -> np.ndarray:
    """2-D convolution (cross-correlation) of one image, as ``tf.nn.conv2d``.

    Args:
        image: ``(H, W)`` or ``(H, W, C)``, any real dtype (float64 stays
            float64, anything else is computed in float32), any range.
        kernel: one of
            ``(K_h, K_w)``: the same kernel on every channel separately;
            ``(K_h, K_w, C)``: one filter summed over the channels, as a
            Conv2D filter;
            ``(K_h, K_w, C, F)``: ``F`` filters, as a Conv2D kernel.
        stride: ``S >= 1``, both axes.
        padding: ``"valid"``, ``"same"`` or an int ``P >= 0`` (zeros).
        dilation: ``D >= 1``, both axes (gaps of ``D - 1`` pixels between taps).

    Returns:
        The feature map, float32 (float64 for a float64 image): ``(O_h, O_w)``
        for a 2-D image and kernel or a ``(K_h, K_w, C)`` filter;
        ``(O_h, O_w, C)`` for a 2-D kernel on a ``(H, W, C)`` image;
        ``(O_h, O_w, F)`` for a 4-D kernel. ``O`` as :func:`output_size`.

    Raises:
        ValueError: a non-finite kernel value, mismatched channels, bad shapes,
            a stride or dilation below 1, or an empty output.
    """
    x = _as_float(image, "image")
    k = np.asarray(kernel, dtype=x.dtype)
    if k.ndim not in (2, 3, 4) or k.size == 0:
        raise ValueError(f"kernel must be (K_h, K_w), (K_h, K_w, C) or (K_h, K_w, C, F). "
                         f"Received: kernel.shape={k.shape}")
    if not np.all(np.isfinite(k)):
        raise ValueError(f"Every kernel value must be a finite number. Received: kernel={k.tolist()}")
    flat = x.ndim == 2
    x = x[..., None] if flat else x  # (H, W, C)
    if k.ndim > 2 and k.shape[2] != x.shape[2]:
        raise ValueError(f"The kernel has {k.shape[2]} channels but the image has {x.shape[2]}. "
                         f"Received: image.shape={np.shape(image)}, kernel.shape={k.shape}")
    kh, kw = k.shape[:2]
    win = _windows(x, kh, kw, stride, padding, dilation)  # (O_h, O_w, C, K_h, K_w)
    oh, ow, c = win.shape[:3]
    out_shape = {2: (oh, ow, c), 3: (oh, ow), 4: (oh, ow, k.shape[-1])}[k.ndim]
    out = np.zeros(out_shape, dtype=x.dtype)
    for i in range(kh):  # one vectorised multiply-add per kernel tap, never per pixel
        for j in range(kw):
            view = win[:, :, :, i, j]  # (O_h, O_w, C)
            if k.ndim == 2:
                out += view * k[i, j]
            elif c == 1:
                out += view[..., 0] * k[i, j, 0] if k.ndim == 3 else view * k[i, j, 0]
            else:
                out += view @ k[i, j]  # (C,) -> (O_h, O_w) or (C, F) -> (O_h, O_w, F)
    return out[..., 0] if flat and k.ndim == 2 else out


def relu(x) -> np.ndarray:
    """``max(x, 0)`` element-wise; same shape and dtype as ``x``."""
    x = np.asarray(x)
    return np.maximum(x, np.zeros((), dtype=x.dtype))


def _pool_args(x, size, stride):
    x = _as_float(x, "x")
    size = _int_at_least("pool size", size, 1)
    stride = size if stride is None else _int_at_least("pool stride", stride, 1)
    return x, size, stride


def pool2d(x, size: int, stride: int | None = None, mode: str = "max",
           padding: str = "valid") -> np.ndarray:
    """Max or average pooling of one feature map, as ``keras.layers.MaxPooling2D``
    / ``AveragePooling2D``.

    Args:
        x: ``(H, W)`` or ``(H, W, C)`` (each channel pooled on its own).
        size: window ``size x size``, ``>= 1``.
        stride: ``>= 1``; defaults to ``size`` (non-overlapping windows).
        mode: ``"max"`` or ``"avg"``.
        padding: ``"valid"`` or ``"same"``. With ``"same"`` the padded cells
            never win a max and are left out of an average, as in Keras.

    Returns:
        float32 (float64 for float64 input) ``(O_h, O_w)`` or ``(O_h, O_w, C)``
        with ``O`` as :func:`output_size` with dilation 1.

    Raises:
        ValueError: unknown mode or padding, size or stride below 1, or a
            window larger than the input with ``"valid"``.
    """
    x, size, stride = _pool_args(x, size, stride)
    if mode not in ("max", "avg"):
        raise ValueError(f'mode must be "max" or "avg". Received: mode={mode!r}')
    if padding not in PADDINGS:
        raise ValueError(f'Pooling padding must be "valid" or "same". Received: padding={padding!r}')
    flat = x.ndim == 2
    x = x[..., None] if flat else x  # (H, W, C)
    win = _windows(x, size, size, stride, padding, 1, fill=-np.inf if mode == "max" else 0.0)
    out = win[:, :, :, 0, 0].copy()  # (O_h, O_w, C)
    taps = [(i, j) for i in range(size) for j in range(size)][1:]
    for i, j in taps:  # one vectorised operation per window cell, never per pixel
        if mode == "max":
            np.maximum(out, win[:, :, :, i, j], out=out)
        else:
            out += win[:, :, :, i, j]
    if mode == "avg" and padding == "valid":
        out /= size * size
    elif mode == "avg":  # divide by the real (unpadded) cells of each window, as Keras does
        ones = _windows(np.ones(x.shape[:2] + (1,), dtype=x.dtype), size, size, stride, padding, 1)
        out /= ones.sum(axis=(-2, -1))
    return out[..., 0] if flat else out


def pool_winners(x, size: int, stride: int | None = None, padding: str = "valid") -> np.ndarray:
    """Which input pixel wins each max-pooling window.

    Args:
        x: ``(H, W)`` feature map.
        size, stride, padding: as :func:`pool2d`.

    Returns:
        int64 ``(O_h, O_w, 2)``: the ``(row, col)`` in ``x`` of each window's
        maximum; on ties the first in row-major order, as ``numpy.argmax``.

    Raises:
        ValueError: as :func:`pool2d`, or ``x`` not 2-D.
    """
    x, size, stride = _pool_args(x, size, stride)
    if x.ndim != 2:
        raise ValueError(f"pool_winners takes one (H, W) map. Received: x.shape={x.shape}")
    if padding not in PADDINGS:
        raise ValueError(f'Pooling padding must be "valid" or "same". Received: padding={padding!r}')
    win = _windows(x[..., None], size, size, stride, padding, 1, fill=-np.inf)[:, :, 0]
    oh, ow = win.shape[:2]
    value, best = win[:, :, 0, 0].copy(), np.zeros((oh, ow), dtype=np.int64)  # (O_h, O_w)
    for t in range(1, size * size):  # strictly greater: the first maximum wins ties
        cell = win[:, :, t // size, t % size]
        better = cell > value
        np.copyto(value, cell, where=better)
        np.copyto(best, t, where=better)
    top = padding_amounts(x.shape[0], size, stride, padding)[0]
    left = padding_amounts(x.shape[1], size, stride, padding)[0]
    rows = np.arange(oh)[:, None] * stride - top + best // size
    cols = np.arange(ow)[None, :] * stride - left + best % size
    return np.stack([rows, cols], axis=-1).astype(np.int64)
