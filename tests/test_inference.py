"""cnnlib.models.inference: the fast classifier, and which outputs count as probabilities."""

import numpy as np
import pytest

from cnnlib.models import inference, zoo
from cnnlib.network.activation_functions import softmax
from cnnlib.network.logits import Logits, find_logits


def two_inputs():
    import keras
    from keras import layers

    a, b = keras.Input((28, 28, 1), name="a"), keras.Input((28, 28, 1), name="b")
    x = layers.Flatten(name="flatten")(layers.Concatenate(name="both")([a, b]))
    return keras.Model([a, b], layers.Dense(10, activation="softmax", name="predictions")(x))


def two_outputs():
    import keras
    from keras import layers

    inp = keras.Input((28, 28, 1), name="image")
    x = layers.Flatten(name="flatten")(inp)
    return keras.Model(inp, [layers.Dense(10, activation="softmax", name="digit")(x),
                             layers.Dense(1, name="ink")(x)])


def flat_input():
    import keras
    from keras import layers

    inp = keras.Input((784,), name="pixels")
    return keras.Model(inp, layers.Dense(10, activation="softmax", name="predictions")(inp))


def linear_head(input_shape=(28, 28, 1), classes=10):
    """A classifier trained with from_logits=True: its last layer has no softmax."""
    import keras
    from keras import layers

    inp = keras.Input(input_shape, name="image")
    x = layers.Conv2D(4, 3, activation="relu", name="conv")(inp)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inp, layers.Dense(classes, name="scores")(x))


def test_probabilities_pass_and_anything_else_goes_through_softmax():
    p = np.array([[0.1, 0.2, 0.7], [1.0, 0.0, 0.0]], np.float32)
    assert inference.is_distribution(p)
    out = inference.to_probabilities(p)
    assert not out.softmax_applied and out.probs.dtype == np.float32
    np.testing.assert_array_equal(out.probs, p)
    logits = np.array([[2.0, -1.0, 0.5]], np.float32)
    assert not inference.is_distribution(logits)
    out = inference.to_probabilities(logits)
    expected = np.exp(logits) / np.exp(logits).sum()
    assert out.softmax_applied
    np.testing.assert_allclose(out.probs, expected, rtol=1e-6)
    # in [0, 1] but not adding up to 1 (a sigmoid per class): not a distribution either
    assert not inference.is_distribution(np.array([[0.9, 0.8, 0.1]]))
    assert not inference.is_distribution(np.array([[0.5, 0.5 + 2 * inference.SUM_TOLERANCE]]))
    assert not inference.is_distribution(np.array([[np.nan, 1.0]]))
    # a model that ends in a softmax is trusted as it is
    ends_in_softmax = Logits("logits", None, None, "softmax", True, "softmax layer")
    trusted = inference.to_probabilities(np.array([[0.3, 0.3]]), ends_in_softmax)
    assert not trusted.softmax_applied and trusted.logits_layer == "logits"


def test_softmax_is_stable_for_large_scores():
    s = softmax(np.array([[1000.0, 1000.0, -1000.0]]))
    np.testing.assert_allclose(s, [[0.5, 0.5, 0.0]], atol=1e-7)


def test_zoo_classifier_gives_the_model_s_own_probabilities():
    model = zoo.build("mnist_cnn")
    assert find_logits(model).softmax
    x = np.random.default_rng(0).random((3, 28, 28, 1), np.float32)
    out = inference.classifier(model)(x)
    assert not out.softmax_applied and out.probs.shape == (3, 10) and out.logits_layer == "logits"
    np.testing.assert_allclose(out.probs, np.asarray(model(x, training=False)), atol=1e-6)


def test_a_logits_model_is_passed_through_softmax_and_says_so():
    model = linear_head()
    assert not find_logits(model).softmax
    x = np.random.default_rng(1).random((2, 28, 28, 1), np.float32)
    out = inference.classifier(model)(x)
    assert out.softmax_applied and out.logits_layer == "scores"
    np.testing.assert_allclose(out.probs.sum(axis=1), 1.0, atol=1e-6)
    logits = np.asarray(model(x, training=False), np.float64)
    expected = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(out.probs, expected / expected.sum(1, keepdims=True), atol=1e-6)
    assert (out.probs.argmax(1) == logits.argmax(1)).all()


@pytest.mark.parametrize("build,message", [
    (two_inputs, "The model takes 2 inputs; a classifier here takes one image."),
    (two_outputs, "The model gives 2 outputs; a classifier here gives one row of class scores."),
    (flat_input, "The model takes input of shape 784, not images"),
])
def test_a_model_that_is_not_an_image_classifier_is_refused(build, message):
    model = build()
    with pytest.raises(ValueError, match=message):
        inference.check_classifier(model, (28, 28, 1), 10)
    with pytest.raises(ValueError, match=message):
        inference.predictor(model)  # before tracing anything


def test_a_model_for_other_images_or_classes_is_refused_with_both_numbers():
    with pytest.raises(ValueError, match=r"^The model takes 32x32x3 images, not 28x28x1\.$"):
        inference.check_classifier(zoo.build("cifar_small", (32, 32, 3), 10), (28, 28, 1), 10)
    with pytest.raises(ValueError, match=r"^The model gives 1000 scores per image, not one for "
                                         r"each of the 10 classes\.$"):
        inference.check_classifier(zoo.build("logistic", (28, 28, 1), 1000), (28, 28, 1), 10)
    inference.check_classifier(zoo.build("logistic", (28, 28, 1), 10), (28, 28, 1), 10)
    inference.check_classifier(linear_head((None, None, 1)), (28, 28, 1), 10)  # open sides fit


def test_a_model_with_open_sides_predicts_any_image_size_and_names_its_shape():
    """(None, None, 1): it fits the 28x28x1 digits (the page checks that) and predicts them;
    the refusal of other channels writes the open sides as '?'."""
    model = linear_head((None, None, 1))
    predict = inference.predictor(model)
    for side in (28, 32):
        x = np.random.default_rng(side).random((2, side, side, 1), np.float32)
        np.testing.assert_allclose(predict(x), np.asarray(model(x, training=False)), atol=1e-5)
    with pytest.raises(ValueError, match=r"Received: shape=\(1, 28, 28, 3\)"):
        predict(np.zeros((28, 28, 3), np.float32))
    with pytest.raises(ValueError, match=r"^The model takes \?x\?x1 images, not 32x32x3\.$"):
        inference.check_classifier(model, (32, 32, 3), 10)
    assert inference.fits((None, None, 1), (5, 7, 1)) and not inference.fits((28, 28, 1), (28, 28))
