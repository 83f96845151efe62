"""Every page loads in a real browser with no exception and no error element."""

import pytest
from harness import assert_no_errors, open_page, screenshot

pytestmark = pytest.mark.browser

PAGES = [("", "CNN Studio"), ("train", "Train"), ("convolution", "Convolution"),
         ("inside", "Inside the network"), ("classify", "Classify"), ("own_data", "Your images")]


@pytest.mark.parametrize("path,title", PAGES)
def test_page_loads_without_errors(page, server, path, title):
    open_page(page, server, path)
    assert page.locator('[data-testid="stMain"] h1').first.inner_text().strip().startswith(title)
    assert_no_errors(page)
    screenshot(page, f"page-{path or 'home'}")


def test_deep_link_on_a_fresh_server_uses_the_app_navigation(page, tmp_path):
    """A bookmark to /convolution as the very first request still gets app.py's navigation."""
    from harness import Server

    fresh = Server({"CNN_STUDIO_RUNS_DIR": str(tmp_path)})
    try:
        open_page(page, fresh, "convolution")
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        lines = {x.strip() for x in nav.splitlines() if x.strip()}
        assert {"Home", "Train", "Convolution", "Classify"} <= lines
        assert not lines & {"app", "common"}  # the legacy list of the files in pages/
        assert page.locator('[data-testid="stMain"] h1').first.inner_text().startswith("Convolution")
    finally:
        fresh.stop()
