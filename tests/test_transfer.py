"""Transfer learning (cnnlib.models.transfer): a stored model's or VGG16's convolutional
base, frozen, under a new head; the config's base_model; the engine's branch. Tiny
made-up pictures, except the one test that claims an accuracy (real CIFAR-10 pictures).
VGG16's weights are not on this machine: its tests write a weights file of a randomly
initialised VGG16 in the official file's layout (tests/vgg16_files.py)."""

import numpy as np
import pytest
from test_owndata_training import ALICE, COLOURS, cifar_zip, picture
from testutil import requires_shared_data
from vgg16_files import write_keras2_h5_weights

from cnnlib import store
from cnnlib.models import transfer, vgg16_files
from cnnlib.network import reader
from cnnlib.owndata.store import OwnDataStore
from cnnlib.owners import owner_tag
from cnnlib.training import config, engine

#: The bundled cifar10 model is studio_cnn on colour pictures: its last block has 128 maps.
CIFAR10_LAST_MAPS = 128


def head_params(features: int, classes: int) -> int:
    """The new head by hand: Dense (inputs + 1) x units, twice (head_dense, logits)."""
    return (features + 1) * transfer.HEAD_UNITS + (transfer.HEAD_UNITS + 1) * classes


def tiny(shape, n=12, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, *shape), dtype=np.float32), np.arange(n) % classes


@pytest.fixture(scope="module")
def cifar10():
    """The bundled cifar10 model, read through the store."""
    return store.load_model("cifar10")


def base_names(model) -> list[str]:
    """The layers of the transfer model between its adapter and its head."""
    adapter = {"image", "resize", "gray_to_rgb", "rgb_to_gray", "vgg16_preprocess"}
    head = {"gap", "head_dense", "head_dropout", "logits", "softmax"}
    return [layer.name for layer in model.layers if layer.name not in adapter | head]


# ---------------------------------------------------------------- the model --

def test_frozen_base_keeps_the_stored_weights_through_a_fit_and_the_head_moves(cifar10):
    model = transfer.build("cifar10", (32, 32, 3), 3)
    names = base_names(model)
    assert names[0] == "block1_conv1" and names[-1] == "block3_relu2"  # up to the last block
    assert all(not model.get_layer(n).trainable for n in names)
    head_before = [w.copy() for w in model.get_layer("head_dense").get_weights()]
    x, y = tiny((32, 32, 3))
    cfg = config.TrainConfig(epochs=2, learning_rate=1e-2)
    engine.compile_model(model, cfg)
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    for n in names:  # kernels, biases and batch norm's moving statistics alike
        for got, want in zip(model.get_layer(n).get_weights(), cifar10.get_layer(n).get_weights(),
                             strict=True):
            np.testing.assert_array_equal(got, want)
    moved = [not np.array_equal(a, b)
             for a, b in zip(head_before, model.get_layer("head_dense").get_weights())]
    assert all(moved)


def test_trainable_parameters_are_the_heads_by_hand():
    model = transfer.build("cifar10", (32, 32, 3), 5)
    trainable, frozen = transfer.param_counts(model)
    assert trainable == head_params(CIFAR10_LAST_MAPS, 5)
    assert trainable + frozen == model.count_params()
    assert transfer.describe("cifar10", frozen, trainable) == (
        f"cifar10's convolutional base (frozen, {frozen:,} weights) + new head "
        f"({trainable:,} weights)")


def test_gray_pictures_of_another_size_feed_an_rgb_base(cifar10):
    """A gray 64x64 picture reaches the base as R = G = B, resized to the base's 32x32:
    the base's last map equals the stored model's on that RGB picture."""
    model = transfer.build("cifar10", (64, 64, 1), 3)
    assert [layer.name for layer in model.layers[1:3]] == ["resize", "gray_to_rgb"]
    x, _ = tiny((64, 64, 1), n=2)
    probs = np.asarray(model(x, training=False))
    assert probs.shape == (2, 3) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    ours = reader.outputs_model(model, model.get_layer("block3_relu2"))
    theirs = reader.outputs_model(cifar10, cifar10.get_layer("block3_relu2"))
    rgb = np.repeat(np.asarray(model.get_layer("resize")(x)), 3, axis=-1)  # (2, 32, 32, 3)
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(rgb)), atol=1e-4)


def test_colour_pictures_feed_a_gray_base_through_the_luma_weights():
    model = transfer.build("mnist", (32, 32, 3), 2)
    assert [layer.name for layer in model.layers[1:3]] == ["resize", "rgb_to_gray"]
    assert model.get_layer("resize").output.shape[1:] == (28, 28, 3)
    x, _ = tiny((1, 1, 3), n=1)
    gray = np.asarray(model.get_layer("rgb_to_gray")(x))
    np.testing.assert_allclose(gray[..., 0], x @ np.array([0.299, 0.587, 0.114]), rtol=1e-5)


def test_a_stored_model_without_a_convolutional_base_is_refused(tmp_path):
    import keras

    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Flatten()(inputs)
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.Dense(4)(x))
    store.save_model(keras.Model(inputs, outputs), "dense_only", models_dir=tmp_path)
    with pytest.raises(transfer.TransferError, match="no convolutional base") as e:
        transfer.build("dense_only", (8, 8, 1), 2, models_dir=tmp_path)
    assert str(e.value).startswith("Model 'dense_only' cannot be a starting point:")
    with pytest.raises(transfer.TransferError, match="There is no model named 'nothing'"):
        transfer.build("nothing", (8, 8, 1), 2, models_dir=tmp_path)


# --------------------------------------------------------------------- VGG16 --

