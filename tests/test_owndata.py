"""cnnlib.owndata: people's own datasets, their pictures, owners, limits and training data
(tiny made-up pictures; the zip import is in test_owndata_zip.py)."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from testutil import REPO

from cnnlib import owndata
from cnnlib.data.datasets import Dataset
from cnnlib.owndata import pictures
from cnnlib.owndata.store import OwnDataStore, default_root
from cnnlib.owners import owner_tag

ALICE, BOB = "alice-token", "bob-token"


def png(rgb, size=(40, 30), fmt="PNG"):
    """A ``size`` (width, height) picture of one colour, encoded."""
    buf = io.BytesIO()
    Image.new("RGB", size, rgb).save(buf, format=fmt)
    return buf.getvalue()


def noise(seed, size=(48, 36)):
    a = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def store(tmp_path):
    return OwnDataStore(tmp_path / "datasets")


def assert_sentence(e):
    text = str(e)
    assert text[0].isupper() and text.rstrip().endswith((".", ")")), text
    assert "Traceback" not in text and "\n" not in text


# ---- create, add, count, remove, list ------------------------------------------------------

def test_round_trip_add_list_count_remove(store):
    ds = store.create(ALICE, "pets", ["cat", "dog"], size=32)
    assert ds.counts == (0, 0) and ds.image_shape == (32, 32, 3)
    a = store.add_picture(ALICE, "pets", "cat", png((255, 0, 0)))
    b = store.add_picture(ALICE, "pets", "cat", noise(1))
    store.add_picture(ALICE, "pets", "dog", png((0, 0, 255), fmt="JPEG"))
    assert store.counts(ALICE, "pets") == {"cat": 2, "dog": 1}
    assert store.picture_ids(ALICE, "pets", "cat") == sorted([a, b])
    pic = store.read_picture(ALICE, "pets", "cat", a)
    assert pic.shape == (32, 32, 3) and pic.dtype == np.uint8
    assert (pic == (255, 0, 0)).all()
    assert [d.name for d in store.list(ALICE)] == ["pets"]
    # the same picture twice is kept once, under the same id
    assert store.add_picture(ALICE, "pets", "cat", png((255, 0, 0))) == a
    assert store.get(ALICE, "pets").counts == (2, 1)
    store.remove_picture(ALICE, "pets", "cat", a)
    assert store.counts(ALICE, "pets") == {"cat": 1, "dog": 1}
    with pytest.raises(owndata.OwnDataError, match="no picture") as e:
        store.remove_picture(ALICE, "pets", "cat", a)
    assert_sentence(e.value)
    store.delete(ALICE, "pets")
    assert store.list(ALICE) == []
    assert not [p for p in store.root.rglob("*") if p.suffix in (".tmp", ".gone")]


def test_on_disk_one_png_per_picture_a_folder_per_class_a_card_and_no_token(store):
    store.create(ALICE, "pets", ["cat", "dog"], size=64, gray=True)
    pid = store.add_picture(ALICE, "pets", "dog", noise(2))
    folder = store.root / owner_tag(ALICE) / "pets"
    card = json.loads((folder / "card.json").read_text())
    assert card["owner_tag"] == owner_tag(ALICE) and card["classes"] == ["cat", "dog"]
    assert ALICE not in (folder / "card.json").read_text()
    with Image.open(folder / "dog" / f"{pid}.png") as img:
        assert img.format == "PNG" and img.mode == "L" and img.size == (64, 64)
    assert {p.name for p in folder.iterdir()} == {"card.json", "cat", "dog"}


def test_picture_is_centre_cropped_resized_and_gray_by_luminance(store):
    """A 90x30 picture: red left third, green middle, blue right; the centre square is
    all green, and gray is its BT.601 luma (0.587 * 255 = 150)."""
    a = np.zeros((30, 90, 3), np.uint8)
    a[:, :30, 0], a[:, 30:60, 1], a[:, 60:, 2] = 255, 255, 255
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    rgb = pictures.picture_from_bytes(buf.getvalue(), 32, gray=False)
    assert rgb.shape == (32, 32, 3) and (rgb[4:-4, 4:-4] == (0, 255, 0)).all()
    gray = pictures.picture_from_bytes(buf.getvalue(), 32, gray=True)
    assert gray.shape == (32, 32, 1) and gray.dtype == np.uint8
    assert abs(int(gray[16, 16, 0]) - 150) <= 1


def test_a_new_store_in_a_new_process_lists_it(store, monkeypatch, tmp_path):
    monkeypatch.setenv("CNN_STUDIO_HOME", str(tmp_path / "home"))
    assert default_root() == tmp_path / "home" / "datasets"
    OwnDataStore().create(ALICE, "pets", ["cat", "dog"], size=32)
    OwnDataStore().add_picture(ALICE, "pets", "dog", noise(3))
    code = ("from cnnlib.owndata import OwnDataStore; import sys; "
            "print([(d.name, d.counts) for d in OwnDataStore().list(sys.argv[1])])")
    out = subprocess.run([sys.executable, "-c", code, ALICE], cwd=REPO, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert out.strip() == "[('pets', (0, 1))]"


# ---- owners ---------------------------------------------------------------------------------

def test_another_owner_neither_lists_nor_reads_nor_changes_nor_deletes(store):
    store.create(ALICE, "pets", ["cat", "dog"], size=32)
    pid = store.add_picture(ALICE, "pets", "cat", noise(4))
    assert store.list(BOB) == []
    for call in (lambda: store.get(BOB, "pets"), lambda: store.arrays(BOB, "pets"),
                 lambda: store.read_picture(BOB, "pets", "cat", pid),
                 lambda: store.add_picture(BOB, "pets", "cat", noise(5)),
                 lambda: store.remove_picture(BOB, "pets", "cat", pid),
                 lambda: store.export_zip(BOB, "pets"),
                 lambda: store.delete(BOB, "pets")):
        with pytest.raises(owndata.DatasetNotFoundError, match="You have no dataset named 'pets'"):
            call()
    # Bob may use the same name for his own dataset; Alice's stays as it was
    store.create(BOB, "pets", ["a", "b", "c"], size=96)
    assert store.get(ALICE, "pets").counts == (1, 0)
    assert store.get(BOB, "pets").class_names == ("a", "b", "c")


def test_a_card_moved_into_another_owners_folder_is_refused(store):
    store.create(ALICE, "pets", ["cat", "dog"], size=32)
    (store.root / owner_tag(BOB)).mkdir()
    (store.root / owner_tag(ALICE) / "pets").rename(store.root / owner_tag(BOB) / "pets")
    with pytest.raises(owndata.NotOwnerError, match="belongs to someone else"):
        store.get(BOB, "pets")
    assert store.list(BOB) == []


def test_an_owner_is_a_token():
    with pytest.raises(TypeError, match="owner token"):
        OwnDataStore("/nonexistent").list(None)


# ---- bad input: one sentence each -----------------------------------------------------------

@pytest.mark.parametrize("kwargs,match", [
    (dict(name="", class_names=["a", "b"]), "A dataset name uses 1-40"),
    (dict(name="../x", class_names=["a", "b"]), "A dataset name uses 1-40"),
    (dict(name="x", class_names=["a"]), "2 to 10 classes"),
    (dict(name="x", class_names=[str(i) for i in range(11)]), "2 to 10 classes"),
    (dict(name="x", class_names=["a", "b/c"]), "A class name uses 1-40"),
    (dict(name="x", class_names=["a", "x" * 41]), "A class name uses 1-40"),
    (dict(name="x", class_names=["Cat", "cat"]), "both named"),
    (dict(name="x", class_names=["a", "b"], size=48), "32, 64 or 96"),
], ids=["empty-name", "path-name", "one-class", "eleven-classes", "slash", "long", "case", "size"])
def test_bad_dataset_gets_a_sentence(store, kwargs, match):
    with pytest.raises(owndata.OwnDataError, match=match) as e:
        store.create(ALICE, **kwargs)
    assert_sentence(e.value)
    assert store.list(ALICE) == []


def test_a_taken_name_an_unknown_class_and_a_non_picture_get_sentences(store):
    store.create(ALICE, "pets", ["cat", "dog"], size=32)
    with pytest.raises(owndata.DatasetExistsError, match="already have a dataset named 'pets'"):
        store.create(ALICE, "pets", ["a", "b"])
    with pytest.raises(owndata.OwnDataError, match="has no class 'bird'") as e:
        store.add_picture(ALICE, "pets", "bird", noise(6))
    assert_sentence(e.value)
    with pytest.raises(owndata.OwnDataError, match="The picture cannot be used: This file is "
                                                   "not an image") as e:
        store.add_picture(ALICE, "pets", "cat", b"%PDF-1.4 not a picture" * 10)
    assert store.get(ALICE, "pets").counts == (0, 0)


# ---- limits ---------------------------------------------------------------------------------

def test_picture_limit_from_the_environment(store, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_MAX_OWN_IMAGES", "3")
    store.create(ALICE, "a", ["x", "y"], size=32)
    store.create(ALICE, "b", ["x", "y"], size=32)
    for i, (name, cls) in enumerate([("a", "x"), ("a", "y"), ("b", "x")]):
        store.add_picture(ALICE, name, cls, noise(10 + i))
    with pytest.raises(owndata.OwnLimitError, match=r"keep 3 on this server "
                                                    r"\(CNN_STUDIO_MAX_OWN_IMAGES=3\)") as e:
        store.add_picture(ALICE, "b", "y", noise(20))
    assert_sentence(e.value)
    store.create(BOB, "c", ["x", "y"])
    store.add_picture(BOB, "c", "x", noise(21))
    assert store.usage(ALICE)[0] == 3 and store.usage(BOB)[0] == 1  # each person's own budget


def test_megabyte_limit_from_the_environment(store, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_MAX_OWN_MB", "1")
    store.create(ALICE, "big", ["x", "y"], size=96)
    added = 0
    with pytest.raises(owndata.OwnLimitError, match=r"keep 1 MB on this server "
                                                    r"\(CNN_STUDIO_MAX_OWN_MB=1\)"):
        for i in range(100):  # a 96x96 noise PNG is ~27 KB: the 38th or so is refused
            store.add_picture(ALICE, "big", "x", noise(100 + i, (96, 96)))
            added += 1
    assert 20 < added < 100 and store.usage(ALICE)[1] <= 2**20


def test_a_bad_limit_variable_is_named(store, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_MAX_OWN_IMAGES", "lots")
    with pytest.raises(ValueError, match="CNN_STUDIO_MAX_OWN_IMAGES must be a whole number"):
        owndata.OwnLimits.from_env()


# ---- training data --------------------------------------------------------------------------

def test_arrays_and_dataset_follow_the_one_contract(store):
    store.create(ALICE, "shapes", ["dark", "light", "mid"], size=32, gray=True)
    for i in range(10):
        store.add_picture(ALICE, "shapes", "dark", png((i, i, i)))
        store.add_picture(ALICE, "shapes", "light", png((250 - i,) * 3))
    for i in range(5):
        store.add_picture(ALICE, "shapes", "mid", png((120 + i,) * 3))
    x, y, names = store.arrays(ALICE, "shapes")
    assert x.shape == (25, 32, 32, 1) and x.dtype == np.uint8
    assert y.dtype == np.int64 and y.shape == (25,) and names == ("dark", "light", "mid")
    assert np.bincount(y).tolist() == [10, 10, 5]
    assert x[y == 0].max() < 20 and x[y == 1].min() > 230

    data = owndata.as_dataset(store, ALICE, "shapes", test_fraction=0.2, seed=0)
    assert isinstance(data, Dataset) and data.image_shape == (32, 32, 1) and data.num_classes == 3
    assert np.bincount(data.y_test).tolist() == [2, 2, 1]
    assert len(data.y_train) == 20 and data.x_train.dtype == np.uint8
    assert data.source == f"own:{owner_tag(ALICE)}/shapes"

    train, val, test = owndata.three_way_split(y, 0.2, 0.2, seed=1)
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(25))
    assert np.bincount(y[val]).tolist() == [2, 2, 1] and np.bincount(y[test]).tolist() == [2, 2, 1]
    with pytest.raises(owndata.OwnDataError, match="together below 1"):
        owndata.three_way_split(y, 0.5, 0.5)
