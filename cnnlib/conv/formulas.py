"""One convolutional layer written out for people: the output-size formula in
LaTeX, with its numbers plugged in, and the sum behind one output value as
text. Numbers are written by :func:`cnnlib.viz.numbers.number`.
"""

from __future__ import annotations

import numpy as np

from cnnlib.conv.arithmetic import output_size, padding_amounts
from cnnlib.conv.window import Explanation
from cnnlib.viz.numbers import number

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


def sum_text(explanation: Explanation, max_terms: int = 27) -> str:
    """The sum behind one output written out, e.g. ``0.5 × (-1) + 1 × 2 = 1.5``.

    Up to ``max_terms`` products are written one by one (patch value ×
    kernel value, row-major, channels innermost); beyond that, one partial sum
    per channel, or the number of products.
    """
    e = explanation
    total = number(e.total, 4)
    if e.patch.size <= max_terms:
        pairs = zip(e.patch.ravel().tolist(), e.kernel.ravel().tolist())
        return " + ".join(f"{number(a, parens=True)} × {number(b, parens=True)}" for a, b in pairs) + f" = {total}"
    if e.patch.ndim == 3:
        c = e.patch.shape[2]
        names = ("R", "G", "B") if c == 3 else tuple(f"channel {i}" for i in range(c))
        sums = e.products.reshape(-1, c).sum(axis=0, dtype=np.float64)
        each = e.patch.shape[0] * e.patch.shape[1]
        return " + ".join(f"{number(s, 4, parens=True)} ({n}, {each} products)" for n, s in zip(names, sums)) + f" = {total}"
    return f"the sum of the {e.patch.size} products = {total}"
