"""Phones and tablets (issue 24, points 1, 3 and 4) in a real browser with touch: a phone
at 390x844 and a school tablet at 820x1180 (``has_touch``, ``is_mobile``) open every page,
and nothing of the main area reaches past the right edge of the screen: formulas break
into lines at their operators (pages/common.NARROW_CSS) so that the number a formula
computes stays on screen; rows of pictures wrap. A tablet in landscape (1180x820) gets
presentation mode's one-screen layout, measured as test_presentation measures 1280x720.

The screens are saved to test-artifacts/screenshots/narrow-<page>-<phone|tablet>.png,
and each test prints what it measured (run with ``-s`` to read the widths).
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from harness import REPO, assert_no_errors, draw, fresh_tabs, main, open_page, screenshot, wait_idle
from PIL import Image

pytestmark = pytest.mark.browser

SCREENS = {"phone": {"width": 390, "height": 844}, "tablet": {"width": 820, "height": 1180}}
LANDSCAPE_TABLET = {"width": 1180, "height": 820}

#: Every element of the main area whose right edge is past the screen's (or the main
#: area's, beside an open sidebar), unless an
#: ancestor that scrolls sideways (overflow auto or scroll) ends inside the screen (a grid
#: or a table that scrolls inside its own box; one that hides the overflow does not count,
#: unless it is a 1-pixel box for screen readers, as a slider's input);
#: and every formula block wider inside than its box (a formula that scrolls sideways hides its end).
OVERFLOW_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const vw = Math.min(document.documentElement.clientWidth, main.getBoundingClientRect().right);
  const shown = e => { const s = getComputedStyle(e), b = e.getBoundingClientRect();
                       return s.display !== 'none' && s.visibility !== 'hidden' && s.opacity !== '0'
                              && b.width > 0 && b.height > 0; };
  const clippedInside = e => {
    for (let a = e.parentElement; a && a !== main; a = a.parentElement) {
      const s = getComputedStyle(a);
      const r = a.getBoundingClientRect();
      if (/auto|scroll/.test(s.overflowX) && r.right <= vw + 1) return true;
      if (s.overflowX !== 'visible' && (r.width <= 2 || r.height <= 2)) return true;  // for screen readers only
    }
    return false;
  };
  const name = e => (e.getAttribute('data-testid') || e.tagName.toLowerCase())
                    + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : '')
                    + ' "' + (e.innerText || e.getAttribute('aria-label') || '').slice(0, 50) + '"';
  const past = [...main.querySelectorAll('*')].filter(shown)
    .filter(e => e.getBoundingClientRect().right > vw + 1 && !clippedInside(e))
    .map(e => [name(e), Math.round(e.getBoundingClientRect().right)]);
  const formulas = [...main.querySelectorAll('.katex-display')].filter(shown)
    .map(e => ({text: e.innerText.replace(/\\s+/g, ' ').slice(0, 60), scroll: e.scrollWidth, client: e.clientWidth,
                right: Math.round(e.getBoundingClientRect().right)}));
  return {vw, main: [main.scrollWidth, main.clientWidth], past: past.slice(0, 12), formulas};
}"""

#: The number the Sizes formula computes (the last piece of O_h's line), and where it is drawn.
RESULT_JS = """() => {
  const shown = [...document.querySelectorAll('[data-testid="stMain"] .katex-display')]
    .filter(e => e.innerText.includes('O_h') || e.querySelector('.katex-mathml')?.textContent.includes('O_h'));
  return shown.map(e => { const bases = e.querySelectorAll('.katex-html > .base');
    const last = bases[bases.length - 1], b = last.getBoundingClientRect(), box = e.getBoundingClientRect();
    return {text: last.innerText.replace(/\\s+/g, ''), left: b.left, right: b.right,
            boxLeft: box.left, boxRight: box.right}; });
}"""

MAP_DRAWN_JS = ("() => { const i = document.querySelector('.st-key-conv_fig_map img');"
                " return !!(i && i.complete && i.naturalWidth > 0); }")

DIGIT_7 = [[(40 + 110 * t / 20, 50) for t in range(21)]
           + [(150 - 70 * t / 20, 50 + 150 * t / 20) for t in range(21)]]


@pytest.fixture(scope="module")
def device(browser):
    """A fresh touch context (a phone's or a tablet's) per page opened."""
    with fresh_tabs(browser, has_touch=True, is_mobile=True) as new_tab:
        yield lambda viewport: new_tab(viewport=viewport)


def measure(page) -> dict:
    page.wait_for_timeout(500)  # late components (the cell pickers, charts) settle
    return page.evaluate(OVERFLOW_JS)


def assert_fits(info: dict) -> None:
    assert info["main"][0] <= info["main"][1] + 1, f"the main area scrolls sideways: {info['main']}"
    assert info["past"] == [], f"past the right edge ({info['vw']} px): {info['past']}"
    wide = [f for f in info["formulas"] if f["scroll"] > f["client"] + 1 or f["right"] > info["vw"] + 1]
    assert wide == [], f"formulas wider than their box: {wide}"


