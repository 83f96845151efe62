"""cnnlib.owndata: datasets imported from and exported to a zip in the layout
``keras.utils.image_dataset_from_directory`` reads; real CIFAR-10 pictures, and each bad
zip refused with its sentence before anything is stored."""

import io
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image
from testutil import SHARED_DATA

from cnnlib import owndata
from cnnlib.owndata.store import OwnDataStore

ALICE, BOB = "alice-token", "bob-token"
CIFAR = SHARED_DATA / "cifar10.npz"
requires_cifar = pytest.mark.skipif(not CIFAR.exists(), reason=f"real data not found at {CIFAR}")


def encode(array_or_img, fmt="PNG"):
    img = array_or_img if isinstance(array_or_img, Image.Image) else Image.fromarray(array_or_img)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def make_zip(members, compression=zipfile.ZIP_DEFLATED):
    """A zip of ``{name: bytes}`` (a name ending in ``/`` is a folder entry)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def small(seed):
    rng = np.random.default_rng(seed)
    return encode(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8))


def png_with_header_size(width, height):
    """A valid tiny PNG whose IHDR then claims another size (as tests/test_images.py)."""
    data = bytearray(encode(Image.new("L", (1, 1))))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4:ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr:ihdr + 17])) & 0xFFFFFFFF
    data[ihdr + 17:ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


def good(n_classes=2, per_class=2, top=""):
    return {f"{top}c{k}/{i}.png": small(100 * k + i) for k in range(n_classes)
            for i in range(per_class)}


@pytest.fixture
def store(tmp_path):
    return OwnDataStore(tmp_path / "datasets")


@pytest.fixture(scope="module")
def cifar_pictures():
    """36 CIFAR-10 test pictures, 12 each of airplane, automobile and bird, upscaled to
    64x64 (bicubic): ``{class name: [uint8 (64, 64, 3), ...]}``."""
    with np.load(CIFAR) as f:
        x, y = f["x_test"], f["y_test"].reshape(-1)
    out = {}
    for label, name in enumerate(("airplane", "automobile", "bird")):
        out[name] = [np.asarray(Image.fromarray(img).resize((64, 64), Image.Resampling.BICUBIC))
                     for img in x[y == label][:12]]
    return out


def as_set(arrays):
    return sorted(a.tobytes() for a in arrays)


# ---- real pictures in, the same pictures out ------------------------------------------------

@requires_cifar
@pytest.mark.parametrize("top", ["", "cifar3/"], ids=["class-folders-at-top", "one-enclosing-folder"])
def test_import_of_real_cifar_pictures_keeps_them_exactly(store, cifar_pictures, top):
    members = {f"{top}{name}/{i:04d}.png": encode(a)
               for name, arrays in cifar_pictures.items() for i, a in enumerate(arrays)}
    members.update({"__MACOSX/._x": b"junk", f"{top}.DS_Store": b"junk", f"{top}bird/Thumbs.db": b"j"})
    ds = store.import_zip(ALICE, "cifar", make_zip(members), size=64)
    assert ds.class_names == ("airplane", "automobile", "bird") and ds.counts == (12, 12, 12)
    x, y, names = store.arrays(ALICE, "cifar")
    assert x.shape == (36, 64, 64, 3) and x.dtype == np.uint8 and np.bincount(y).tolist() == [12] * 3
    for label, name in enumerate(names):  # 64x64 squares at 64: stored exactly as they came
        assert as_set(x[y == label]) == as_set(cifar_pictures[name])


@requires_cifar
def test_export_then_import_gives_the_same_dataset_and_the_same_bytes(store, cifar_pictures):
    members = {f"{name}/{i}.png": encode(a) for name, arrays in cifar_pictures.items()
               for i, a in enumerate(arrays)}
    store.import_zip(ALICE, "cifar", make_zip(members), size=32, gray=True)
    exported = store.export_zip(ALICE, "cifar")
    with zipfile.ZipFile(io.BytesIO(exported)) as z:
        names = z.namelist()
    assert len(names) == 36 and all(n.startswith("cifar/") and n.endswith(".png") for n in names)
    assert {n.split("/")[1] for n in names} == {"airplane", "automobile", "bird"}
    again = store.import_zip(BOB, "cifar", exported, size=32, gray=True)
    assert again.counts == (12, 12, 12)
    xa, ya, na = store.arrays(ALICE, "cifar")
    xb, yb, nb = store.arrays(BOB, "cifar")
    assert xa.shape == (36, 32, 32, 1) and na == nb
    np.testing.assert_array_equal(xa, xb)
    np.testing.assert_array_equal(ya, yb)
    assert store.export_zip(BOB, "cifar") == exported  # byte for byte


def test_import_counts_towards_the_limits_and_is_all_or_nothing(store, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_MAX_OWN_IMAGES", "5")
    store.import_zip(ALICE, "first", make_zip(good(2, 2)), size=32)
    with pytest.raises(owndata.OwnLimitError, match=r"you may add 1 more .*"
                                                    r"CNN_STUDIO_MAX_OWN_IMAGES=5\)"):
        store.import_zip(ALICE, "second", make_zip(good(2, 2)), size=32)
    assert [d.name for d in store.list(ALICE)] == ["first"]
    store.import_zip(BOB, "second", make_zip(good(2, 2)), size=32)  # Bob's budget is his own


def test_declared_megabytes_over_the_limit_are_refused_before_reading(store, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_MAX_OWN_MB", "1")
    members = {f"c{k}/{i}.bmp": encode(np.full((300, 300, 3), 10 * i + k, np.uint8), "BMP")
               for k in range(2) for i in range(3)}  # 6 x 270 KB declared, ~320 bytes each stored
    with pytest.raises(owndata.OwnLimitError, match=r"declare 1.5 MB once unpacked; an import "
                                                    r"may be 1 MB \(CNN_STUDIO_MAX_OWN_MB=1\)"):
        store.import_zip(ALICE, "big", make_zip(members), size=32)
    # the same plain pictures (compressed 850:1) under the limit are pictures like any other
    monkeypatch.setenv("CNN_STUDIO_MAX_OWN_MB", "2")
    assert store.import_zip(ALICE, "big", make_zip(members), size=32).counts == (3, 3)


def test_a_zip_bomb_is_refused_by_its_declared_sizes(store):
    """12 members of 20 MB of zeros (240 MB declared, 250 KB stored): refused from the
    central directory, over the default 200 MB, before anything is decompressed."""
    zeros = bytes(20 * 2**20)
    data = make_zip({f"c{i % 2}/{i}.bmp": zeros for i in range(12)})
    assert len(data) < 2**20
    with pytest.raises(owndata.OwnLimitError, match=r"declare 240.0 MB .*MAX_OWN_MB=200\)"):
        store.import_zip(ALICE, "bomb", data, size=32)


# ---- each bad zip gets its sentence ---------------------------------------------------------

BAD = {
    "not-a-zip": (b"PK\x03\x04 this is not really a zip", "not a zip file"),
    "empty-file": (b"", "the file is empty"),
    "no-class-folders": (make_zip({"__MACOSX/x": b"", ".hidden": b""}), "it has no class folders"),
    "picture-at-top": (make_zip({**good(), "loose.png": small(9)}), "outside any class folder"),
    "too-deep": (make_zip({"a/b/c/1.png": small(1), "a/b/c/2.png": small(2),
                           "a/b/d/1.png": small(3), "a/b/d/2.png": small(4)}),
                 "nested deeper than allowed"),
    "non-picture-file": (make_zip({**good(), "c0/notes.txt": b"hello"}),
                         "'c0/notes.txt', which is not a picture"),
    "one-picture-class": (make_zip({**good(), "c2/only.png": small(7)}),
                          "the class 'c2' has 1 picture; each class needs at least 2"),
    "empty-class-folder": (make_zip({**good(), "c2/": b""}), "the class 'c2' has 0 pictures"),
    "one-class": (make_zip(good(1, 3)), r"it has 1 class folder \(c0\); a dataset has 2 to 10"),
    "eleven-classes": (make_zip(good(11, 2)), "it has 11 class folders"),
    "bad-class-name": (make_zip({"c0/1.png": small(1), "c0/2.png": small(2),
                                 "c*1/1.png": small(3), "c*1/2.png": small(4)}),
                       "the class folder 'c\\*1' has a name a class cannot have"),
    "picture-bomb": (make_zip({**good(), "c1/bomb.png": png_with_header_size(100_000, 100_000)}),
                     ("The picture 'c1/bomb.png' in the zip cannot be used: The image is far "
                      "too large")),
    "over-50-megapixels": (make_zip({**good(), "c1/big.png": png_with_header_size(9_000, 8_000)}),
                           "'c1/big.png' in the zip cannot be used: .* limit is 50 megapixels"),
    "corrupt-picture": (make_zip({**good(), "c0/broken.jpg": b"\xff\xd8\xff\xe0 cut"}),
                        "'c0/broken.jpg' in the zip cannot be used"),
    "zeros-named-bmp": (make_zip({**good(), "c0/zeros.bmp": bytes(2**20)}),
                        "'c0/zeros.bmp' in the zip cannot be used: This file is not an image"),
    "member-over-25-mb": (make_zip({**good(), "c0/huge.bmp": bytes(26 * 2**20)},
                                   zipfile.ZIP_STORED), "declares 26 MB; a picture may be 25 MB"),
    "same-picture-twice": (make_zip({"c0/1.png": small(1), "c0/2.png": small(1),
                                     "c1/1.png": small(2), "c1/2.png": small(3)}),
                           "the class 'c0' has 1 different picture once resized"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_each_bad_zip_is_refused_with_one_sentence_and_nothing_stored(store, case):
    data, match = BAD[case]
    with pytest.raises(owndata.OwnDataError, match=match) as e:
        store.import_zip(ALICE, "mine", data, size=32)
    text = str(e.value)
    assert text.startswith("The ") and text.endswith((".", ")", "?")) and "\n" not in text, text
    assert store.list(ALICE) == []
    assert not (store.root.exists() and [p for p in store.root.rglob("*") if p.suffix == ".tmp"])


def test_a_zip_under_a_taken_name_is_refused_before_it_is_read(store):
    store.create(ALICE, "mine", ["a", "b"], size=32)
    with pytest.raises(owndata.DatasetExistsError, match="already have a dataset named 'mine'"):
        store.import_zip(ALICE, "mine", b"not even a zip")
