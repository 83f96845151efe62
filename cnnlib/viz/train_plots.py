"""Plotly figures of the Train page: live curves, confusion matrix, run comparison.

Pure functions from event dicts / arrays to ``plotly.graph_objects.Figure``;
no Streamlit, no TensorFlow.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnlib.rundir import batch_values
from cnnlib.viz.plotly_grid import grid_layout

#: The most points a live curve draws, whatever the run's length: a redraw's
#: cost grows with the number of points (NOTES.md: ~27 ms at 1,300 points).
MAX_POINTS = 400


def ema(values: np.ndarray, alpha: float = 0.1) -> np.ndarray:
    """Exponential moving average ``s_t = alpha * v_t + (1 - alpha) * s_(t-1)``,
    debiased as in TensorBoard's smoothing.

    Args:
        values: float ``(N,)``; NaN marks a missing value (a batch whose loss was
            not reported).
        alpha: weight of the newest value, in (0, 1].

    Returns:
        float64 ``(N,)``. A missing value is skipped: its position repeats the
        average so far (NaN only before the first finite value), and it does not
        spoil the values after it.
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.full_like(values, np.nan)
    s, weight = 0.0, 0.0
    for i, v in enumerate(values):
        if np.isfinite(v):
            s = (1 - alpha) * s + alpha * v
            weight = (1 - alpha) * weight + alpha
        if weight > 0:
            out[i] = s / weight
    return out


