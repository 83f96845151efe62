"""One neuron recomputed: the value and every number that goes into it.

:func:`cnnlib.network.recompute.explain` fills these records; :mod:`.formulas`
writes them out. Arrays are float64 numpy; an index is the position in the
layer's output without the batch axis, ``(row, col, channel)`` or ``(unit,)``.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Neuron:
    """One output value of a layer, recomputed.

    Attributes:
        layer, type, kind: the layer's name, Keras class name and role
            (:data:`~.layers.KINDS`).
        index: the value's index in the layer's output without the batch axis,
            ``(row, col, channel)`` or ``(unit,)``.
        value: the value recomputed in float64 numpy.
        detail: the numbers behind it, a ``*Detail`` of this module (None for
            the input).
    """

    layer: str
    type: str
    kind: str
    index: tuple[int, ...]
    value: float
    detail: object = None


@dataclasses.dataclass(frozen=True)
class ConvDetail:
    """A ``Conv2D`` output ``(row, col, filter)``.

    Attributes:
        rows, cols: int64 ``(K_h,)``, ``(K_w,)``, the input rows and columns of
            the kernel's taps; values outside the input fall on the padding.
        patch: float64 ``(K_h, K_w, C_in)``, the input under the kernel (0 on padding).
        kernel: float64 ``(K_h, K_w, C_in)``, this filter's weights.
        channel_sums: float64 ``(C_in,)``, ``sum(patch * kernel)`` per input channel.
        bias: the filter's bias, or None when the layer has none.
        total: ``channel_sums.sum() + bias``, before the activation.
        activation: the built-in activation's name (``"linear"``: none).
        scores: float64 ``(F,)``, every filter's total at this position, when the
            activation is a softmax (taken over the filters); else None.
    """

    rows: np.ndarray
    cols: np.ndarray
    patch: np.ndarray
    kernel: np.ndarray
    channel_sums: np.ndarray
    bias: float | None
    total: float
    activation: str
    scores: np.ndarray | None = None

    @property
    def products(self) -> np.ndarray:
        """float64 ``(K_h, K_w, C_in)``: ``patch * kernel``."""
        return self.patch * self.kernel


@dataclasses.dataclass(frozen=True)
class DenseDetail:
    """A ``Dense`` unit: ``inputs``, ``weights`` float64 ``(D,)``, ``bias`` (None: no
    bias), ``total`` before the activation, ``activation``'s name; ``scores`` float64
    ``(units,)``, every unit's total, when the activation is a softmax (else None)."""

    inputs: np.ndarray
    weights: np.ndarray
    bias: float | None
    total: float
    activation: str
    scores: np.ndarray | None = None

    @property
    def products(self) -> np.ndarray:
        return self.inputs * self.weights

    def largest(self, k: int = 10) -> np.ndarray:
        """int64 indices of the ``k`` products of largest magnitude, largest first."""
        return np.argsort(-np.abs(self.products), kind="stable")[:k]


@dataclasses.dataclass(frozen=True)
class BatchNormDetail:
    """``gamma * (x - mean) / sqrt(variance + epsilon) + beta`` for one channel
    (``gamma`` 1 and ``beta`` 0 when the layer has none)."""

    x: float
    mean: float
    variance: float
    epsilon: float
    gamma: float
    beta: float


@dataclasses.dataclass(frozen=True)
class ScaleDetail:
    """``Normalization``: ``(x - shift) / divisor``; ``Rescaling``: ``x * factor + shift``.
    ``formula`` is ``"normalization"`` or ``"rescaling"``."""

    formula: str
    x: float
    shift: float
    factor: float


@dataclasses.dataclass(frozen=True)
class ActivationDetail:
    """An activation of ``x``; for a softmax, ``vector`` float64 ``(K,)`` holds the
    scores ``z`` it is taken over and ``position`` the index of this one."""

    function: str
    x: float
    vector: np.ndarray | None = None
    position: int | None = None
    options: str = ""  # e.g. "max_value=6" for a ReLU layer


@dataclasses.dataclass(frozen=True)
class PoolDetail:
    """A pooling window: ``window`` float64 ``(k_h, k_w)`` (NaN on the padding) read
    at input ``rows`` x ``cols``; for max pooling ``winner`` is its ``(i, j)`` in
    the window; ``count`` is the number of real cells (the mean's divisor)."""

    mode: str
    rows: np.ndarray
    cols: np.ndarray
    window: np.ndarray
    winner: tuple[int, int] | None
    count: int


@dataclasses.dataclass(frozen=True)
class GlobalPoolDetail:
    """Global pooling of one channel: ``values`` float64 ``(H, W)``."""

    mode: str
    values: np.ndarray


@dataclasses.dataclass(frozen=True)
class CopyDetail:
    """A value copied from the input at ``source`` (None: a zero of the padding);
    ``why`` says which layer does this and how."""

    source: tuple[int, ...] | None
    why: str
