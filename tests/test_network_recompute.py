"""One neuron of every layer recomputed in numpy (cnnlib.network.recompute) equals what
Keras computed, for both bundled models, one model of each tutorial architecture and
a model of the other layer types the page handles; the chain of layers refuses what
it cannot explore, with a sentence."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import layers as K  # noqa: E402
from testutil import SHARED_DATA  # noqa: E402

from cnnlib import store
from cnnlib.data import datasets
from cnnlib.models import zoo  # noqa: E402
from cnnlib.network import layer_outputs, layers, reader, recompute  # noqa: E402

RTOL, ATOL = 1e-4, 1e-6  # ATOL: for values that are 0 (after a ReLU) give or take rounding
TUTORIAL_ARCHS = [a for a in zoo.ARCHITECTURES if zoo.ARCHITECTURES[a].source.startswith("Tutorial")]


def randomise_batch_norm(model, rng):
    """Moving statistics, gamma and beta away from their initial 0 / 1."""
    for layer in model.layers:
        if isinstance(layer, K.BatchNormalization):
            n = layer.moving_mean.shape
            for weight, values in ((layer.gamma, rng.normal(1, 0.3, n)), (layer.beta, rng.normal(0, 0.3, n)),
                                   (layer.moving_mean, rng.normal(0, 0.3, n)),
                                   (layer.moving_variance, rng.uniform(0.5, 2, n))):
                if weight is not None:  # no gamma with scale=False, no beta with center=False
                    weight.assign(values.astype("f4"))


def check_every_layer(model, x, rng, per_layer=2):
    """For each layer: ``per_layer`` random neurons and the largest one, numpy vs Keras.
    Returns the number of layers checked."""
    chain = reader.chain(model)
    outs = layer_outputs.layer_outputs(layer_outputs.extractor(model, chain), x)
    for info in chain:
        keras_out = outs[info.index][0]
        x_in = outs[max(info.index - 1, 0)][0]
        strongest = np.unravel_index(int(np.argmax(keras_out)), keras_out.shape)
        for index in [recompute.random_index(info.output_shape, rng) for _ in range(per_layer)] + [strongest]:
            neuron = recompute.explain(info, x_in, index)
            np.testing.assert_allclose(neuron.value, keras_out[tuple(index)], rtol=RTOL, atol=ATOL,
                                       err_msg=f"{model.name} {info.name} ({info.type}) {index}")
    return len(chain)


@pytest.mark.parametrize("name,dataset", [("mnist", "mnist"), ("cifar10", "cifar10")])
def test_every_layer_of_the_bundled_models(name, dataset):
    model = store.load_model(name)
    rng = np.random.default_rng(0)
    if (SHARED_DATA / f"{dataset}.npz").exists():
        x = datasets.to_float(datasets.load(dataset, data_dir=SHARED_DATA, n_train=1, n_test=2).x_test[:1])
    else:
        x = rng.random((1, *model.input_shape[1:]), dtype=np.float32)
    assert check_every_layer(model, x, rng, per_layer=3) == 27  # studio_cnn: input + 26 layers


@pytest.mark.parametrize("arch", TUTORIAL_ARCHS)
def test_every_layer_of_each_tutorial_architecture(arch):
    info = zoo.ARCHITECTURES[arch]
    rng = np.random.default_rng(1)
    # LeNet-5 on MNIST's 28 x 28 gets its ZeroPadding2D; the MLP lesson standardizes
    shape = (28, 28, 1) if arch == "lenet5" else info.source_input_shape
    model = zoo.build(arch, shape, info.source_classes, standardize=(0.13, 0.31) if arch == "mlp" else None)
    randomise_batch_norm(model, rng)
    x = rng.random((1, *shape), dtype=np.float32)
    assert check_every_layer(model, x, rng) == len(model.layers)  # InputLayer included


def other_layers_model():
    """Every other layer type and setting the page explains, in one chain."""
    return keras.Sequential([
        keras.Input((15, 13, 3)),
        K.Rescaling(2.0, offset=-1.0, name="rescale"),
        K.ZeroPadding2D(((1, 2), (0, 1)), name="pad"),
        K.Conv2D(4, (3, 2), strides=(2, 1), padding="same", activation="tanh", name="conv_strided"),
        K.Conv2D(4, 3, dilation_rate=2, padding="same", use_bias=False, activation="gelu",
                 name="conv_dilated"),
        K.BatchNormalization(center=False, name="bn_no_beta"),
        K.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.05, name="relu_options"),
        K.MaxPooling2D(3, strides=2, padding="same", name="max_same"),
        K.LeakyReLU(name="leaky"),
        K.AveragePooling2D(2, strides=1, padding="same", name="avg_same"),
        K.ELU(name="elu"),
        K.Activation("sigmoid", name="sigmoid"),
        K.SpatialDropout2D(0.3, name="spatial_dropout"),
        K.Conv2D(3, 1, activation="swish", name="conv_1x1"),
        K.Softmax(name="softmax_maps"),
        K.GlobalMaxPooling2D(name="gmp"),
        K.Dense(6, activation="selu", name="dense_selu"),
        K.BatchNormalization(name="bn_vector"),
        K.Dense(5, activation="softmax", name="predictions"),
    ], name="other_layers")


def test_the_other_layer_types_and_settings():
    rng = np.random.default_rng(2)
    model = other_layers_model()
    randomise_batch_norm(model, rng)
    x = rng.normal(0, 1, (1, 15, 13, 3)).astype("f4")
    assert check_every_layer(model, x, rng, per_layer=4) == 19


def test_the_details_add_up_to_the_value():
    rng = np.random.default_rng(3)
    model = zoo.build("cifar_small", (32, 32, 3), 10)
    chain = reader.chain(model)
    x = rng.random((1, 32, 32, 3), "f4")
    outs = layer_outputs.layer_outputs(layer_outputs.extractor(model, chain), x)
    conv = recompute.explain(chain[1], outs[0][0], (29, 3, 4))  # bottom row of a valid 3 x 3 conv
    d = conv.detail
    assert d.patch.shape == d.kernel.shape == (3, 3, 3) and list(d.rows) == [29, 30, 31]
    assert d.channel_sums == pytest.approx(d.products.sum(axis=(0, 1)))
    assert d.total == pytest.approx(d.channel_sums.sum() + d.bias)
    assert conv.value == pytest.approx(max(d.total, 0))  # its ReLU
    pool = recompute.explain(chain[2], outs[1][0], (3, 4, 1))
    assert pool.detail.window.shape == (2, 2) and pool.detail.count == 4
    i, j = pool.detail.winner
    assert pool.value == pool.detail.window[i, j] == pool.detail.window.max()
    flat = recompute.explain(chain[3], outs[2][0], (15 * 10 + 3,))  # row 1, column 0, channel 3
    assert flat.detail.source == (1, 0, 3)
    dense = recompute.explain(chain[4], outs[3][0], (7,))
    top = dense.detail.largest(5)
    assert abs(dense.detail.products[top[0]]) == np.abs(dense.detail.products).max()
    softmax = recompute.explain(chain[6], outs[5][0], (2,))
    assert softmax.detail.vector.shape == (10,) and softmax.detail.position == 2


def test_a_layer_type_not_handled_says_so():
    model = keras.Sequential([keras.Input((8, 8, 2)), K.Conv2D(2, 3, name="conv"),
                              K.LayerNormalization(name="ln"), K.Flatten(name="flat")])
    chain = reader.chain(model)
    x = np.zeros((6, 6, 2), "f4")
    with pytest.raises(layers.NotExplainedError, match="not explained for LayerNormalization"):
        recompute.explain(chain[2], x, (0, 0, 0))
    with pytest.raises(ValueError, match="Received: index=\\(6, 0, 0\\)"):
        recompute.explain(chain[1], np.zeros((8, 8, 2), "f4"), (6, 0, 0))
    with pytest.raises(layers.NotExplainedError, match="channels-first"):
        layers.geometry(layers.LayerInfo(1, "c", "Conv2D", "conv", (2, 6, 6), 0,
                                         K.Conv2D(2, 3, data_format="channels_first")))


def test_models_that_are_not_one_chain_are_refused_with_a_sentence():
    a, b = keras.Input((8, 8, 1)), keras.Input((8, 8, 1))
    two_inputs = keras.Model([a, b], K.Add()([a, b]))
    x = keras.Input((8, 8, 1))
    branches = keras.Model(x, K.Add()([K.Conv2D(1, 1)(x), K.Conv2D(1, 1)(x)]))
    inner = keras.Sequential([keras.Input((8, 8, 1)), K.Conv2D(1, 3)])
    nested = keras.Sequential([keras.Input((8, 8, 1)), inner, K.Flatten()])
    shared = K.Conv2D(1, 3, padding="same")
    y = keras.Input((8, 8, 1))
    twice = keras.Model(y, shared(shared(y)))
    vector = keras.Sequential([keras.Input((784,)), K.Dense(10)])
    open_size = keras.Sequential([keras.Input((None, None, 3)), K.Conv2D(1, 3)])
    for model, words in [(two_inputs, "takes 2 inputs"), (branches, "branches or joins"),
                         (nested, "a whole model inside"), (twice, "used more than once"),
                         (vector, "input of shape 784, not images"), (open_size, "fixed height")]:
        with pytest.raises(reader.NotExplorableError, match=words):
            reader.chain(model)
    chain = reader.chain(keras.Sequential([keras.Input((8, 8, 1), name="pixels"), K.Conv2D(2, 3, name="c")]))
    assert [(i.name, i.kind, i.output_shape, i.params) for i in chain] == [
        ("pixels", "input", (8, 8, 1), 0), ("c", "conv", (6, 6, 2), 20)]


def test_a_sequential_loaded_from_a_file_is_one_chain(tmp_path):
    """Loading rebuilds a Sequential layer by layer, so each layer keeps several graph
    nodes; the chain and the activations follow the layers' order instead."""
    rng = np.random.default_rng(4)
    model = keras.Sequential([keras.Input((10, 10, 1)), K.Conv2D(3, 3, name="conv"),
                              K.MaxPooling2D(2, name="pool"), K.Flatten(name="flat"),
                              K.Dense(4, activation="softmax", name="predictions")])
    model.save(tmp_path / "seq.keras")
    loaded = keras.saving.load_model(tmp_path / "seq.keras", safe_mode=True)
    assert len(loaded.layers[0]._inbound_nodes) > 1  # what made a graph walk refuse it
    x = rng.random((1, 10, 10, 1), dtype=np.float32)
    assert check_every_layer(loaded, x, rng) == 5
    outs = layer_outputs.layer_outputs(layer_outputs.extractor(loaded, reader.chain(loaded)), x)
    np.testing.assert_allclose(outs[-1], np.asarray(loaded(x)), rtol=1e-6)