def open_home(page, server):
    open_page(page, server, "")


def open_train(page, server):
    open_page(page, server, "train")


def open_own_data(page, server):
    open_page(page, server, "own_data")


def open_convolution(page, server):
    open_page(page, server, "convolution")
    page.wait_for_function(MAP_DRAWN_JS)


def open_inside(page, server):
    open_page(page, server, "inside")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stMain\"] .cell-picker-img').length >= 5",
        timeout=90_000)
    wait_idle(page)


def open_classify(page, server):
    """The digit tab with a 7 drawn (its preprocessing row shown)."""
    open_page(page, server, "classify")
    draw(page, DIGIT_7)
    page.get_by_text("Preprocessing, as MNIST was made").wait_for(timeout=90_000)
    wait_idle(page)


def open_classify_photo(page, server):
    """The photo tab with a photo uploaded (its preprocessing row of 180 px pictures)."""
    open_page(page, server, "classify")
    page.get_by_role("tab", name="Photo through VGG16").click()
    wait_idle(page)
    rgb = (np.random.default_rng(0).random((300, 400, 3)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    page.locator(".st-key-classify_upload input[type=file]").set_input_files(
        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": buf.getvalue()}])
    page.get_by_role("heading", name="Preprocessing").wait_for(timeout=90_000)
    wait_idle(page, timeout=240_000)


needs_mnist_model = pytest.mark.skipif(not (REPO / "models" / "mnist.keras").exists(),
                                       reason="the bundled models/mnist.keras is absent")
PAGES = {"home": open_home, "train": open_train, "own_data": open_own_data,
         "convolution": open_convolution, "inside": open_inside, "classify": open_classify,
         "classify_photo": open_classify_photo}
NEEDS_MODEL = {"inside", "classify"}


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("name", [pytest.param(n, marks=needs_mnist_model) if n in NEEDS_MODEL else n
                                  for n in PAGES])
def test_nothing_reaches_past_the_right_edge(device, server, name, screen):
    page = device(SCREENS[screen])
    PAGES[name](page, server)
    if name == "classify_photo":  # without VGG16's weights the page says so in an error box
        assert main(page).locator('[data-testid="stException"]').count() == 0
    else:
        assert_no_errors(page)
    info = measure(page)
    print(f"\n{name} at {screen}: formulas {[(f['scroll'], f['client']) for f in info['formulas']]}"
          f" past {info['past']}")
    screenshot(page, f"narrow-{name}-{screen}")
    assert_fits(info)


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_convolution_result_is_on_screen(device, server, screen):
    """The output-size formula with the current numbers ends in the feature map's size,
    drawn inside its block and inside the screen."""
    page = device(SCREENS[screen])
    open_convolution(page, server)
    size = re.search(r"Feature map\s+(\d+) x (\d+)", main(page).inner_text())
    assert size, "the feature map's size is not written on the page"
    main(page).locator(".katex-display").filter(has_text="O").first.scroll_into_view_if_needed()
    results = page.evaluate(RESULT_JS)
    print(f"\nconvolution at {screen}: {results}")
    assert results, "no formula for O_h"
    vw = SCREENS[screen]["width"]
    for r in results:
        assert r["text"].endswith(size.group(1)), f"the formula ends in {r['text']!r}, not {size.group(1)}"
        assert r["boxLeft"] - 1 <= r["left"] and r["right"] <= min(r["boxRight"], vw) + 1, r


def test_a_landscape_tablet_gets_the_one_screen_presentation(device, server):
    """Presentation mode (?present=1) at 1180x820 with touch: Convolution's input, kernel and
    feature map side by side inside the screen, as at 1280x720 (test_presentation)."""
    import test_presentation as present

    page = device(LANDSCAPE_TABLET)
    open_page(page, server, "convolution?present=1&conv_sample=house&conv_kernel=sobel+x")
    assert_no_errors(page)
    page.wait_for_function(present.MAP_DRAWN_JS)
    present.assert_presenting(present.chrome(page))
    boxes = {"input": present.box(main(page).locator('[data-testid="stImage"] img').first),
             "kernel": present.box(main(page).locator('[role="img"][aria-label^="kernel"]').first),
             "map": present.box(page.locator(".st-key-conv_fig_map")),
             "formula": present.box(main(page).locator(".katex-display").first)}
    w, h = LANDSCAPE_TABLET["width"], LANDSCAPE_TABLET["height"]
    off = {n: b for n, b in boxes.items()
           if b is None or b["x"] < -1 or b["y"] < -1 or b["x"] + b["width"] > w + 1 or b["y"] + b["height"] > h + 1}
    print(f"\nlandscape tablet: {boxes}")
    page.screenshot(path=str(REPO / "test-artifacts" / "screenshots" / "narrow-present-convolution-landscape.png"))
    assert off == {}
    assert present.side_by_side(boxes, ["input", "kernel", "map"])
    assert min(boxes[n]["width"] for n in ("input", "kernel", "map")) >= 300
