"""The server's conversions in a limited child (cnnlib.export.child): the same files and
check numbers as in the process, each limit one sentence (on the page too), a bounded
number at once, and the server's process not growing by a conversion."""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from testutil import REPO, requires_shared_data, tiny_classifier

from cnnlib import limited, store
from cnnlib.export import child, formats, onnx_model, run_files, tflite
from cnnlib.intake.limits import ExportLimits
from tests.support.memory import reset_peak, status

MB = 2**20
MNIST = REPO / "models" / "mnist.keras"


def mnist_config() -> dict:
    return json.loads((REPO / "models" / "mnist.json").read_text())["config"]


@pytest.fixture
def tiny_file(tmp_path):
    """A saved 3-class logistic model of 8x8x1 images (195 weights)."""
    path = tmp_path / "tiny.keras"
    tiny_classifier(3).save(path)
    return path


@requires_shared_data
@pytest.mark.slow
def test_the_child_gives_the_in_process_numbers_and_files_that_run_like_the_model():
    def peak_growth(convert):
        reset_peak()
        before = status("VmRSS")
        return convert(), status("VmHWM") - before

    got, grew = peak_growth(lambda: run_files.model_files(MNIST, mnist_config(), n_images=16))
    want, grew_here = peak_growth(lambda: run_files.model_files(MNIST, mnist_config(), n_images=16,
                                                                in_process=True))
    print(f"test process peak: +{grew / MB:.0f} MB converting in the child, "
          f"+{grew_here / MB:.0f} MB in the process")
    assert grew < 100 * MB  # the files (~0.8 MB each) and JSON read back: no TensorFlow, no model

    import keras

    x = formats.test_images(mnist_config(), 16)  # (16, 28, 28, 1) float32 in [0, 1]
    ref = np.asarray(keras.saving.load_model(MNIST, compile=False)(x, training=False))  # (16, 10)
    for mine, theirs, run in ((got.tflite, want.tflite, tflite.run_tflite),
                              (got.onnx, want.onnx, onnx_model.run_onnx)):
        print(f"{mine.fmt}: child {mine.max_difference:.3g}, in process {theirs.max_difference:.3g}")
        assert mine.data is not None and mine.error is None
        assert (mine.n_checked, mine.images) == (theirs.n_checked, theirs.images) == (16, "test images")
        assert abs(mine.max_difference - theirs.max_difference) <= 1e-6
        assert np.max(np.abs(run(mine.data, x) - ref)) <= 1e-5


@pytest.mark.slow
def test_the_default_limits_convert_a_vgg16_transfer_model(vgg16_weights, tmp_path, monkeypatch):
    """The largest model of the project (VGG16's convolutional base under a new head,
    random weights in the official file's layout) within the defaults, at 96 x 96 x 3,
    the largest side of an own dataset."""
    from cnnlib.models import transfer, vgg16_files

    monkeypatch.setenv(vgg16_files.ENV_WEIGHTS, str(vgg16_weights))
    path = tmp_path / "vgg.keras"
    model = transfer.build("vgg16", (96, 96, 3), 5)
    model.save(path)
    del model
    files = child.convert_file(path, None, 16, ExportLimits())
    for converted in (files.tflite, files.onnx):
        print(converted.check_sentence())
        assert converted.data is not None and converted.max_difference <= 1e-5
        assert 50 * MB < len(converted.data) < ExportLimits().file_mb * MB  # 14.8 M float32 weights


@pytest.mark.parametrize("limits,words,lasting", [
    (ExportLimits(mb=1024), "The conversion needs more than 1 GB of memory", True),
    (ExportLimits(cpu_s=1), "The conversion needs more than 1 s of computing", True),
    (ExportLimits(wall_s=1), "The conversion took longer than 1 s and was stopped", False),
], ids=["memory", "cpu", "wall"])
def test_each_limit_is_one_sentence_in_both_formats(tiny_file, limits, words, lasting):
    files = child.convert_file(tiny_file, None, 4, limits)  # the TensorFlow import alone is over
    for converted in (files.tflite, files.onnx):
        assert converted.data is None and converted.error.startswith(words), converted.error
        assert converted.error.endswith("python -m cnnlib export.") and "\n" not in converted.error
        assert converted.detail and converted.lasting is lasting
    assert files.lasting is lasting and files.files("m") == {}


