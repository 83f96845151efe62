"""Grad-CAM: target layer, shape and range, and that it finds the informative region."""

import numpy as np
import pytest

from cnnlib.explain import gradcam
from cnnlib.models import zoo
from cnnlib.network import reader

SIZE, SQUARE = 16, 4


def synthetic(n, seed):
    """Noise images; class 1 has a bright 4x4 square at a random place, class 0 has none."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 0.4, (n, SIZE, SIZE, 1)).astype(np.float32)
    y = np.arange(n) % 2
    pos = rng.integers(0, SIZE - SQUARE + 1, (n, 2))
    for i in np.flatnonzero(y):
        r, c = pos[i]
        x[i, r:r + SQUARE, c:c + SQUARE] = 1.0
    return x, y, pos


def tiny_cnn(head="logits"):
    """conv -> pool -> conv -> BN -> ReLU -> GAP -> 2 classes, every layer named."""
    import keras
    from keras import layers

    inp = keras.Input((SIZE, SIZE, 1), name="image")
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inp)
    x = layers.MaxPooling2D(2, name="pool")(x)  # (N, 8, 8, 8)
    x = layers.Conv2D(16, 3, padding="same", name="conv2")(x)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    if head == "logits":
        x = layers.Dense(2, name="logits")(x)
        out = layers.Activation("softmax", name="softmax")(x)
    elif head == "linear":  # outputs logits, no softmax (trained with from_logits=True)
        out = layers.Dense(2, name="scores")(x)
    else:  # softmax built into the last Dense layer, as in VGG16's "predictions"
        out = layers.Dense(2, activation="softmax", name="predictions")(x)
    return keras.Model(inp, out, name=f"tiny_{head}")


@pytest.fixture(scope="module")
def trained():
    import keras

    keras.utils.set_random_seed(0)
    model = tiny_cnn()
    x, y, _ = synthetic(1024, seed=1)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=8, batch_size=64, verbose=0)
    xt, yt, _ = synthetic(200, seed=2)
    acc = float((np.asarray(model(xt, training=False)).argmax(1) == yt).mean())
    assert acc > 0.95, f"the tiny model did not learn the task (accuracy {acc})"
    return model


def test_target_layer_is_the_rectified_output_of_the_last_conv_block():
    assert reader.last_conv_block(tiny_cnn()) == "relu"  # conv2 -> bn -> relu
    assert reader.last_conv_block(zoo.build("studio_cnn", (28, 28, 1), 10)) == "block3_relu2"
    assert reader.last_conv_block(zoo.build("mnist_cnn")) == "relu2"  # conv2 -> relu2 (002)
    with pytest.raises(ValueError, match="no convolutional layer"):
        reader.last_conv_block(zoo.build("logistic"))


@pytest.mark.parametrize("arch,shape,layer,size", [
    ("lenet5", (28, 28, 1), "c3_conv", (10, 10)),  # not C5, whose map is 1x1
    ("lenet5", (32, 32, 1), "c3_conv", (10, 10)),
    ("mnist_cnn", (28, 28, 1), "relu2", (24, 24)),
    ("studio_cnn", (28, 28, 1), "block3_relu2", (7, 7)),
    ("cifar_wide", (32, 32, 3), "conv3", (4, 4)),
    ("cifar_bn3", (32, 32, 3), "block3_conv2", (4, 4)),
    ("cifar_small", (32, 32, 3), "conv1", (30, 30)),
])
def test_target_is_the_last_block_with_a_map_of_at_least_3x3(arch, shape, layer, size):
    model = zoo.build(arch, shape, 10)
    assert reader.last_conv_block(model) == layer
    res = gradcam.gradcam(model, np.random.default_rng(0).random(shape, np.float32))
    assert res.layer == layer and res.map_size == size
    assert min(size) >= reader.MIN_MAP_SIDE


def test_lenet5_map_is_not_one_uniform_square():
    """C5 (1x1) upsampled would paint the whole digit one colour; C3 (10x10) varies."""
    import keras

    keras.utils.set_random_seed(1)
    model = zoo.build("lenet5", (28, 28, 1), 10)
    digit = np.zeros((28, 28, 1), np.float32)
    digit[4:24, 12:16] = 1.0  # a "1"
    heat = gradcam.gradcam(model, digit, class_index=3).heatmap
    c5 = gradcam.gradcam(model, digit, class_index=3, layer_name="c5_conv")
    assert c5.map_size == (1, 1) and np.ptp(c5.heatmap) == 0.0  # what the old choice gave
    assert heat.max() == pytest.approx(1.0, abs=1e-5) and np.ptp(heat) > 0.5


def test_no_map_of_at_least_3x3_is_refused_with_a_sentence():
    """A network whose every conv map is smaller than 3x3: Grad-CAM does not apply."""
    import keras
    from keras import layers

    inp = keras.Input((4, 4, 1), name="image")
    x = layers.Conv2D(4, 3, activation="relu", name="conv1")(inp)  # (N, 2, 2, 4)
    x = layers.Conv2D(4, 2, activation="relu", name="conv2")(x)  # (N, 1, 1, 4)
    x = layers.Flatten(name="flatten")(x)
    model = keras.Model(inp, layers.Dense(2, activation="softmax", name="predictions")(x))
    with pytest.raises(ValueError, match=r"no convolutional layer with a feature map of at least "
                                         r"3x3 \(conv1 2x2, conv2 1x1\).*uniform square"):
        reader.last_conv_block(model)
    assert reader.last_conv_block(model, min_side=2) == "conv1"


def test_a_model_that_outputs_logits_is_explained_by_them(trained):
    """No "logits" layer and no softmax: the output itself is the score (not its log)."""
    logits = tiny_cnn(head="linear")
    for layer in logits.layers:
        layer.set_weights(trained.get_layer("logits" if layer.name == "scores" else layer.name)
                          .get_weights())
    x, _, _ = synthetic(2, seed=9)
    a = gradcam.gradcam(trained, x[1], class_index=1)
    b = gradcam.gradcam(logits, x[1], class_index=1)
    assert b.score == "output scores" and np.isfinite(b.heatmap).all()
    np.testing.assert_allclose(a.heatmap, b.heatmap, atol=1e-5)


def test_shape_dtype_and_range(trained):
    x, _, _ = synthetic(2, seed=3)
    res = gradcam.gradcam(trained, x[1])
    assert res.heatmap.shape == (SIZE, SIZE) and res.heatmap.dtype == np.float32
    assert res.heatmap.min() >= 0.0 and res.heatmap.max() == pytest.approx(1.0, abs=1e-5)
    assert res.layer == "relu" and res.score == "logits" and res.class_index == 1
    assert res.map_size == (SIZE // 2, SIZE // 2)  # after the 2x2 pooling
    assert gradcam.gradcam(trained, x[1:2]).heatmap.shape == (SIZE, SIZE)  # batch of one too


def test_highlights_the_informative_square(trained):
    x, y, pos = synthetic(40, seed=4)
    hits, ratios = 0, []
    for i in np.flatnonzero(y):
        heat = gradcam.gradcam(trained, x[i], class_index=1).heatmap
        mask = np.zeros((SIZE, SIZE), bool)
        r, c = pos[i]
        mask[max(r - 1, 0):r + SQUARE + 1, max(c - 1, 0):c + SQUARE + 1] = True  # square + 1 px
        hits += mask[np.unravel_index(heat.argmax(), heat.shape)]
        ratios.append(heat[mask].mean() / max(heat[~mask].mean(), 1e-6))
    n = int(y.sum())
    assert hits >= 0.9 * n, f"peak on the square in only {hits}/{n} images"
    assert np.median(ratios) > 3.0, f"heat inside/outside ratio {np.median(ratios):.2f}"


def test_softmax_built_into_the_last_layer_gives_the_same_map(trained):
    """Recomputing logits from the Dense layer's input equals using a 'logits' layer."""
    other = tiny_cnn(head="builtin")
    for layer in other.layers:
        src = trained.get_layer("logits" if layer.name == "predictions" else layer.name)
        layer.set_weights(src.get_weights())
    x, _, _ = synthetic(4, seed=5)
    a = gradcam.gradcam(trained, x[3], class_index=1)
    b = gradcam.gradcam(other, x[3], class_index=1)
    assert b.score == "dense pre-softmax"
    np.testing.assert_allclose(a.heatmap, b.heatmap, atol=1e-5)


