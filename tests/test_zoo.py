"""The model zoo: exact parameter counts, named layers, adaptation to datasets."""

import pytest

from cnnlib import zoo

EXPECTED_PARAMS = {
    "logistic": 7_850,
    "mlp": 118_282,
    "lenet5": 61_730,
    "mnist_cnn": 1_201_578,
    "cifar_small": 226_390,
    "cifar_wide": 1_628_214,
    "cifar_bn3": 289_443,
    "cifar_6conv": 276_138,
}


@pytest.mark.parametrize("arch,params", EXPECTED_PARAMS.items())
def test_source_configuration_parameter_count(arch, params):
    info = zoo.ARCHITECTURES[arch]
    model = zoo.build(arch, info.source_input_shape, info.source_classes)
    assert model.count_params() == params
    assert info.source_params == params


def test_every_arch_listed_has_description_and_source():
    assert set(EXPECTED_PARAMS) < set(zoo.ARCHITECTURES)
    for name, info in zoo.ARCHITECTURES.items():
        assert info.description and info.source, name


@pytest.mark.parametrize("arch", list(zoo.ARCHITECTURES))
@pytest.mark.parametrize("shape,classes", [((28, 28, 1), 10), ((32, 32, 3), 10), ((32, 32, 3), 3)])
def test_adapts_to_dataset_and_names_layers(arch, shape, classes):
    import numpy as np

    model = zoo.build(arch, shape, classes)
    assert model.input_shape == (None, *shape)
    assert model.output_shape == (None, classes)
    assert model.get_layer("logits") is not None and model.get_layer("softmax") is not None
    # explicit names only: Keras's automatic names look like "conv2d_3"
    for layer in model.layers:
        assert not layer.name.startswith(("conv2d", "dense_", "max_pooling", "batch_normalization")), layer.name
    probs = np.asarray(model(np.zeros((2, *shape), "float32"), training=False))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_default_arch_is_modern():
    model = zoo.build(zoo.DEFAULT_ARCH["mnist"], (28, 28, 1), 10)
    types = {type(layer).__name__ for layer in model.layers}
    assert {"BatchNormalization", "GlobalAveragePooling2D"} <= types


def test_summary_rows_add_up():
    model = zoo.build("mnist_cnn")
    rows = zoo.summary_rows(model)
    assert sum(r["params"] for r in rows) == 1_201_578
    assert rows[1]["output_shape"] == "(N, 26, 26, 64)"


@pytest.mark.parametrize("kwargs,match", [
    ({"arch": "resnet999"}, "arch='resnet999'"),
    ({"arch": "mlp", "num_classes": 1}, "num_classes=1"),
    ({"arch": "mlp", "num_classes": 0}, "num_classes=0"),  # not "the default, 10"
    ({"arch": "mlp", "num_classes": -3}, "num_classes=-3"),
    ({"arch": "mlp", "num_classes": 2.5}, "num_classes=2.5"),
    ({"arch": "mlp", "num_classes": "10"}, "num_classes='10'"),
    ({"arch": "mlp", "num_classes": True}, "num_classes=True"),
    ({"arch": "mlp", "input_shape": (28, 28)}, "input_shape"),
    ({"arch": "mlp", "input_shape": ()}, r"input_shape=\(\)"),  # not "the default"
    ({"arch": "mlp", "input_shape": (28.5, 28, 1)}, "input_shape"),
    ({"arch": "cifar_wide", "input_shape": (8, 8, 3)}, "cannot take"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        zoo.build(**kwargs)


def test_none_means_the_source_configuration_and_numpy_ints_are_ints():
    import numpy as np

    model = zoo.build("mlp", None, None)
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    model = zoo.build("mlp", tuple(np.array([28, 28, 1])), np.int64(3))
    assert model.output_shape == (None, 3)
