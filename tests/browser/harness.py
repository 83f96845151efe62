"""Browser-test harness (helpers): a real `streamlit run app.py` driven by Debian's Chromium.

The server (:mod:`tests.support.server`) starts once per test session on 127.0.0.1 and a free port; the
tests wait for ``/_stcore/health`` and the server is stopped by its process
id at the end. Without /usr/bin/chromium (or Playwright) every browser test
is skipped, and the summary says so.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import shutil
import time
from pathlib import Path

from testutil import REPO

from tests.support.server import CHROMIUM, CHROMIUM_ARGS, StreamlitServer  # noqa: F401

ARTIFACTS = REPO / "test-artifacts"


def _why_no_browser() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (install Debian's 'chromium' package)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed"
    return None


NO_BROWSER = _why_no_browser()


def Server(env_extra: dict | None = None, extra_args: list[str] | None = None) -> StreamlitServer:
    """Start ``streamlit run app.py`` for a test, logging to test-artifacts/, and wait until healthy."""
    ARTIFACTS.mkdir(exist_ok=True)
    srv = StreamlitServer(env_extra, extra_args, log_path=ARTIFACTS / f"server-{time.time_ns()}.log")
    srv.wait_healthy()
    return srv


def open_page(page, server, path: str = ""):
    """Go to a page of the app and wait until its script has finished running."""
    page.goto(f"{server.url}/{path}")
    wait_idle(page)


def wait_idle(page, timeout: float = 90_000) -> None:
    """Wait until Streamlit shows the app and no script run is in progress."""
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')",
        timeout=timeout)
    page.wait_for_timeout(300)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "screenshots" / f"{name}.png"
    path.parent.mkdir(exist_ok=True)
    # Streamlit scrolls inside its main container: grow the viewport to show all of it
    size = page.viewport_size
    height = page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                           " return m ? m.scrollHeight : 0; }")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(height + 50, 8000))})
    page.wait_for_timeout(300)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


def assert_no_errors(page) -> None:
    main = page.locator('[data-testid="stMain"]')
    exceptions = main.locator('[data-testid="stException"]')
    errors = main.locator('[data-testid="stAlertContentError"]')
    assert exceptions.count() == 0, exceptions.first.inner_text()
    assert errors.count() == 0, errors.first.inner_text()


def main(page):
    """The page's own content (Streamlit's header has buttons of its own, e.g. Stop)."""
    return page.locator('[data-testid="stMain"]')


def draw(page, strokes) -> dict:
    """Draw ``strokes`` (lists of (x, y) canvas pixels) with the mouse over the page's
    last canvas; the drawing reaches Python when each stroke ends. Returns the canvas's
    bounding box."""
    canvas = main(page).locator("canvas").last
    canvas.wait_for()
    box = canvas.bounding_box()
    for stroke in strokes:
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in stroke:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=2)
        page.mouse.up()
    return box


def draw_touch(page, strokes, pause_ms: int = 300) -> dict:
    """Draw ``strokes`` (lists of (x, y) canvas pixels) with one finger over the page's last
    canvas, as :func:`draw` does with the mouse: each stroke is a CDP
    ``Input.dispatchTouchEvent`` touchStart, touchMoves (each segment in two steps) and a
    touchEnd, and a stroke follows the previous one after ``pause_ms``, as a hand lifts
    and comes down again. Needs a context made with ``has_touch=True``. Returns the
    canvas's bounding box (viewport CSS pixels, the coordinates CDP takes)."""
    canvas = main(page).locator("canvas").last
    canvas.wait_for()
    box = canvas.bounding_box()
    cdp = page.context.new_cdp_session(page)
    try:
        for k, stroke in enumerate(strokes):
            if k:
                page.wait_for_timeout(pause_ms)
            points = [(box["x"] + x, box["y"] + y) for x, y in stroke]
            moves = [((ax + bx) / 2, (ay + by) / 2) if half else (bx, by)
                                   for (ax, ay), (bx, by) in itertools.pairwise(points)
                                   for half in (True, False)]
            cdp.send("Input.dispatchTouchEvent", {"type": "touchStart",
                                                  "touchPoints": [{"x": points[0][0], "y": points[0][1]}]})
            for x, y in moves:
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        cdp.detach()
    return box


def hover_readout(page, key: str, fx: float, fy: float, pattern: str,
                  timeout: float = 30.0) -> tuple[re.Match, float, float]:
    """Hover a click-a-cell picture (pages/cell_picker.js) of the element keyed ``key``
    at a fraction (fx, fy) of its size and return the read-out's match of ``pattern``
    with the mouse position. The picture can be drawn again under the mouse while the
    page settles (which resets the read-out to its hint and may move the picture), so
    the hover is repeated, from a fresh bounding box, until the read-out matches."""
    picture = page.locator(f".st-key-{key} img")
    readout = page.locator(f".st-key-{key} .cell-picker-readout")
    deadline = time.monotonic() + timeout
    text = ""
    while True:
        picture.scroll_into_view_if_needed()
        box = picture.bounding_box()
        x, y = box["x"] + box["width"] * fx, box["y"] + box["height"] * fy
        page.mouse.move(x - 2, y - 2)
        page.mouse.move(x, y)
        text = readout.inner_text()
        found = re.match(pattern, text)
        if found:
            return found, x, y
        if time.monotonic() > deadline:
            raise AssertionError(f"the read-out of {key} says {text!r}, not {pattern!r}")
        page.wait_for_timeout(250)


#: Chromium answers getUserMedia with a generated test pattern and grants it unasked.
FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@contextlib.contextmanager
def camera_page(browser, srv, cookies: list[dict] | None = None):
    """A page of a second Chromium with the fake camera (:data:`FAKE_CAMERA`), launched by
    the session's Playwright (one sync Playwright a process), at 1280x720 with the camera
    granted and ``cookies`` set; the server ``srv`` is stopped when it closes."""
    camera_browser = None
    try:
        camera_browser = browser.browser_type.launch(executable_path=CHROMIUM,
                                                     args=CHROMIUM_ARGS + FAKE_CAMERA)
        context = camera_browser.new_context(viewport={"width": 1280, "height": 720},
                                             permissions=["camera"])
        if cookies:
            context.add_cookies(cookies)
        page = context.new_page()
        page.set_default_timeout(60_000)
        yield page
    finally:
        if camera_browser is not None:
            camera_browser.close()
        srv.stop()


@contextlib.contextmanager
def fresh_tabs(browser, **context_options):
    """A maker of tabs, each in a fresh browser context (sessions do not mix) made with
    ``context_options`` (a viewport, touch) and the options of the call, with a 90 s
    default timeout; every context is closed when the block ends."""
    contexts = []

    def new_tab(**options):
        context = browser.new_context(**context_options, **options)
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(90_000)
        return tab

    try:
        yield new_tab
    finally:
        for context in contexts:
            context.close()
