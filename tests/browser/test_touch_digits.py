"""Digits drawn with a finger on Classify's canvas (issue 24), on a phone (390x844) and a
tablet (820x1180) with touch emulation (``has_touch``, ``is_mobile``): each is read as the
digit drawn by the bundled MNIST model, two-stroke digits included, every stroke reaches
Python (the ink's bounding box spans them all), and the prediction is on screen together
with the canvas, with no scrolling. What was measured goes to
test-artifacts/touch-digits-<screen>.json, the screens (as seen, not the whole page) to
test-artifacts/screenshots/touch-digit-<screen>.png.
"""

from __future__ import annotations

import json

import pytest
from harness import ARTIFACTS, REPO, assert_no_errors, draw_touch, main, open_page, wait_idle

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not (REPO / "models" / "mnist.keras").exists(),
                                 reason="the bundled models/mnist.keras is absent")]

SCREENS = {"phone": {"width": 390, "height": 844}, "tablet": {"width": 820, "height": 1180}}
STROKE_WIDTH = 18  # the page's default "Stroke width"

# (digit, name, strokes in canvas pixels of the 280x280 canvas), drawn as a person draws them
SHAPES = [
    ("1", "one stroke", [[(150 - 10 * t / 20, 45 + 190 * t / 20) for t in range(21)]]),
    ("7", "a 7 with a bar across its stem",
     [[(70 + 130 * t / 20, 60) for t in range(21)] + [(200 - 80 * t / 20, 60 + 170 * t / 20)
                                                      for t in range(21)],
      [(105 + 90 * t / 10, 150) for t in range(11)]]),
    ("4", "an open 4: the bent stroke, then the stem",
     [[(110 - 40 * t / 10, 50 + 110 * t / 10) for t in range(11)] + [(70 + 140 * t / 10, 160)
                                                                      for t in range(11)],
      [(175, 70 + 170 * t / 16) for t in range(17)]]),
    ("4", "a plus-like 4: a bar, then a long upright",
     [[(80 + 120 * t / 10, 150) for t in range(11)], [(165, 45 + 195 * t / 16) for t in range(17)]]),
]

LINE = ".st-key-stacked_only_classify_digit_line"  # the one-line prediction under the canvas (pages/classify.py)
METRIC = '[data-testid="stMetric"]'


def ink_size(strokes, width: int = STROKE_WIDTH) -> tuple[float, float]:
    """The (width, height) in pixels that the strokes' ink covers: their points' span plus
    the pen's width (round ends)."""
    xs = [x for s in strokes for x, _ in s]
    ys = [y for s in strokes for _, y in s]
    return max(xs) - min(xs) + width, max(ys) - min(ys) + width


def visible_box(locator) -> dict | None:
    """The bounding box of the first match when it is displayed, else None."""
    if not locator.count() or not locator.first.is_visible():
        return None
    return locator.first.bounding_box()


def apart(a: dict, b: dict) -> bool:
    """The two boxes do not overlap (touching edges allowed)."""
    return (a["x"] + a["width"] <= b["x"] + 1 or b["x"] + b["width"] <= a["x"] + 1
            or a["y"] + a["height"] <= b["y"] + 1 or b["y"] + b["height"] <= a["y"] + 1)


def on_screen(b: dict | None, screen: dict) -> bool:
    return (b is not None and b["x"] >= -1 and b["y"] >= -1
            and b["x"] + b["width"] <= screen["width"] + 1
            and b["y"] + b["height"] <= screen["height"] + 1)


@pytest.fixture(params=list(SCREENS))
def touch_screen(browser, request):
    screen = SCREENS[request.param]
    context = browser.new_context(viewport=screen, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(90_000)
    yield request.param, screen, page
    context.close()


def test_digits_drawn_by_touch_are_read_right_with_the_prediction_in_sight(touch_screen, server):
    name, screen, page = touch_screen
    open_page(page, server, "classify")
    measured = []
    for k, (digit, shape, strokes) in enumerate(SHAPES):
        if k:  # a fresh canvas: Clear, tapped
            main(page).get_by_role("button", name="Clear").tap()
            page.wait_for_function(f"() => !document.querySelector('{METRIC}')")
            wait_idle(page)
        draw_touch(page, strokes)
        page.locator(METRIC).wait_for(timeout=90_000)
        page.wait_for_timeout(500)  # the last stroke's rerun, after the first stroke's
        wait_idle(page)
        assert_no_errors(page)

        metric = [t.strip() for t in page.locator(METRIC).inner_text().splitlines() if t.strip()]
        assert metric[:2] == ["Prediction", digit], (shape, metric)
        # every stroke reached Python: the ink's bounding box spans all of them
        (bbox,) = [t for t in main(page).inner_text().splitlines() if t.startswith("Bounding box ")]
        w, h = (int(v) for v in bbox.split()[-1].split("x"))
        want_w, want_h = ink_size(strokes)
        assert abs(w - want_w) <= 8 and abs(h - want_h) <= 8, (shape, bbox, want_w, want_h)

        # the answer in sight with the canvas: the metric beside it, or the line under it
        canvas = main(page).locator("canvas").last.bounding_box()  # as laid out now
        boxes = {"canvas": canvas, "metric": visible_box(page.locator(METRIC)),
                 "line": visible_box(page.locator(LINE))}
        if boxes["line"] is not None:
            line = page.locator(LINE).inner_text().strip()
            assert line.startswith(f"Prediction: {digit} (") and line.endswith("% confidence)"), line
        measured.append({"digit": digit, "shape": shape, "bounding_box": bbox, **boxes})
        (ARTIFACTS / f"touch-digits-{name}.json").write_text(
            json.dumps({"viewport": screen, "draws": measured}, indent=1))
        assert on_screen(canvas, screen), (shape, canvas)
        seen = [boxes[p] for p in ("metric", "line") if on_screen(boxes[p], screen)]
        assert seen, (shape, boxes)
        assert all(apart(canvas, b) for b in seen), (shape, boxes)  # beside or under, not over

        if k == 1:  # the 7 with a bar: the screen as the student sees it
            path = ARTIFACTS / "screenshots" / f"touch-digit-{name}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(path))
