"""AppTest of the app's entry and home page."""

from streamlit.testing.v1 import AppTest

from testutil import REPO


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


def test_home_page_does_not_import_tensorflow():
    """The app's start stays fast: the entry and the home page never import TensorFlow."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('app.py', default_timeout=60).run()\n"
        "assert not at.exception, at.exception\n"
        "print('TF_LOADED' if 'tensorflow' in sys.modules or 'keras' in sys.modules else 'TF_ABSENT')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert "TF_ABSENT" in out.stdout, out.stdout + out.stderr[-2000:]


def test_home_says_whether_vgg16_files_are_available(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # an empty Keras cache
    monkeypatch.delenv("CNN_STUDIO_VGG16_WEIGHTS", raising=False)
    index = REPO.parent / "shared" / "datasets" / "imagenet_class_index.json"
    monkeypatch.setenv("CNN_STUDIO_IMAGENET_CLASS_INDEX", str(index))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    text = " ".join(m.value for m in at.markdown)
    assert "ImageNet weights (528 MB): **not available offline**" in text
    assert "prefetch --vgg16" in text
    if index.exists():
        assert f"ImageNet class index: `{index}`" in text
