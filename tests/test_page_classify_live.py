"""AppTest of Classify's "Try it live" tab and of Inside the network for a model trained
on a person's own pictures: an own dataset made from real CIFAR-10 test pictures, a
small model trained on it and saved to the store as its owner would; an uploaded
picture is classified as the library classifies the same preprocessed array, with
Grad-CAM; a bad upload and an unfit model get a sentence; another person lists none
of it; Inside opens the model with its class names and the owner's pictures as inputs."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest
from test_owndata_training import cifar_zip
from test_page_classify import values
from testutil import REPO, SHARED_DATA, requires_shared_data

from cnnlib import store
from cnnlib.data import datasets
from cnnlib.owndata import OwnDataStore, pictures
from cnnlib.owners import owner_tag
from pages import identity

pytestmark = requires_shared_data

ALICE, BOB = "alice-token-000000000000", "bob-token-0000000000000000"
CLASSES = ["airplane", "automobile", "frog"]  # test_owndata_training.CIFAR_PICKED, in label order


def train_own_model(owner: str, run_root) -> None:
    """In ``$CNN_STUDIO_HOME``: ``owner``'s dataset "cifar3" (12 real CIFAR-10 test pictures
    of each of airplane, automobile and frog, imported as 64 px PNGs into 32 px colour)
    and the model "pets" trained on it (cifar_small, 2 epochs) and saved from its run."""
    from cnnlib.training import config, engine

    OwnDataStore().import_zip(owner, "cifar3", cifar_zip(12), size=32, gray=False)
    cfg = config.TrainConfig(dataset="own:cifar3", dataset_owner=owner_tag(owner),
                             arch="cifar_small", epochs=2, batch_size=8, seed=0,
                             snapshot_every_s=0, run_root=str(run_root))
    result = engine.train(cfg)
    assert result.status == "finished"
    store.import_run(result.run_dir, "pets", owner=owner)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A CNN_STUDIO_HOME with ALICE's dataset "cifar3" and model "pets"
    (:func:`train_own_model`); "wide" (non-square input) and "five" (5 outputs for 3
    classes), hers too; and BOB's "bobs_model" of his own 2-class dataset."""
    from cnnlib.models import zoo

    folder = tmp_path_factory.mktemp("live-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CNN_STUDIO_HOME", str(folder))
        train_own_model(ALICE, folder / "runs")
        own_card = {"dataset": "own:cifar3", "class_names": CLASSES,
                    "config": {"dataset_owner": owner_tag(ALICE)}}
        store.save_model(zoo.build("logistic", (24, 32, 3), 3), "wide", owner=ALICE, card=own_card)
        store.save_model(zoo.build("logistic", (32, 32, 3), 5), "five", owner=ALICE, card=own_card)
        OwnDataStore().create(BOB, "bobs", ["cup", "mug"], size=32)
        store.save_model(zoo.build("cifar_small", (32, 32, 3), 2), "bobs_model", owner=BOB,
                         card={"dataset": "own:bobs", "class_names": ["cup", "mug"],
                               "config": {"dataset_owner": owner_tag(BOB)}})
    return folder


