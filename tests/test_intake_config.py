"""cnnlib.intake.config_check: hostile configurations refused before Keras builds anything.

Each is a real archive's ``config.json`` edited by hand (a config bomb, 3,000
layers, deep nesting, a huge input, a Lambda layer, two inputs, not a model at
all); each refusal is one sentence that names the file. The weight count itself
is checked against Keras in test_intake_weights.py.
"""

import copy
import json
import os
import subprocess
import sys
import time

import pytest
from test_intake_weights import archive_config
from testutil import REPO

from cnnlib.intake.config_check import check_config
from cnnlib.intake.errors import ModelLoadError
from cnnlib.intake.limits import Limits
from cnnlib.models import zoo

LIMITS = Limits()


def refused(config, name="upload.keras", limits=LIMITS) -> ModelLoadError:
    with pytest.raises(ModelLoadError) as err:
        check_config(config, limits, name)
    sentence = str(err.value)
    assert name in sentence and sentence.count(". ") == 0 and sentence.endswith(".")
    assert "Traceback" not in sentence and "keras.src" not in sentence
    return err.value


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A small real Sequential model's archive config: Input(8) -> Dense(4) -> Dense(2)."""
    import keras

    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    return archive_config(model, tmp_path_factory.mktemp("small") / "small.keras")


def test_small_model_passes(small):
    report = check_config(small, LIMITS, "small.keras")
    assert (report.params, report.layers, report.input_shape) == (8 * 4 + 4 + 4 * 2 + 2, 3, (8,))


def test_config_bomb_refused_for_weights(small):
    bomb = copy.deepcopy(small)
    bomb["config"]["layers"][0]["config"]["batch_shape"] = [None, 50_000]
    bomb["config"]["layers"][1]["config"]["units"] = 25_000
    err = refused(bomb)
    assert "1,250,025,000 weights" in str(err) and "200,000,000" in str(err)
    assert "CNN_STUDIO_MAX_MODEL_PARAMS" in str(err)
    # 2 x 10^10 weights: Python ints, no overflow
    bomb["config"]["layers"][1]["config"]["units"] = 400_000
    assert "20,000,400,000 weights" in str(refused(bomb))


def test_three_thousand_layers_refused_fast(small):
    many = copy.deepcopy(small)
    dense = many["config"]["layers"][2]
    many["config"]["layers"][1:] = [copy.deepcopy(dense) for _ in range(3000)]
    start = time.perf_counter()
    err = refused(many)
    elapsed = time.perf_counter() - start
    assert "more than 500 layers" in str(err) and "CNN_STUDIO_MAX_MODEL_LAYERS" in str(err)
    assert elapsed < 20  # the bound; measured: about a millisecond


def test_three_thousand_nested_models_refused_without_recursion(small):
    nested = copy.deepcopy(small)
    for _ in range(3000):  # each model holds the one before it
        nested = {"module": "keras", "class_name": "Sequential", "registered_name": None,
                  "config": {"name": "s", "layers": [copy.deepcopy(small["config"]["layers"][0]),
                                                     nested]}}
    assert "nests models more than 3 deep" in str(refused(nested))


def test_five_nested_sequentials_refused(small):
    nested = small
    for _ in range(4):
        nested = {**small, "config": {**small["config"], "layers": [
            small["config"]["layers"][0], nested]}}
    assert "nests models more than 3 deep" in str(refused(nested))
    assert check_config(nested, Limits(max_nesting=5), "ok.keras").nesting == 5


def test_huge_input_refused(tmp_path):
    config = archive_config(zoo.build("cifar_small", (32, 32, 3), 10), tmp_path / "m.keras")
    config["config"]["layers"][0]["config"]["batch_shape"] = [None, 4096, 4096, 3]
    err = refused(config)
    assert "4096 x 4096 x 3 = 50,331,648 values" in str(err)
    config["config"]["layers"][0]["config"]["batch_shape"] = [None, 32, 32, None]
    assert "full size of its input images" in str(refused(config))  # channels unknown


def test_an_image_model_of_any_height_and_width_is_counted(tmp_path):
    """A fully convolutional model (global pooling before its head) takes any image
    size: its weights do not depend on it, and the count equals Keras's."""
    model = zoo.build("studio_cnn", (28, 28, 1), 10)
    config = archive_config(model, tmp_path / "m.keras")
    config["config"]["layers"][0]["config"]["batch_shape"] = [None, None, None, 1]
    assert check_config(config, Limits(), "any.keras").params == model.count_params()


def test_lambda_and_custom_layers_refused(small):
    with_lambda = copy.deepcopy(small)
    with_lambda["config"]["layers"].insert(1, {
        "module": "keras.layers", "class_name": "Lambda", "registered_name": None,
        "config": {"name": "x", "function": {"class_name": "__lambda__", "config": {}}}})
    assert "uses a layer type (Lambda) that CNN Studio does not load" in str(refused(with_lambda))
    custom = copy.deepcopy(small)
    custom["config"]["layers"][1].update(module="mypackage", registered_name="mypackage>Dense")
    assert "layer type (Dense)" in str(refused(custom))


