"""Inside the network's "what a filter looks for" for a model of a person's own dataset:
the top patches come from the held-out test pictures of the viewer's own dataset (the
split its run held out), their values those of a direct call of the model's layer on
those pictures; each of two people gets his or her own pictures. The home (two datasets
named "cifar3" of different real CIFAR-10 pictures, the same model saved by each) is
:func:`test_probe_own_data.make_home`'s, with its fixtures."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_probe_own_data import ALICE, BOB, CIFAR, environment, home, own_config  # noqa: F401 (fixtures: the same home)
from testutil import REPO

from cnnlib import store
from cnnlib.data import datasets
from cnnlib.training import engine
from cnnlib.viz.numbers import number
from pages import identity


def open_filters(owner: str, model: str) -> AppTest:
    """Inside the network on the stored ``model``, as ``owner``, the filter search open."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    at.session_state[identity.KEY] = owner
    at.session_state["inside_source"] = "stored"
    at.session_state["inside_model"] = model
    at.session_state["inside_filters"] = True
    at.switch_page("pages/inside.py").run()
    assert not at.exception, at.exception
    assert not at.main.error, [e.value for e in at.main.error]
    return at


def expected_captions(owner: str, model: str, channel: int) -> list[str]:
    """The patches' captions computed directly: conv1 of the stored model on ``owner``'s
    held-out pictures, each picture's strongest response of ``channel``, strongest first."""
    x, y, _ = engine.eval_split(own_config(owner), owner)
    maps = np.asarray(store.load_model(model).get_layer("conv1")(datasets.to_float(x)))  # (N, 30, 30, 4)
    strongest = maps.max(axis=(1, 2))[:, channel]  # (N,)
    order = np.argsort(-strongest, kind="stable")[:9]
    return [f"{number(strongest[i])} · {list(CIFAR)[y[i]]}" for i in order]


@pytest.mark.parametrize("owner, model", [(ALICE, "alice_net"), (BOB, "bob_net")])
def test_the_top_patches_come_from_the_owners_held_out_pictures(owner, model):
    at = open_filters(owner, model)
    assert at.selectbox(key="inside_filter_layer").value == 1  # conv1
    (channel_input,) = [n for n in at.main.number_input if n.key.startswith("inside_filter_channel_1_")]
    channel = int(channel_input.value)
    (caption,) = [c.value for c in at.main.caption if c.value.startswith("Of ")]
    assert caption.startswith(f"Of the 10 held-out test pictures of your dataset cifar3, the 9 whose map "
                              f"{channel} of conv1"), caption
    shown = [c.value for c in at.main.caption if " · " in c.value]
    assert shown == expected_captions(owner, model, channel)


def test_each_person_gets_his_or_her_own_pictures():
    alice = open_filters(ALICE, "alice_net")
    bob = open_filters(BOB, "bob_net")  # the same weights: only the pictures differ
    assert expected_captions(ALICE, "alice_net", 0) != expected_captions(BOB, "bob_net", 0)
    for at in (alice, bob):
        at.number_input(key=[n.key for n in at.main.number_input
                             if n.key.startswith("inside_filter_channel_1_")][0]).set_value(0).run()
    assert [c.value for c in alice.main.caption if " · " in c.value] == expected_captions(ALICE, "alice_net", 0)
    assert [c.value for c in bob.main.caption if " · " in c.value] == expected_captions(BOB, "bob_net", 0)


def test_another_person_cannot_open_the_model():
    at = open_filters(BOB, "bob_net")
    assert not any(o.startswith("alice_net") for o in at.sidebar.selectbox(key="inside_model").options)
