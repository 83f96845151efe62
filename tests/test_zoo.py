"""The model zoo: exact parameter counts, named layers, adaptation to datasets,
and every tutorial architecture checked layer by layer against its tutorial."""

import pytest

from cnnlib.models import zoo

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
@pytest.mark.parametrize("shape,classes", [((28, 28, 1), 10), ((28, 28, 1), 3),
                                           ((32, 32, 3), 10), ((32, 32, 3), 3)])
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


@pytest.mark.parametrize("arch,shape", [
    ("mnist_cnn", (4, 4, 1)), ("cifar_small", (1, 1, 1)), ("cifar_wide", (8, 8, 3)),
    ("cifar_bn3", (8, 8, 3)), ("cifar_6conv", (8, 8, 3)),
])
def test_input_too_small_for_the_arch_raises(arch, shape):
    with pytest.raises(ValueError, match="cannot take"):
        zoo.build(arch, shape, 10)


@pytest.mark.parametrize("arch", ["logistic", "mlp", "lenet5"])
def test_tiny_inputs_are_accepted_where_nothing_shrinks_them(arch):
    assert zoo.build(arch, (1, 1, 1), 10).output_shape == (None, 10)  # lenet5 pads to 32x32


# ----------------------------------------------------------------------------
# Layer by layer against the tutorials
#
# One table per tutorial architecture, in its source configuration: a row per
# layer after the input, (Keras class, output shape without the batch
# dimension, parameters, attributes the printed summary cannot show[, ADDED]).
# Shapes and parameters are transcribed from the summary the tutorial prints;
# where it prints none, they are worked out from its code (and say so).
# ADDED marks a parameter-free layer that CNN Studio adds where the text does
# the same thing another way: the Flatten for a text that flattens its images
# with NumPy before the model, and the Activation named "softmax" after a
# Dense the text gives activation="softmax" (the zoo keeps them apart so that
# Grad-CAM can read the logits).
# ----------------------------------------------------------------------------

ADDED = "added"


def conv(padding="valid", activation="relu", kernel=3):
    return {"kernel_size": (kernel, kernel), "strides": (1, 1), "padding": padding,
            "activation": activation}


def pool(size=2):
    return {"pool_size": (size, size), "strides": (size, size)}


def act(name):
    return {"activation": name}


def drop(rate):
    return {"rate": rate}


SOFTMAX_ROW = ("Activation", (10,), 0, act("softmax"))

TUTORIAL_TITLES = {
    "000": "Image Classification with CNNs",
    "001": "Convolution Neural Network for image classification: CIFAR10",
    "002": "Image Classification With Convolutional Neural Networks",
    "003": "Image Classification with Tensorflow",
    "004": "Keras Image Classification",
}

