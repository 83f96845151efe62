"""Bar charts of a model's outputs, as Plotly figures the pages show as they are:
class probabilities (Classify) and the values of a vector layer, unit by unit
(Inside the network). plotly and numpy only.

Colours: the most probable class red among blue-gray bars; a layer's values on
the diverging scale's two ends (red for >= 0, blue below), as its maps would
be, the chosen unit in the window's orange (:data:`cnnlib.viz.colour.WINDOW_HEX`).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnlib.viz.colour import DIVERGING_STOPS, WINDOW_HEX

TOP, REST = "#d62728", "#7f9fbf"  # the most probable class, the others
CHOSEN = WINDOW_HEX  # the chosen unit
POSITIVE = "#{:02x}{:02x}{:02x}".format(*DIVERGING_STOPS[-2])  # red end of the diverging scale
NEGATIVE = "#{:02x}{:02x}{:02x}".format(*DIVERGING_STOPS[1])  # blue end


def probability_bars(names, probs, title: str, horizontal: bool = False,
                     height: int = 320) -> go.Figure:
    """Bars of probabilities in [0, 1] (one per name), the most probable highlighted.

    Args:
        names: the class names, any printable values.
        probs: float ``(K,)`` in [0, 1], one per name.
        title: the figure's title.
        horizontal: bars across, the most probable at the top (for long names);
            else upright bars with their percentage above.
        height: the figure's height, pixels.

    Returns:
        A ``go.Figure``, the probability axis from 0 to 100 % (names on a category
        axis: digits' names are labels, not numbers).
    """
    probs = np.asarray(probs, dtype=float)
    colours = [TOP if i == int(probs.argmax()) else REST for i in range(len(probs))]
    text = [f"{p:.1%}" for p in probs]
    if horizontal:  # most probable at the top
        bar = go.Bar(x=probs[::-1], y=[str(n) for n in names][::-1], orientation="h",
                     text=text[::-1], marker_color=colours[::-1], textposition="auto")
        layout = dict(xaxis=dict(range=[0, 1.02], dtick=0.25, tickformat=".0%", title="probability"),
                      yaxis=dict(type="category"))
    else:
        bar = go.Bar(x=[str(n) for n in names], y=probs, text=text, marker_color=colours,
                     textposition="outside", cliponaxis=False)
        layout = dict(yaxis=dict(range=[0, 1.1], tickformat=".0%", title="probability"),
                      xaxis=dict(type="category"))
    fig = go.Figure(bar)
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10), **layout)
    return fig


def unit_bars(units, values, title: str, chosen: int | None = None, categorical: bool = False) -> go.Figure:
    """A vector layer's values, one bar per unit: red for >= 0, blue below, the chosen
    unit orange.

    Args:
        units: int ``(N,)``, the unit numbers shown (all of them, or the largest).
        values: float ``(N,)``, their values.
        title: the figure's title (small: one of many rows).
        chosen: the unit drawn orange, or None (ignored when not among ``units``).
        categorical: space the bars evenly whatever their unit numbers (for a
            selection of units, not all of them).

    Returns:
        A ``go.Figure`` 170 pixels high; a bar's ``x`` is its unit number.
    """
    values = np.asarray(values, dtype=float)
    units = [int(u) for u in units]
    colours = [POSITIVE if v >= 0 else NEGATIVE for v in values]
    if chosen is not None and chosen in units:
        colours[units.index(chosen)] = CHOSEN
    fig = go.Figure(go.Bar(x=units, y=values, marker_color=colours,
                           hovertemplate="unit %{x}: %{y:.4g}<extra></extra>"))
    fig.update_layout(height=170, margin=dict(l=10, r=10, t=24, b=10), bargap=0.1,
                      title=dict(text=title, font=dict(size=12)),
                      xaxis=dict(type="category" if categorical else "linear"))
    return fig
