"""Owners: a saved model is its owner's to replace or delete, anyone's to use."""

import pytest
from testutil import tiny_classifier

from cnnlib import store
from cnnlib.owners import owner_tag
from cnnlib.store import files
from tests.support.fake_runs import make_run

pytestmark = pytest.mark.usefixtures("no_bundled_models")  # see conftest.py




def test_b_cannot_replace_a_s_model_but_may_use_it(tmp_path):
    path = store.save_model(tiny_classifier(3), "shared", owner="A")
    sha = files.sha256_file(path)
    with pytest.raises(store.NotOwnerError) as e:
        store.save_model(tiny_classifier(4), "shared", owner="B", overwrite=True)
    assert isinstance(e.value, PermissionError)
    assert str(e.value) == ("The model 'shared' was saved by someone else: only they can replace "
                            "it. Choose another name.")
    with pytest.raises(store.NotOwnerError):
        store.import_run(make_run(tmp_path, 5), "shared", owner="B", overwrite=True)
    with pytest.raises(store.NameTakenError, match="already exists") as e:  # without overwrite
        store.save_model(tiny_classifier(4), "shared", owner="B")
    assert isinstance(e.value, FileExistsError)
    assert files.sha256_file(path) == sha and store.read_card("shared")["owner_tag"] == owner_tag("A")
    # B uses it
    assert store.load_model("shared").count_params() == 8 * 8 * 3 + 3
    (entry,) = store.list_models()
    assert entry.owner_tag == owner_tag("A") and entry.owned_by("A") and not entry.owned_by("B")
    # A replaces it
    store.save_model(tiny_classifier(4), "shared", owner="A", overwrite=True)
    model, card = store.load_with_card("shared")
    assert model.count_params() == card["params"] == 8 * 8 * 4 + 4 and card["owner_tag"] == owner_tag("A")


def test_only_the_owner_deletes(tmp_path):
    store.import_run(make_run(tmp_path, 1), "mine", owner="A")
    with pytest.raises(store.NotOwnerError, match="only they can delete it"):
        store.delete_model("mine", owner="B")
    assert [m.name for m in store.list_models()] == ["mine"]
    path = store.delete_model("mine", owner="A")
    assert not path.exists() and not path.with_suffix(".json").exists()
    assert store.list_models() == []
    with pytest.raises(store.ModelNotFoundError, match="There is no model named 'mine'"):
        store.delete_model("mine", owner="A")
    store.save_model(tiny_classifier(3), "mine", owner="B")  # the name is free again, for anyone


def test_a_model_without_an_owner_is_a_script_s(tmp_path):
    """Scripts that name no owner (owner None) replace each other's models; a browser's
    or the command line's owner does not replace them."""
    store.save_model(tiny_classifier(3), "scripted", models_dir=tmp_path)
    store.save_model(tiny_classifier(4), "scripted", models_dir=tmp_path, overwrite=True)
    with pytest.raises(store.NotOwnerError):
        store.save_model(tiny_classifier(5), "scripted", models_dir=tmp_path, overwrite=True, owner="cli")
    assert store.read_card("scripted", tmp_path)["owner_tag"] is None
