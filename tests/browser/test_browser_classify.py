"""The Classify page in a real browser: mouse-drawn digits, photo uploads, bad files."""

import io
import math

import numpy as np
import pytest
from harness import REPO, assert_no_errors, draw, main, open_page, screenshot, wait_idle
from PIL import Image

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not (REPO / "models" / "mnist.keras").exists(),
                                 reason="the bundled models/mnist.keras is absent")]

# Strokes in canvas pixels (the canvas is 280 x 280), drawn the way a person draws them.
STROKES = {
    "1": [[(150 - 10 * t / 20, 45 + 190 * t / 20) for t in range(21)]],
    "7": [[(70 + 130 * t / 20, 60) for t in range(21)]
          + [(200 - 80 * t / 20, 60 + 170 * t / 20) for t in range(21)]],
    "0": [[(140 + 60 * math.sin(2 * math.pi * t / 40), 140 - 90 * math.cos(2 * math.pi * t / 40))
           for t in range(42)]],
}


# The probability chart as drawn: x tick labels, and the height in pixels of each bar.
BARS_JS = """() => {
  const chart = document.querySelector('.st-key-classify_digit_chart .js-plotly-plot');
  return [[...chart.querySelectorAll('.xtick text')].map(t => t.textContent),
          [...chart.querySelectorAll('.barlayer .point path')].map(p => p.getBBox().height)];
}"""


# The brightest red value on the digit canvas (0: blank, nothing drawn); fabric.js draws the
# strokes on its lower canvas.
INK_JS = """() => {
  for (const host of document.querySelectorAll('[data-testid="stMain"] *')) {
    const pad = host.shadowRoot && host.shadowRoot.querySelector('canvas.lower-canvas');
    if (pad) {
      const px = pad.getContext('2d').getImageData(0, 0, pad.width, pad.height).data;
      let max = 0;
      for (let i = 0; i < px.length; i += 4) max = Math.max(max, px[i]);
      return max;
    }
  }
  return null;
}"""


@pytest.mark.parametrize("digit", ["1", "7", "0"])
def test_a_drawn_digit_is_classified_with_its_probability_chart(page, server, digit):
    open_page(page, server, "classify")
    draw(page, STROKES[digit])
    metric = page.locator('[data-testid="stMetric"]')
    metric.wait_for(timeout=90_000)
    wait_idle(page)
    lines = [line.strip() for line in metric.inner_text().splitlines() if line.strip()]
    assert lines[:2] == ["Prediction", digit] and lines[2].endswith("% confidence")
    page.locator(".st-key-classify_digit_chart .js-plotly-plot").wait_for(timeout=30_000)
    # what the chart draws: one bar per class 0-9, the tallest one the predicted digit
    labels, heights = page.evaluate(BARS_JS)
    assert labels == [str(d) for d in range(10)] and len(heights) == 10, (labels, heights)
    assert heights.index(max(heights)) == int(digit), heights
    assert main(page).locator("img").count() >= 6  # the 5 preprocessing steps + Grad-CAM
    assert_no_errors(page)
    screenshot(page, f"classify-drawn-{digit}")
    main(page).get_by_role("button", name="Clear").click()
    page.wait_for_timeout(500)
    wait_idle(page)
    assert metric.count() == 0
    assert page.evaluate(INK_JS) == 0  # the pad is blank again
    draw(page, STROKES[digit])  # and the fresh pad sends its drawing too
    metric.wait_for(timeout=90_000)
    wait_idle(page)
    assert [line.strip() for line in metric.inner_text().splitlines() if line.strip()][1] == digit


# A large 0 whose stroke starts in the canvas's top-right corner (a short lead-in, then
# once round an ellipse): streamlit-drawable-canvas's toolbar (now turned off) sat there
# invisibly, and such a stroke drew nothing.
ELLIPSE = [(145 + 105 * math.cos(math.radians(40 + 9 * t)),
            150 - 115 * math.sin(math.radians(40 + 9 * t))) for t in range(41)]
