"""The test pictures of a person's own dataset, as a run holds them out
(:func:`cnnlib.training.engine.eval_split`), and Classify's "Where it breaks" on them for
a model of that dataset: the curves start at the model's plain accuracy on exactly those
pictures, for its owner only.

Two people each have a dataset named "cifar3" (16 real CIFAR-10 test pictures of each of
airplane, automobile and frog; different pictures for each person), and a small model
trained on Alice's, saved twice: as hers and as Bob's (with his dataset in its card)."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest
from test_page_classify import values
from testutil import REPO, SHARED_DATA, requires_shared_data

from cnnlib import owndata, store
from cnnlib.data import datasets
from cnnlib.owndata import OwnDataStore
from cnnlib.owners import NotOwnerError, owner_tag
from cnnlib.training import engine
from cnnlib.training.config import TrainConfig
from pages import identity

ALICE, BOB = "alice-token-000000000000", "bob-token-0000000000000000"
CIFAR = {"airplane": 0, "automobile": 1, "frog": 6}  # the classes kept, in label order
PER_CLASS, SEED = 16, 3  # a seed other than the default: the split must follow the run's
KEY = "classify_probe"


def cifar_zip(offset: int) -> bytes:
    """Real CIFAR-10 test pictures ``offset .. offset + PER_CLASS - 1`` of each class of
    :data:`CIFAR`, as 32 px PNGs in the zip layout ``cifar3/<class>/<i>.png``."""
    with np.load(SHARED_DATA / "cifar10.npz") as f:
        x, y = f["x_test"], f["y_test"].reshape(-1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, label in CIFAR.items():
            for i in np.flatnonzero(y == label)[offset:offset + PER_CLASS]:
                png = io.BytesIO()
                Image.fromarray(x[i]).save(png, "PNG")
                z.writestr(f"cifar3/{name}/{i}.png", png.getvalue())
    return buf.getvalue()


def own_config(owner: str, **overrides) -> TrainConfig:
    return TrainConfig(dataset="own:cifar3", dataset_owner=owner_tag(owner), seed=SEED, **overrides)


def small_model(data: datasets.Dataset):
    """A named conv1 / pool1 / predictions network fitted briefly on ``data``'s training
    pictures (so that its answers vary from picture to picture)."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((32, 32, 3)), layers.Conv2D(4, 3, activation="relu", name="conv1"),
                              layers.MaxPooling2D(2, name="pool1"), layers.Flatten(name="flatten"),
                              layers.Dense(3, activation="softmax", name="predictions")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(datasets.to_float(data.x_train), data.y_train, epochs=5, batch_size=8, verbose=0)
    return model


