"""Presentation mode (issue 12, point 1) in a real browser at 1280x720: the projector's size,
and a 1920x1080 screen zoomed to 150 % (the same 1280x720 CSS viewport).

Each page is opened with ``?present=1`` (or switched on with the toggle) and measured as
drawn: the sidebar collapsed, no Deploy button or toolbar, text and chart labels large
enough to read from the back of a room, and each page's main idea inside the screen
(bounding boxes). The screens are saved to test-artifacts/screenshots/present-<page>.png.

The "fits one screen" checks that need a page's own layout to change (not this mode's
style) are marked xfail, naming the change; they pass once the page makes it.
"""

from __future__ import annotations

import pytest
from harness import ARTIFACTS, REPO, assert_no_errors, draw, fresh_tabs, main, open_page, wait_idle

pytestmark = pytest.mark.browser

SCREEN = {"width": 1280, "height": 720}
MIN_TEXT_PX = 20  # body text, captions, widget labels
MIN_LABEL_PX = 16  # Plotly tick labels

#: What the eye sees of Streamlit's chrome, the text and the charts' tick labels.
CHROME_JS = """() => {
  const visible = e => { if (!e) return false; const s = getComputedStyle(e), b = e.getBoundingClientRect();
                         return s.display !== 'none' && s.visibility !== 'hidden' && b.width > 0 && b.height > 0; };
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  const box = sidebar ? sidebar.getBoundingClientRect() : null;
  const shown = ['stAppDeployButton', 'stMainMenu', 'stToolbarActions', 'stDecoration']
    .filter(id => [...document.querySelectorAll(`[data-testid="${id}"]`)].some(visible));
  const main = '[data-testid="stMain"] ';
  const text = [...document.querySelectorAll([main + '[data-testid="stMarkdownContainer"] p',
      main + '[data-testid="stMarkdownContainer"] li', main + '[data-testid="stCaptionContainer"]',
      main + '[data-testid="stWidgetLabel"] p'].join(','))]
    .filter(visible).map(e => [parseFloat(getComputedStyle(e).fontSize), e.innerText.slice(0, 40)]);
  const ticks = [...document.querySelectorAll(main + '.js-plotly-plot .xtick text,' + main + '.js-plotly-plot .ytick text,'
                                             + main + '.cell-picker-ticks span')]
    .map(t => parseFloat(getComputedStyle(t).fontSize));
  return {sidebar: box && {right: box.right, width: box.width}, shown, text, ticks};
}"""


# ------------------------------------------------------------------ helpers --
#: The Convolution page's feature map (a picture with a colour bar, not a chart) is drawn.
MAP_DRAWN_JS = ("() => { const i = document.querySelector('.st-key-conv_fig_map img');"
                " return !!(i && i.complete && i.naturalWidth > 0"
                " && document.querySelector('.st-key-conv_fig_map .cell-picker-ticks span')); }")


def chrome(page) -> dict:
    return page.evaluate(CHROME_JS)


def assert_presenting(info: dict) -> None:
    """Sidebar collapsed, no toolbar or Deploy button, every visible text >= 20 px."""
    side = info["sidebar"]
    assert side is None or side["width"] == 0 or side["right"] <= 0, f"sidebar open: {side}"
    assert info["shown"] == [], f"Streamlit chrome still visible: {info['shown']}"
    assert info["text"], "no text measured"
    small = [t for t in info["text"] if t[0] < MIN_TEXT_PX]
    assert not small, f"text under {MIN_TEXT_PX} px: {small[:5]}"


def assert_large_chart_labels(info: dict) -> None:
    assert info["ticks"], "no chart tick labels measured"
    assert min(info["ticks"]) >= MIN_LABEL_PX, f"tick labels {sorted(set(info['ticks']))} px"


def box(locator, tries: int = 10) -> dict | None:
    """The element's bounding box, or None when it is not on the page. A live chart is
    replaced on every poll of the page (twice a second), so a miss is retried briefly."""
    for _ in range(tries):
        b = locator.bounding_box() if locator.count() else None
        if b is not None:
            return b
        locator.page.wait_for_timeout(100)
    return None


def outside(boxes: dict) -> dict:
    """The boxes (name -> Playwright bounding box) not wholly inside the screen; a missing
    element counts as outside."""
    def inside(b):
        return (b is not None and b["x"] >= -1 and b["y"] >= -1
                and b["x"] + b["width"] <= SCREEN["width"] + 1
                and b["y"] + b["height"] <= SCREEN["height"] + 1)
    return {name: b for name, b in boxes.items() if not inside(b)}


def to_top(page) -> None:
    """Scroll back to the top, where the audience starts (Streamlit scrolls its main block)."""
    page.evaluate("() => { document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0);"
                  " window.scrollTo(0, 0); }")
    page.wait_for_timeout(300)


