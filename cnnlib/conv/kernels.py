"""Classic image-processing kernels, and custom kernels typed by a user.

The kernels are applied as :func:`cnnlib.conv.arithmetic.conv2d` applies them,
by cross-correlation (no flip), so ``sobel x`` responds positively where the
image gets brighter to the right.
"""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named kernel and what it does, in one sentence."""

    values: tuple[tuple[float, ...], ...]
    description: str


_GAUSS5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256  # binomial approximation


def _t(a) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in np.asarray(a, dtype=float))


PRESETS: dict[str, Preset] = {
    "identity": Preset(_t([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
                       "Copies the input: a single 1 in the centre."),
    "box blur 3x3": Preset(_t(np.full((3, 3), 1 / 9)),
                           "Replaces each pixel by the mean of its 3x3 neighbourhood."),
    "box blur 5x5": Preset(_t(np.full((5, 5), 1 / 25)),
                           "Mean of the 5x5 neighbourhood: a stronger blur."),
    "gaussian blur 3x3": Preset(_t(np.outer([1, 2, 1], [1, 2, 1]) / 16),
                                "Weighted mean, nearer pixels counting more: a soft blur."),
    "gaussian blur 5x5": Preset(_t(_GAUSS5),
                                "5x5 binomial approximation of a Gaussian (sigma about 1)."),
    "sharpen": Preset(_t([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
                      "Adds the difference to the neighbours back: edges look crisper."),
    "laplacian": Preset(_t([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
                        "Second derivative: zero on flat areas and ramps, large at edges and dots."),
    "sobel x": Preset(_t([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
                      "Horizontal gradient: responds to vertical edges (positive when it gets "
                      "brighter to the right)."),
    "sobel y": Preset(_t([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
                      "Vertical gradient: responds to horizontal edges (positive when it gets "
                      "brighter downwards)."),
    "emboss": Preset(_t([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
                     "Relief effect: a diagonal gradient plus the pixel itself."),
}

CUSTOM_SIZES = (3, 5)
#: The largest magnitude of a custom kernel value. The inputs lie in [0, 1] and a
#: kernel has at most 5 x 5 x 3 = 75 taps, so a feature-map value stays within
#: 7.5e7: every product, sum and pooled value is finite in float32 (whose largest
#: value is 3.4e38; 1e308 in a cell would already be infinite there) and prints readably.
MAX_VALUE = 1e6
_FRACTION = re.compile(r"^\s*([-+]?[0-9.eE+-]+)\s*/\s*([-+]?[0-9.eE+-]+)\s*$")


def names() -> list[str]:
    """Preset names, in display order."""
    return list(PRESETS)


def preset(name: str) -> np.ndarray:
    """A fresh float32 ``(K, K)`` copy of preset ``name``.

    Raises:
        ValueError: unknown name.
    """
    if name not in PRESETS:
        raise ValueError(f"Unknown kernel. Expected one of {names()}. Received: name={name!r}")
    return np.array(PRESETS[name].values, dtype=np.float32)


def identity(size: int) -> np.ndarray:
    """float32 ``(size, size)`` zeros with a 1 in the centre (``size`` odd)."""
    k = np.zeros((size, size), dtype=np.float32)
    k[size // 2, size // 2] = 1.0
    return k


class EmptyCellError(ValueError):
    """A kernel cell with nothing in it (``None``, ``""`` or blanks)."""


def parse_number(text, limit: float | None = None) -> float:
    """A finite float from a number or from text like ``"-0.5"``, ``"1e-2"`` or ``"1/9"``.

    Args:
        text: a number (int, float, numpy scalar) or text; ``None`` for nothing.
        limit: when given, the largest magnitude accepted.

    Raises:
        EmptyCellError: ``None``, an empty or a blank text.
        ValueError: ``"'<text>', which is not a (finite) number"``: text that
            is not a number, a division by zero, or an infinite or NaN value
            (``1e400``, ``1e308/1e-10``); ``"'<text>', which is not between
            -<limit> and <limit>"``: a value beyond ``limit``.
    """
    if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(text, bool):
        shown = repr(text)
        try:
            value = float(text)
        except OverflowError:  # an int beyond float64
            value = math.inf
    else:
        s = "" if text is None else str(text).strip()
        if not s:
            raise EmptyCellError(f"The cell is empty. Received: text={text!r}")
        shown = repr(s)
        match = _FRACTION.match(s)
        try:
            if match:
                value = float(match.group(1)) / float(match.group(2))
            else:
                value = float(s)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"{shown}, which is not a number") from None
        except OverflowError:  # a quotient beyond float64
            value = math.inf
    if not math.isfinite(value):
        raise ValueError(f"{shown}, which is not a finite number")
    if limit is not None and abs(value) > limit:
        raise ValueError(f"{shown}, which is not between -{limit:,.0f} and {limit:,.0f}")
    return value


def parse_kernel(cells, limit: float = MAX_VALUE) -> np.ndarray:
    """Read a kernel typed in a table.

    Args:
        cells: rows of cells (nested lists, or a ``pandas.DataFrame``); each
            cell a number or text such as ``"2"``, ``"-0.25"`` or ``"1/16"``.
        limit: the largest magnitude of a value (:data:`MAX_VALUE`).

    Returns:
        float32 ``(K_h, K_w)``, every value finite and within ``limit``.

    Raises:
        ValueError: a sentence naming the first bad cell (1-based row and
            column): an empty cell, text that is not a number, a non-finite
            value, or one beyond ``limit``; or a table that is empty or not
            rectangular.
    """
    rows = cells.values.tolist() if hasattr(cells, "values") and hasattr(cells, "columns") else cells
    rows = [list(r) for r in rows]
    if not rows or not rows[0] or any(len(r) != len(rows[0]) for r in rows):
        raise ValueError(f"The kernel table must be a non-empty rectangle. Received: {rows!r}")
    out = np.zeros((len(rows), len(rows[0])), dtype=np.float32)
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            if isinstance(cell, (float, np.floating)) and math.isnan(cell):
                cell = None  # pandas shows an emptied cell as NaN
            try:
                out[i, j] = parse_number(cell, limit)
            except ValueError as e:
                what = "is empty" if isinstance(e, EmptyCellError) else f"holds {e}"
                raise ValueError(f"The cell in row {i + 1}, column {j + 1} {what}. Type a number "
                                 "in every cell (for example 2, -0.5 or 1/9).") from None
    return out


def to_param(kernel) -> str:
    """A kernel as URL-friendly text: rows separated by ``;``, values by ``,``."""
    k = np.asarray(kernel, dtype=np.float64)
    return ";".join(",".join(f"{v:.6g}" for v in row) for row in k)


def from_param(text: str) -> np.ndarray:
    """The inverse of :func:`to_param`; float32 ``(K, K)`` with ``K`` in
    :data:`CUSTOM_SIZES`, every value finite and within :data:`MAX_VALUE`.

    Raises:
        ValueError: malformed text, a value that is not finite or beyond
            :data:`MAX_VALUE` (as :func:`parse_kernel` says it), or a size
            other than 3x3 or 5x5.
    """
    k = parse_kernel([row.split(",") for row in str(text).split(";")])
    if k.shape[0] != k.shape[1] or k.shape[0] not in CUSTOM_SIZES:
        raise ValueError(f"A custom kernel is 3x3 or 5x5. Received: shape={k.shape}")
    return k
