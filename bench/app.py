"""The app as a person meets it: start time, TensorFlow imports, server memory.

Starts ``streamlit run app.py`` on a free local port and drives Debian's
Chromium with Playwright (both needed; without them the rows say why they
were skipped):

* app start: from launching ``streamlit run`` to the home page's title shown
  in the browser (absolute and noisy: a report, no target);
* whether the server process has TensorFlow loaded after the home page and
  after the Convolution page (target: not loaded), read from the process's
  memory map (``/proc/<pid>/maps``);
* the server's resident memory (``VmRSS``) idle on the home page, with the
  digit model loaded (Classify page), and with VGG16 loaded (a photo uploaded;
  the weights are a randomly initialised VGG16 saved to a temporary file, so
  no download is needed).

The server is the browser tests' :class:`tests.support.server.StreamlitServer`:
one implementation, so the benchmark measures the app exactly as the tests see it.
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from tests.support.server import CHROMIUM, CHROMIUM_ARGS, StreamlitServer

from . import SHARED_DATA
from .common import row


def _wait_title(page, text: str, timeout_ms: int = 120_000) -> None:
    page.wait_for_function(
        "t => [...document.querySelectorAll('[data-testid=\"stMain\"] h1')].some(h => h.innerText.startsWith(t))",
        arg=text, timeout=timeout_ms)


def _draw_a_one(page) -> None:
    canvas = page.locator('[data-testid="stMain"] canvas').last
    canvas.wait_for(timeout=120_000)
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 140, box["y"] + 50)
    page.mouse.down()
    for t in range(21):
        page.mouse.move(box["x"] + 140, box["y"] + 50 + 9 * t)
    page.mouse.up()


def _photo_png() -> bytes:
    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray((np.random.default_rng(0).random((240, 320, 3)) * 255).astype("uint8")).save(buf, "PNG")
    return buf.getvalue()


def _skipped(reason: str) -> list[dict]:
    return [row("app start / memory: SKIPPED", None, "", target=reason, ok=None)]


def run(quick: bool = False) -> list[dict]:
    if not Path(CHROMIUM).exists():
        return _skipped(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return _skipped("Playwright is not installed")
    from cnnlib.models import vgg16

    tmp = Path(tempfile.mkdtemp(prefix="cnn-bench-app-"))
    env = {"CNN_STUDIO_RUNS_DIR": str(tmp / "runs"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    shared_index = SHARED_DATA / "imagenet_class_index.json"
    if shared_index.exists() and "CNN_STUDIO_IMAGENET_CLASS_INDEX" not in os.environ:
        env["CNN_STUDIO_IMAGENET_CLASS_INDEX"] = str(shared_index)
    rows = []
    try:
        weights = tmp / "vgg16_random.weights.h5"  # a randomly initialised VGG16 (528 MB)
        vgg16.build(weights=None).save_weights(weights)
        env["CNN_STUDIO_VGG16_WEIGHTS"] = str(weights)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            starts = []
            for i in range(1 if quick else 3):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                server = StreamlitServer(env)
                try:
                    server.wait_healthy()
                    page.goto(server.url)
                    _wait_title(page, "CNN Studio")
                    starts.append(time.perf_counter() - server.t0)
                    if i > 0:
                        continue
                    # the last run goes on: memory and imports page by page
                    page.wait_for_timeout(1500)
                    idle, tf_home = server.rss_mib(), server.tensorflow_loaded()
                    page.goto(server.url + "/convolution")
                    _wait_title(page, "Convolution")
                    page.wait_for_timeout(1500)
                    tf_conv = server.tensorflow_loaded()
                    page.goto(server.url + "/classify")
                    _wait_title(page, "Classify")
                    _draw_a_one(page)  # the digit model loads for the first prediction
                    page.locator('[data-testid="stMetric"]').wait_for(timeout=120_000)
                    page.wait_for_timeout(1500)
                    digit = server.rss_mib()
                    page.get_by_role("tab", name="Photo through VGG16").click()
                    page.locator(".st-key-classify_upload input[type=file]").set_input_files(
                        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": _photo_png()}])
                    page.wait_for_function("() => document.body.innerText.includes('VGG16 top-5')",
                                           timeout=300_000)
                    page.wait_for_timeout(1500)
                    with_vgg = server.rss_mib()
                finally:
                    page.close()
                    server.stop()
            browser.close()
        rows.append(row("app start: streamlit run to home page shown", statistics.median(starts), "s",
                        min_value=min(starts), max_value=max(starts), target="report", ok=None,
                        detail=f"{len(starts)} cold starts, Chromium already running"))
        rows.append(row("TensorFlow loaded after the home page", tf_home, "", target="False",
                        ok=not tf_home))
        rows.append(row("TensorFlow loaded after the Convolution page", tf_conv, "", target="False",
                        ok=not tf_conv))
        for label, value in (("idle (home page)", idle), ("with the digit model (Classify)", digit),
                             ("with VGG16 loaded (a photo classified)", with_vgg)):
            rows.append(row(f"server memory, {label}", value, "MiB RSS", target="report", ok=None))
        return rows
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
