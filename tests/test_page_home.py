"""AppTest of the app's entry and home page."""

from urllib.parse import parse_qs

from streamlit.testing.v1 import AppTest
from testutil import REPO, requires_shared_data

from cnnlib.conv import kernels
from cnnlib.data import samples
from cnnlib.training import lessons

PAGES = ["convolution", "inside", "train", "classify"]  # what each page teaches
LECTURE = ["convolution", "train", "classify"]  # the lecture path


def home():
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not at.exception
    return at


@requires_shared_data
def test_home_lists_datasets_and_models_in_the_folded_diagnostics():
    at = home()
    assert at.title[0].value == "CNN Studio"
    diagnostics = at.expander[0]
    assert diagnostics.label.startswith("Installation diagnostics: 4 of 4 datasets offline, ")
    assert not diagnostics.proto.expanded  # folded below the lessons
    frames = [df.value for df in diagnostics.dataframe]
    datasets_df = frames[0]
    assert set(datasets_df["dataset"]) == {"mnist", "fashion_mnist", "cifar10", "cifar10_3class"}
    assert (datasets_df.set_index("dataset").loc["mnist", "available"]) == "yes"
    assert "mnist" in set(frames[1]["model"])


def test_home_says_what_each_page_teaches_then_a_lecture_path_with_links():
    at = home()
    assert [h.value for h in at.subheader] == ["What each page teaches", "A lecture path"]
    links = at.page_link
    assert [link.proto.page for link in links] == PAGES + LECTURE
    teaches = " ".join(m.value for m in at.markdown)
    for term in ("kernel", "feature map", "padding", "stride", "pooling", "epochs",
                 "learning rate", "confusion matrix", "softmax", "Grad-CAM"):
        assert term in teaches, term
    # the Convolution lesson opens on a real picture and kernel of that page
    setting = {k: v[0] for k, v in parse_qs(links[len(PAGES)].proto.query_string).items()}
    assert setting["conv_kernel"] in kernels.names() and setting["conv_sample"] in samples.names()
    # the Train lesson is one of the lessons that the Train page's Lesson box offers
    name = links[len(PAGES) + 1].value.split("`")[1]
    assert name in lessons.LESSONS
    assert f"Pick `{name}` in the Lesson box" in " ".join(c.value for c in at.caption)


def test_the_convolution_lesson_link_opens_the_page_on_its_setting():
    at = home()
    setting = {k: v[0] for k, v in parse_qs(at.page_link[len(PAGES)].proto.query_string).items()}
    at.query_params.clear()
    at.query_params.update(setting)  # what the link does
    at.switch_page("pages/convolution.py").run()
    assert not at.exception
    assert at.selectbox(key="conv_kernel").value == setting["conv_kernel"]
    assert at.selectbox(key="conv_sample").value == setting["conv_sample"]
    assert at.number_input(key="conv_stride").value == int(setting["conv_stride"])


def test_every_page_renders():
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    for page in ("pages/train.py", "pages/convolution.py", "pages/inside.py", "pages/classify.py"):
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
