"""The receptive field of a neuron: the input rectangle that one position of a
layer reads, through every convolution, pooling and padding below it.

Going down the chain from layer ``L`` to the input, an interval ``[a, b]`` of
output positions along one axis reads the input interval

    [a * S - P_before,  b * S - P_before + D * (K - 1)]

(kernel ``K``, stride ``S``, dilation ``D``, ``P_before`` zeros before the
axis: TensorFlow's "same" rule, :func:`cnnlib.conv.arithmetic.padding_amounts`),
clipped at each layer to the positions that exist there (the padding holds
constants that depend on no pixel). Element-wise layers (batch norm,
activations, dropout) read the same position. The theoretical size ignores
the clipping: ``r_in = S * (r_out - 1) + D * (K - 1) + 1`` (Araujo, Norris &
Sim, "Computing Receptive Fields of Convolutional Neural Networks",
Distill 2019).

For dilated kernels or strides wider than the kernel the pixels read are not
all of the rectangle: it is their bounding box. The tests check it against
the pixels whose gradient with respect to the neuron is non-zero.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from cnnlib.conv.window import KernelWindow
from cnnlib.network.layers import LayerInfo, geometry


@dataclasses.dataclass(frozen=True)
class Field:
    """Where one position of a layer looks in the input image.

    Attributes:
        top, left: the first input row and column it reads (clipped to the image).
        height, width: the rectangle's size in pixels, clipped to the image
            (0 for a position that reads only padding).
        size: ``(h, w)``, the theoretical size without clipping.
        jump: ``(h, w)``, input pixels between two neighbouring positions of
            the layer (the product of the strides below it).
    """

    top: int
    left: int
    height: int
    width: int
    size: tuple[int, int]
    jump: tuple[int, int]

    @property
    def box(self) -> tuple[int, int, int, int]:
        """``(top, left, bottom, right)``, inclusive."""
        return self.top, self.left, self.top + self.height - 1, self.left + self.width - 1

    @property
    def empty(self) -> bool:
        return self.height == 0 or self.width == 0

    def drawable(self) -> KernelWindow | None:
        """The rectangle as a :class:`cnnlib.conv.window.KernelWindow` (every pixel a
        tap, all inside), for :func:`cnnlib.viz.pictures.input_picture`; None when empty."""
        if self.empty:
            return None
        rows = np.arange(self.top, self.top + self.height, dtype=np.int64)
        cols = np.arange(self.left, self.left + self.width, dtype=np.int64)
        return KernelWindow(rows, cols, np.ones((self.height, self.width), dtype=bool))

    def crop(self, image: np.ndarray) -> np.ndarray:
        """``image[top:top + height, left:left + width]`` (an ``(H, W[, C])`` input image)."""
        return image[self.top:self.top + self.height, self.left:self.left + self.width]


def receptive_field(chain: list[LayerInfo], index: int, row: int, col: int) -> Field:
    """The receptive field of position ``(row, col)`` of layer ``index`` of a chain.

    Args:
        chain: a :func:`~cnnlib.network.reader.chain`.
        index: the layer's position in it (0: the input itself, a 1 x 1 field).
        row, col: the position in that layer's ``(H, W, C)`` output.

    Returns:
        A :class:`Field` in the coordinates of the chain's input.

    Raises:
        ValueError: a layer whose output is not ``(H, W, C)`` (a ``Dense``
            unit reads the whole image), or a position outside its output.
        NotExplainedError: a layer below it whose geometry is not known
            (:func:`~.layers.geometry`).
    """
    info = chain[index]
    if not info.spatial:
        raise ValueError(f"{info.name}'s output is not a stack of feature maps: each of its values "
                         "depends on the whole input.")
    h, w = info.output_shape[:2]
    if not (0 <= row < h and 0 <= col < w):
        raise ValueError(f"{info.name}'s maps are {h} x {w}, so the position must be within rows "
                         f"0..{h - 1} and columns 0..{w - 1}. Received: row={row}, col={col}")
    spans = [[row, row], [col, col]]  # inclusive intervals, in the current layer's positions
    size, jump, empty = [1, 1], [1, 1], False
    for layer in reversed(chain[1:index + 1]):
        g = geometry(layer)
        below = chain[layer.index - 1].output_shape[:2]
        pads = g.pads(below)
        for axis in (0, 1):
            k, s, d, before = g.kernel[axis], g.strides[axis], g.dilation[axis], pads[axis][0]
            a, b = spans[axis]
            a, b = a * s - before, b * s - before + d * (k - 1)
            spans[axis] = [max(a, 0), min(b, below[axis] - 1)]  # only positions that exist there
            empty = empty or spans[axis][0] > spans[axis][1]  # it reads padding only
            size[axis] = s * (size[axis] - 1) + d * (k - 1) + 1
            jump[axis] *= s
    (top, bottom), (left, right) = spans
    if empty:
        return Field(max(top, 0), max(left, 0), 0, 0, tuple(size), tuple(jump))
    return Field(top, left, bottom - top + 1, right - left + 1, tuple(size), tuple(jump))
