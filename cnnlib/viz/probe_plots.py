"""Plotly figures of the robustness curves (:mod:`cnnlib.probe.robustness`): one small
chart per change, accuracy against the change's level, one line per model; and one
change's accuracy per class. Pure functions; no Streamlit, no TensorFlow."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnlib.probe.corruptions import CORRUPTIONS
from cnnlib.viz.plotly_grid import axis_suffix, grid_layout

#: Line colours of the models compared (Plotly's first qualitative colours).
MODEL_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def axis_title(change: str) -> str:
    """The x-axis title of a change, e.g. ``"rotation (degrees)"``; FGSM's epsilon in
    [0, 1] units."""
    if change == "fgsm":
        return "FGSM epsilon (of the [0, 1] range)"
    what, unit, _ = CORRUPTIONS[change]
    return f"{what} ({unit})"


def curves_figure(curves: dict[str, list], cols: int = 4) -> go.Figure:
    """One chart per change: accuracy (0 to 1) against the level, a line per model.

    Args:
        curves: ``{model label: [Curve, ...]}``, each model's curves in the same order
            of changes (:class:`cnnlib.probe.robustness.Curve`).
        cols: charts per row.
    """
    labels = list(curves)
    changes = [c.change for c in curves[labels[0]]]
    rows = -(-len(changes) // cols)
    layout = grid_layout(rows, cols, titles=[axis_title(c) for c in changes], gap=(0.05, 0.16))
    traces = []
    for m, label in enumerate(labels):
        for n, c in enumerate(curves[label]):
            s = axis_suffix(n)
            traces.append(go.Scatter(
                x=c.levels, y=c.accuracy, mode="lines+markers", name=label, legendgroup=label,
                showlegend=n == 0, line={"color": MODEL_COLOURS[m % len(MODEL_COLOURS)]},
                xaxis=f"x{s}", yaxis=f"y{s}",
                hovertemplate=f"{label}<br>level %{{x}}<br>accuracy %{{y:.1%}}<extra></extra>"))
    for n in range(len(changes)):
        layout[f"yaxis{axis_suffix(n)}"].update(range=[0, 1.02], tickformat=".0%")
    for note in layout.get("annotations", []):
        note["font"] = {"size": 12}
    fig = go.Figure(traces)
    fig.update_layout(**layout, height=260 * rows, margin={"l": 40, "r": 10, "t": 30, "b": 30},
                      legend={"orientation": "h", "y": -0.12})
    return fig


def per_class_figure(curve, class_names: list[str]) -> go.Figure:
    """One change's accuracy on each class's images (thin lines) and overall (thick)."""
    traces = [go.Scatter(x=curve.levels, y=curve.per_class[:, k], mode="lines", name=name,
                         line={"width": 1.5}, opacity=0.8)
              for k, name in enumerate(class_names) if not np.all(np.isnan(curve.per_class[:, k]))]
    traces.append(go.Scatter(x=curve.levels, y=curve.accuracy, mode="lines+markers",
                             name="all classes", line={"width": 4, "color": "black"}))
    fig = go.Figure(traces)
    fig.update_layout(xaxis_title=axis_title(curve.change), yaxis={"range": [0, 1.02],
                      "tickformat": ".0%", "title": "accuracy"}, height=360,
                      margin={"l": 40, "r": 10, "t": 10, "b": 40})
    return fig
