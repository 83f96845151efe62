"""The intake's look at an archive before anything is built (:mod:`cnnlib.intake.archive`):
members refused by their declared sizes without decompression, config.json bounded
and parsed, the weights' dataset shapes read without their data, against the shapes
Keras itself saved; the store's listing refuses a hand-placed hostile file."""

import dataclasses
import json
import zipfile

import pytest
from testutil import REPO

from cnnlib.intake.archive import inspect_archive
from cnnlib.intake.errors import ModelLoadError
from cnnlib.intake.limits import Limits
from cnnlib.intake.load import check_untrusted
from tests.support import hostile


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return hostile.base_archive(tmp_path_factory.mktemp("base"))


def write(tmp_path, data: bytes, name="h.keras"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refusal(path, limits=None, name="h.keras") -> ModelLoadError:
    with pytest.raises(ModelLoadError) as info:
        inspect_archive(path, limits or Limits(), name)
    sentence = str(info.value)
    assert sentence.startswith(f"{name} ") and sentence.endswith(".") and "\n" not in sentence
    return info.value


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_the_bundled_models_pass_and_their_weight_shapes_are_those_keras_saved(name):
    import keras

    path = REPO / "models" / f"{name}.keras"
    report = inspect_archive(path, Limits(), path.name)
    assert report.config["class_name"] in ("Sequential", "Functional")
    model = keras.saving.load_model(path, compile=False)
    from_h5 = sorted(s for k, s in report.weight_shapes.items() if k.startswith("layers/"))
    assert from_h5 == sorted(tuple(w.shape) for w in model.weights)
    assert sum(int(__import__("numpy").prod(s)) for s in from_h5) == model.count_params()
    check_untrusted(path)  # the whole cheap check


def test_a_4_gib_member_of_zeros_is_refused_by_its_declared_size_without_decompressing(
        tmp_path, base, monkeypatch):
    data = hostile.with_zeros_member(base)
    assert len(data) < 20_000
    path = write(tmp_path, data)
    with zipfile.ZipFile(path) as z:
        assert z.getinfo("assets/zeros.bin").file_size == 0xFFFFFFFE
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("decompressed"))
    e = refusal(path)
    assert "assets/zeros.bin declares 4,096 MB" in str(e) and "file_size=4294967294" in e.detail


def test_the_total_declared_size_is_bounded_even_at_a_modest_ratio(tmp_path, base):
    path = write(tmp_path, hostile.with_zeros_member(base))
    e = refusal(path, Limits(max_ratio=10**9, max_uncompressed_bytes=2**30))
    assert "more than 1,024 MB once unpacked" in str(e)


def test_a_member_no_keras_archive_has_is_refused(tmp_path, base):
    with zipfile.ZipFile(write(tmp_path, base), "a") as z:
        z.writestr("payload.py", "print('hi')")
    assert "payload.py" in str(refusal(tmp_path / "h.keras"))


@pytest.mark.parametrize("kind,words", [("not json", "its config.json is not valid JSON"),
                                        ("truncated weights", "damaged or truncated")])
def test_a_bad_config_or_weights_file_gets_a_sentence(tmp_path, base, kind, words):
    e = refusal(write(tmp_path, hostile.hostile(kind, tmp_path, base)))
    assert words in str(e) and e.detail


def test_config_json_is_read_with_a_bound(tmp_path, base):
    path = write(tmp_path, hostile.with_config(base, lambda c: {**c, "pad": "x" * 5000}))
    assert "its config.json is" in str(refusal(path, Limits(max_config_bytes=4000)))
    assert inspect_archive(path, Limits(), "h.keras").config["pad"] == "x" * 5000


@pytest.mark.parametrize("data,words", [(b"", "the file is empty"),
                                        (b"PK junk", "not a Keras model archive")])
def test_empty_and_junk_files(tmp_path, data, words):
    assert words in str(refusal(write(tmp_path, data)))


def test_a_damaged_member_fails_its_crc_as_it_is_read(tmp_path, base):
    members = hostile._members(base)
    buf = __import__("io").BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:  # stored: the bytes are findable
        for name, content in members.items():
            z.writestr(name, content)
    raw = bytearray(buf.getvalue())
    at = raw.index(b'"class_name"')
    raw[at + 1:at + 6] = b"klass"  # still JSON, but not the bytes the CRC was made of
    e = refusal(write(tmp_path, bytes(raw)))
    assert "not a Keras model archive" in str(e) and "CRC" in e.detail


def test_a_hand_placed_hostile_file_is_listed_as_unusable_with_the_reason(tmp_path, base):
    from cnnlib import paths, store

    folder = paths.user_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deep.keras").write_bytes(hostile.hostile("3000 layers", tmp_path, base))
    (folder / "zeros.keras").write_bytes(hostile.with_zeros_member(base))
    (folder / "bomb.keras").write_bytes(hostile.hostile("config bomb", tmp_path, base))
    entries = {m.name: m for m in store.list_models()}
    assert "deep.keras declares a model of more than 500 layers" in entries["deep"].error
    assert "bomb.keras declares a model of at least 1,250,025,000 weights" in entries["bomb"].error
    assert "zeros.keras cannot be loaded: its member assets/zeros.bin" in entries["zeros"].error
    assert entries["mnist"].ok
    for name in ("deep", "bomb"):
        with pytest.raises(ModelLoadError, match=f"{name}.keras declares a model of"):
            store.load_model(name)


def test_limits_are_a_frozen_value():
    assert dataclasses.is_dataclass(Limits) and json.dumps(Limits().max_ratio)
