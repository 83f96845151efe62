"""AppTest of the take-home downloads (pages/take_home.py): a finished run's TFLite and
ONNX (with their checks), script and notebook on the Train page; the stored models a
person may take home (the bundled ones and their own, never another's)."""

from streamlit.testing.v1 import AppTest
from test_page_train import open_page
from testutil import REPO, requires_shared_data, tiny_config, tiny_classifier

from cnnlib import store


@requires_shared_data
def test_a_finished_run_offers_tflite_onnx_script_and_notebook(tmp_path, monkeypatch):
    from cnnlib.training import engine

    run = engine.train(tiny_config(arch="logistic", n_train=64, n_test=40)).run_dir
    at = open_page(tmp_path, monkeypatch)
    at.selectbox(key="train_reopen").set_value(run.name).run()
    assert not at.caption or not any("TFLite outputs" in c.value for c in at.caption)  # lazy
    at.button(key=f"take_home_prepare_past_{run.name}").click().run(timeout=300)
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = [e.proto.label for e in at.get("download_button")]
    assert {"Download TFLite", "Download ONNX", "Download as Python script",
            "Download as notebook"} <= set(labels)
    for fmt in ("TFLite", "ONNX"):
        (check,) = [c.value for c in at.caption if f"{fmt} outputs" in c.value]
        assert check.startswith(f"{fmt} outputs match Keras within") and "on 40 test images" in check
    at.run()  # a rerun keeps the files ready without a second click
    assert "Download TFLite" in [e.proto.label for e in at.get("download_button")]


def store_section():
    from pages import identity, take_home

    take_home.stored_models_section(identity.owner())


@requires_shared_data
def test_stored_models_bundled_and_ones_own_are_taken_home(monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_MODELS_DIR", str(REPO / "models"))
    store.save_model(tiny_classifier(3), "alices", owner="alice-token")
    store.save_model(tiny_classifier(4), "bobs", owner="bob-token")
    at = AppTest.from_function(store_section, default_timeout=60)
    at.session_state["identity_owner"] = "alice-token"
    at.session_state["take_home_store"] = True  # the expander opened
    at.run()
    choose = at.selectbox(key="take_home_store_model")
    assert {o.split(" ")[0] for o in choose.options} == {"mnist", "cifar10", "alices"}  # not bobs
    assert "Download .keras" in [e.proto.label for e in at.get("download_button")]
    choose.set_value("mnist").run()
    at.button(key="take_home_prepare_store_mnist").click().run(timeout=300)
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = [e.proto.label for e in at.get("download_button")]
    assert {"Download .keras", "Download TFLite", "Download ONNX"} <= set(labels)
    checks = [c.value for c in at.caption if "outputs match Keras" in c.value]
    assert len(checks) == 2 and all("on 64 test images" in c for c in checks), checks
    at.selectbox(key="take_home_store_model").set_value("alices").run()
    at.button(key="take_home_prepare_store_alices").click().run(timeout=300)
    checks = [c.value for c in at.caption if "outputs match Keras" in c.value]
    assert len(checks) == 2 and all("random images" in c for c in checks), checks  # no card config
