"""Plotly figures for the Convolution page (plotly and numpy only).

Pixel ``(r, c)`` of an image is drawn centred on ``x = c``, ``y = r`` with
the y axis pointing down, as images are read. Feature maps use a diverging
colour scale centred on zero (blue negative, red positive).
"""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go

DIVERGING = "RdBu_r"  # blue < 0 < red, white at zero with zmid=0
WINDOW = "#ff7f0e"  # receptive-field outline
MAX_FRAMES = 200  # animation frames, at most
MAX_MARKERS = 256  # max-pooling windows whose winner gets a cross, at most


def _png_uri(rgb: np.ndarray) -> str:
    """A float RGB image in [0, 1] as a PNG data URI (a fraction of the size
    of the same pixels as JSON numbers)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8), "RGB").save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _image_trace(image: np.ndarray, **kw):
    if image.ndim == 3:
        return go.Image(source=_png_uri(image), **kw)
    return go.Heatmap(z=image, colorscale="gray", zmin=0, zmax=1, showscale=False,
                      hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>", **kw)


def _map_trace(z: np.ndarray, showscale: bool = True, text: bool = False, **kw):
    lim = float(np.max(np.abs(z))) or 1.0
    extra = {"texttemplate": "%{z:.3g}"} if text else {}
    return go.Heatmap(z=z, colorscale=DIVERGING, zmid=0, zmin=-lim, zmax=lim, showscale=showscale,
                      hovertemplate="row %{y}, col %{x}: %{z:.4g}<extra></extra>", **extra, **kw)


def _box(top: float, left: float, bottom: float, right: float) -> tuple[list, list]:
    """Closed outline around pixels top..bottom, left..right (inclusive)."""
    x0, x1, y0, y1 = left - 0.5, right + 0.5, top - 0.5, bottom + 0.5
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


def _outline(top, left, bottom, right, color=WINDOW, dash=None, name="", **kw):
    xs, ys = _box(top, left, bottom, right)
    return go.Scatter(x=xs, y=ys, mode="lines", line={"color": color, "width": 3, "dash": dash},
                      hoverinfo="skip", showlegend=False, name=name, **kw)


def _axes(count: int = 1, ranges: dict | None = None, ticks: bool = True, **layout) -> dict:
    """Layout for ``count`` image axes (y pointing down, square pixels), in one
    dict: Plotly is slow to update a layout key by key (about 15 ms a call).

    ``ranges`` maps an axis number (1-based) to ``(x_range, y_range)``.
    """
    out = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}}
    for i in range(1, count + 1):
        suffix = "" if i == 1 else str(i)
        x = {"constrain": "domain", "showticklabels": ticks}
        y = {"autorange": "reversed", "scaleanchor": f"x{suffix}", "constrain": "domain",
             "showticklabels": ticks}
        if ranges and i in ranges:
            x["range"], y["range"] = ranges[i]
            y.pop("autorange")
        out[f"xaxis{suffix}"], out[f"yaxis{suffix}"] = x, y
    out.update(layout)
    return out


def _panels(traces: list, cells: list[int], rows: int, cols: int, titles: list[str],
            gap: tuple[float, float] = (0.08, 0.1), **layout) -> go.Figure:
    """A grid of image panels without ``make_subplots`` (which costs tens of
    ms): trace ``i`` goes to panel ``cells[i]`` (0-based, row-major)."""
    hgap, vgap = gap if cols > 1 or rows > 1 else (0, 0)
    width, height = (1 - hgap * (cols - 1)) / cols, (1 - vgap * (rows - 1)) / rows
    out = _axes(rows * cols, **layout)
    notes = []
    for n in range(rows * cols):
        r, c = divmod(n, cols)
        suffix = "" if n == 0 else str(n + 1)
        x0, y1 = c * (width + hgap), 1 - r * (height + vgap)
        out[f"xaxis{suffix}"].update(domain=[x0, x0 + width], anchor=f"y{suffix}")
        out[f"yaxis{suffix}"].update(domain=[y1 - height, y1], anchor=f"x{suffix}")
        if n < len(titles):
            notes.append({"text": titles[n], "x": x0 + width / 2, "y": y1, "xref": "paper",
                          "yref": "paper", "xanchor": "center", "yanchor": "bottom",
                          "showarrow": False})
    out["annotations"] = notes
    for trace, n in zip(traces, cells):
        trace.update(xaxis=f"x{n + 1 if n else ''}", yaxis=f"y{n + 1 if n else ''}")
    return go.Figure(traces, out)


def _extent(image: np.ndarray, pads) -> tuple[list, list]:
    """x and y ranges that show the image and its padding (y reversed)."""
    h, w = image.shape[:2]
    top, bottom, left, right = pads
    return [-left - 0.5, w - 0.5 + right], [h - 0.5 + bottom, -top - 0.5]


def input_figure(image: np.ndarray, pads=(0, 0, 0, 0), field=None, title: str = "Input"):
    """The input image, its padding (dashed outline) and a receptive field.

    Args:
        image: float ``(H, W)`` or ``(H, W, 3)`` in [0, 1].
        pads: ``(top, bottom, left, right)`` zeros added around it.
        field: a :class:`cnnlib.conv_explain.ReceptiveField` or None; its box
            is outlined and its taps marked (hollow where they read padding).
        title: figure title.
    """
    h, w = image.shape[:2]
    top, bottom, left, right = pads
    data = [_image_trace(image)]
    if any(pads):
        data.append(_outline(-top, -left, h - 1 + bottom, w - 1 + right, color="#888", dash="dash",
                             name="padding"))
    if field is not None:
        data.append(_outline(*field.box, name="receptive field"))
        rr, cc = np.meshgrid(field.rows, field.cols, indexing="ij")
        data.append(go.Scatter(
            x=cc.ravel(), y=rr.ravel(), mode="markers", showlegend=False, hoverinfo="skip",
            marker={"size": 6, "color": np.where(field.inside.ravel(), WINDOW, "rgba(0,0,0,0)"),
                    "line": {"color": WINDOW, "width": 1}}))
    return go.Figure(data, _axes(1, {1: _extent(image, pads)}, title=title))


def feature_map_figure(fmap: np.ndarray, title: str = "Feature map", cell=None):
    """A feature map ``(O_h, O_w)`` with the diverging scale; ``cell = (row,
    col)`` outlined if given."""
    data = [_map_trace(fmap)]
    if cell is not None:
        data.append(_outline(cell[0], cell[1], cell[0], cell[1], name="output position"))
    return go.Figure(data, _axes(1, title=title))


def matrix_figure(values: np.ndarray, title: str, height: int = 260):
    """A small ``(K_h, K_w)`` matrix with its numbers written in the cells."""
    trace = _map_trace(np.asarray(values, dtype=np.float64), showscale=False, text=True)
    return go.Figure([trace], _axes(1, ticks=False, title=title, height=height))


def sliding_figure(image: np.ndarray, fmap: np.ndarray, fields: list, positions: list,
                   pads=(0, 0, 0, 0), duration_ms: int = 250):
    """An animation of the window sliding over the input (left) while the
    output cell it fills moves over the feature map (right).

    Args:
        image: ``(H, W)`` or ``(H, W, 3)`` in [0, 1].
        fmap: ``(O_h, O_w)`` feature map.
        fields: one :class:`ReceptiveField` per frame.
        positions: the output ``(row, col)`` of each frame, same length.
        pads: ``(top, bottom, left, right)``, to draw the padded extent.
        duration_ms: time per frame.
    """
    r0, c0 = positions[0]
    traces = [_image_trace(image), _map_trace(fmap, showscale=False), _outline(*fields[0].box),
              _outline(r0, c0, r0, c0)]
    frames, steps = [], []
    for k, (field, (r, c)) in enumerate(zip(fields, positions)):
        (xa, ya), (xb, yb) = _box(*field.box), _box(r, c, r, c)
        frames.append({"name": str(k), "traces": [2, 3],
                       "data": [{"type": "scatter", "x": xa, "y": ya},
                                {"type": "scatter", "x": xb, "y": yb}]})
        steps.append({"method": "animate", "label": f"({r},{c})",
                      "args": [[str(k)], {"mode": "immediate", "frame": {"duration": 0, "redraw": False},
                                          "transition": {"duration": 0}}]})
    play = {"frame": {"duration": duration_ms, "redraw": False}, "fromcurrent": True,
            "transition": {"duration": 0}}
    fig = _panels(traces, [0, 1, 0, 1], 1, 2, ["Input and window", "Feature map"])
    spec = fig.to_plotly_json()
    spec["layout"]["xaxis"]["range"], spec["layout"]["yaxis"]["range"] = _extent(image, pads)
    spec["layout"]["yaxis"].pop("autorange", None)
    spec["layout"]["updatemenus"] = [{
        "type": "buttons", "showactive": False, "x": 0, "y": -0.08, "xanchor": "left",
        "buttons": [{"label": "Play", "method": "animate", "args": [None, play]},
                    {"label": "Pause", "method": "animate",
                     "args": [[None], {"mode": "immediate", "frame": {"duration": 0, "redraw": False}}]}]}]
    spec["layout"]["sliders"] = [{"steps": steps, "x": 0.15, "len": 0.85, "y": -0.02,
                                  "currentvalue": {"prefix": "output position "}}]
    spec["frames"] = frames
    # Built from well-formed parts above; Plotly's validation of 200 frames and
    # slider steps would cost about 0.3 s per rerun (the tests validate it).
    return go.Figure(spec, _validate=False)


def pooling_figure(before: np.ndarray, after: np.ndarray, winners: np.ndarray | None,
                   mode: str):
    """Before and after pooling side by side, with their shapes. For max
    pooling, the pixels that lost their window are faded, so the winners
    stand out; with at most :data:`MAX_MARKERS` windows each winner also gets
    a cross."""
    titles = [f"Before: {before.shape[0]} x {before.shape[1]}",
              f"After {mode} pooling: {after.shape[0]} x {after.shape[1]}"]
    data, cells = [_map_trace(before, showscale=False), _map_trace(after)], [0, 1]
    if winners is not None:
        veil = np.ones(before.shape, dtype=np.float32)
        veil[winners[..., 0].ravel(), winners[..., 1].ravel()] = np.nan  # NaN cells stay clear
        data.append(go.Heatmap(z=veil, colorscale=[[0, "white"], [1, "white"]], opacity=0.7,
                               showscale=False, hoverinfo="skip", name="lost its window"))
        cells.append(0)
        if winners[..., 0].size <= MAX_MARKERS:
            data.append(go.Scatter(x=winners[..., 1].ravel(), y=winners[..., 0].ravel(),
                                   mode="markers", marker={"symbol": "x-thin-open", "size": 8,
                                                           "color": "black", "line": {"width": 1}},
                                   name="window winner", showlegend=False,
                                   hovertemplate="winner at row %{y}, col %{x}<extra></extra>"))
            cells.append(0)
    return _panels(data, cells, 1, 2, titles)


def _grid_shape(n: int, cols: int) -> tuple[int, int]:
    cols = max(1, min(cols, n))
    return -(-n // cols), cols


def _grid(traces: list, titles: list[str], cols: int, **layout):
    rows, cols = _grid_shape(len(traces), cols)
    return _panels(traces, list(range(len(traces))), rows, cols, titles, gap=(0.02, 0.3 / rows),
                   ticks=False, **layout)


def kernel_grid(kernels: np.ndarray, max_filters: int = 32, cols: int = 8):
    """Learned filters ``(K_h, K_w, C, F)``: a heatmap per filter for one
    input channel, an RGB picture (each filter scaled to [0, 1]) for three,
    the channel mean otherwise."""
    traces = []
    for i in range(min(kernels.shape[-1], max_filters)):
        k = kernels[..., i]  # (K_h, K_w, C)
        if k.shape[-1] == 3:
            lo, hi = float(k.min()), float(k.max())
            traces.append(_image_trace((k - lo) / ((hi - lo) or 1.0)))
        else:
            traces.append(_map_trace(k.mean(axis=-1), showscale=False))
    rows = _grid_shape(len(traces), cols)[0]
    return _grid(traces, [f"filter {i}" for i in range(len(traces))], cols, height=130 * rows + 40)


def maps_grid(maps: np.ndarray, title: str, max_maps: int = 16, cols: int = 8):
    """The first ``max_maps`` channels of a layer output ``(H, W, F)``."""
    traces = [_map_trace(maps[..., i], showscale=False) for i in range(min(maps.shape[-1], max_maps))]
    rows = _grid_shape(len(traces), cols)[0]
    return _grid(traces, [f"map {i}" for i in range(len(traces))], cols, title=title,
                 height=130 * rows + 80, margin={"l": 10, "r": 10, "t": 80, "b": 10})
