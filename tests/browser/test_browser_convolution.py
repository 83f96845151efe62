"""The Convolution page in a real browser: a prepared link opens on its
setting, and changing a widget writes the new setting back into the address
bar (Streamlit's bind="query-params" runs in the browser, out of AppTest's reach)."""

import re

import pytest
from harness import assert_no_errors, hover_readout, open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser


def sizes_text(page) -> str:
    line = page.locator('[data-testid="stMain"] [data-testid="stMarkdownContainer"]').filter(
        has_text="padded input").first
    return line.inner_text()


def test_a_prepared_link_opens_on_its_setting_and_the_url_follows_the_widgets(page, server):
    open_page(page, server, "convolution?conv_kernel=sobel+x&conv_stride=2&conv_sample=circles")
    assert_no_errors(page)
    assert "output 63 x 63" in sizes_text(page)  # (128 - 3) // 2 + 1
    page.locator(".st-key-conv_stride [data-testid='stNumberInputStepUp']").click()
    wait_idle(page)
    page.wait_for_url(re.compile(r"conv_stride=3"))
    page.wait_for_function("() => document.body.innerText.includes('output 42 x 42')")
    assert "output 42 x 42" in sizes_text(page)  # (128 - 3) // 3 + 1
    assert "conv_kernel=sobel+x" in page.url or "conv_kernel=sobel%20x" in page.url
    shared = page.url
    page.goto("about:blank")
    page.goto(shared)  # the presenter's link, opened again
    wait_idle(page)
    assert "output 42 x 42" in sizes_text(page)
    # app.py's navigation, not the legacy listing of every file in pages/
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Convolution" in nav and "conv sections" not in nav.lower()
    screenshot(page, "convolution-shared-link")


def test_stride_changes_size_and_formula_and_an_invalid_stride_is_explained(page, server):
    open_page(page, server, "convolution?conv_kernel=sharpen&conv_sample=circles&conv_stride=1")
    assert "output 126 x 126" in sizes_text(page)  # (128 - 3) / 1 + 1
    formula = page.locator('[data-testid="stMain"] .katex').nth(1).inner_text()
    stride_box = page.locator(".st-key-conv_stride input")
    stride_box.fill("4")
    stride_box.press("Enter")
    wait_idle(page)
    page.wait_for_function("() => document.body.innerText.includes('output 32 x 32')")
    assert "output 32 x 32" in sizes_text(page)  # floor((128 - 3) / 4) + 1
    assert page.locator('[data-testid="stMain"] .katex').nth(1).inner_text() != formula
    stride_box.fill("0")
    stride_box.press("Enter")
    wait_idle(page)
    error = page.locator('[data-testid="stMain"] [data-testid="stAlertContentError"]')
    error.wait_for()
    assert "stride" in error.inner_text() and "at least 1" in error.inner_text()
    screenshot(page, "convolution-invalid-stride")


def main(page):
    return page.locator('[data-testid="stMain"]')


#: The animation's pictures now: the source of each Plotly image, and the slider's label.
SHOWN = """() => {
  const fig = document.querySelector('.st-key-conv_fig_anim');
  const images = [...fig.querySelectorAll('.imagelayer image')].map(i => i.getAttribute('href') || '');
  const label = fig.querySelector('.slider-label');
  return {images, label: label ? label.textContent : ''};
}"""

#: Look at every frame the browser paints for ``ms``: how many, how many lack a picture, which steps.
WATCH = """(ms) => new Promise(resolve => {
  const shown = %s;
  const seen = {painted: 0, blank: [], labels: new Set(), maps: new Set()};
  const t0 = performance.now();
  const tick = () => {
    const now = shown();
    seen.painted++;
    const ok = now.images.length === 2 && now.images.every(s => s.startsWith('data:image/png;base64,'));
    if (!ok) seen.blank.push(now.label);
    seen.labels.add(now.label);
    if (now.images[1]) seen.maps.add(now.images[1]);
    if (performance.now() - t0 < ms) requestAnimationFrame(tick);
    else resolve({painted: seen.painted, blank: seen.blank, steps: seen.labels.size, maps: seen.maps.size});
  };
  requestAnimationFrame(tick);
})""" % SHOWN


def assert_pictures(shown) -> None:
    """The input and the feature map so far are both drawn, as PNG pictures."""
    assert len(shown["images"]) == 2, shown["label"]
    assert all(src.startswith("data:image/png;base64,") for src in shown["images"]), \
        [(src[:40], len(src)) for src in shown["images"]]


