"""The Train page's live view of one job: its status, Stop or Cancel, progress, the
curves, and the network learning, drawn from the worker's last snapshot event (the
first conv layer's kernels and one test image's feature maps), as every page draws
a layer (:mod:`cnnlib.viz.grids`, one scale for the layer).

Not a page itself (app.py does not route to it); pages/train.py imports it.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnlib import jobs, rundir
from cnnlib.training import lessons
from cnnlib.viz import colour, grids, train_plots
from cnnlib.viz.raster import factor_for, repeat
from pages import common
from pages.train_lessons import lesson_box


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


def show_progress(job: jobs.Job) -> None:
    """The job's progress bar: epoch, batch, speed and the time left (or its end)."""
    if job.state == "starting":
        st.progress(0.0, text=f"Starting the training process for {job.describe()}...")
        return
    p = job.progress()
    if p is None:
        st.progress(0.0, text="Loading data and building the model...")
        return
    end = job.last("end")
    text = (f"epoch {p.epoch}/{job.config.epochs}, batch {p.batch}/{p.batches}, "
            f"{p.samples_per_s:,.0f} samples/s, ")
    if end is not None:
        text += f"done in {end['elapsed']:,.0f} s"
    elif p.fraction >= 1 or job.stop_requested:
        text += "evaluating on the test images..."
    elif p.seconds_left is not None:
        text += f"{p.seconds_left:,.0f} s left"
    st.progress(p.fraction, text=text)


def show_curves(job: jobs.Job) -> None:
    """Loss and accuracy per batch and per epoch, as the worker reported them."""
    c1, c2 = st.columns(2)
    c1.plotly_chart(train_plots.batch_curves(job.of_type("batch")), key=f"train_batch_{job.id}")
    c2.plotly_chart(train_plots.epoch_curves(job.of_type("epoch")), key=f"train_epoch_{job.id}")


STATUS = {"queued": "queued", "starting": "starting", "running": "running",
          "finished": "finished", "stopped": "stopped (the best epoch so far was kept)",
          "failed": "failed", "cancelled": "cancelled (it never ran)",
          "interrupted": "interrupted (the server stopped during the run)"}


def queue_panel(job: jobs.Job, manager: jobs.JobManager, owner: str, on_stop) -> None:
    """A queued job: its place in the queue, the wait, and a Cancel button (``on_stop(job_id)``)."""
    left, right = st.columns([1, 6], vertical_alignment="center")
    left.button("Cancel", key="train_cancel", help="Takes your job out of the queue.",
                on_click=on_stop, args=(job.id,))
    estimate = manager.wait_estimate(job)
    where = (f": number {estimate.position} in the queue, estimated wait "
             f"{estimate.describe()}" if estimate else "")
    right.markdown(f"Status: **queued** ({job.config.model_title()} on {job.config.dataset}){where}.")
    st.caption(manager.queue_view(owner).describe())


def live_panel(job_id: str, manager: jobs.JobManager, owner: str, on_stop) -> None:
    """One job of ``owner``'s, polled by a fragment: its status, Stop (``on_stop(job_id)``),
    progress, the lesson box, the curves and the network learning; when the job ends
    while polled, the whole page is run again to show the results."""
    job = manager.get(job_id, owner)
    if job is None:  # let go of by the manager (many jobs ended since)
        return
    job.poll()
    if not common.presenting():
        st.subheader(f"Job {job.id}: {job.config.model_title()} on {job.config.dataset}")
    if job.state == "queued":
        queue_panel(job, manager, owner, on_stop)
        return
    left, right = st.columns([1, 6], vertical_alignment="center")
    if not job.done:  # Stop first, beside the status: always on screen with the curves
        left.button("Stop", key="train_stop", help="Stops after the current batch.",
                    on_click=on_stop, args=(job.id,))
    right.markdown(f"Status: **{STATUS[job.state]}** ({job.config.model_title()} on {job.config.dataset})"
                   + (f", trained on {job.where}" if job.where else "")
                   + (" - stopping after the current batch..." if job.stop_requested and not job.done
                      else ""))
    if job.state == "cancelled":
        return
    end = job.last("end")
    if end is not None:
        st.markdown(rundir.status_sentence(end, job.config.to_dict()))
    show_progress(job)
    if job.config.lesson in lessons.LESSONS:
        lesson_box(lessons.LESSONS[job.config.lesson], job.config, job.events)
    show_curves(job)
    show_snapshot(job)
    if job.state in ("failed", "interrupted"):
        st.error(f"The training job {job.state}: {job.error}")
    if job.done and st.session_state.get("train_live_job") == job.id:
        # the job ended while this fragment was polling: redraw the whole page with the results
        st.session_state["train_live_job"] = None
        st.rerun()
