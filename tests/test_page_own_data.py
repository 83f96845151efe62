"""AppTest of the Your images page: make a dataset, fill a class from uploaded
pictures, remove one, import a zip of real CIFAR-10 pictures, bad input gets a
sentence, and another person sees none of it."""

from __future__ import annotations

import io
import zipfile

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest
from testutil import REPO, requires_shared_data

from pages import identity

PAGE = "pages/own_data.py"


def open_page(owner: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state[identity.KEY] = owner
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def markdown_text(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_make_fill_and_remove(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_HOME", str(tmp_path))
    at = open_page("owner-a-token-0000000000")
    assert at.button(key="own_create") and at.button(key="own_import")
    at.text_input(key="own_new_name").set_value("pens")
    at.text_input(key="own_new_classes").set_value("pen")  # one class
    at.button(key="own_create").click().run()
    assert not at.exception and len(at.error) == 1 and "2" in at.error[0].value
    at.text_input(key="own_new_classes").set_value("pen, pencil")
    at.button(key="own_create").click().run()
    assert not at.exception and not at.error
    assert at.selectbox(key="own_dataset").value == "pens"
    assert "**pen**: 0 picture(s)" in markdown_text(at)

    rng = np.random.default_rng(0)
    pictures = [("a.png", png(rng.integers(0, 255, (80, 120, 3), dtype=np.uint8)), "image/png"),
                ("b.png", png(rng.integers(0, 255, (90, 90, 3), dtype=np.uint8)), "image/png"),
                ("c.png", b"not a picture", "image/png")]
    at.selectbox(key="own_target_pens").set_value("pencil").run()
    at.file_uploader(key="own_files_0").set_value(pictures).run()
    assert not at.exception
    assert "**pencil**: 2 picture(s)" in markdown_text(at)
    assert len(at.error) == 1 and "1 refused" in at.error[0].value and "c.png" in at.error[0].value
    removes = [b for b in at.button if b.key.startswith("own_rm_pencil_")]
    assert len(removes) == 2
    removes[0].click().run()
    assert "**pencil**: 1 picture(s)" in markdown_text(at)

    other = open_page("owner-b-token-0000000000")  # another browser: none of it
    assert other.button(key="own_create") and not other.selectbox
    assert "pens" not in markdown_text(other)


def cifar_zip(classes=("airplane", "cat", "ship"), per_class=4, side=64) -> bytes:
    from cnnlib.data import datasets

    ds = datasets.load("cifar10")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in classes:
            label = ds.class_names.index(name)
            for i in np.flatnonzero(ds.y_test == label)[:per_class]:
                big = Image.fromarray(ds.x_test[i]).resize((side, side), Image.BICUBIC)
                out = io.BytesIO()
                big.save(out, format="PNG")
                z.writestr(f"{name}/{i}.png", out.getvalue())
    return buf.getvalue()


@requires_shared_data
def test_a_zip_of_real_pictures_is_imported_and_a_bad_one_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_HOME", str(tmp_path))
    at = open_page("owner-c-token-0000000000")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("loose.png", png(np.zeros((8, 8, 3), np.uint8)))
    at.file_uploader(key="own_zip").set_value(("flat.zip", buf.getvalue(), "application/zip"))
    at.text_input(key="own_zip_name").set_value("flat")
    at.button(key="own_import").click().run()
    assert not at.exception and len(at.error) == 1 and not at.selectbox

    at.file_uploader(key="own_zip").set_value(("cifar.zip", cifar_zip(), "application/zip"))
    at.text_input(key="own_zip_name").set_value("three classes")
    at.radio(key="own_new_size").set_value(32)
    at.button(key="own_import").click().run()
    assert not at.exception and not at.error
    assert at.selectbox(key="own_dataset").value == "three classes"
    for name in ("airplane", "cat", "ship"):
        assert f"**{name}**: 4 picture(s)" in markdown_text(at)
    assert "32 x 32 pixels, colour; 3 classes, 12 pictures" in at.caption[0].value