def test_layer_kinds_are_recognised_by_class_not_by_class_name():
    """A subclass of a Keras layer is that layer: a ReLU subclass right after the last
    conv joins the target, a Dense subclass with the softmax built in gives logits."""
    import keras
    from keras import layers

    class ClippedReLU(layers.ReLU):
        pass

    class Classifier(layers.Dense):
        pass

    inp = keras.Input((SIZE, SIZE, 1), name="image")
    x = layers.Conv2D(4, 3, padding="same", name="conv")(inp)
    x = ClippedReLU(max_value=6.0, name="relu6")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    model = keras.Model(inp, Classifier(2, activation="softmax", name="predictions")(x))
    assert reader.last_conv_block(model) == "relu6"
    x, _, _ = synthetic(2, seed=8)
    res = gradcam.gradcam(model, x[1])
    assert res.layer == "relu6" and res.score == "dense pre-softmax"


def test_explaining_the_other_class_gives_another_map(trained):
    x, _, pos = synthetic(2, seed=6)
    yes = gradcam.gradcam(trained, x[1], class_index=1).heatmap
    no = gradcam.gradcam(trained, x[1], class_index=0).heatmap
    r, c = pos[1]
    assert yes[r:r + SQUARE, c:c + SQUARE].mean() > no[r:r + SQUARE, c:c + SQUARE].mean()


def test_bad_arguments(trained):
    with pytest.raises(ValueError, match="shape"):
        gradcam.gradcam(trained, np.zeros((8, 8, 1), np.float32))
    with pytest.raises(ValueError, match="gap"):
        gradcam.gradcam(trained, np.zeros((SIZE, SIZE, 1), np.float32), layer_name="gap")
    with pytest.raises(ValueError):
        gradcam.gradcam(trained, np.zeros((SIZE, SIZE, 1), np.float32), layer_name="nope")
    with pytest.raises(ValueError, match="class_index=2"):
        gradcam.gradcam(trained, np.zeros((SIZE, SIZE, 1), np.float32), class_index=2)


def test_same_map_after_keras_clear_session(trained):
    """Streamlit calls keras.backend.clear_session() after every run; the traced
    Grad-CAM function kept for the model must still give the same map."""
    import keras

    x, _, _ = synthetic(2, seed=7)
    before = gradcam.gradcam(trained, x[1]).heatmap
    keras.backend.clear_session()
    np.testing.assert_array_equal(gradcam.gradcam(trained, x[1]).heatmap, before)


def test_cached_gradcam_function_does_not_keep_a_model_alive():
    """The traced function is cached per model; a model dropped elsewhere (VGG16 is
    2 GB) must still be freed."""
    import gc
    import weakref

    model = tiny_cnn()
    gradcam.gradcam(model, np.zeros((SIZE, SIZE, 1), np.float32))
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None
