"""Your images in a real browser with Chromium's fake camera: a dataset of two classes
filled from the webcam, one click a picture, the counts on the page; screenshots at
1280x720 and at a phone's width."""

import pytest
from harness import Server, assert_no_errors, open_page, screenshot, wait_idle
from harness import camera_page as fake_camera_page

pytestmark = pytest.mark.browser

@pytest.fixture(scope="module")
def camera_page(browser, tmp_path_factory):
    """A second Chromium with the fake camera, and a server of its own."""
    srv = Server({"CNN_STUDIO_HOME": str(tmp_path_factory.mktemp("own-home"))})
    with fake_camera_page(browser, srv) as page:
        yield srv, page


def count_shown(page, class_name: str, n: int, timeout: float = 60_000) -> None:
    page.wait_for_function("t => document.body.innerText.includes(t)",
                           arg=f"{class_name}: {n} picture(s)", timeout=timeout)


def take_new_photo(page, class_name: str, n: int) -> None:
    """Take pictures until ``class_name`` counts ``n``: a frame equal to one already kept
    (the fake pattern can come round to it) is kept once, so another is taken."""
    for _ in range(4):
        take_photo(page)
        try:
            count_shown(page, class_name, n, timeout=10_000)
            return
        except Exception:  # playwright's TimeoutError: the same picture again
            continue
    count_shown(page, class_name, n)


def take_photo(page) -> None:
    main = page.locator('[data-testid="stMain"]')
    clear = main.get_by_role("button", name="Clear photo")
    if clear.count():
        clear.first.click()
        wait_idle(page)
    # the camera must be streaming first: a click before that takes no picture (tried again)
    page.wait_for_function("""() => { const v = document.querySelector(
        '[data-testid="stCameraInput"] video'); return v && v.readyState >= 2; }""")
    for attempt in range(5):
        # the fake camera's pattern turns: 2 s apart, two pictures differ (the same
        # picture twice is kept once)
        page.wait_for_timeout(2000 + 500 * attempt)
        main.get_by_role("button", name="Take Photo").first.click()
        try:
            main.get_by_role("button", name="Clear photo").first.wait_for(timeout=10_000)
            break
        except Exception:  # playwright's TimeoutError: the camera was not ready yet
            continue
    wait_idle(page)


def test_two_classes_filled_from_the_webcam(camera_page):
    srv, page = camera_page
    open_page(page, srv, "own_data")
    main = page.locator('[data-testid="stMain"]')
    main.get_by_label("Name").first.fill("pens")
    main.get_by_label("Classes, separated by commas (2 to 10)").fill("pen, pencil")
    main.get_by_label("Classes, separated by commas (2 to 10)").press("Enter")
    wait_idle(page)
    main.get_by_role("button", name="Make the dataset").click()
    wait_idle(page)
    count_shown(page, "pen", 0)
    count_shown(page, "pencil", 0)

    take_new_photo(page, "pen", 1)
    take_new_photo(page, "pen", 2)

    # the class the next pictures go to (the box opened again if a rerun closed it)
    for _ in range(5):
        main.locator('[data-testid="stSelectbox"]').filter(has_text="Add pictures to").click()
        option = page.get_by_role("option", name="pencil", exact=True)
        try:
            option.wait_for(timeout=5_000)
            option.click()
            break
        except Exception:  # playwright's TimeoutError
            page.keyboard.press("Escape")
    wait_idle(page)
    take_new_photo(page, "pencil", 1)
    count_shown(page, "pen", 2)
    assert_no_errors(page)
    screenshot(page, "own-data-webcam")
    page.set_viewport_size({"width": 390, "height": 844})
    wait_idle(page)
    screenshot(page, "own-data-webcam-phone")
