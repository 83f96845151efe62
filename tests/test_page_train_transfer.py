"""AppTest of the Train page's transfer option and of the image counts that follow the
dataset: "Start from" is offered for own datasets only, lists the store's models with
a convolutional base (the bundled cifar10 and mnist here) and VGG16 only when its
weights file is present; a base disables the architecture and its job's results name
both parts with their weights."""

import re

from test_page_train import open_page, wait_for
from test_page_train_own import ALICE, make_pens
from testutil import REPO

from cnnlib.models import transfer, vgg16_files

KEY = "train_base_model"


def open_with_bundled_models(tmp_path, monkeypatch, **kw):
    at = open_page(tmp_path, monkeypatch, owner=ALICE, past_open=False, **kw)
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(REPO / "models"))  # cifar10 and mnist
    return at


def texts(at) -> str:
    return " ".join(m.value for m in [*at.markdown, *at.caption])


def test_start_from_is_offered_for_own_datasets_and_trains_a_new_head(tmp_path, monkeypatch):
    make_pens()
    monkeypatch.delenv(vgg16_files.ENV_WEIGHTS, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # no VGG16 weights here
    at = open_with_bundled_models(tmp_path, monkeypatch)
    at.run()
    assert at.selectbox(key="train_dataset").value == "mnist"
    assert KEY not in [s.key for s in at.selectbox]  # a built-in dataset: from scratch only
    at.selectbox(key="train_dataset").set_value("own:pens").run()
    assert not at.exception and not at.error
    start = at.selectbox(key=KEY)
    assert start.options[0] == "nothing (train from scratch)"
    assert any(o.startswith("cifar10 (studio_cnn on cifar10") for o in start.options)
    assert any(o.startswith("mnist (studio_cnn on mnist") for o in start.options)
    assert not any(o.startswith("VGG16") for o in start.options)
    assert "VGG16 (ImageNet) is offered once its weights file is here." in texts(at)
    assert not at.selectbox(key="train_arch").disabled

    start.set_value("cifar10").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="train_arch").disabled
    head = (128 + 1) * transfer.HEAD_UNITS + (transfer.HEAD_UNITS + 1) * 3  # 3 classes
    assert re.search(rf"cifar10's convolutional base \(frozen, [\d,]+ weights\) \+ new head "
                     rf"\({head:,} weights\)", texts(at))
    at.number_input(key="train_epochs").set_value(1).run()
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error
    wait_for(at, lambda a: any("Status: **finished**" in m.value for m in a.markdown))
    assert re.search(rf"Started from cifar10's convolutional base \(frozen, [\d,]+ weights\) "
                     rf"\+ new head \({head:,} weights\)", texts(at))


def test_vgg16_is_offered_when_its_weights_file_is_present(tmp_path, monkeypatch):
    make_pens()
    weights = tmp_path / "vgg16.h5"
    weights.write_bytes(b"present")  # looked up only; the page never reads it
    monkeypatch.setenv(vgg16_files.ENV_WEIGHTS, str(weights))
    at = open_with_bundled_models(tmp_path, monkeypatch)
    at.selectbox(key="train_dataset").set_value("own:pens").run()
    start = at.selectbox(key=KEY)
    assert any(o.startswith("VGG16 (ImageNet)") for o in start.options)
    assert "is offered once its weights file is here" not in texts(at)
    start.set_value(transfer.VGG16).run()
    assert not at.exception and not at.error
    # VGG16's 14,714,688 convolution weights + vgg16_preprocess's 9 + 3
    assert "VGG16's (ImageNet) convolutional base (frozen, 14,714,700 weights)" in texts(at)


def test_the_number_of_images_follows_the_dataset(tmp_path, monkeypatch):
    """Issue 22: after an own dataset of 24 training pictures, MNIST's field showed 24."""
    make_pens()
    at = open_with_bundled_models(tmp_path, monkeypatch)
    at.selectbox(key="train_dataset").set_value("own:pens").run()
    assert at.number_input(key="train_n_train").value == 24  # all of them
    assert at.number_input(key="train_n_test").value == 6
    at.selectbox(key="train_dataset").set_value("mnist").run()
    assert not at.exception
    found = re.search(r"\*\*([\d,]+)\*\* training and \*\*([\d,]+)\*\* test images", texts(at))
    n_train = int(found[1].replace(",", "")) if found else 60000
    n_test = int(found[2].replace(",", "")) if found else 10000
    assert at.number_input(key="train_n_train").value == min(5000, n_train)  # the page's default
    assert at.number_input(key="train_n_test").value == n_test
    at.number_input(key="train_n_train").set_value(100).run()
    at.selectbox(key="train_dataset").set_value("own:pens").run()
    assert at.number_input(key="train_n_train").value == 24
