"""Train page in a real browser: live redraws, a refresh finds the job, another person
(another browser) sees neither its Stop button nor its settings, a second tab stops it."""

import time

import pytest
from harness import assert_no_errors, main, open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser

BATCH_POINTS_JS = """() => {
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    const notes = (gd.layout && gd.layout.annotations) || [];
    if (notes.some(a => a.text === 'Loss (each batch)')) {
      const d = gd._fullData && gd._fullData[0];  // x may arrive as a typed-array blob
      return d ? (d._length ?? d.x.length ?? 0) : 0;
    }
  }
  return -1;
}"""


def choose(page, label, option):
    main(page).locator('[data-testid="stSelectbox"]').filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def set_number(page, label, value):
    box = main(page).get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_idle(page)


def status_text(page):
    return main(page).get_by_text("Status:").first.inner_text()


def test_live_curves_refresh_and_stop_from_second_tab(page, server):
    open_page(page, server, "train")
    choose(page, "Architecture", "mnist_cnn")
    set_number(page, "Epochs", 5)  # long enough to refresh, open two more pages and stop it mid-run
    set_number(page, "Training images", 10000)
    slider = main(page).locator('[data-testid="stSlider"]').filter(has_text="Batch size").get_by_role("slider")
    slider.focus()
    for _ in range(3):  # 64 -> 32 -> 16 -> 8: long enough to refresh and stop mid-epoch
        slider.press("ArrowLeft")
    wait_idle(page)
    main(page).get_by_role("button", name="Train", exact=True).click()

    # the live chart redraws while the job runs
    seen = []
    end = time.monotonic() + 120
    while time.monotonic() < end and len(set(n for n in seen if n > 0)) < 4:
        seen.append(page.evaluate(BATCH_POINTS_JS) or 0)
        time.sleep(0.5)
    sizes = sorted(set(n for n in seen if n > 0))
    assert len(sizes) >= 3, f"batch curve point counts seen: {seen}"
    assert "running" in status_text(page)
    screenshot(page, "train-live")

    # a refresh finds the same job with its whole history
    before = page.evaluate(BATCH_POINTS_JS)
    page.reload()
    page.wait_for_selector("text=Status:", timeout=60_000)
    page.wait_for_function(f"() => ({BATCH_POINTS_JS})() >= {before}", timeout=60_000)
    assert "running" in status_text(page)
    assert main(page).get_by_label("Epochs", exact=True).input_value() == "5"  # the job's settings
    assert_no_errors(page)

    # another person (a browser context of its own: its own cookie) sees only a count
    other = page.context.browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        b = other.new_page()
        open_page(b, server, "train")
        b.wait_for_selector("text=1 job of other people running", timeout=60_000)
        assert main(b).get_by_role("button", name="Stop", exact=True).count() == 0
        assert main(b).get_by_text("Status:").count() == 0
        assert main(b).get_by_label("Epochs", exact=True).input_value() == "3"  # not A's 5
        assert_no_errors(b)
    finally:
        other.close()

    # a second tab of the same browser stops it
    second = page.context.new_page()
    second.goto(f"{server.url}/train")
    second.wait_for_selector("text=Status:", timeout=60_000)
    main(second).get_by_role("button", name="Stop", exact=True).click()
    for tab in (second, page):
        tab.wait_for_function(
            "() => document.body.innerText.includes('Status: stopped')", timeout=90_000)
    # the page then redraws with the results of the kept model
    page.wait_for_function("() => document.body.innerText.includes('Test accuracy')", timeout=90_000)
    assert_no_errors(page)
    screenshot(page, "train-stopped")
    second.close()
