"""Charts in a grid, laid out in one layout dict: what ``plotly.subplots.make_subplots``
does, without its cost (it and ``add_trace`` validate every property again: tens of
ms per figure, for figures redrawn on every rerun of a class's pages).
"""

from __future__ import annotations


def axis_suffix(n: int) -> str:
    """Plotly's suffix of the ``n``-th chart's axes (0-based): ``""``, ``"2"``, ``"3"``..."""
    return "" if n == 0 else str(n + 1)


def grid_layout(rows: int, cols: int, titles=(), gap: tuple[float, float] = (0.08, 0.1)) -> dict:
    """The axes and titles of ``rows`` x ``cols`` charts, in row-major order.

    Args:
        rows, cols: the grid's size.
        titles: a title over each of the first ``len(titles)`` charts.
        gap: ``(horizontal, vertical)`` space between charts, fractions of the figure
            (ignored for a single chart). ``(0.1, ...)`` with two columns gives
            ``make_subplots``'s default domains, [0, 0.45] and [0.55, 1].

    Returns:
        A layout dict: ``xaxis``/``yaxis`` (then ``xaxis2``/``yaxis2``...) with their
        ``domain`` and ``anchor``, and ``annotations`` holding the titles. A trace goes
        to chart ``n`` with ``xaxis="x" + axis_suffix(n), yaxis="y" + axis_suffix(n)``.
    """
    hgap, vgap = gap if cols > 1 or rows > 1 else (0, 0)
    width, height = (1 - hgap * (cols - 1)) / cols, (1 - vgap * (rows - 1)) / rows
    out: dict = {}
    notes = []
    for n in range(rows * cols):
        r, c = divmod(n, cols)
        s = axis_suffix(n)
        x0, y1 = c * (width + hgap), 1 - r * (height + vgap)
        out[f"xaxis{s}"] = {"domain": [x0, x0 + width], "anchor": f"y{s}"}
        out[f"yaxis{s}"] = {"domain": [y1 - height, y1], "anchor": f"x{s}"}
        if n < len(titles):
            notes.append({"text": titles[n], "x": x0 + width / 2, "y": y1, "xref": "paper",
                          "yref": "paper", "xanchor": "center", "yanchor": "bottom",
                          "showarrow": False})
    out["annotations"] = notes
    return out
