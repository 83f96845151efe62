"""cnnlib.intake.layer_shapes through check_config: the weight count is Keras's.

Checked against Keras's own ``count_params()`` on every zoo architecture (for
each dataset shape it takes, read from a real ``.keras`` archive's
``config.json``), on VGG16 (the ``serialize_keras_object`` form, which the
archive's matches but for ``shared_object_id``), on a model using every other
layer type handled, and on the repository's own models.
"""

import json
import zipfile

import pytest
from testutil import REPO

from cnnlib.intake.config_check import check_config
from cnnlib.intake.errors import ModelLoadError
from cnnlib.intake.limits import Limits
from cnnlib.models import zoo

LIMITS = Limits()
SHAPES = {"mnist": (28, 28, 1), "cifar": (32, 32, 3)}


def archive_config(model, path) -> dict:
    """The ``config.json`` Keras writes into a ``.keras`` archive of ``model``."""
    model.save(path)
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("config.json"))


ZOO_CASES = [(arch, ds) for arch in zoo.ARCHITECTURES for ds in SHAPES]


@pytest.mark.parametrize("arch,dataset", ZOO_CASES)
def test_zoo_weight_count_is_keras_count_params(arch, dataset, tmp_path):
    try:
        model = zoo.build(arch, SHAPES[dataset], 10)
    except ValueError:
        pytest.skip(f"{arch} does not take {dataset} images")
    report = check_config(archive_config(model, tmp_path / "m.keras"), LIMITS, "m.keras")
    assert report.params == model.count_params()
    assert report.input_shape == SHAPES[dataset]
    assert report.layers == len(model.layers) and report.nesting == 1
    assert report.layer_types == {type(layer).__name__ for layer in model.layers}


def test_standardized_model_and_serialize_form_agree(tmp_path):
    import keras

    model = zoo.build("studio_cnn", (32, 32, 3), 10, standardize=(0.5, 0.25))
    from_archive = archive_config(model, tmp_path / "m.keras")
    serialized = keras.saving.serialize_keras_object(model)
    for config in (from_archive, serialized):
        assert check_config(config, LIMITS, "m.keras").params == model.count_params()


@pytest.fixture(scope="module")
def vgg16_config():
    import keras

    model = keras.applications.VGG16(weights=None)  # ~2 GB while it lives
    config, count = keras.saving.serialize_keras_object(model), model.count_params()
    del model
    keras.backend.clear_session()
    return config, count


def test_vgg16_weight_count(vgg16_config):
    config, count = vgg16_config
    report = check_config(config, LIMITS, "vgg16.keras")
    assert report.params == count == 138_357_544
    assert report.input_shape == (224, 224, 3) and report.layers == 23
    limits = Limits(max_params=count - 1)
    with pytest.raises(ModelLoadError, match=f"vgg16.keras declares a model of at least {count:,}"):
        check_config(config, limits, "vgg16.keras")


def every_other_layer():
    """A functional model with the layer types the zoo does not use, a nested
    Sequential, a nested functional model and merges."""
    import keras
    from keras import layers

    inputs = keras.Input((20, 18, 3), name="image")
    x = layers.Normalization(axis=-1, name="adapted")(inputs)  # mean, variance, count
    x = layers.Conv2D(8, (3, 5), strides=(2, 1), dilation_rate=1, padding="same", groups=1)(x)
    a = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")(x)
    b = layers.SeparableConv2D(16, 3, padding="same", depth_multiplier=2, use_bias=False)(x)
    x = layers.Add()([a, b])
    c = layers.Conv2D(16, 1, use_bias=False)(x)
    x = layers.Concatenate()([x, c, layers.Multiply()([x, c])])
    x = layers.LayerNormalization(axis=[-2, -1])(x)
    x = layers.BatchNormalization(center=False)(x)
    x = layers.Conv2D(12, 3, groups=4, padding="valid")(x)
    x = layers.Cropping2D(((1, 0), (2, 1)))(x)
    x = layers.ZeroPadding2D((1, 2))(x)
    x = layers.UpSampling2D((2, 1))(x)
    x = layers.AveragePooling2D(3, strides=2, padding="same")(x)
    x = layers.MaxPooling2D((2, 3))(x)
    inner = keras.Sequential([layers.Conv2D(6, 1), layers.ReLU(), layers.SpatialDropout2D(0.1)],
                             name="inner_seq")
    x = inner(x)
    sub_in = keras.Input(x.shape[1:])
    sub = keras.Model(sub_in, layers.GlobalMaxPooling2D(keepdims=True)(
        layers.LeakyReLU()(sub_in)), name="inner_fn")
    x = sub(x)
    x = layers.Reshape((-1, 3))(x)
    x = layers.Flatten()(x)
    x = layers.Dense(7)(x)
    x = layers.Rescaling(0.5)(x)
    outputs = layers.Softmax()(layers.Dropout(0.1)(x))
    return keras.Model(inputs, outputs)


def test_every_other_layer_type_counts_as_keras_does(tmp_path):
    model = every_other_layer()
    report = check_config(archive_config(model, tmp_path / "m.keras"), LIMITS, "m.keras")
    assert report.params == model.count_params()
    assert report.nesting == 2 and {"SeparableConv2D", "Sequential", "Functional"} <= report.layer_types


def test_shared_layers_count_once(tmp_path):
    """A Conv2D and a nested Sequential each called twice: their weights count once."""
    import keras
    from keras import layers

    inputs = keras.Input((6, 6, 2))
    conv = layers.Conv2D(4, 3, padding="same")
    x = conv(inputs)
    z = layers.Add()([x, conv(layers.ReLU()(inputs))])
    sub = keras.Sequential([keras.Input((6, 6, 4)), layers.Conv2D(4, 3, padding="same")])
    w = layers.Add()([sub(z), sub(x)])
    model = keras.Model(inputs, layers.Dense(3)(layers.Flatten()(w)))
    report = check_config(archive_config(model, tmp_path / "m.keras"), LIMITS, "m.keras")
    assert report.params == model.count_params() == 659


@pytest.mark.parametrize("file", ["mnist.keras", "cifar10.keras"])
def test_bundled_models_pass_and_match_their_weights_file(file, tmp_path):
    """The repository's own models: the count is Keras's and the archive's weights
    file's datasets under ``layers/`` (sizes only, read with h5py; the optimizer's state
    lies beside them) hold exactly that many values."""
    import h5py
    import keras

    path = REPO / "models" / file
    with zipfile.ZipFile(path) as z:
        report = check_config(json.loads(z.read("config.json")), LIMITS, file)
        (tmp_path / "w.h5").write_bytes(z.read("model.weights.h5"))
    sizes = []
    with h5py.File(tmp_path / "w.h5", "r") as h5:
        # "layers/<name>/vars/<i>": the model's weights; "optimizer/vars/...": Adam's state
        h5["layers"].visititems(
            lambda _, obj: sizes.append(obj.size) if isinstance(obj, h5py.Dataset) else None)
    assert report.params == sum(sizes) == keras.saving.load_model(path).count_params()
