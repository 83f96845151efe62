"""One visual language, seen: the same model's first-layer feature maps as the Train
page's live view, the Convolution page's trained network and Inside the network draw
them, pasted side by side into test-artifacts/one-visual-language.png (look at it: one
colour rule, one scale for the layer, said in each caption).

The model: an mnist_cnn trained on MNIST with plain SGD at the smallest learning rate
the page takes, so that its weights barely move between the live snapshot and the
epoch kept; the run is stopped, saved to the store, and opened on the two other pages
on the same test image (the job's first test image)."""

import io
import re
import time

import numpy as np
import pytest
from harness import ARTIFACTS, Server, assert_no_errors, main, open_page, wait_idle

pytestmark = pytest.mark.browser

NAME = "viz-same-model"
N_TEST = 100  # the job's test images: the same stratified 100 as Convolution's MNIST images


@pytest.fixture(scope="module")
def home_server(tmp_path_factory):
    srv = Server({"CNN_STUDIO_HOME": str(tmp_path_factory.mktemp("viz-home")), "CNN_STUDIO_MAX_JOBS": "1"})
    yield srv
    srv.stop()


def choose(scope, page, label, option):
    scope.locator('[data-testid="stSelectbox"]').filter(has_text=label).click()
    page.get_by_role("option").filter(has_text=option).first.click()
    wait_idle(page)


def set_number(scope, page, label, value):
    box = scope.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_idle(page)


def shot(locator) -> bytes:
    """A picture of one element (retried: a live panel is replaced while it runs)."""
    for _ in range(10):
        try:
            locator.scroll_into_view_if_needed(timeout=5_000)
            return locator.screenshot(timeout=10_000)
        except Exception:  # noqa: BLE001 - detached mid-shot: take the next one
            time.sleep(0.5)
    return locator.screenshot()


def side_by_side(pictures: list[tuple[str, bytes]]):
    from PIL import Image, ImageDraw

    images = [(title, Image.open(io.BytesIO(png)).convert("RGB")) for title, png in pictures]
    height = max(i.height for _, i in images) + 30
    out = Image.new("RGB", (sum(i.width for _, i in images) + 20 * (len(images) + 1), height + 20), "white")
    x = 20
    draw = ImageDraw.Draw(out)
    for title, image in images:
        draw.text((x, 8), title, fill="black")
        out.paste(image, (x, 30))
        x += image.width + 20
    return out


def test_one_layer_drawn_by_train_convolution_and_inside(page, home_server):
    from cnnlib.data import datasets

    server = home_server
    open_page(page, server, "train")
    body = main(page)
    choose(body, page, "Architecture", "mnist_cnn")
    choose(body, page, "Optimizer", "sgd")
    set_number(body, page, "Learning rate", 0.00001)
    set_number(body, page, "Epochs", 500)
    set_number(body, page, "Training images", 320)
    set_number(body, page, "Test images", N_TEST)
    set_number(body, page, "Live view every (s)", 1)
    body.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_function("() => document.body.innerText.includes('The network learning')", timeout=180_000)
    page.wait_for_timeout(2_500)  # a few epochs done: a kept model to save
    live = body.locator('[data-testid="stImage"]').filter(has_text="feature maps of the first test image")
    train_png = shot(live.first)
    body.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_function("() => /Status: \\*?\\*?stopped|stopped \\(the best/.test(document.body.innerText)",
                           timeout=120_000)
    wait_idle(page)
    field = body.get_by_label("Save to the model store as")
    field.fill(NAME)
    body.get_by_role("button", name="Save model").click()
    page.wait_for_function("n => document.body.innerText.includes(`Saved as '${n}'`)", arg=NAME,
                           timeout=60_000)

    # Convolution: the job's first test image is the first of its 100 MNIST images
    open_page(page, server, "convolution?conv_source=MNIST&conv_index=0")
    main(page).locator('[data-testid="stExpander"] summary').filter(has_text="trained network").click()
    wait_idle(page)
    choose(main(page), page, "Model", NAME)
    page.wait_for_selector(".st-key-conv_maps_conv1 img", timeout=120_000)
    conv_png = shot(page.locator(".st-key-conv_maps_conv1"))

    # Inside: the same image by its number in the whole test split, the layer after conv1's ReLU
    ds = datasets.load("mnist")
    index = int(datasets.stratified_indices(ds.y_test, N_TEST)[0])
    open_page(page, server, "inside")
    sidebar = page.locator('[data-testid="stSidebar"]')
    choose(sidebar, page, "Model", NAME)
    set_number(sidebar, page, "Test image number", index)
    grid = page.locator(".st-key-inside_map_2")
    grid.locator("img").wait_for(timeout=120_000)
    page.wait_for_timeout(1_000)
    inside_png = shot(grid)
    assert_no_errors(page)

    ARTIFACTS.mkdir(exist_ok=True)
    picture = side_by_side([("Train (live view)", train_png), ("Convolution (trained network)", conv_png),
                            ("Inside the network (relu1)", inside_png)])
    picture.save(ARTIFACTS / "one-visual-language.png")
    pixels = np.asarray(picture)
    assert pixels.shape[1] > 600 and (pixels < 50).any()  # three panels, not blank
    captions = page.locator(".st-key-inside_map_2").inner_text()
    assert re.search(r"one scale for the layer: 0 \(black\) to [\d.]+ \(white\)", captions)
