"""The Convolution page in a real browser: a prepared link opens on its
setting, and changing a widget writes the new setting back into the address
bar (Streamlit's bind="query-params" runs in the browser, out of AppTest's reach)."""

import re

import pytest

from harness import assert_no_errors, open_page, screenshot, wait_idle

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
