"""The Train page's live view: the network learning, drawn from the worker's last
snapshot event (the first conv layer's kernels and one test image's feature maps),
as every page draws a layer (:mod:`cnnlib.viz.grids`, one scale for the layer).

Not a page itself (app.py does not route to it); pages/train.py imports it.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnlib import jobs
from cnnlib.viz import colour, grids
from cnnlib.viz.raster import factor_for, repeat


def snapshot_grids(snap: dict) -> tuple[grids.Grid, grids.Grid]:
    """The live view's two grids of a snapshot event: the first conv layer's kernels and
    the feature maps sent (the first channels), on the layer's one scale (its
    ``maps_range`` over all channels; the maps sent, for an event that has none)."""
    kern = np.asarray(snap["kernels"], np.float32)  # (K_h, K_w, C, F)
    maps = np.asarray(snap["maps"], np.float32)  # (H, W, F')
    scale = grids.layer_scale(np.asarray(snap.get("maps_range", maps), np.float32))
    return grids.kernel_grid(kern, cols=8), grids.map_grid(maps, cols=8, scale=scale)


def show_snapshot(job: jobs.Job) -> None:
    """The network learning: the first conv layer's kernels and one test image's feature
    maps, as the worker last sent them."""
    snap = job.snapshot
    if snap is None or job.done:
        return
    st.markdown(f"**The network learning**: layer `{snap['layer']}` at epoch {snap['epoch']}, "
                f"batch {snap['batch']} (redrawn every {job.config.snapshot_every_s:g} s)")
    c1, c2 = st.columns(2)
    kernel_grid, map_grid = snapshot_grids(snap)
    kh, kw, _, filters = np.shape(snap["kernels"])
    c1.image(repeat(kernel_grid.picture, factor_for(kernel_grid.picture.shape, 480)),
             caption=f"{len(kernel_grid.channels)} of its {filters} kernels ({kh}x{kw}), "
                     f"{colour.caption(kernel_grid.scale, 'the kernels')}", width="stretch")
    h, w = map_grid.map_hw
    c2.image(repeat(map_grid.picture, factor_for(map_grid.picture.shape, 640)),
             caption=f"feature maps of the first test image ({h}x{w}, first {len(map_grid.channels)} "
                     f"channels), {colour.caption(map_grid.scale)}", width="stretch")
