"""Classify's "Try it live" tab in a real browser with Chromium's fake camera: a model
trained on the browser owner's own pictures, a picture taken, the class probabilities
and the Grad-CAM picture shown; screenshots at 1280x720 and at a phone's width."""

import secrets

import pytest
from harness import Server, assert_no_errors, camera_page, open_page, screenshot, wait_idle
from test_browser_own_data import take_photo
from testutil import requires_shared_data

from pages import identity

pytestmark = [pytest.mark.browser, requires_shared_data]


@pytest.fixture(scope="module")
def live_page(browser, tmp_path_factory):
    """A server whose home holds the dataset and model of :func:`train_own_model` for the
    owner whose token the browser's cookie carries, and a Chromium with the fake camera."""
    from test_page_classify_live import train_own_model

    home = tmp_path_factory.mktemp("live-home")
    token = secrets.token_urlsafe(18)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CNN_STUDIO_HOME", str(home))
        train_own_model(token, home / "runs")
    srv = Server({"CNN_STUDIO_HOME": str(home)})
    cookie = {"name": identity.COOKIE, "value": token, "url": srv.url}
    with camera_page(browser, srv, [cookie]) as page:
        yield srv, page


def test_a_picture_from_the_webcam_is_classified_with_grad_cam(live_page):
    srv, page = live_page
    open_page(page, srv, "classify")
    main = page.locator('[data-testid="stMain"]')
    main.get_by_role("tab", name="Try it live").click()
    wait_idle(page)
    # the tab checks each stored model once (the intake loads it in a child process): slow at first
    page.wait_for_function("t => document.body.innerText.includes(t)",
                           arg="Take a picture or upload one: pets will say", timeout=300_000)
    wait_idle(page)
    take_photo(page)
    page.wait_for_function("t => document.body.innerText.includes(t)", arg="Grad-CAM of '",
                           timeout=120_000)
    assert main.locator('[data-testid="stMetric"]').count() == 1
    chart = main.locator('[data-testid="stPlotlyChart"]')
    chart.locator(".xtick").last.wait_for()  # Plotly draws after the page's script has run
    assert chart.count() == 1 and "airplane" in chart.inner_text()
    assert "As the model sees it" in main.inner_text()
    shown = main.locator('[data-testid="stImage"] img')  # the picture as the model sees it, Grad-CAM
    assert shown.count() == 2 and shown.nth(1).bounding_box()["width"] >= 150
    assert_no_errors(page)
    screenshot(page, "try-live")
    page.set_viewport_size({"width": 390, "height": 844})
    wait_idle(page)
    # the columns stack on a phone: the answer follows the camera at once (no line repeats it)
    photo = main.locator('[data-testid="stCameraInput"]').bounding_box()
    answer = main.locator('[data-testid="stMetric"]').bounding_box()
    assert photo["y"] + photo["height"] <= answer["y"] <= photo["y"] + photo["height"] + 200
    screenshot(page, "try-live-phone")


def test_where_it_breaks_on_the_held_out_pictures_of_the_own_model(live_page):
    """The probe of the owner's model "pets": its curves on the pictures its run held out
    (the caption says how many, and that so few make coarse curves); a 1280x720 screenshot."""
    srv, page = live_page
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, srv, "classify")
    main = page.locator('[data-testid="stMain"]')
    main.get_by_role("tab", name="Probe any model").click()
    wait_idle(page)
    main.locator('[data-testid="stSelectbox"]').filter(has_text="Model").first.click()
    page.get_by_role("option").filter(has_text="pets").click()
    wait_idle(page)
    main.get_by_text("Where it breaks", exact=True).click()
    # the caption under the per-class chart comes last: every chart is drawn by then
    page.wait_for_function("t => document.body.innerText.includes(t)", arg="the least accuracy",
                           timeout=300_000)
    wait_idle(page)
    text = main.inner_text()
    assert "held-out test pictures of your dataset cifar3" in text and "the curves are coarse" in text
    assert main.locator('[data-testid="stPlotlyChart"]').count() >= 3  # top-k, the curves, per class
    assert_no_errors(page)
    screenshot(page, "probe-breaks-own")