def make_home(folder) -> None:
    """In ``$CNN_STUDIO_HOME`` = ``folder``: Alice's and Bob's "cifar3" (different pictures),
    "alice_net" (hers, trained on hers) and "bob_net" (the same weights, his, naming his
    dataset and no class names)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CNN_STUDIO_HOME", str(folder))
        own = OwnDataStore()
        own.import_zip(ALICE, "cifar3", cifar_zip(0), size=32, gray=False)
        own.import_zip(BOB, "cifar3", cifar_zip(PER_CLASS), size=32, gray=False)
        model = small_model(engine.load_data(own_config(ALICE)))
        for owner, name in ((ALICE, "alice_net"), (BOB, "bob_net")):
            card = {"dataset": "own:cifar3", "config": own_config(owner).to_dict(), "n_test": 10}
            if owner == ALICE:  # Bob's card has none: the class names come from his dataset
                card["class_names"] = list(CIFAR)
            store.save_model(model, name, owner=owner, card=card)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    if not (SHARED_DATA / "cifar10.npz").exists():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    folder = tmp_path_factory.mktemp("own-probe-home")
    make_home(folder)
    return folder


@pytest.fixture(autouse=True)
def environment(home, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_HOME", str(home))
    monkeypatch.setenv("CNN_STUDIO_DATA_DIR", str(SHARED_DATA))


# ------------------------------------------------------------------ library --

@pytest.mark.parametrize("n_test", [None, 4])
def test_eval_split_is_what_a_run_holds_out(n_test):
    cfg = own_config(ALICE, n_test=n_test)
    x, y, names = engine.eval_split(cfg, ALICE)
    data = engine.load_data(cfg)
    idx = engine.eval_indices(data.y_test, cfg.n_test, cfg.seed)
    np.testing.assert_array_equal(x, data.x_test[idx])
    np.testing.assert_array_equal(y, data.y_test[idx])
    assert x.dtype == np.uint8 and x.shape == (len(idx), 32, 32, 3) and y.dtype == np.int64
    assert names == tuple(CIFAR) and len(y) == (10 if n_test is None else 4)
    # the split follows the run's seed: another seed holds out other pictures
    other, _, _ = engine.eval_split(dataclasses.replace(cfg, seed=SEED + 1), ALICE)
    assert not np.array_equal(other, x)
    # none of them is among the run's training pictures
    train = {p.tobytes() for p in data.x_train}
    assert not any(p.tobytes() in train for p in x)


@pytest.mark.parametrize("viewer", [BOB, None, owner_tag(ALICE)])  # a tag is not a token
def test_eval_split_refuses_anyone_but_the_owner(viewer):
    with pytest.raises(NotOwnerError, match="'cifar3' belongs to someone else"):
        engine.eval_split(own_config(ALICE), viewer)
    with pytest.raises(NotOwnerError):
        engine.eval_split(dataclasses.replace(own_config(ALICE), dataset_owner=None), viewer)


def test_eval_split_of_a_missing_own_dataset_is_a_sentence():
    with pytest.raises(owndata.DatasetNotFoundError, match="no dataset named 'pens'"):
        engine.eval_split(dataclasses.replace(own_config(ALICE), dataset="own:pens"), ALICE)


@requires_shared_data
def test_eval_split_of_a_builtin_dataset_is_its_stratified_test_subset():
    x, y, names = engine.eval_split(TrainConfig(dataset="mnist", n_test=50, seed=1), None)
    data = datasets.load("mnist", n_train=10)
    idx = datasets.stratified_indices(data.y_test, 50, 1)
    np.testing.assert_array_equal(x, data.x_test[idx])
    np.testing.assert_array_equal(y, data.y_test[idx])
    assert names == data.class_names


# ---------------------------------------------------------- Where it breaks --

def open_breaks(owner: str, model: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    at.session_state[identity.KEY] = owner
    at.switch_page("pages/classify.py")
    at.session_state["classify_tab"] = "Probe any model"
    at.session_state[f"{KEY}_model"] = model
    at.session_state[f"{KEY}_section"] = "Where it breaks"
    at.run()
    assert not at.exception, at.exception
    return at


def plain_accuracy(model_name: str, owner: str) -> tuple[float, int]:
    """The stored model's accuracy on ``owner``'s held-out pictures, computed directly."""
    x, y, _ = engine.eval_split(own_config(owner), owner)
    probs = np.asarray(store.load_model(model_name)(datasets.to_float(x), training=False))
    return float(np.mean(probs.argmax(axis=1) == y)), len(y)


def level_zero(at) -> list[float]:
    """Each change's accuracy at level 0 (the identity) in the curves chart."""
    spec = json.loads(at.get("plotly_chart")[1].proto.spec)
    return [float(values(t["y"])[np.flatnonzero(values(t["x"]) == 0)[0]]) for t in spec["data"]]


@pytest.mark.parametrize("owner, model", [(ALICE, "alice_net"), (BOB, "bob_net")])
def test_where_it_breaks_starts_at_the_plain_accuracy_on_the_owners_held_out_pictures(owner, model):
    accuracy, n = plain_accuracy(model, owner)
    at = open_breaks(owner, model)
    assert not at.error, [e.value for e in at.error]
    assert at.radio(key=f"{KEY}_input").value == "test"  # a held-out picture is the input
    assert at.number_input(key=f"{KEY}_own_index").proto.max == n - 1
    assert len(at.get("plotly_chart")) == 3  # top-k, the curves, one change per class
    starts = level_zero(at)
    assert len(starts) == 8 and starts == pytest.approx([accuracy] * 8)
    text = "\n".join(c.value for c in at.caption)
    assert f"Accuracy on the {n} held-out test pictures of your dataset cifar3 as each" in text
    assert "the curves are coarse" in text  # 10 pictures
    per_class = json.loads(at.get("plotly_chart")[2].proto.spec)["data"]
    assert [t["name"] for t in per_class] == [*CIFAR, "all classes"]  # the dataset's class names


def test_the_two_people_get_curves_on_their_own_pictures():
    """Same weights, datasets of the same name and size: each one's curves are measured on
    his or her own held-out pictures (not the other's, cached before)."""
    alice, _ = plain_accuracy("alice_net", ALICE)
    bob, _ = plain_accuracy("bob_net", BOB)
    assert alice != bob  # else this test could not tell the pictures apart
    assert level_zero(open_breaks(ALICE, "alice_net"))[0] == pytest.approx(alice)
    assert level_zero(open_breaks(BOB, "bob_net"))[0] == pytest.approx(bob)


def test_another_person_cannot_open_the_model_nor_compare_with_it():
    at = open_breaks(BOB, "bob_net")
    assert not any(o.startswith("alice_net") for o in at.selectbox(key=f"{KEY}_model").options)
    assert at.selectbox(key=f"{KEY}_compare").options == ["no other model"]


def test_an_own_dataset_that_is_gone_gets_a_sentence(home):
    store.save_model(store.load_model("alice_net"), "orphan", owner=ALICE,
                     card={"dataset": "own:gone", "class_names": list(CIFAR),
                           "config": own_config(ALICE).to_dict()})
    try:
        at = open_breaks(ALICE, "orphan")
        assert "You have no dataset named 'gone'" in at.error[0].value
        assert at.radio(key=f"{KEY}_input").options == ["a picture", "the webcam"]
    finally:
        store.delete_model("orphan", owner=ALICE)
