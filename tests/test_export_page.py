"""AppTest of the Train page's take-home downloads: TFLite (with its check), script, notebook."""

from test_page_train import open_page
from testutil import requires_shared_data, tiny_config


@requires_shared_data
def test_a_finished_run_offers_tflite_script_and_notebook(tmp_path, monkeypatch):
    from cnnlib.training import engine

    run = engine.train(tiny_config(arch="logistic", n_train=64, n_test=40)).run_dir
    at = open_page(tmp_path, monkeypatch)
    at.selectbox(key="train_reopen").set_value(run.name).run()
    assert not at.caption or not any("TFLite outputs" in c.value for c in at.caption)  # lazy
    at.button(key=f"take_home_prepare_past_{run.name}").click().run(timeout=300)
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = [e.proto.label for e in at.get("download_button")]
    assert {"Download TFLite", "Download as Python script", "Download as notebook"} <= set(labels)
    (check,) = [c.value for c in at.caption if "TFLite outputs" in c.value]
    assert check.startswith("TFLite outputs match Keras within") and "on 40 test images" in check
    at.run()  # a rerun keeps the files ready without a second click
    assert "Download TFLite" in [e.proto.label for e in at.get("download_button")]