def test_a_format_finished_before_the_limit_struck_is_kept(tmp_path):
    """As measured with a VGG16-based model under 5 GB: the TFLite file was written, then
    tf2onnx ran out of memory and the child died (SIGSEGV) without a result line."""
    data = b"TFL3-bytes"
    (tmp_path / "model.tflite").write_bytes(data)
    (tmp_path / "TFLite.json").write_text(json.dumps(
        {"bytes": len(data), "max_difference": 2e-7, "n_checked": 64, "images": "test images"}))
    ended = limited.Ended(None, -11, "Traceback ...\nMemoryError\n", False)
    files = child._files(ended, tmp_path, ExportLimits(mb=5120), "vgg.keras")
    assert files.tflite.data == data and files.tflite.check_sentence() == (
        "TFLite outputs match Keras within 2e-07 on 64 test images.")
    assert files.onnx.data is None and files.onnx.error.startswith(
        "The conversion needs more than 5 GB of memory") and "MemoryError" in files.onnx.detail
    assert files.files("vgg") == {"vgg.tflite": data} and files.lasting


def test_a_limit_from_the_environment_and_a_bad_value_named(monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_EXPORT_MB", "2_048")
    monkeypatch.setenv("CNN_STUDIO_EXPORTS_AT_ONCE", "2")
    got = ExportLimits.from_env()
    assert (got.mb, got.at_once, got.cpu_s) == (2048, 2, ExportLimits().cpu_s)
    monkeypatch.setenv("CNN_STUDIO_EXPORT_S", "lots")
    with pytest.raises(ValueError, match="CNN_STUDIO_EXPORT_S must be a whole number"):
        ExportLimits.from_env()


def take_all_slots(limits) -> int:
    """Acquire every free conversion slot of this process; return how many."""
    slots, n = child.slots(limits), 0
    while slots.acquire(blocking=False):
        n += 1
    return n


def test_with_every_slot_taken_another_conversion_is_told_to_come_back(tiny_file, monkeypatch):
    monkeypatch.setattr(limited, "run", lambda *a, **k: pytest.fail("a child was started"))
    limits = ExportLimits(wait_s=0.01)
    held = take_all_slots(limits)
    try:
        assert held >= 1
        with pytest.raises(child.ExportBusyError) as e:
            child.convert_file(tiny_file, None, 4, limits)
        assert str(e.value) == "Another model is being converted; press Prepare again in a minute."
    finally:
        for _ in range(held):
            child.slots(limits).release()


def test_a_file_that_is_no_model_is_the_intakes_sentence(tmp_path):
    path = tmp_path / "broken.keras"
    path.write_bytes(b"not a zip")
    with pytest.raises(store.ModelLoadError, match="broken.keras"):
        child.convert_file(path, None, 4)


# ------------------------------------------------------------------- the page --

def store_section():
    from pages import identity, take_home

    take_home.stored_models_section(identity.owner())


def stored_page(monkeypatch):
    """The stored-models expander (bundled mnist chosen) in a new session."""
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(REPO / "models"))
    at = AppTest.from_function(store_section, default_timeout=120)
    at.session_state["identity_owner"] = "alice-token"
    at.session_state["take_home_store"] = True  # the expander opened
    at.run()
    at.selectbox(key="take_home_store_model").set_value("mnist").run()
    return at


@pytest.mark.parametrize("env,words,again", [
    ({"CNN_STUDIO_EXPORT_MB": "1024"}, "needs more than 1 GB of memory", False),
    ({"CNN_STUDIO_EXPORT_S": "1"}, "needs more than 1 s of computing", False),
    ({"CNN_STUDIO_EXPORT_WALL_S": "1"}, "took longer than 1 s and was stopped", True),
], ids=["memory", "cpu", "wall"])
def test_the_page_shows_a_limits_sentence_and_keeps_the_keras_download(monkeypatch, env, words, again):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    at = stored_page(monkeypatch)
    at.button(key="take_home_prepare_store_mnist").click().run(timeout=120)
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("No TFLite or ONNX file: The conversion ") \
        and words in errors[0], errors
    assert at.expander[-1].label == "Details" and at.expander[-1].code  # the child's text, folded
    labels = [e.proto.label for e in at.get("download_button")]
    assert labels == ["Download .keras"]
    prepare = [b for b in at.button if b.key == "take_home_prepare_store_mnist"]
    assert bool(prepare) is again  # a wall-clock stop may pass: the button is back, uncached


def test_the_page_says_busy_and_offers_the_button_again(monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_EXPORT_WAIT_S", "1")
    at = stored_page(monkeypatch)
    limits = ExportLimits.from_env()
    held = take_all_slots(limits)
    try:
        at.button(key="take_home_prepare_store_mnist").click().run(timeout=60)
    finally:
        for _ in range(held):
            child.slots(limits).release()
    assert not at.exception
    assert [e.value for e in at.error] == [child.BUSY]
    assert [b for b in at.button if b.key == "take_home_prepare_store_mnist"]
