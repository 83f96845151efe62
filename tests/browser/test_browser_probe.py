"""Classify's "Probe any model" tab in a real browser: the bundled MNIST model on its
first test digit, the five explanations, then the attack; screenshots at 1280x720 (in
presentation mode too) and at a phone's width."""

import pytest
from harness import assert_no_errors, main, open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser


def open_probe(page, server, present: bool = False):
    open_page(page, server, "classify" + ("?present=1" if present else ""))
    main(page).get_by_role("tab", name="Probe any model").click()
    wait_idle(page)
    page.wait_for_function("t => document.body.innerText.includes(t)", arg="The shares add up to",
                           timeout=180_000)
    wait_idle(page)


def test_the_explanations_and_the_attack_of_a_bundled_model(page, server):
    open_probe(page, server)
    assert_no_errors(page)
    body = main(page).inner_text()
    for method in ("Vanilla gradient", "SmoothGrad", "Integrated gradients", "Occlusion", "Grad-CAM"):
        assert method in body
    assert main(page).locator('[data-testid="stImage"] img').count() >= 6
    screenshot(page, "probe-why")
    show_section(page, "Fool it", "grey levels at most", "probe-fool")
    show_section(page, "Where it breaks", "the least accuracy", "probe-breaks")


def show_section(page, name: str, shown: str, shot: str) -> None:
    """Switch the probe to section ``name``, wait for the text ``shown``, check and save."""
    main(page).get_by_text(name, exact=True).click()
    page.wait_for_function("t => document.body.innerText.includes(t)", arg=shown, timeout=300_000)
    wait_idle(page)
    assert_no_errors(page)
    screenshot(page, shot)


def test_the_probe_at_a_phones_width(page, server):
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        open_probe(page, server)
        assert_no_errors(page)
        screenshot(page, "probe-why-phone")
    finally:
        page.set_viewport_size({"width": 1280, "height": 720})


def test_presentation_mode_shows_the_input_the_answer_and_the_maps_on_one_screen(page, server):
    open_probe(page, server, present=True)
    assert_no_errors(page)
    maps = main(page).locator('[data-testid="stImage"] img')
    assert maps.count() >= 6
    last = maps.nth(maps.count() - 1).bounding_box()
    screenshot(page, "probe-why-present")
    assert last["y"] + last["height"] <= 720, last  # the Grad-CAM picture ends above the fold