def test_two_inputs_refused():
    import keras

    a, b = keras.Input((4,)), keras.Input((4,))
    model = keras.Model([a, b], keras.layers.Dense(2)(keras.layers.Add()([a, b])))
    assert "has 2 inputs" in str(refused(keras.saving.serialize_keras_object(model)))


@pytest.mark.parametrize("config", [{}, [], [1, 2], "model", None, 3,
                                    {"class_name": "Dense", "config": {"units": 3}},
                                    {"class_name": "Sequential", "config": {"layers": "x"}},
                                    {"class_name": "Sequential", "config": {"layers": [5]}}])
def test_not_a_model_config_refused(config):
    assert "does not hold a Keras model's configuration" in str(refused(config))


def test_layers_that_do_not_fit_refused(small):
    broken = copy.deepcopy(small)
    broken["config"]["layers"][1]["config"]["units"] = "many"
    err = refused(broken)
    assert "shapes do not fit together" in str(err) and "units" in err.detail


CHILD = """
import importlib.abc, json, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("tensorflow", "keras", "jax", "torch", "h5py"):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Refuse())
from cnnlib.intake.config_check import check_config
from cnnlib.intake.limits import Limits
report = check_config(json.load(open(sys.argv[1])), Limits(), "m.keras")
print(json.dumps({"params": report.params,
                  "loaded": [m for m in sys.modules if m.partition(".")[0] in ("tensorflow", "keras")]}))
"""


def test_check_needs_no_tensorflow(small, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(small))
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout) == {"params": 46, "loaded": []}


def test_huge_feature_map_refused(tmp_path):
    config = archive_config(zoo.build("cifar_small", (32, 32, 3), 10), tmp_path / "m.keras")
    up = {"module": "keras.layers", "class_name": "UpSampling2D", "registered_name": None,
          "config": {"name": "up", "size": [300, 300], "data_format": "channels_last"},
          "inbound_nodes": copy.deepcopy(config["config"]["layers"][1]["inbound_nodes"])}
    conv = config["config"]["layers"][1]
    conv["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["up", 0, 0]
    config["config"]["layers"].insert(1, up)
    err = refused(config)  # 9600 x 9600 x 3 values; no weights
    assert "('up') whose output holds 276,480,000 values" in str(err)


def test_custom_activation_and_custom_model_refused(small):
    custom = copy.deepcopy(small)
    custom["config"]["layers"][1]["config"]["activation"] = {
        "module": "builtins", "class_name": "function", "registered_name": "my>swish",
        "config": "my_swish"}
    assert "activation function of its own" in str(refused(custom))
    model = copy.deepcopy(small)
    model["registered_name"] = "mypackage>MyModel"
    assert "does not hold a Keras model's configuration" in str(refused(model))


def leaves(node, path=()):
    """Every (path, value) of a JSON tree, iteratively."""
    found, stack = [], [(node, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, where + (k,)) for k, v in item.items())
        elif isinstance(item, list) and item:
            stack.extend((v, where + (i,)) for i, v in enumerate(item))
        else:
            found.append(where)
    return found


def test_any_edited_value_gives_a_report_or_a_sentence(tmp_path):
    """600 random edits of a real archive's config (a value replaced by a wrong type, a
    negative or a huge number): each ends in a ConfigReport or a ModelLoadError, never
    another exception."""
    import random

    config = archive_config(zoo.build("lenet5", (28, 28, 1), 10), tmp_path / "m.keras")
    paths, rng = leaves(config), random.Random(20)
    wrong = [None, -1, 0, 1, "x", [], {}, [None], 10**12, True, 2.5, [[1, 2], [3]]]
    outcomes = {"report": 0, "refused": 0}
    for _ in range(600):
        edited = copy.deepcopy(config)
        where = rng.choice(paths)
        node = edited
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = rng.choice(wrong)
        try:
            check_config(edited, LIMITS, "m.keras")
            outcomes["report"] += 1
        except ModelLoadError as err:
            assert "m.keras" in str(err)
            outcomes["refused"] += 1
    assert outcomes["refused"] > 50 and outcomes["report"] > 50


@pytest.mark.parametrize("layer,edit", [("c1_bn", {"axis": [1, 2]}), ("c1_conv", {"kernel_size": [3]}),
                                        ("s2_pool", {"pool_size": [40, 40]}),
                                        ("c1_conv", {"groups": 4}), ("pad_to_32", {"padding": -2})])
def test_settings_that_do_not_fit_refused(layer, edit, tmp_path):
    config = archive_config(zoo.build("lenet5", (28, 28, 1), 10), tmp_path / "m.keras")
    (entry,) = [e for e in config["config"]["layers"] if e["name"] == layer]
    entry["config"].update(edit)
    assert "shapes do not fit together" in str(refused(config))
