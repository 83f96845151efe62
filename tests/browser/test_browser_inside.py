"""The Inside the network page in a real browser: a click on a feature map explains
that neuron under its layer; an uploaded .keras file is explored the same way; the
page shows no error in presentation mode at 1280 x 720."""

import re

import pytest
from harness import assert_no_errors, hover_readout, main, open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser

BLOCK2_CONV1 = 9  # the bundled mnist model's layer index (input = 0)


def click_grid(page, index: int, fx: float, fy: float) -> tuple[int, int, int]:
    """Click a layer's grid at a fraction of its width and height; returns the
    (channel, row, column) its read-out named under the mouse."""
    found, x, y = hover_readout(page, f"inside_map_{index}", fx, fy,
                                r"channel (\d+), row (\d+), column (\d+)")
    channel, row, col = map(int, found.groups())
    page.mouse.click(x, y)
    return channel, row, col


def wait_grids(page, n: int) -> None:
    """Wait until the page shows ``n`` layer grids (each is a component that mounts on
    its own: on a busy machine some come late), and check there are no more."""
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=\"stMain\"] .cell-picker-img').length >= n",
        arg=n, timeout=60_000)
    assert main(page).locator(".cell-picker-img").count() == n


def test_clicking_a_feature_map_explains_that_neuron(page, server):
    open_page(page, server, "inside")
    assert_no_errors(page)
    wait_grids(page, 21)
    channel, row, col = click_grid(page, BLOCK2_CONV1, 0.45, 0.3)
    page.wait_for_function("t => document.body.innerText.includes(t)",
                           arg="block2_conv1 (Conv2D) slides a 3 x 3 x 32 filter")
    wait_idle(page)
    section = page.locator(".st-key-inside_neuron")
    assert section.locator(".st-key-inside_channel input").input_value() == str(channel)
    assert section.locator(".st-key-inside_row input").input_value() == str(row)
    assert section.locator(".st-key-inside_col input").input_value() == str(col)
    text = section.inner_text()
    assert "Recomputed in numpy" in text and "Keras computed" in text
    numpy_value, keras_value = (float(v) for v in re.findall(r"(?:numpy|Keras computed): ([-0-9.e+]+)", text))
    assert numpy_value == pytest.approx(keras_value, rel=1e-4, abs=1e-6)
    assert section.locator('[role="tab"]').count() == 6  # the six input channels that contribute most
    assert section.locator('[aria-label^="patch of the input"]').first.is_visible()
    assert section.locator(".katex").count() == 2  # the sum in symbols, then in numbers (no activation)
    # the explained neuron sits right under its layer and is framed in its grid
    grid_box = page.locator(f".st-key-inside_map_{BLOCK2_CONV1}").bounding_box()
    assert 0 < section.bounding_box()["y"] - (grid_box["y"] + grid_box["height"]) < 120
    assert page.locator(f".st-key-inside_map_{BLOCK2_CONV1} .cell-picker-mark").is_visible()
    assert_no_errors(page)
    section.scroll_into_view_if_needed()
    screenshot(page, "inside-neuron-explained")


def test_an_uploaded_keras_file_is_explored(page, server, tmp_path):
    from cnnlib.models import zoo

    path = tmp_path / "my_lenet.keras"
    zoo.build("lenet5", (28, 28, 1), 10).save(path)
    open_page(page, server, "inside")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("a .keras file").click()
    wait_idle(page)
    sidebar.locator('input[type="file"]').first.set_input_files(str(path))
    page.wait_for_function("t => document.body.innerText.includes(t)", arg="my_lenet.keras (uploaded)")
    wait_idle(page)
    assert_no_errors(page)
    summary = main(page).locator('[data-testid="stMarkdownContainer"]').filter(has_text="(uploaded)").first
    assert "12 layers, 61,730 weights" in summary.inner_text()  # LeNet-5, MNIST's 28 x 28 padded to 32
    wait_grids(page, 8)  # input, padding, 3 conv, BN, 2 pools
    c3 = 5  # c3_conv: input 0, pad_to_32 1, c1_conv 2, c1_bn 3, s2_pool 4
    click_grid(page, c3, 0.2, 0.5)
    page.wait_for_function("t => document.body.innerText.includes(t)",
                           arg="c3_conv (Conv2D) slides a 5 x 5 x 6 filter")
    wait_idle(page)
    assert "tanh" in page.locator(".st-key-inside_neuron").inner_text()
    assert_no_errors(page)
    screenshot(page, "inside-uploaded-model")


def test_presentation_mode_on_a_1280_screen(page, server):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, "inside?present=1")
    assert_no_errors(page)
    title = main(page).locator("h1").first
    assert title.inner_text().startswith("Inside the network") and title.bounding_box()["y"] < 200
    first_grid = page.locator(".st-key-inside_map_1 img").bounding_box()
    assert first_grid["y"] < 720 and first_grid["x"] + first_grid["width"] <= 1280  # on the first screen
    screenshot(page, "inside-presentation-1280")
