"""Plotly figures for the Convolution page (plotly, numpy and PIL only): the
sliding-window animation and pooling.

Pixel ``(r, c)`` of an image is drawn centred on ``x = c``, ``y = r`` with
the y axis pointing down, as images are read. Value maps follow the colour
rule of :func:`cnnlib.viz.colour.value_scale`: gray from 0 for non-negative
values, a diverging scale centred on 0 (and 0 marked on the colour bar) for
signed ones. The input and the feature map themselves are pictures
(:mod:`cnnlib.viz.pictures`), a trained layer's maps and kernels grids
(:mod:`cnnlib.viz.grids`), and small matrices HTML (:mod:`cnnlib.viz.matrix_html`):
a chart each would cost the browser far more on every change.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnlib.viz.colour import WINDOW_HEX, Scale, colourise, plotly_colorscale, to_rgb8, value_scale
from cnnlib.viz.colour import ticks as colour_ticks
from cnnlib.viz.plotly_grid import axis_suffix, grid_layout
from cnnlib.viz.raster import png_uri

WINDOW = WINDOW_HEX  # the kernel window's outline
MAX_FRAMES = 200  # animation frames, at most
MIN_FRAMES = 24  # ... and at least, whatever the byte budget says
FRAME_BYTES = 4_000_000  # what all frames of an animation may weigh together, about
MAX_MARKERS = 256  # max-pooling windows whose winner gets a cross, at most


def _colorbar(scale: Scale) -> dict:
    """A horizontal colour bar under the figure; 0 is marked on a signed scale."""
    values, text = zip(*colour_ticks(scale))
    return {"orientation": "h", "y": -0.02, "yanchor": "top", "thickness": 12, "len": 1.0,
            "tickvals": list(values), "ticktext": list(text), "outlinewidth": 0}


def _map_trace(z: np.ndarray, showscale: bool = True, white: float = 1.0, **kw):
    """A heatmap of values ``(H, W)`` on the colour rule's scale."""
    z = np.asarray(z)
    scale = value_scale(z, white)
    extra = {}
    if scale.signed:
        extra["zmid"] = 0.0
    if showscale:
        extra["colorbar"] = _colorbar(scale)
    return go.Heatmap(z=z, colorscale=plotly_colorscale(scale), zmin=scale.zmin, zmax=scale.zmax,
                      showscale=showscale, hovertemplate="row %{y}, col %{x}: %{z:.4g}<extra></extra>",
                      **extra, **kw)


def _box(top: float, left: float, bottom: float, right: float) -> tuple[list, list]:
    """Closed outline around pixels top..bottom, left..right (inclusive)."""
    x0, x1, y0, y1 = left - 0.5, right + 0.5, top - 0.5, bottom + 0.5
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


def _outline(top, left, bottom, right, color=WINDOW, dash=None, name="", width=4, **kw):
    xs, ys = _box(top, left, bottom, right)
    return go.Scatter(x=xs, y=ys, mode="lines", line={"color": color, "width": width, "dash": dash},
                      hoverinfo="skip", showlegend=False, name=name, **kw)


def _axes(count: int = 1, ranges: dict | None = None, ticks: bool = True, **layout) -> dict:
    """Layout for ``count`` image axes (y pointing down, square pixels, no
    zoom or pan), in one dict: Plotly is slow to update a layout key by key.

    ``ranges`` maps an axis number (1-based) to ``(x_range, y_range)``.
    """
    out = {"margin": {"l": 4, "r": 4, "t": 4, "b": 4}}
    for i in range(1, count + 1):
        suffix = "" if i == 1 else str(i)
        x = {"constrain": "domain", "showticklabels": ticks, "fixedrange": True, "showgrid": False,
             "zeroline": False}
        y = {"autorange": "reversed", "scaleanchor": f"x{suffix}", "constrain": "domain",
             "showticklabels": ticks, "fixedrange": True, "showgrid": False, "zeroline": False}
        if not ticks:
            x["ticks"] = y["ticks"] = ""
        if ranges and i in ranges:
            x["range"], y["range"] = ranges[i]
            y.pop("autorange")
        out[f"xaxis{suffix}"], out[f"yaxis{suffix}"] = x, y
    out.update(layout)
    return out


def _panels(traces: list, cells: list[int], rows: int, cols: int, titles: list[str],
            gap: tuple[float, float] = (0.08, 0.1), **layout) -> go.Figure:
    """A grid of image panels (:func:`cnnlib.viz.plotly_grid.grid_layout`): trace ``i``
    goes to panel ``cells[i]`` (0-based, row-major)."""
    layout.setdefault("margin", {"l": 4, "r": 4, "t": 30, "b": 4})
    out = _axes(rows * cols, **layout)
    for key, value in grid_layout(rows, cols, titles, gap).items():
        if key == "annotations":
            out[key] = value
        else:
            out[key].update(value)
    for trace, n in zip(traces, cells):
        trace.update(xaxis=f"x{axis_suffix(n)}", yaxis=f"y{axis_suffix(n)}")
    return go.Figure(traces, out)


def _extent(shape, pads) -> tuple[list, list]:
    """x and y ranges that show an image of ``shape`` and its padding (y reversed)."""
    h, w = shape[:2]
    top, bottom, left, right = pads
    return [-left - 0.5, w - 0.5 + right], [h - 0.5 + bottom, -top - 0.5]


