"""The one way numbers are written on pictures, matrices, captions and formulas.

``number(v)`` gives 3 significant digits (``%g``), ``-0`` written ``0``;
options put a negative number in parentheses (inside a sum or a product:
``0.5 × (-1)``) and write an exponent as LaTeX (``1.2 \\times 10^{-5}``).
numpy only (not even that: plain floats).
"""

from __future__ import annotations


def number(v: float, digits: int = 3, *, parens: bool = False, latex: bool = False) -> str:
    """``v`` with ``digits`` significant digits.

    Args:
        v: a finite float (``inf`` and ``nan`` are written as Python writes them).
        digits: significant digits, >= 1.
        parens: put a negative number in parentheses.
        latex: write ``1e-05`` as ``1 \\times 10^{-5}`` (for ``st.latex``).

    Returns:
        The text; ``-0`` (and anything that rounds to it) is written ``0``.
    """
    text = f"{float(v):.{digits}g}"
    if text in ("-0", "0"):
        return "0"
    if latex and "e" in text:
        mantissa, exp = text.split("e")
        text = rf"{mantissa} \times 10^{{{int(exp)}}}"
    return f"({text})" if parens and text.startswith("-") else text
