"""Drawing on the real canvas reaches Python and is classified by the bundled model."""

import pytest

from harness import REPO, assert_no_errors, open_page, screenshot, wait_idle

pytestmark = pytest.mark.skipif(not (REPO / "models" / "mnist.keras").exists(),
                                reason="the bundled models/mnist.keras is absent")


def test_drawn_seven_is_predicted_and_clear_empties_the_canvas(page, server):
    open_page(page, server, "classify")
    canvas = page.locator('[data-testid="stMain"] canvas').last
    canvas.wait_for()
    box = canvas.bounding_box()
    x0, y0 = box["x"], box["y"]
    stroke = [(70 + 130 * t / 20, 60) for t in range(21)]  # the bar of a 7
    stroke += [(200 - 80 * t / 20, 60 + 170 * t / 20) for t in range(21)]  # its stem
    page.mouse.move(x0 + stroke[0][0], y0 + stroke[0][1])
    page.mouse.down()
    for x, y in stroke:
        page.mouse.move(x0 + x, y0 + y)
    page.mouse.up()  # the drawing is sent when the stroke ends
    metric = page.locator('[data-testid="stMetric"]')
    metric.wait_for(timeout=90_000)
    wait_idle(page)
    lines = [line.strip() for line in metric.inner_text().splitlines() if line.strip()]
    assert lines[:2] == ["Prediction", "7"] and lines[2].endswith("% confidence")
    assert page.locator('[data-testid="stMain"] img').count() >= 6  # 5 steps + Grad-CAM
    assert_no_errors(page)
    screenshot(page, "classify-drawn-seven")
    page.locator('[data-testid="stMain"]').get_by_role("button", name="Clear").click()
    page.wait_for_timeout(500)
    wait_idle(page)
    assert metric.count() == 0