def test_playing_the_animation_shows_the_input_and_the_feature_map_in_every_frame(page, server):
    # stride 4 on 128 x 128: a 32 x 32 map, so the animation walks output row 0 in 32 frames
    open_page(page, server, "convolution?conv_sample=circles&conv_kernel=sobel+x&conv_stride=4")
    main(page).locator('[data-testid="stExpander"] summary').filter(has_text="Animation").click()
    figure = page.locator(".st-key-conv_fig_anim")
    figure.locator(".imagelayer image").first.wait_for(state="attached")
    wait_idle(page)
    assert_pictures(page.evaluate(SHOWN))
    figure.scroll_into_view_if_needed()
    figure.locator(".updatemenu-button").filter(has_text="Play").click()
    seen = page.evaluate(WATCH, 3000)  # steps change every 300 ms; the browser paints ~60 times a second
    assert seen["painted"] > 30 and not seen["blank"], seen  # not one painted frame without a picture
    assert seen["steps"] >= 4 and seen["maps"] >= 4, seen  # it plays, and the map fills in
    figure.locator(".updatemenu-button").filter(has_text="Pause").click()
    page.wait_for_timeout(600)
    paused = page.evaluate(SHOWN)
    assert_pictures(paused)
    page.wait_for_timeout(600)
    assert page.evaluate(SHOWN)["label"] == paused["label"]  # paused
    rail = figure.locator(".slider-rail-touch-rect").bounding_box()
    page.mouse.click(rail["x"] + rail["width"] * 0.9, rail["y"] + rail["height"] / 2)  # a late step
    page.wait_for_timeout(600)
    picked = page.evaluate(SHOWN)
    assert_pictures(picked)
    assert picked["label"] != paused["label"]
    figure.scroll_into_view_if_needed()
    screenshot(page, "convolution-animation")


def test_clicking_a_feature_map_cell_explains_it(page, server):
    open_page(page, server, "convolution?conv_sample=circles&conv_kernel=sobel+x")
    found, x, y = hover_readout(page, "conv_fig_map", 0.7, 0.3, r"row (\d+), column (\d+): ")
    row, col = map(int, found.groups())
    assert abs(row - 0.3 * 126) < 3 and abs(col - 0.7 * 126) < 3
    page.mouse.click(x, y)
    page.wait_for_url(re.compile(rf"conv_row={row}.*conv_col={col}|conv_col={col}.*conv_row={row}"))
    page.wait_for_function("t => document.body.innerText.includes(t)",
                           arg=f"Output ({row}, {col}) written out")
    wait_idle(page)
    caption = main(page).locator('[data-testid="stCaptionContainer"]').filter(has_text="Orange: the window")
    assert f"window of output ({row}, {col})" in caption.inner_text()
    assert page.locator(".st-key-conv_row input").input_value() == str(row)
    assert_no_errors(page)


def test_input_kernel_and_feature_map_side_by_side_on_a_1280_screen(page, server):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, "convolution?conv_sample=house&conv_kernel=sharpen&conv_channels=RGB")
    parts = [main(page).locator('[data-testid="stImage"] img').first,
             main(page).locator('[role="img"][aria-label^="kernel"]').first,
             page.locator(".st-key-conv_fig_map img")]

    def boxes():
        return [p.bounding_box() for p in parts]

    with_sidebar = boxes()
    assert [b["x"] for b in with_sidebar] == sorted(b["x"] for b in with_sidebar)  # left to right
    assert max(b["y"] for b in with_sidebar) - min(b["y"] for b in with_sidebar) < 10  # one row
    assert all(b["width"] >= 240 and b["y"] + b["height"] <= 720 for b in with_sidebar)  # first screen
    page.locator('[data-testid="stSidebar"]').hover()  # the collapse button shows on hover
    page.locator('[data-testid="stSidebarCollapseButton"] button').click()
    page.wait_for_function("w => document.querySelector('.st-key-conv_fig_map img')"
                           ".getBoundingClientRect().width > w + 20", arg=with_sidebar[2]["width"])
    page.wait_for_timeout(800)  # the columns settle
    wide = boxes()
    assert all(b["width"] >= 300 for b in wide), [round(b["width"]) for b in wide]
    assert all(abs(b["width"] - b["height"]) < 3 for b in wide)  # square pictures fill their column
    screenshot(page, "convolution-1280-no-sidebar")