CORNER_ZERO = [[(272, 8), (248, 42)] + ELLIPSE]

# What is under a point of the page, looking into shadow roots (components live in them).
HIT_JS = """([x, y]) => {
  let el = document.elementFromPoint(x, y);
  while (el && el.shadowRoot) {
    const inner = el.shadowRoot.elementFromPoint(x, y);
    if (!inner || inner === el) break;
    el = inner;
  }
  return el ? el.tagName.toLowerCase() + "." + el.className : null;
}"""


def test_a_stroke_that_starts_in_the_top_right_corner_is_classified(page, server):
    open_page(page, server, "classify")
    canvas = main(page).locator("canvas").last
    canvas.wait_for()
    box = canvas.bounding_box()
    assert 280 <= box["width"] <= 282 and 280 <= box["height"] <= 282  # 280 px and its border
    page.mouse.move(box["x"] + 140, box["y"] + 140)  # hovering, as a mouse would
    page.wait_for_timeout(400)
    for x, y in [(279, 0), (272, 8), (140, 2), (279, 30)]:  # nothing floats over the pad
        hit = page.evaluate(HIT_JS, [box["x"] + x, box["y"] + y])
        assert hit.startswith("canvas.") and "upper-canvas" in hit, (x, y, hit)  # the drawing layer
    page.mouse.move(0, 0)  # then a stroke that comes from outside, straight into the corner
    draw(page, CORNER_ZERO)
    metric = page.locator('[data-testid="stMetric"]')
    metric.wait_for(timeout=90_000)
    wait_idle(page)
    lines = [line.strip() for line in metric.inner_text().splitlines() if line.strip()]
    assert lines[:2] == ["Prediction", "0"] and lines[2].endswith("% confidence"), lines
    # the ink reached Python from the corner on: the bounding box spans the canvas's height
    # and reaches its right edge (the ellipse alone would give about 236x248)
    (bbox,) = [t for t in main(page).inner_text().splitlines() if t.startswith("Bounding box ")]
    w, h = (int(v) for v in bbox.split()[-1].split("x"))
    assert w >= 245 and h >= 270, bbox
    assert_no_errors(page)
    screenshot(page, "classify-corner-stroke")


def open_photo_tab(page, server):
    open_page(page, server, "classify")
    page.get_by_role("tab", name="Photo through VGG16").click()
    wait_idle(page)
    upload = page.locator(".st-key-classify_upload input[type=file]")
    upload.wait_for(state="attached")
    return upload


def test_an_uploaded_png_reaches_top5_or_the_weights_message(page, server):
    rng = np.random.default_rng(0)
    img = Image.fromarray((rng.random((300, 400, 3)) * 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    upload = open_photo_tab(page, server)
    upload.set_input_files(files=[{"name": "photo.png", "mimeType": "image/png", "buffer": buf.getvalue()}])
    page.wait_for_function(
        "() => document.body.innerText.includes('VGG16 top-5') || "
        "document.body.innerText.includes('CNN_STUDIO_VGG16_WEIGHTS')", timeout=180_000)
    wait_idle(page)
    text = main(page).inner_text()
    assert "Preprocessing" in text
    if "VGG16 top-5" not in text:  # offline without weights: the message says how to get them
        assert "prefetch" in text and "CNN_STUDIO_VGG16_WEIGHTS" in text
    assert main(page).locator('[data-testid="stException"]').count() == 0
    screenshot(page, "classify-photo")


def test_a_non_image_gets_a_sentence_not_a_traceback(page, server):
    upload = open_photo_tab(page, server)
    upload.set_input_files(files=[{"name": "notes.jpg", "mimeType": "image/jpeg",
                                   "buffer": b"these are lecture notes, not a photo\n" * 20}])
    error = main(page).locator('[data-testid="stAlertContentError"]')
    error.wait_for(timeout=60_000)
    assert "not an image" in error.inner_text()
    assert main(page).locator('[data-testid="stException"]').count() == 0
    screenshot(page, "classify-not-an-image")
