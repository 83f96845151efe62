"""One convolutional layer written out: the receptive field of an output
position, the products and sum behind it, the output-size formula with the
numbers plugged in, the sizes before computing (:func:`layer_sizes`), the
positions an animation visits, and :func:`compute_layer`, the single call the
Convolution page makes per interaction (convolution, ReLU, pooling, one
position explained). numpy only.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from cnnlib.conv.arithmetic import conv2d, output_size, padding_amounts, pool2d, pool_winners, relu


@dataclasses.dataclass(frozen=True)
class ReceptiveField:
    """The input pixels one output position reads.

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


def receptive_field(input_hw: tuple[int, int], kernel_hw: tuple[int, int], row: int, col: int,
                    stride: int = 1, padding: str | int = "valid",
                    dilation: int = 1) -> ReceptiveField:
    """Where output position ``(row, col)`` looks in the input.

    Args:
        input_hw: ``(H, W)`` of the input.
        kernel_hw: ``(K_h, K_w)``.
        row, col: output position, ``0 <= row < O_h``, ``0 <= col < O_w``.
        stride, padding, dilation: as :func:`cnnlib.conv.arithmetic.conv2d`.

    Returns:
        A :class:`ReceptiveField`; tap ``(i, j)`` reads input pixel
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
    return ReceptiveField(rows.astype(np.int64), cols.astype(np.int64), inside)


@dataclasses.dataclass(frozen=True)
class Explanation:
    """One output value written out: ``total = sum(patch * kernel)``.

    Attributes:
        field: the :class:`ReceptiveField`.
        patch: ``(K_h, K_w)`` or ``(K_h, K_w, C)``, the input values under the
            kernel (0 on padding), dtype of the computation.
        kernel: the kernel, same shape as ``patch``.
        products: ``patch * kernel``, element-wise.
        total: the sum of ``products`` (the output value before any ReLU).
    """

    field: ReceptiveField
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
        row, col, stride, padding, dilation: as :func:`receptive_field`.

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
    field = receptive_field(x.shape[:2], k.shape[:2], row, col, stride, padding, dilation)
    rr = np.clip(field.rows, 0, x.shape[0] - 1)[:, None]
    cc = np.clip(field.cols, 0, x.shape[1] - 1)[None, :]
    mask = field.inside if x.ndim == 2 else field.inside[..., None]
    patch = np.where(mask, x[rr, cc], 0).astype(x.dtype)
    products = patch * k
    return Explanation(field, patch, k, products, float(products.sum(dtype=np.float64)))


def uncovered(n: int, kernel: int, stride: int = 1, padding: str | int = "valid",
              dilation: int = 1) -> int:
    """Pixels at the end of the padded input that no window reaches
    (``(N + P - span) mod S``); Keras drops them silently."""
    before, after = padding_amounts(n, kernel, stride, padding, dilation)
    output_size(n, kernel, stride, padding, dilation)  # raises on an empty output
    return (n + before + after - dilation * (kernel - 1) - 1) % stride


#: The output-size formula in symbols (Dumoulin & Visin 2016, with the padding split).
FORMULA_LATEX = (r"O = \left\lfloor \frac{N + P_\text{before} + P_\text{after} - D \cdot (K - 1) - 1}{S}"
                 r" \right\rfloor + 1")


def formula_latex(n: int, kernel: int, stride: int = 1, padding: str | int = "valid",
                  dilation: int = 1, name: str = "O") -> str:
    """The output-size formula as LaTeX with the numbers plugged in, e.g.
    ``O = \\left\\lfloor \\frac{28 + 1 + 1 - 1 \\cdot (3 - 1) - 1}{1} \\right\\rfloor + 1 = 28``
    for ``n=28, kernel=3, padding=1``; ``name`` replaces the ``O``.

    Raises:
        ValueError: as :func:`output_size`.
    """
    before, after = padding_amounts(n, kernel, stride, padding, dilation)
    out = output_size(n, kernel, stride, padding, dilation)
    return (rf"{name} = \left\lfloor \frac{{{n} + {before} + {after} - {dilation} \cdot ({kernel} - 1)"
            rf" - 1}}{{{stride}}} \right\rfloor + 1 = {out}")


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


def _num(v: float, digits: int = 3) -> str:
    s = f"{v:.{digits}g}"
    return f"({s})" if v < 0 else s


def sum_text(explanation: Explanation, max_terms: int = 27) -> str:
    """The sum behind one output written out, e.g. ``0.5 × (-1) + 1 × 2 = 1.5``.

    Up to ``max_terms`` products are written one by one (patch value ×
    kernel value, row-major, channels innermost); beyond that, one partial sum
    per channel, or the number of products.
    """
    e = explanation
    total = f"{e.total:.4g}"
    if e.patch.size <= max_terms:
        pairs = zip(e.patch.ravel().tolist(), e.kernel.ravel().tolist())
        return " + ".join(f"{_num(a)} × {_num(b)}" for a, b in pairs) + f" = {total}"
    if e.patch.ndim == 3:
        c = e.patch.shape[2]
        names = ("R", "G", "B") if c == 3 else tuple(f"channel {i}" for i in range(c))
        sums = e.products.reshape(-1, c).sum(axis=0, dtype=np.float64)
        each = e.patch.shape[0] * e.patch.shape[1]
        return " + ".join(f"{_num(s, 4)} ({n}, {each} products)" for n, s in zip(names, sums)) + f" = {total}"
    return f"the sum of the {e.patch.size} products = {total}"
