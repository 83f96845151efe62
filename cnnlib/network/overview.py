"""Everything the overview of one input shows, in one call: every layer's output,
how each layer is drawn (a grid of feature maps, bars, or a sentence), and the
class scores at the end.

:func:`overview` runs the layer-outputs model once; :func:`grid` draws one page
of a layer's maps (:mod:`cnnlib.viz.grids`). Layers drawn as maps: the input and
every layer whose output is ``(H, W, C)``, except those that pass their input
through unchanged (dropout: the sentence says so). Layers drawn as bars:
vectors ``(K,)`` computed by a dense layer, global pooling, batch norm,
scaling or an activation; a vector longer than :data:`MAX_BARS` shows its
:data:`TOP_BARS` largest values (by magnitude). ``Flatten`` is a sentence: it
only lays the maps out in a row.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from cnnlib.network.layer_outputs import layer_outputs
from cnnlib.network.layers import LayerInfo
from cnnlib.network.scores import Scores, class_scores
from cnnlib.viz.grids import PER_PAGE, Grid, channel_order, map_grid, page_of, pages

MAX_BARS = 128
TOP_BARS = 64


@dataclasses.dataclass(frozen=True)
class LayerView:
    """How one layer is drawn.

    Attributes:
        info: the layer.
        how: ``"maps"``, ``"bars"`` or ``"text"``.
        order: for maps, the channels from the most to the least active (int64 ``(C,)``).
        units: for bars, the units drawn (int64, ascending).
        values: for bars, their values (float32, same length).
    """

    info: LayerInfo
    how: str
    order: np.ndarray | None = None
    units: np.ndarray | None = None
    values: np.ndarray | None = None

    @property
    def pages(self) -> int:
        """Pages of :data:`cnnlib.viz.grids.PER_PAGE` channels (1 when all fit)."""
        return pages(len(self.order), PER_PAGE) if self.order is not None else 1


@dataclasses.dataclass(frozen=True)
class Overview:
    """One input through a whole chain.

    Attributes:
        chain: the :func:`~cnnlib.network.reader.chain` (one LayerInfo a layer).
        outputs: each layer's output for the input, without the batch axis,
            float32, the input first (read-only).
        views: one :class:`LayerView` per layer.
        scores: the logits and probabilities, or None when the model does not end
            in one vector of scores (``scores_error`` says why).
    """

    chain: list[LayerInfo]
    outputs: list[np.ndarray]
    views: list[LayerView]
    scores: Scores | None
    scores_error: str | None = None


def _view(info: LayerInfo, out: np.ndarray) -> LayerView:
    if out.ndim == 3 and info.kind != "identity":
        return LayerView(info, "maps", order=channel_order(out))
    if out.ndim == 1 and info.kind in ("dense", "global_pool", "batchnorm", "scale", "activation", "softmax"):
        units = np.arange(len(out))
        if len(out) > MAX_BARS:
            units = np.sort(np.argsort(-np.abs(out), kind="stable")[:TOP_BARS])
        return LayerView(info, "bars", units=units, values=out[units])
    return LayerView(info, "text")


def overview(chain: list[LayerInfo], extractor, x: np.ndarray) -> Overview:
    """Run one input through the chain and decide how each layer is drawn.

    Args:
        chain: a :func:`~cnnlib.network.reader.chain`.
        extractor: its :func:`~.layer_outputs.extractor`.
        x: float32 ``(1, H, W, C)``, the input as the model takes it.

    Returns:
        An :class:`Overview`.
    """
    outputs = [o[0] for o in layer_outputs(extractor, x)]
    for out in outputs:
        out.flags.writeable = False
    views = [_view(info, out) for info, out in zip(chain, outputs)]
    try:
        scores, error = class_scores(chain, outputs), None
    except ValueError as e:
        scores, error = None, str(e)
    return Overview(chain, outputs, views, scores, error)


def grid(whole: Overview, index: int, page: int = 0, cols: int = 8) -> Grid:
    """Page ``page`` of layer ``index``'s maps as a :class:`cnnlib.viz.grids.Grid` (the
    layer's own colour scale over all its channels)."""
    view = whole.views[index]
    return map_grid(whole.outputs[index], page_of(view.order, page), cols=cols)