@pytest.fixture(autouse=True)
def environment(home, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_HOME", str(home))
    monkeypatch.setenv("CNN_STUDIO_DATA_DIR", str(SHARED_DATA))


def open_live(owner: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state[identity.KEY] = owner
    at.switch_page("pages/classify.py")
    at.session_state["classify_tab"] = "Try it live"
    at.session_state["classify_live_source"] = "upload"
    at.run()
    assert not at.exception, at.exception
    return at


def cifar_png(index: int, size=(96, 72)) -> bytes:
    """CIFAR-10 test picture ``index`` upscaled to a non-square PNG (as a phone's would be)."""
    with np.load(SHARED_DATA / "cifar10.npz") as f:
        x = f["x_test"][index]
    buf = io.BytesIO()
    Image.fromarray(x).resize(size, Image.Resampling.BICUBIC).save(buf, "PNG")
    return buf.getvalue()


def chart(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]


def captions(at) -> list[str]:
    return [c.value for c in at.caption]


def test_an_own_runs_card_records_its_input_shape_and_dataset():
    card = store.read_card("pets")
    assert card["input_shape"] == [32, 32, 3] and card["dataset"] == "own:cifar3"
    assert card["class_names"] == CLASSES and card["config"]["dataset_owner"] == owner_tag(ALICE)


def test_an_uploaded_picture_is_classified_as_the_library_does_with_grad_cam():
    at = open_live(ALICE)
    box = at.selectbox(key="classify_live_model")
    assert box.value == "pets" and box.options[:3] == [
        "five (unusable here: The model gives 5 scores per image, not one for each of the 3 classes.)",
        store.list_models()[[m.name for m in store.list_models()].index("pets")].label(),
        ("wide (unusable here: It does not take square gray or colour pictures (its card's input "
         "shape: [24, 32, 3]).)")]
    assert not at.get("plotly_chart") and "Take a picture or upload one" in at.info[0].value

    frog = int(np.flatnonzero(datasets.load("cifar10").y_test == 6)[40])  # not among the 12 imported
    data = cifar_png(frog)
    at.file_uploader(key="classify_live_upload").set_value(("frog.png", data, "image/png")).run()
    assert not at.exception and not at.error

    # what the library gives for the same picture: the own datasets' square, then the model
    picture = pictures.picture_from_bytes(data, 32, gray=False)  # uint8 (32, 32, 3)
    model = store.load_model("pets")
    expected = np.asarray(model(datasets.to_float(picture)[None], training=False))[0]
    bars = chart(at)
    shown = values(bars["y"]).astype(np.float64)
    assert list(bars["x"]) == CLASSES
    assert shown.sum() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(shown, expected, atol=1e-5)
    assert at.metric[0].value == CLASSES[int(expected.argmax())]
    said = captions(at)
    assert len(at.image) == 2  # the picture as the model sees it, and its Grad-CAM
    assert "As the model sees it: 32x32 colour, the centre square" in said
    assert any(c.startswith(f"Grad-CAM of '{CLASSES[int(expected.argmax())]}' (conv") for c in said)

    other = cifar_png(int(np.flatnonzero(datasets.load("cifar10").y_test == 0)[40]))  # a new picture
    at.file_uploader(key="classify_live_upload").set_value(("plane.png", other, "image/png")).run()
    again = np.asarray(model(datasets.to_float(pictures.picture_from_bytes(other, 32, False))[None],
                             training=False))[0]
    np.testing.assert_allclose(values(chart(at)["y"]), again, atol=1e-5)  # refreshed


def test_a_bad_upload_gets_a_sentence():
    at = open_live(ALICE)
    at.file_uploader(key="classify_live_upload").set_value(
        ("notes.png", b"not a picture at all", "image/png")).run()
    assert not at.exception and not at.get("plotly_chart")
    assert len(at.error) == 1 and at.error[0].value.startswith("The picture cannot be used: ")


@pytest.mark.parametrize("name, sentence", [
    ("wide", "It does not take square gray or colour pictures"),
    ("five", "The model gives 5 scores per image, not one for each of the 3 classes."),
])
def test_a_model_that_does_not_fit_gets_a_sentence(name, sentence):
    at = open_live(ALICE)
    at.selectbox(key="classify_live_model").set_value(name).run()
    assert not at.exception and not at.get("plotly_chart")
    assert at.error[0].value.startswith(f"Model {name} cannot be tried here. {sentence}")


def test_another_person_lists_only_their_own_models_and_the_shared_ones():
    at = open_live(BOB)
    names = [o.partition(" ")[0] for o in at.selectbox(key="classify_live_model").options]
    assert names[0] == "bobs_model" and at.selectbox(key="classify_live_model").value == "bobs_model"
    assert not {"pets", "wide", "five"} & set(names)
    assert {"mnist", "cifar10"} <= set(names)  # the bundled models come after
    assert not [i for i in at.info if i.value.startswith("You have no saved model")]


def open_inside(owner: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state[identity.KEY] = owner
    at.session_state["inside_source"] = "stored"
    at.switch_page("pages/inside.py").run()
    assert not at.exception, at.exception
    return at


def test_inside_opens_the_own_model_with_its_class_names_and_the_owners_pictures():
    at = open_inside(ALICE)
    at.sidebar.selectbox(key="inside_model").set_value("pets").run()
    assert not at.exception and not at.main.error
    assert at.sidebar.selectbox(key="inside_input").value == "own"
    assert at.sidebar.selectbox(key="inside_own_class_cifar3").options == CLASSES
    at.sidebar.selectbox(key="inside_own_class_cifar3").set_value("frog").run()
    at.sidebar.number_input(key="inside_own_index_cifar3_frog").set_value(3).run()
    assert not at.exception
    own = OwnDataStore()
    picture = own.read_picture(ALICE, "cifar3", "frog", own.picture_ids(ALICE, "cifar3", "frog")[3])
    probs = np.asarray(store.load_model("pets")(datasets.to_float(picture)[None], training=False))[0]
    head = at.main.markdown[0].value
    assert "Input: cifar3 picture 3 of class frog." in head
    assert f"Prediction: **{CLASSES[int(probs.argmax())]}** ({probs.max():.1%})" in head


def test_inside_does_not_list_another_persons_own_model():
    at = open_inside(BOB)
    options = at.sidebar.selectbox(key="inside_model").options
    assert any(o.startswith("bobs_model") for o in options)
    assert not any(o.startswith(("pets", "wide", "five")) for o in options)


def test_inside_squares_an_uploaded_photo_for_an_own_model_as_its_dataset_was_made():
    at = open_inside(ALICE)
    at.sidebar.selectbox(key="inside_model").set_value("pets").run()
    at.sidebar.selectbox(key="inside_input").set_value("photo").run()
    data = cifar_png(int(np.flatnonzero(datasets.load("cifar10").y_test == 1)[40]))
    at.sidebar.file_uploader(key="inside_photo_file").set_value(("car.png", data, "image/png")).run()
    assert not at.exception and not at.main.error
    picture = pictures.picture_from_bytes(data, 32, gray=False)
    probs = np.asarray(store.load_model("pets")(datasets.to_float(picture)[None], training=False))[0]
    head = at.main.markdown[0].value
    assert "Input: car.png." in head
    assert f"Prediction: **{CLASSES[int(probs.argmax())]}** ({probs.max():.1%})" in head
    assert "Centre square, 32x32" in [c for img in at.main.image for c in img.captions]