LAYER_TABLES = {
    # 002_2e65d49c26f79a30.txt: code lines 218-221, summary lines 230-240. The
    # text flattens the images to 784 values with NumPy (lines 201-202).
    "logistic": ("002", [
        ("Flatten", (784,), 0, {}, ADDED),
        ("Dense", (10,), 7850, act("linear")),
        ("Activation", (10,), 0, act("softmax")),
    ]),
    # 003_922cb00102fa4371.txt: code lines 259-264, summary lines 309-321. The
    # text flattens the images to 784 values with NumPy (lines 200-201).
    "mlp": ("003", [
        ("Flatten", (784,), 0, {}, ADDED),
        ("Dense", (128,), 100480, act("relu")),
        ("Dense", (128,), 16512, act("relu")),
        ("Dense", (10,), 1290, act("linear")),
        (*SOFTMAX_ROW, ADDED),
    ]),
    # 001_f8b2c0bab2d7d92f.txt: code lines 155-167 (LeNet-5); the text prints no
    # summary, only "60k" parameters (line 148), so shapes and counts are worked
    # out from the code: 5*5*1*6+6, 2*6, 5*5*6*16+16, 5*5*16*120+120, 120*84+84, 84*10+10.
    "lenet5": ("001", [
        ("Conv2D", (28, 28, 6), 156, conv(activation="tanh", kernel=5)),
        ("BatchNormalization", (28, 28, 6), 24, {}),
        ("AveragePooling2D", (14, 14, 6), 0, pool()),
        ("Conv2D", (10, 10, 16), 2416, conv(activation="tanh", kernel=5)),
        ("AveragePooling2D", (5, 5, 16), 0, pool()),
        ("Conv2D", (1, 1, 120), 48120, conv(activation="tanh", kernel=5)),
        ("Flatten", (120,), 0, {}),
        ("Dense", (84,), 10164, act("tanh")),
        ("Dropout", (84,), 0, drop(0.2)),
        ("Dense", (10,), 850, act("linear")),
        (*SOFTMAX_ROW, ADDED),
    ]),
    # 002_2e65d49c26f79a30.txt: code lines 63-81, summary lines 94-124. The
    # printed rows come from a channels-first first conv (see
    # MNIST_CNN_AS_PRINTED); this table is the intended channels-last model, and
    # the comments give what the text prints where it differs.
    "mnist_cnn": ("002", [
        ("Conv2D", (26, 26, 64), 640, conv(activation="linear")),  # printed (64, 26, 26)
        ("Activation", (26, 26, 64), 0, act("relu")),  # printed (64, 26, 26)
        ("Conv2D", (24, 24, 32), 18464, conv(activation="linear")),  # printed (62, 24, 32), 7520
        ("Activation", (24, 24, 32), 0, act("relu")),  # printed (62, 24, 32)
        ("MaxPooling2D", (12, 12, 32), 0, pool()),  # printed (31, 12, 32)
        ("Dropout", (12, 12, 32), 0, drop(0.25)),  # printed (31, 12, 32)
        ("Flatten", (4608,), 0, {}),  # printed 11904
        ("Dense", (256,), 1179904, act("linear")),  # printed 3047680
        ("Activation", (256,), 0, act("relu")),
        ("Dropout", (256,), 0, drop(0.5)),
        ("Dense", (10,), 2570, act("linear")),
        ("Activation", (10,), 0, act("softmax")),
    ]),
    # 001_f8b2c0bab2d7d92f.txt: code lines 247-258, summary lines 260-280. The
    # code says 8 filters; the summary (and line 244) has 10, which is followed.
    "cifar_small": ("001", [
        ("Conv2D", (30, 30, 10), 280, conv()),
        ("MaxPooling2D", (15, 15, 10), 0, pool()),
        ("Flatten", (2250,), 0, {}),
        ("Dense", (100,), 225100, act("relu")),
        ("Dense", (10,), 1010, act("linear")),
        (*SOFTMAX_ROW, ADDED),
    ]),
    # 001_f8b2c0bab2d7d92f.txt: code lines 367-383, summary lines 389-416.
    "cifar_wide": ("001", [
        ("Conv2D", (30, 30, 8), 224, conv()),
        ("MaxPooling2D", (15, 15, 8), 0, pool()),
        ("Conv2D", (13, 13, 512), 37376, conv()),
        ("MaxPooling2D", (6, 6, 512), 0, pool()),
        ("Conv2D", (4, 4, 256), 1179904, conv()),
        ("Flatten", (4096,), 0, {}),
        ("Dense", (100,), 409700, act("relu")),
        ("Dense", (10,), 1010, act("linear")),
        (*SOFTMAX_ROW, ADDED),
    ]),
    # 000_6229d7352e8be663.txt: code lines 175-200, summary lines 208-249.
    "cifar_bn3": ("000", [
        ("Conv2D", (32, 32, 32), 896, conv("same")),
        ("BatchNormalization", (32, 32, 32), 128, {}),
        ("Conv2D", (30, 30, 32), 9248, conv()),
        ("MaxPooling2D", (15, 15, 32), 0, pool()),
        ("Dropout", (15, 15, 32), 0, drop(0.5)),
        ("Conv2D", (15, 15, 64), 18496, conv("same")),
        ("BatchNormalization", (15, 15, 64), 256, {}),
        ("Conv2D", (13, 13, 64), 36928, conv()),
        ("MaxPooling2D", (6, 6, 64), 0, pool()),
        ("Dropout", (6, 6, 64), 0, drop(0.5)),
        ("Conv2D", (6, 6, 128), 73856, conv("same")),
        ("BatchNormalization", (6, 6, 128), 512, {}),
        ("Conv2D", (4, 4, 128), 147584, conv()),
        ("MaxPooling2D", (2, 2, 128), 0, pool()),
        ("Dropout", (2, 2, 128), 0, drop(0.5)),
        ("Flatten", (512,), 0, {}),
        ("Dense", (3,), 1539, act("linear")),
        ("Activation", (3,), 0, act("softmax"), ADDED),
    ]),
    # 004_75501fd6b4999d23.txt: code lines 94-116; its summary is a picture
    # (line 122), so shapes and counts are worked out from the code:
    # 3*3*3*32+32, 3*3*32*32+32, 3*3*32*64+64, 3*3*64*64+64 (x3), 256*512+512, 512*10+10.
    "cifar_6conv": ("004", [
        ("Conv2D", (32, 32, 32), 896, conv("same")),
        ("Conv2D", (30, 30, 32), 9248, conv()),
        ("MaxPooling2D", (15, 15, 32), 0, pool()),
        ("Dropout", (15, 15, 32), 0, drop(0.25)),
        ("Conv2D", (15, 15, 64), 18496, conv("same")),
        ("Conv2D", (13, 13, 64), 36928, conv()),
        ("MaxPooling2D", (6, 6, 64), 0, pool()),
        ("Dropout", (6, 6, 64), 0, drop(0.25)),
        ("Conv2D", (6, 6, 64), 36928, conv("same")),
        ("Conv2D", (4, 4, 64), 36928, conv()),
        ("MaxPooling2D", (2, 2, 64), 0, pool()),
        ("Dropout", (2, 2, 64), 0, drop(0.25)),
        ("Flatten", (256,), 0, {}),
        ("Dense", (512,), 131584, act("relu")),
        ("Dropout", (512,), 0, drop(0.5)),
        ("Dense", (10,), 5130, act("linear")),
        (*SOFTMAX_ROW, ADDED),
    ]),
}

