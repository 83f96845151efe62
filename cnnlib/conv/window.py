"""One output position of one convolutional layer: the kernel window it reads
(:func:`kernel_window`) and the patch, products and sum behind its value
(:func:`explain_position`). numpy only.

The kernel window is one layer's; the receptive field through a whole network
is :mod:`cnnlib.network.receptive_field`'s.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from cnnlib.conv.arithmetic import output_size, padding_amounts


@dataclasses.dataclass(frozen=True)
class KernelWindow:
    """The kernel window of one output position: the input pixels it reads (one
    layer only; the true receptive field through a whole network is
    :class:`cnnlib.network.receptive_field.Field`).

    Attributes:
        rows: int64 ``(K_h,)``, input row of each kernel row; values outside
            ``0..H-1`` fall on the zero padding.
        cols: int64 ``(K_w,)``, input column of each kernel column.
        inside: bool ``(K_h, K_w)``, True where the tap reads a real pixel.
    """

    rows: np.ndarray
    cols: np.ndarray
    inside: np.ndarray

    @property
    def box(self) -> tuple[int, int, int, int]:
        """``(top, left, bottom, right)``, inclusive input coordinates (may
        extend into the padding)."""
        return int(self.rows[0]), int(self.cols[0]), int(self.rows[-1]), int(self.cols[-1])


def kernel_window(input_hw: tuple[int, int], kernel_hw: tuple[int, int], row: int, col: int,
                  stride: int = 1, padding: str | int = "valid",
                  dilation: int = 1) -> KernelWindow:
    """Where output position ``(row, col)`` looks in the input.

    Args:
        input_hw: ``(H, W)`` of the input.
        kernel_hw: ``(K_h, K_w)``.
        row, col: output position, ``0 <= row < O_h``, ``0 <= col < O_w``.
        stride, padding, dilation: as :func:`cnnlib.conv.arithmetic.conv2d`.

    Returns:
        A :class:`KernelWindow`; tap ``(i, j)`` reads input pixel
        ``(row * S - P_top + i * D, col * S - P_left + j * D)``.

    Raises:
        ValueError: invalid settings (see :func:`output_size`) or a position
            outside the output.
    """
    (h, w), (kh, kw) = input_hw, kernel_hw
    oh = output_size(h, kh, stride, padding, dilation)
    ow = output_size(w, kw, stride, padding, dilation)
    if not (0 <= row < oh and 0 <= col < ow):
        raise ValueError(f"The output is {oh} x {ow}, so the position must be within rows 0..{oh - 1} "
                         f"and columns 0..{ow - 1}. Received: row={row}, col={col}")
    top = padding_amounts(h, kh, stride, padding, dilation)[0]
    left = padding_amounts(w, kw, stride, padding, dilation)[0]
    rows = row * stride - top + dilation * np.arange(kh)
    cols = col * stride - left + dilation * np.arange(kw)
    inside = ((rows >= 0) & (rows < h))[:, None] & ((cols >= 0) & (cols < w))[None, :]
    return KernelWindow(rows.astype(np.int64), cols.astype(np.int64), inside)


@dataclasses.dataclass(frozen=True)
class Explanation:
    """One output value written out: ``total = sum(patch * kernel)``.

    Attributes:
        window: the :class:`KernelWindow`.
        patch: ``(K_h, K_w)`` or ``(K_h, K_w, C)``, the input values under the
            kernel (0 on padding), dtype of the computation.
        kernel: the kernel, same shape as ``patch``.
        products: ``patch * kernel``, element-wise.
        total: the sum of ``products`` (the output value before any ReLU).
    """

    window: KernelWindow
    patch: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    total: float


def explain_position(image, kernel, row: int, col: int, stride: int = 1,
                     padding: str | int = "valid", dilation: int = 1) -> Explanation:
    """The patch, products and sum behind output ``(row, col)`` of :func:`conv2d`.

    Args:
        image: ``(H, W)`` with a ``(K_h, K_w)`` kernel, or ``(H, W, C)`` with a
            ``(K_h, K_w, C)`` filter (one output channel).
        kernel: see ``image``; finite values.
        row, col, stride, padding, dilation: as :func:`kernel_window`.

    Returns:
        An :class:`Explanation` whose ``total`` equals ``conv2d(...)[row, col]``
        up to float rounding.

    Raises:
        ValueError: mismatched shapes, a non-finite kernel value, invalid
            settings or a position outside the output.
    """
    x = np.asarray(image)
    x = x if x.dtype == np.float64 else x.astype(np.float32)
    k = np.asarray(kernel, dtype=x.dtype)
    if k.ndim != x.ndim or k.ndim not in (2, 3) or (k.ndim == 3 and k.shape[2] != x.shape[2]):
        raise ValueError("Explain one filter: a (H, W) image with a (K_h, K_w) kernel, or a "
                         "(H, W, C) image with a (K_h, K_w, C) kernel. "
                         f"Received: image.shape={x.shape}, kernel.shape={k.shape}")
    if not np.all(np.isfinite(k)):
        raise ValueError(f"Every kernel value must be a finite number. Received: kernel={k.tolist()}")
    window = kernel_window(x.shape[:2], k.shape[:2], row, col, stride, padding, dilation)
    rr = np.clip(window.rows, 0, x.shape[0] - 1)[:, None]
    cc = np.clip(window.cols, 0, x.shape[1] - 1)[None, :]
    mask = window.inside if x.ndim == 2 else window.inside[..., None]
    patch = np.where(mask, x[rr, cc], 0).astype(x.dtype)
    products = patch * k
    return Explanation(window, patch, k, products, float(products.sum(dtype=np.float64)))