def frame_budget(image: np.ndarray, fmap: np.ndarray) -> int:
    """How many animation frames fit in :data:`FRAME_BYTES`, each carrying
    the input and the feature map as pictures; between :data:`MIN_FRAMES`
    and :data:`MAX_FRAMES`."""
    each = len(png_uri(to_rgb8(image))) + len(png_uri(colourise(fmap, value_scale(fmap)))) + 400
    return int(np.clip(FRAME_BYTES // each, MIN_FRAMES, MAX_FRAMES))


def _picture(source: str, axis: str, x: float, y: float, width: int, height: int) -> dict:
    """A layout image covering ``width`` x ``height`` data units from the top-left ``(x, y)``."""
    return {"source": source, "xref": f"x{axis}", "yref": f"y{axis}", "x": x, "y": y,
            "sizex": width, "sizey": height, "sizing": "stretch", "xanchor": "left",
            "yanchor": "top", "layer": "below"}


def sliding_figure(image: np.ndarray, fmap: np.ndarray, windows: list, positions: list,
                   pads=(0, 0, 0, 0), duration_ms: int = 300, white: float = 1.0):
    """An animation of the window sliding over the input (left) while the
    feature map fills in (right), position after position.

    Every frame carries both pictures, so whichever frame is shown (playing,
    paused or picked on the slider) draws the whole scene: its
    ``layout.images`` hold 0, the padded input (a PNG) and 1, the feature map
    so far (a PNG, the positions not yet reached in reading order left
    transparent); its traces are 0, the window and 1, the output cell being
    filled. Pictures are layout images, not image traces: Plotly sets a
    layout image from a data URI at once, while it reloads an image trace
    after each redraw and shows nothing for a moment (measured: about one
    animation frame in six blank).

    Args:
        image: ``(H, W)`` or ``(H, W, 3)`` in [0, 1].
        fmap: ``(O_h, O_w)`` feature map, coloured by :func:`cnnlib.viz.colour.value_scale`.
        windows: one :class:`cnnlib.conv.window.KernelWindow` per frame.
        positions: the output ``(row, col)`` of each frame, same length.
        pads: ``(top, bottom, left, right)``: the padding is drawn as zeros.
        duration_ms: time per frame when playing.
        white: as :func:`cnnlib.viz.colour.value_scale`.
    """
    h, w = image.shape[:2]
    top, bottom, left, right = pads
    padded = np.zeros((h + top + bottom, w + left + right, 3), np.uint8)
    padded[top:top + h, left:left + w] = to_rgb8(image)
    source = _picture(png_uri(padded), "", -left - 0.5, -top - 0.5, padded.shape[1], padded.shape[0])
    oh, ow = fmap.shape
    colours = colourise(fmap, value_scale(fmap, white))  # (O_h, O_w, 3)
    order = np.arange(oh * ow).reshape(oh, ow)  # reading order of the outputs
    frames, steps = [], []
    for k, (window, (r, c)) in enumerate(zip(windows, positions)):
        done = (order <= r * ow + c).astype(np.uint8)[..., None] * 255
        so_far = _picture(png_uri(np.concatenate([colours, done], axis=2)), "2", -0.5, -0.5, ow, oh)
        (xa, ya), (xb, yb) = _box(*window.box), _box(r, c, r, c)
        frames.append({"name": str(k), "traces": [0, 1], "layout": {"images": [source, so_far]},
                       "data": [{"type": "scatter", "x": xa, "y": ya},
                                {"type": "scatter", "x": xb, "y": yb}]})
        steps.append({"method": "animate", "label": f"({r},{c})",
                      "args": [[str(k)], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                          "transition": {"duration": 0}}]})
    traces = [_outline(*windows[0].box, name="window"),
              _outline(*positions[0], *positions[0], name="output position", width=3)]
    fig = _panels(traces, [0, 1], 1, 2, ["Input and window", "Feature map filling in"],
                  height=460, margin={"l": 4, "r": 4, "t": 30, "b": 90})
    spec = fig.to_plotly_json()
    lay = spec["layout"]
    lay["images"] = frames[0]["layout"]["images"]
    lay["xaxis"]["range"], lay["yaxis"]["range"] = _extent(image.shape, pads)
    lay["xaxis2"]["range"], lay["yaxis2"]["range"] = _extent(fmap.shape, (0, 0, 0, 0))
    lay["yaxis"].pop("autorange", None)
    lay["yaxis2"].pop("autorange", None)
    play = {"frame": {"duration": duration_ms, "redraw": True}, "fromcurrent": True,
            "transition": {"duration": 0}}
    lay["updatemenus"] = [{
        "type": "buttons", "direction": "left", "showactive": False, "x": 0, "y": -0.04,
        "xanchor": "left", "yanchor": "top",
        "buttons": [{"label": "Play", "method": "animate", "args": [None, play]},
                    {"label": "Pause", "method": "animate",
                     "args": [[None], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                       "transition": {"duration": 0}}]}]}]
    lay["sliders"] = [{"steps": steps, "x": 0.22, "len": 0.78, "y": -0.02, "yanchor": "top",
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
                                                           "color": WINDOW, "line": {"width": 2}},
                                   name="window winner", showlegend=False,
                                   hovertemplate="winner at row %{y}, col %{x}<extra></extra>"))
            cells.append(0)
    return _panels(data, cells, 1, 2, titles, margin={"l": 4, "r": 4, "t": 30, "b": 50})
