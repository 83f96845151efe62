"""AppTest of the Train page with people's own datasets: each person is offered their
own datasets and nobody else's; choosing one shows its pictures, offers the
architectures that fit them, and a job on it trains with the owner's tag."""

import io

import numpy as np
from PIL import Image
from test_page_train import open_page, wait_for

from cnnlib import jobs, rundir
from cnnlib.models import zoo
from cnnlib.owndata.store import OwnDataStore
from cnnlib.owners import owner_tag

ALICE, BOB = "alice-browser-token-000000", "bob-browser-token-00000000"
COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


def picture(rgb, seed) -> bytes:
    rng = np.random.default_rng(seed)
    a = np.clip(np.array(rgb)[None, None] + rng.integers(-20, 21, (30, 40, 3)), 0, 255)
    buf = io.BytesIO()
    Image.fromarray(a.astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def make_pens(owner=ALICE):
    store = OwnDataStore()
    store.create(owner, "pens", list(COLOURS), size=32)
    for c, rgb in COLOURS.items():
        for i in range(10):
            store.add_picture(owner, "pens", c, picture(rgb, i))


def test_own_dataset_is_offered_to_its_owner_only_and_trains(tmp_path, monkeypatch):
    make_pens()
    alice = open_page(tmp_path, monkeypatch, owner=ALICE, past_open=False)
    choose = alice.selectbox(key="train_dataset")
    assert "pens (your images, 3 classes, 32x32)" in choose.options
    choose.set_value("own:pens").run()
    assert not alice.exception
    text = " ".join(m.value for m in alice.markdown)
    assert "**24** training and **6** test images of 32x32x3, from your images" in text
    assert list(alice.selectbox(key="train_arch").options) == list(zoo.OWN_DATA_ARCHS)
    assert not alice.error
    alice.selectbox(key="train_arch").set_value("logistic")
    alice.number_input(key="train_epochs").set_value(1)
    alice.run()
    alice.button(key="train_start").click().run()
    assert not alice.exception and not alice.error
    wait_for(alice, lambda a: any("Status: **finished**" in m.value for m in a.markdown))
    assert any(m.label == "Test accuracy" for m in alice.metric)
    (run,) = rundir.list_runs()
    assert (run.config().dataset, run.config().dataset_owner) == ("own:pens", owner_tag(ALICE))
    assert ALICE not in (run.path / "config.json").read_text()
    assert jobs.owner_tag(ALICE) == run.owner()

    bob = open_page(tmp_path, monkeypatch, fresh_server=False, owner=BOB, past_open=False)
    options = bob.selectbox(key="train_dataset").options
    assert not any("pens" in o for o in options) and len(options) == 4  # the built-in ones only
    assert "Past runs (0)" in [e.label for e in bob.expander]  # nor Alice's run
    assert "Past runs (1)" in [e.label for e in alice.run().expander]