def save(page, name: str) -> None:
    """The screen as the audience sees it (the viewport, not the whole page)."""
    path = ARTIFACTS / "screenshots" / f"present-{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


class Shot:
    """One page opened in presentation mode and measured once."""

    def __init__(self, info: dict, boxes: dict):
        self.info, self.boxes = info, boxes


@pytest.fixture(scope="module")
def screen(browser):
    """A 1280x720 tab; a fresh context per page so that sessions do not mix."""
    with fresh_tabs(browser, viewport=SCREEN) as new_tab:
        yield new_tab


# ------------------------------------------------------------------- pages --
def measure_home(page, server) -> Shot:
    open_page(page, server, "?present=1")
    assert_no_errors(page)
    save(page, "home")
    links = main(page).locator('[data-testid="stPageLink"]')
    boxes = {"title": box(main(page).locator("h1").first),
             "diagnostics": box(main(page).locator('[data-testid="stExpander"]').first)}
    boxes.update({f"link {k}": box(links.nth(k)) for k in range(links.count())})
    return Shot(chrome(page), boxes)


def measure_convolution(page, server) -> Shot:
    open_page(page, server, "convolution?present=1&conv_sample=house&conv_kernel=sobel+x")
    assert_no_errors(page)
    page.wait_for_function(MAP_DRAWN_JS)
    save(page, "convolution")
    boxes = {"input": box(main(page).locator('[data-testid="stImage"] img').first),
             "kernel": box(main(page).locator('[role="img"][aria-label^="kernel"]').first),
             "map": box(page.locator(".st-key-conv_fig_map")),
             "formula": box(main(page).locator(".katex-display").first)}
    return Shot(chrome(page), boxes)


DIGIT_7 = [[(70 + 130 * t / 20, 60) for t in range(21)]
           + [(200 - 80 * t / 20, 60 + 170 * t / 20) for t in range(21)]]


def measure_classify(page, server) -> Shot:
    open_page(page, server, "classify?present=1")
    assert_no_errors(page)
    canvas = draw(page, DIGIT_7)
    page.locator('[data-testid="stMetric"]').wait_for(timeout=90_000)
    wait_idle(page)
    page.locator(".st-key-classify_digit_chart .js-plotly-plot .xtick text").first.wait_for()
    assert_no_errors(page)
    save(page, "classify")
    boxes = {"canvas": canvas, "prediction": box(page.locator('[data-testid="stMetric"]')),
             "probabilities": box(page.locator(".st-key-classify_digit_chart"))}
    return Shot(chrome(page), boxes)


BATCH_POINTS_JS = """() => {
  const gd = document.querySelector('[class*="st-key-train_batch_"] .js-plotly-plot');
  const d = gd && gd._fullData && gd._fullData[0];
  return d ? (d._length ?? d.x.length ?? 0) : 0;
}"""


def measure_train(page, server) -> Shot:
    """Start a short MNIST job, measure while it runs, then stop it (the test server runs
    one job at a time)."""
    open_page(page, server, "train?present=1")
    assert_no_errors(page)
    box_ = main(page).get_by_label("Training images", exact=True)
    box_.fill("4000")
    box_.press("Enter")
    wait_idle(page)
    slider = main(page).locator('[data-testid="stSlider"]').filter(
        has_text="Batch size").get_by_role("slider")
    slider.focus()
    for _ in range(3):  # 64 -> 8: about 500 batches, long enough to measure while it runs
        slider.press("ArrowLeft")
    wait_idle(page)
    main(page).get_by_role("button", name="Train", exact=True).click()
    try:
        page.wait_for_function(f"() => ({BATCH_POINTS_JS})() > 2", timeout=120_000)
        page.wait_for_timeout(1500)  # a few redraws
        to_top(page)
        save(page, "train")
        boxes = {"Train button": box(main(page).get_by_role("button", name="Train", exact=True)),
                 "Stop button": box(main(page).get_by_role("button", name="Stop", exact=True)),
                 "progress": box(main(page).locator('[data-testid="stProgress"]').first),
                 "batch curves": box(page.locator('[class*="st-key-train_batch_"]').first),
                 "epoch curves": box(page.locator('[class*="st-key-train_epoch_"]').first)}
        info = chrome(page)
        try:  # the live panel is replaced twice a second: wait for a complete one
            page.wait_for_function(
                "() => /Status: running/.test(document.querySelector('[data-testid=\"stMain\"]')"
                ".innerText)", timeout=10_000)
            running = True
        except Exception:
            running = False
    finally:
        stop = main(page).get_by_role("button", name="Stop", exact=True)
        if stop.count():
            stop.click()
        page.wait_for_function("() => /Status: (stopped|finished|failed)/.test(document.body.innerText)",
                               timeout=120_000)
    assert running, "the job was not running when measured"
    return Shot(info, boxes)


