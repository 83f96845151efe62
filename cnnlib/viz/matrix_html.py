"""Small matrices (a kernel, a patch, the products) as HTML: a grid of
square cells coloured by value, each with its number written in it.

A few dozen ``<div>``s cost the browser next to nothing, unlike one chart
each; the grid fills its column, and the numbers follow the page's font
size (a presentation mode that enlarges the fonts enlarges them too).
Colours follow :func:`cnnlib.viz.colour.value_scale`. numpy only.
"""

from __future__ import annotations

import html

import numpy as np

from cnnlib.viz.colour import colourise, value_scale
from cnnlib.viz.numbers import number


def matrix_html(values, white: float = 0.0, label: str = "") -> str:
    """An HTML grid of ``values`` ``(K_h, K_w)``.

    Args:
        values: finite numbers, any range.
        white: as :func:`cnnlib.viz.colour.value_scale` (0: the largest value
            is white on the gray scale; 1: the input's white).
        label: what the grid shows, for screen readers (``aria-label``).

    Returns:
        One ``<div>`` (CSS grid, width 100%, square cells) whose cells are in
        reading order, each with ``title="row i, column j: v"`` (1-based)
        and its number as text.
    """
    v = np.asarray(values, dtype=np.float64)
    kh, kw = v.shape
    rgb = colourise(v, value_scale(v, white))  # (K_h, K_w, 3)
    light = rgb @ np.array([0.299, 0.587, 0.114]) > 140  # dark text on light cells
    size = "1em" if max(kh, kw) <= 3 else "0.85em"
    cells = []
    for i in range(kh):
        for j in range(kw):
            text = number(v[i, j])
            r, g, b = rgb[i, j].tolist()
            cells.append(
                f'<div title="row {i + 1}, column {j + 1}: {text}" style="aspect-ratio:1;display:flex;'
                f'align-items:center;justify-content:center;overflow:hidden;background:rgb({r},{g},{b});'
                f'box-shadow:inset 0 0 0 1px rgba(0,0,0,.15);'
                f'color:{"#111" if light[i, j] else "#fff"}">{text}</div>')
    return (f'<div role="img" aria-label="{html.escape(label)}" style="display:grid;'
            f'grid-template-columns:repeat({kw},1fr);gap:2px;width:100%;font-size:{size};'
            f'font-variant-numeric:tabular-nums">{"".join(cells)}</div>')