def downsample_index(n: int, max_points: int = MAX_POINTS) -> np.ndarray:
    """At most ``max_points`` evenly spread indices into ``range(n)``, always
    keeping the first and the last."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(int))


def two_panels(titles: tuple[str, str], traces: list[dict], uirevision: str,
               right_range: list[float] | None = None) -> go.Figure:
    """Two charts side by side, x titled "epoch", as ``make_subplots(rows=1, cols=2)``
    lays them out (:func:`cnnlib.viz.plotly_grid.grid_layout`).

    The live curves are rebuilt on every refresh of every viewer: through
    ``make_subplots`` and ``add_trace`` a figure took ~25 ms here; from dicts, ~4 ms.

    Args:
        titles: the left and right chart's titles.
        traces: Plotly trace dicts; ``xaxis="x2", yaxis="y2"`` puts one on the right.
        uirevision: keeps the viewer's zoom across redraws of the same chart.
        right_range: the right chart's y range, or None to fit the data.
    """
    layout = grid_layout(1, 2, titles, gap=(0.1, 0.1))
    for note in layout["annotations"]:
        note["font"] = {"size": 16}
    for axis in ("xaxis", "xaxis2"):
        layout[axis]["title"] = {"text": "epoch"}
    if right_range:
        layout["yaxis2"]["range"] = right_range
    layout.update(height=300, margin=dict(l=10, r=10, t=40, b=10), uirevision=uirevision)
    return go.Figure(data=traces, layout=layout)


def batch_curves(batch_events: list[dict], max_points: int = MAX_POINTS) -> go.Figure:
    """Each batch's own loss and accuracy (:func:`cnnlib.rundir.batch_values`, not
    Keras's running means, which jump at every epoch boundary): raw values faint,
    smoothed values bold.

    ``batch_events`` in any order; x is the fractional epoch. At most ``max_points``
    points per trace are drawn.
    """
    traces = []
    batch_events = batch_values(batch_events)
    if batch_events:
        x = np.array([e["epoch"] - 1 + e["batch"] / e["batches"] for e in batch_events])
        idx = downsample_index(len(x), max_points)
        for axis, key, color in (("", "loss", "#d62728"), ("2", "accuracy", "#1f77b4")):
            y = np.array([np.nan if e[key] is None else e[key] for e in batch_events])
            on = dict(type="scatter", x=x[idx], mode="lines", showlegend=False,
                      xaxis="x" + axis, yaxis="y" + axis)
            traces.append(dict(on, y=y[idx], name=f"{key} (raw)", line=dict(color=color, width=1),
                               opacity=0.25))
            traces.append(dict(on, y=ema(y)[idx], name=f"{key} (smoothed)",
                               line=dict(color=color, width=2.5)))
    return two_panels(("Loss (each batch)", "Accuracy (each batch)"), traces, "batch",
                      right_range=[0, 1.02])


def complete_epochs(epoch_events: list[dict]) -> list[dict]:
    """The epoch events of epochs that ran to their end (a stop can cut the last one
    short: its metrics cover part of an epoch and are not plotted as a full one)."""
    return [e for e in epoch_events if not e.get("partial")]


def epoch_curves(epoch_events: list[dict]) -> go.Figure:
    """Training vs validation loss and accuracy per complete epoch."""
    epoch_events = complete_epochs(epoch_events)
    x = [e["epoch"] for e in epoch_events]
    traces = []
    for axis, key in (("", "loss"), ("2", "accuracy")):
        for prefix, color, name in (("", "#1f77b4", "training"), ("val_", "#ff7f0e", "validation")):
            y = [e.get(prefix + key) for e in epoch_events]
            if any(v is not None for v in y):
                traces.append(dict(type="scatter", x=x, y=y, mode="lines+markers", name=name,
                                   line=dict(color=color), legendgroup=name, showlegend=not axis,
                                   xaxis="x" + axis, yaxis="y" + axis))
    fig = two_panels(("Loss (per epoch)", "Accuracy (per epoch)"), traces, "epoch")
    if len(x) <= 20:
        fig.update_xaxes(dtick=1)
    return fig


def confusion_figure(cm: np.ndarray, class_names: list[str]) -> go.Figure:
    """Heatmap of a confusion matrix (rows true, columns predicted) with counts; every
    class is labelled (category axes: Plotly would thin out digit names as numbers)."""
    fig = go.Figure(go.Heatmap(z=cm, x=list(class_names), y=list(class_names), colorscale="Blues",
                               text=cm, texttemplate="%{text}",
                               hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>"))
    names = list(class_names)
    fig.update_layout(xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed",
                      height=420, margin=dict(l=10, r=10, t=10, b=10))
    fig.update_xaxes(type="category", tickmode="array", tickvals=names, ticktext=names)
    fig.update_yaxes(type="category", tickmode="array", tickvals=names, ticktext=names)
    return fig


def class_counts_figure(labels: np.ndarray, class_names: list[str]) -> go.Figure:
    """Bar chart of how many images each class has."""
    counts = np.bincount(labels, minlength=len(class_names))
    fig = go.Figure(go.Bar(x=list(class_names), y=counts, text=counts, textposition="outside"))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10), yaxis_title="images")
    return fig


def compare_runs_figure(runs: list[tuple[str, list[dict]]], metric: str = "val_accuracy") -> go.Figure:
    """One line per run of ``metric`` per epoch; runs without it use the training metric."""
    fig = go.Figure()
    for name, epochs in runs:
        epochs = complete_epochs(epochs)
        key = metric if any(e.get(metric) is not None for e in epochs) else metric.replace("val_", "")
        fig.add_trace(go.Scatter(x=[e["epoch"] for e in epochs], y=[e.get(key) for e in epochs],
                                 mode="lines+markers", name=f"{name} ({key})"))
    fig.update_layout(xaxis_title="epoch", yaxis_title=metric, height=350,
                      margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def lesson_comparison_figure(rows: list[tuple[str, float | None, float | None, float | None]]
                             ) -> go.Figure:
    """Grouped bars comparing models as a tutorial does: for each ``(model, text's test
    accuracy, your training accuracy, your test accuracy)`` (fractions in [0, 1], None
    when not known), three bars; a missing value draws no bar."""
    names = [r[0] for r in rows]
    fig = go.Figure()
    for i, (label, colour) in enumerate((("text: test", "#9e9e9e"), ("you: training", "#90caf9"),
                                         ("you: test", "#1f77b4")), start=1):
        y = [r[i] for r in rows]
        fig.add_trace(go.Bar(name=label, x=names, y=y, marker_color=colour,
                             text=[None if v is None else f"{v:.2%}" for v in y],
                             textposition="outside"))
    fig.update_layout(barmode="group", yaxis=dict(range=[0, 1.1], title="accuracy"), height=320,
                      margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.2))
    return fig