MEASURE = {"home": measure_home, "convolution": measure_convolution,
           "classify": measure_classify, "train": measure_train}


@pytest.fixture(scope="module")
def shots(screen, server):
    """page name -> its Shot, measured on first use."""
    done = {}

    def shot(name: str) -> Shot:
        if name not in done:
            done[name] = MEASURE[name](screen(), server)
        return done[name]

    return shot


needs_mnist_model = pytest.mark.skipif(not (REPO / "models" / "mnist.keras").exists(),
                                       reason="the bundled models/mnist.keras is absent")
PAGES = ["home", "convolution", pytest.param("classify", marks=needs_mnist_model), "train"]


# ------------------------------------------------------------------- tests --
@pytest.mark.parametrize("name", PAGES)
def test_presentation_mode_collapses_the_sidebar_hides_the_toolbar_and_enlarges_text(shots, name):
    assert_presenting(shots(name).info)


@pytest.mark.parametrize("name", PAGES[1:])
def test_chart_tick_labels_are_at_least_16_px(shots, name):
    assert_large_chart_labels(shots(name).info)


def test_home_fits_one_screen(shots):
    boxes = shots("home").boxes
    assert sum(name.startswith("link") for name in boxes) == 7
    assert outside(boxes) == {}


def side_by_side(boxes: dict, names: list[str]) -> bool:
    """Each box starts to the right of the previous one's end."""
    return all(boxes[a]["x"] + boxes[a]["width"] <= boxes[b]["x"] + 1
               for a, b in zip(names, names[1:]))


def test_convolution_input_kernel_and_feature_map_fit_one_screen(shots):
    boxes = shots("convolution").boxes
    assert outside(boxes) == {}
    assert side_by_side(boxes, ["input", "kernel", "map"])
    assert min(boxes[n]["width"] for n in ("input", "kernel", "map")) >= 300


@needs_mnist_model
def test_classify_canvas_beside_the_prediction_fits_one_screen(shots):
    boxes = shots("classify").boxes
    assert outside(boxes) == {}
    assert side_by_side(boxes, ["canvas", "prediction"])
    assert side_by_side(boxes, ["canvas", "probabilities"])


def test_train_buttons_progress_and_live_curves_fit_one_screen(shots):
    assert outside(shots("train").boxes) == {}


# ------------------------------------------------------------------ toggle --
def test_the_toggle_switches_the_mode_keeps_it_across_pages_and_enlarges_drawn_charts(screen, server):
    page = screen()
    open_page(page, server, "convolution")
    page.wait_for_function(MAP_DRAWN_JS)
    before = chrome(page)
    assert before["sidebar"]["width"] > 0 and "stAppDeployButton" not in before["shown"]
    assert max(before["ticks"]) < MIN_LABEL_PX  # the ordinary size
    toggle = page.locator(".st-key-app_present_box").get_by_text("Presentation mode")
    toggle.click()
    page.wait_for_url("**present=1**")
    wait_idle(page)
    page.wait_for_timeout(1000)  # the sidebar's closing transition
    info = chrome(page)
    assert_presenting(info)
    assert_large_chart_labels(info)  # charts drawn before the switch get the large labels too

    # to another page through the navigation, in the top bar now: the mode stays, in the URL too
    page.locator('[data-testid="stTopNavLink"]').filter(has_text="Home").click()
    page.wait_for_function("() => !location.pathname.endsWith('/convolution')")
    page.wait_for_url("**present=1**")
    wait_idle(page)
    page.wait_for_timeout(1000)
    assert main(page).locator("h1").first.inner_text().strip() == "CNN Studio"
    assert_presenting(chrome(page))

    # Home's lecture path: its first link opens Convolution on the lesson's setting, still presenting
    main(page).locator('[data-testid="stPageLink"]').filter(has_text="edges").click()
    page.wait_for_function("() => location.pathname.endsWith('/convolution')"
                           " && location.search.includes('present=1')"
                           " && location.search.includes('conv_kernel=sobel')")
    wait_idle(page)
    page.wait_for_function(MAP_DRAWN_JS)
    assert main(page).locator("h1").first.inner_text().strip().startswith("Convolution")
    assert_presenting(chrome(page))

    # and off again
    toggle.click()
    page.wait_for_function("() => !location.search.includes('present=1')")
    wait_idle(page)
    page.wait_for_timeout(1000)
    after = chrome(page)
    assert after["sidebar"]["width"] > 0 and page.locator('[data-testid="stSidebarNav"]').is_visible()
    assert max(t[0] for t in after["text"]) < MIN_TEXT_PX
