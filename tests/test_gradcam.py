"""Grad-CAM: target layer, shape and range, and that it finds the informative region."""

import numpy as np
import pytest

from cnnlib import gradcam, zoo

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
    assert gradcam.find_target_layer(tiny_cnn()) == "relu"  # conv2 -> bn -> relu
    assert gradcam.find_target_layer(zoo.build("studio_cnn", (28, 28, 1), 10)) == "block3_relu2"
    assert gradcam.find_target_layer(zoo.build("mnist_cnn")) == "relu2"  # conv2 -> relu2 (002)
    with pytest.raises(ValueError, match="no convolutional layer"):
        gradcam.find_target_layer(zoo.build("logistic"))


def test_shape_dtype_and_range(trained):
    x, _, _ = synthetic(2, seed=3)
    res = gradcam.gradcam(trained, x[1])
    assert res.heatmap.shape == (SIZE, SIZE) and res.heatmap.dtype == np.float32
    assert res.heatmap.min() >= 0.0 and res.heatmap.max() == pytest.approx(1.0, abs=1e-5)
    assert res.layer == "relu" and res.score == "logits" and res.class_index == 1
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
    assert gradcam.find_target_layer(model) == "relu6"
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


def test_overlay_blends_by_opacity():
    img = np.full((6, 5, 3), 200, np.uint8)
    heat = np.linspace(0, 1, 30, dtype=np.float32).reshape(6, 5)
    np.testing.assert_array_equal(gradcam.overlay(img, heat, 0.0), img)
    np.testing.assert_array_equal(gradcam.overlay(img, heat, 1.0), gradcam.colormap(heat))
    half = gradcam.overlay(img, heat, 0.5).astype(int)
    expected = (img.astype(int) + gradcam.colormap(heat).astype(int)) / 2
    assert np.abs(half - expected).max() <= 1
    gray = gradcam.overlay(np.zeros((6, 5, 1), np.float32), heat, 0.3)
    assert gray.shape == (6, 5, 3) and gray.dtype == np.uint8
    cmap = gradcam.colormap(np.array([[0.0, 1.0]]))
    assert cmap[0, 0, 2] > 100 and cmap[0, 0, 0] == 0 and cmap[0, 1, 0] > 100 and cmap[0, 1, 2] == 0
    with pytest.raises(ValueError, match="opacity"):
        gradcam.overlay(img, heat, 1.5)
    with pytest.raises(ValueError, match="differ"):
        gradcam.overlay(img, heat[:3], 0.5)


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
