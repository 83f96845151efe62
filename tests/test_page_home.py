"""AppTest of the app's entry and home page."""

from streamlit.testing.v1 import AppTest

from conftest import REPO


def test_home_lists_datasets_and_models():
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "CNN Studio"
    frames = [df.value for df in at.dataframe]
    datasets_df = frames[0]
    assert set(datasets_df["dataset"]) == {"mnist", "fashion_mnist", "cifar10", "cifar10_3class"}
    assert (datasets_df.set_index("dataset").loc["mnist", "available"]) == "yes"
    assert "mnist" in set(frames[1]["model"])


def test_every_page_renders():
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    for page in ("pages/train.py", "pages/convolution.py", "pages/classify.py"):
        at.switch_page(page).run()
        assert not at.exception, page
        assert at.title, page