# 002_2e65d49c26f79a30.txt, summary lines 97-119, as printed: what its model
# gives when the first conv is channels-first (input (1, 28, 28)) and the rest
# read their input as channels-last.
MNIST_CNN_AS_PRINTED = [
    ("Conv2D", (64, 26, 26), 640),
    ("Activation", (64, 26, 26), 0),
    ("Conv2D", (62, 24, 32), 7520),
    ("Activation", (62, 24, 32), 0),
    ("MaxPooling2D", (31, 12, 32), 0),
    ("Dropout", (31, 12, 32), 0),
    ("Flatten", (11904,), 0),
    ("Dense", (256,), 3047680),
    ("Activation", (256,), 0),
    ("Dropout", (256,), 0),
    ("Dense", (10,), 2570),
    ("Activation", (10,), 0),
]


def _rows(model):
    """(class name, output shape without the batch dimension, parameters) per layer."""
    return [(type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params())
            for layer in model.layers if type(layer).__name__ != "InputLayer"]


def _attribute(layer, key):
    value = getattr(layer, key)
    return value.__name__ if key == "activation" else value


def test_every_tutorial_arch_has_a_layer_table():
    assert set(LAYER_TABLES) == set(EXPECTED_PARAMS)


@pytest.mark.parametrize("arch", list(LAYER_TABLES))
def test_layers_match_the_tutorial(arch):
    _, table = LAYER_TABLES[arch]
    model = zoo.build(arch)  # the source configuration
    assert _rows(model) == [row[:3] for row in table]
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    for i, (layer, row) in enumerate(zip(layers, table)):
        got = {key: _attribute(layer, key) for key in row[3]}
        assert got == row[3], f"layer {i} ({layer.name})"


@pytest.mark.parametrize("arch", list(LAYER_TABLES))
def test_layer_table_adds_up_and_added_layers_are_free(arch):
    _, table = LAYER_TABLES[arch]
    assert sum(row[2] for row in table) == EXPECTED_PARAMS[arch]
    for row in table:
        if len(row) == 5:
            assert row[4] == ADDED and row[2] == 0 and row[0] in ("Flatten", "Activation"), row


@pytest.mark.parametrize("arch", list(LAYER_TABLES))
def test_source_names_the_tutorial(arch):
    tutorial, _ = LAYER_TABLES[arch]
    assert TUTORIAL_TITLES[tutorial] in zoo.ARCHITECTURES[arch].source


def test_mnist_cnn_printed_summary_comes_from_a_channels_first_first_conv():
    """Tutorial 002 prints 3,058,410 parameters: reproduce its summary row for
    row, then check the zoo's model says why it has 1,201,578."""
    import keras
    from keras import layers

    text_model = keras.Sequential([
        keras.Input((1, 28, 28)),
        layers.Conv2D(64, 3, data_format="channels_first"),
        layers.Activation("relu"),
        layers.Conv2D(32, 3),  # channels-last: reads (64, 26, 26) as 64x26 pixels, 26 channels
        layers.Activation("relu"),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(256),
        layers.Activation("relu"),
        layers.Dropout(0.5),
        layers.Dense(10),
        layers.Activation("softmax"),
    ])
    assert _rows(text_model) == MNIST_CNN_AS_PRINTED
    assert text_model.count_params() == 3_058_410
    description = zoo.ARCHITECTURES["mnist_cnn"].description
    assert "3,058,410" in description and "1,201,578" in description
    assert "channels-first" in description


@pytest.mark.parametrize("arch", list(zoo.ARCHITECTURES))
def test_own_data_archs_are_those_small_on_every_own_picture_shape(arch):
    """OWN_DATA_ARCHS: the architectures that build on the largest own-dataset shape
    (96x96x3, 10 classes) with at most OWN_DATA_MAX_PARAMS parameters, and build on the
    smallest (32x32x1, 2 classes)."""
    large = zoo.build(arch, (96, 96, 3), 10).count_params()
    assert zoo.build(arch, (32, 32, 1), 2).output_shape == (None, 2)
    assert (large <= zoo.OWN_DATA_MAX_PARAMS) == (arch in zoo.OWN_DATA_ARCHS), large