@pytest.fixture(scope="module")
def vgg16_file(tmp_path_factory):
    """A random VGG16's convolutions in the official weights file's layout (58 MB: the
    dense top, which the base never reads, left out) and the model they came from."""
    import keras

    source = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    folder = tmp_path_factory.mktemp("vgg16")
    return write_keras2_h5_weights(source, folder / "vgg16_weights.h5"), source


def test_vgg16_base_from_a_weights_file(vgg16_file, monkeypatch):
    """The file's kernels in the base, VGG16's own preprocessing inside the model (so
    it takes [0, 1] pixels), the same features as keras.applications' VGG16 on
    preprocess_input(255 x), and a gray picture taken as R = G = B."""
    from keras.applications.vgg16 import preprocess_input

    path, source = vgg16_file
    monkeypatch.setenv(vgg16_files.ENV_WEIGHTS, str(path))
    model = transfer.build("vgg16", (32, 32, 3), 4)
    assert len(reader.conv_layers(model)) == 13
    assert transfer.param_counts(model)[0] == head_params(512, 4)
    x, _ = tiny((32, 32, 3), n=2)
    ours = reader.outputs_model(model, model.get_layer("block5_pool"))
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(source(preprocess_input(255 * x))),
                               rtol=1e-3, atol=1e-3)
    gray = transfer.build("vgg16", (32, 32, 1), 2)
    assert [layer.name for layer in gray.layers[1:3]] == ["gray_to_rgb", "vgg16_preprocess"]
    np.testing.assert_array_equal(gray.get_layer("block3_conv2").get_weights()[0],
                                  source.get_layer("block3_conv2").get_weights()[0])


def test_vgg16_base_without_its_weights_file_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv(vgg16_files.ENV_WEIGHTS, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(vgg16_files.WeightsUnavailableError) as e:
        transfer.build("vgg16", (32, 32, 3), 2)
    assert e.value.summary == "The VGG16 ImageNet weights are not on this machine."
    assert "python -m cnnlib prefetch --vgg16" in str(e.value)
    wrong = tmp_path / "wrong.h5"
    write_keras2_h5_weights(transfer.build("cifar10", (32, 32, 3), 2), wrong)
    with pytest.raises(vgg16_files.WeightsUnavailableError, match="cannot be loaded"):
        transfer.build("vgg16", (32, 32, 3), 2, vgg16_weights=wrong)


# -------------------------------------------------------------------- config --

@pytest.mark.parametrize("base", [None, "cifar10", "vgg16", "my-model_2.b"])
def test_config_accepts_a_base(base):
    cfg = config.TrainConfig(base_model=base)
    cfg.validate()
    assert config.TrainConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("base", ["", "../models/x", "a/b", "x.keras", 3])
def test_config_refuses_a_bad_base(base):
    with pytest.raises(ValueError, match="Invalid base_model"):
        config.TrainConfig(base_model=base).validate()


# -------------------------------------------------------------------- engine --

def test_engine_trains_a_head_on_an_own_dataset_and_reports_both_counts(tmp_path):
    """A job's run: the start event gives the trainable count beside the total, and the
    kept model loads back through the store's intake (no code in the file)."""
    own = OwnDataStore()
    own.create(ALICE, "colours", list(COLOURS), size=32)
    for c, rgb in COLOURS.items():
        for i in range(8):
            own.add_picture(ALICE, "colours", c, picture(rgb, i))
    events = []
    cfg = config.TrainConfig(dataset="own:colours", dataset_owner=owner_tag(ALICE),
                             base_model="cifar10", epochs=1, batch_size=8, snapshot_every_s=0,
                             run_root=str(tmp_path))
    result = engine.train(cfg, on_event=events.append)
    start = next(e for e in events if e["type"] == "start")
    assert start["trainable_params"] == head_params(CIFAR10_LAST_MAPS, 3)
    assert start["params"] > start["trainable_params"] and start["config"]["base_model"] == "cifar10"
    reloaded = store.load_model_file(result.run_dir.model_path)
    assert reloaded.name == "transfer_cifar10"
    x = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    np.testing.assert_allclose(np.asarray(reloaded(x)), np.asarray(result.model(x)), atol=1e-5)


@requires_shared_data
def test_a_head_on_the_cifar10_base_learns_own_cifar_pictures(tmp_path):
    """The real CIFAR-10 test pictures of airplane, automobile and frog in the shared
    data (69, 51 and 76 of them, as 64 px PNGs in a zip, imported into a 32 px colour
    dataset, as tests/test_owndata_training.py does), a new head on the bundled cifar10
    model's frozen base for 6 epochs, scored on the 39 held-out pictures. NOTE: the
    bundled model was trained on CIFAR-10's *training* pictures, all ten classes; these
    are test pictures it never saw, but of classes it knows: the base saw these
    classes, which flatters transfer compared with a person's own question.

    Measured on the 2-core CPU VM, seeds 0-3, the same pictures and split: 0.949, 0.897,
    0.949, 0.974, against 0.795, 0.744, 0.590, 0.718 for cifar_small trained from scratch
    for 8 epochs (tests/test_owndata_training.py's run); chance is 1/3.
    """
    OwnDataStore().import_zip(ALICE, "cifar3", cifar_zip(100), size=32, gray=False)
    cfg = config.TrainConfig(dataset="own:cifar3", dataset_owner=owner_tag(ALICE),
                             base_model="cifar10", epochs=6, batch_size=32, learning_rate=1e-3,
                             augment_flip=True, snapshot_every_s=0, run_root=str(tmp_path))
    result = engine.train(cfg)
    print(f"transfer from cifar10: test accuracy {result.test_accuracy:.3f} "
          f"on {result.n_test} own CIFAR pictures")
    assert result.n_test == 39
    assert result.test_accuracy >= 0.75
