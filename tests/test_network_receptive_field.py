"""Receptive fields (cnnlib.network.receptive_field) against a brute-force reference:
the input pixels whose gradient with respect to the neuron is non-zero
(tf.GradientTape), on models with random weights and linear activations (ReLU would
zero some gradients) and average pooling in place of max pooling (a max passes its
gradient to the winner only), for strides, "same" and explicit padding, dilation,
even and non-square kernels, and the zoo's architectures."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import layers as K  # noqa: E402

from cnnlib.models import zoo  # noqa: E402
from cnnlib.network import reader, receptive_field  # noqa: E402


def synthetic(name: str):
    """Small chains that exercise one rule each; odd input sizes on purpose."""
    stacks = {
        "stride and same padding": [K.Conv2D(2, 3, strides=2, padding="same"), K.Conv2D(2, 3, padding="same"),
                                    K.Conv2D(2, 4, strides=3, padding="same")],
        "dilation": [K.Conv2D(2, 3, dilation_rate=2), K.Conv2D(2, 3, padding="same", dilation_rate=3),
                     K.Conv2D(2, 2, dilation_rate=(1, 4))],
        "pooling": [K.Conv2D(2, 5), K.AveragePooling2D(2), K.Conv2D(2, 3, strides=2, padding="same"),
                    K.AveragePooling2D(3, strides=2, padding="same")],
        "non-square": [K.Conv2D(2, (3, 5), strides=(1, 2), padding="same"),
                       K.ZeroPadding2D(((1, 2), (0, 3))), K.Conv2D(2, (2, 3), strides=(2, 1)),
                       K.BatchNormalization(), K.Activation("linear")],
        "stride wider than the kernel": [K.Conv2D(2, 1, strides=3), K.Conv2D(2, 3),
                                         K.AveragePooling2D((1, 2), strides=(2, 1))],
    }
    inputs = keras.Input((17, 19, 1))
    x = inputs
    for layer in stacks[name]:
        x = layer(x)
    return keras.Model(inputs, x, name=name.replace(" ", "_"))


def linearised(model):
    """``model`` with linear activations and average pooling instead of max pooling."""
    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, K.MaxPooling2D):
            return K.AveragePooling2D.from_config(config)
        if "activation" in config:
            config["activation"] = "linear"
        return layer.__class__.from_config(config)

    return keras.models.clone_model(model, clone_function=clone)


def gradient_box(sub, x, row, col, channel=0):
    """Bounding box ``(top, left, bottom, right)`` of the input pixels with a non-zero
    gradient of output ``(row, col, channel)``, or None when there is none."""
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = sub(x, training=False)[0, row, col, channel]
    g = np.abs(np.asarray(tape.gradient(y, x))[0]).sum(axis=-1)  # (H, W)
    rows, cols = np.nonzero(g > 0)
    if rows.size == 0:
        return None
    return int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max())


def positions(h, w, few=False):
    """Corners, edges and the middle of an h x w map (``few``: two corners and the middle)."""
    if few:
        return sorted({(0, 0), (h // 2, w // 2), (h - 1, w - 1)})
    return sorted({(r, c) for r in (0, h // 2, h - 1) for c in (0, w // 3, w - 1)})


def check_every_spatial_layer(model, few=False):
    chain = reader.chain(model)
    x = np.random.default_rng(1).random((1, *chain[0].output_shape), dtype=np.float32)
    checked = 0
    for info in chain[1:]:
        if not info.spatial:
            continue
        sub = keras.Model(model.inputs[0], info.layer.output)
        h, w = info.output_shape[:2]
        for r, c in positions(h, w, few):
            field = receptive_field.receptive_field(chain, info.index, r, c)
            expected = gradient_box(sub, x, r, c)
            got = None if field.empty else field.box
            assert got == expected, (model.name, info.name, (r, c), field)
            checked += 1
    return checked


@pytest.mark.parametrize("name", ["stride and same padding", "dilation", "pooling", "non-square",
                                  "stride wider than the kernel"])
def test_receptive_field_is_the_box_of_the_pixels_with_a_gradient(name):
    assert check_every_spatial_layer(synthetic(name)) >= 9


@pytest.mark.parametrize("arch,shape", [("lenet5", (28, 28, 1)), ("cifar_bn3", (32, 32, 3)),
                                        ("studio_cnn", (28, 28, 1))])
def test_receptive_fields_of_zoo_architectures(arch, shape):
    model = linearised(zoo.build(arch, shape, 10))
    assert check_every_spatial_layer(model, few=True) >= 15


def test_a_position_on_padding_only_reads_no_pixel():
    model = synthetic("non-square")
    chain = reader.chain(model)
    pad = next(i for i in chain if i.type == "ZeroPadding2D")
    field = receptive_field.receptive_field(chain, pad.index, 0, 5)  # the top row is padding
    assert field.empty and field.drawable() is None


def test_theoretical_size_and_jump_of_vgg16_blocks():
    """VGG16's conv5_3 sees 196 x 196 pixels and pool5 212 x 212, 16 and 32 apart
    (Araujo, Norris & Sim, Distill 2019). Same geometry, one filter a layer."""
    x = inputs = keras.Input((224, 224, 3))
    for block, convs in enumerate((2, 2, 3, 3, 3), start=1):
        for i in range(convs):
            x = K.Conv2D(1, 3, padding="same", name=f"block{block}_conv{i + 1}")(x)
        x = K.MaxPooling2D(2, name=f"block{block}_pool")(x)
    chain = reader.chain(keras.Model(inputs, x))
    by_name = {i.name: i for i in chain}
    conv = receptive_field.receptive_field(chain, by_name["block5_conv3"].index, 7, 7)
    pool = receptive_field.receptive_field(chain, by_name["block5_pool"].index, 3, 3)
    assert (conv.size, conv.jump, conv.height) == ((196, 196), (16, 16), 196)
    assert (pool.size, pool.jump) == ((212, 212), (32, 32))
    corner = receptive_field.receptive_field(chain, by_name["block5_conv3"].index, 0, 0)
    assert corner.box == (0, 0, 105, 105)  # rows -90..105 (196), clipped at the image's corner


def test_dense_units_and_positions_outside_are_refused():
    model = zoo.build("cifar_small", (32, 32, 3), 10)
    chain = reader.chain(model)
    dense = next(i for i in chain if i.kind == "dense")
    with pytest.raises(ValueError, match="whole input"):
        receptive_field.receptive_field(chain, dense.index, 0, 0)
    with pytest.raises(ValueError, match="Received: row=30"):
        receptive_field.receptive_field(chain, 1, 30, 0)
    assert receptive_field.receptive_field(chain, 0, 4, 5).box == (4, 5, 4, 5)  # the input itself
