"""The model reader (cnnlib.network.reader, cnnlib.network.logits): Grad-CAM, Classify's
inference path and Inside the network read a model the same way.

Every architecture of the zoo (tiny inputs, random weights) and models the zoo does not
build (a functional model with two convolutional paths joined, a Dense with the softmax
built in, a model that outputs its logits, a keras.Sequential) go through the three
views; they must name the same logits layer, and the logits they use must be that
layer's values, computed here independently with a model cut at that layer.
"""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import layers as K  # noqa: E402

from cnnlib.explain import feature_maps, gradcam  # noqa: E402
from cnnlib.models import inference, zoo  # noqa: E402
from cnnlib.network import layer_outputs, reader, scores  # noqa: E402
from cnnlib.network.logits import find_logits  # noqa: E402

#: (input shape, classes) small enough for each architecture to build quickly.
SHAPES = {"lenet5": (28, 28, 1), "mnist_cnn": (12, 12, 1), "studio_cnn": (16, 16, 1),
          "logistic": (8, 8, 1), "mlp": (8, 8, 1), "cifar_small": (12, 12, 3),
          "cifar_wide": (24, 24, 3), "cifar_bn3": (32, 32, 3), "cifar_6conv": (24, 24, 3)}


def branched(head: str = "softmax layer"):
    """Two convolutional paths from the image, added, then one more conv block; the
    head: a separate softmax layer, a Dense with the softmax built in, or raw logits."""
    inp = keras.Input((12, 12, 1), name="image")
    a = K.Conv2D(4, 3, padding="same", activation="relu", name="path_a")(inp)
    b = K.Conv2D(4, 5, padding="same", name="path_b")(inp)
    b = K.ReLU(name="path_b_relu")(b)
    x = K.Add(name="join")([a, b])
    x = K.Conv2D(6, 3, name="conv_c")(x)  # (10, 10, 6)
    x = K.BatchNormalization(name="bn_c")(x)
    x = K.Activation("relu", name="relu_c")(x)
    x = K.GlobalAveragePooling2D(name="gap")(x)
    if head == "softmax layer":
        out = K.Softmax(name="probs")(K.Dense(3, name="class_scores")(x))
    elif head == "built-in softmax":
        out = K.Dense(3, activation="softmax", name="predictions")(x)
    else:
        out = K.Dense(3, name="raw_scores")(x)
    return keras.Model(inp, out, name=f"branched_{head.replace(' ', '_')}")


def sequential():
    """A keras.Sequential (its layers are re-called by the reader) with a built-in softmax."""
    return keras.Sequential([keras.Input((12, 12, 1)), K.Conv2D(4, 3, activation="relu", name="conv"),
                             K.MaxPooling2D(name="pool"), K.Flatten(name="flat"),
                             K.Dense(3, activation="softmax", name="predictions")], name="seq")


CASES = {
    **{arch: (lambda arch=arch: zoo.build(arch, SHAPES[arch], 4), "logits") for arch in zoo.ARCHITECTURES},
    "branched softmax layer": (branched, "class_scores"),
    "branched built-in softmax": (lambda: branched("built-in softmax"), "predictions"),
    "branched raw logits": (lambda: branched("raw"), "raw_scores"),
    "sequential": (sequential, "predictions"),
}


def _logits_by_hand(model, name: str, x: np.ndarray) -> np.ndarray:
    """The named layer's logits for ``x``, computed without the reader: the layer's
    output; for a Dense with the softmax built in, its kernel and bias applied to its
    input."""
    layer = model.get_layer(name)
    if isinstance(model, keras.Sequential):  # run the layers one by one up to it
        h = x
        for lay in model.layers[:model.layers.index(layer)]:
            h = lay(h, training=False)
        below, out = np.asarray(h), np.asarray(layer(h, training=False))
    else:
        below = np.asarray(keras.Model(model.inputs[0], layer.input)(x, training=False))
        out = np.asarray(keras.Model(model.inputs[0], layer.output)(x, training=False))
    if getattr(getattr(layer, "activation", None), "__name__", "") != "softmax":
        return out.astype(np.float64)
    return below.astype(np.float64) @ np.asarray(layer.kernel, np.float64) + np.asarray(layer.bias)


@pytest.mark.parametrize("case", list(CASES))
def test_grad_cam_classify_and_inside_name_the_same_logits_layer(case):
    build, expected = CASES[case]
    keras.utils.set_random_seed(0)
    model = build()
    x = np.random.default_rng(1).random((1, *model.input_shape[1:]), np.float32)
    assert find_logits(model).layer == expected  # the zoo names its logits layer "logits"
    by_hand = _logits_by_hand(model, expected, x)[0]  # (K,)

    # Classify: the fast inference path
    probs = inference.classifier(model)(x)
    assert probs.logits_layer == expected
    e = np.exp(by_hand - by_hand.max())
    np.testing.assert_allclose(probs.probs[0], e / e.sum(), atol=1e-5)

    # Grad-CAM: where the model has a conv block with a map of at least 3x3
    if reader.conv_blocks(model):
        cam = gradcam.gradcam(model, x)
        assert cam.logits_layer == expected
        assert cam.class_index == int(np.argmax(by_hand))
    else:
        with pytest.raises(ValueError, match="no convolutional layer"):
            gradcam.gradcam(model, x)

    # Inside the network: a chain for the models that are one, else a sentence
    if case.startswith("branched"):
        with pytest.raises(reader.NotExplorableError, match="branches or joins"):
            reader.chain(model)
        return
    chain = reader.chain(model)
    found = scores.class_scores(chain, layer_outputs.layer_outputs(layer_outputs.extractor(model, chain), x))
    assert found.layer == expected
    np.testing.assert_allclose(found.logits, by_hand, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(found.probs, probs.probs[0], atol=1e-5)


@pytest.mark.parametrize("case", [c for c in CASES if c not in ("logistic", "mlp")])
def test_grad_cam_s_target_is_the_last_conv_block_of_the_walk_inside_uses(case):
    """The target is the last layer of a conv and the batch norm and activations that
    follow it, in the order of the model's layers; where Inside reads a chain, that
    layer is in it, right after its conv (or is the conv itself)."""
    model = CASES[case][0]()
    target = reader.last_conv_block(model)
    if case.startswith("branched"):
        assert target == "relu_c"  # after the join: conv_c, bn_c, relu_c
        return
    chain = reader.chain(model)
    names = [info.name for info in chain]
    at = names.index(target)
    conv = max(i for i in range(at + 1) if chain[i].kind == "conv")
    assert all(chain[i].kind in ("batchnorm", "activation") for i in range(conv + 1, at + 1))
    assert chain[at].output_shape[0] >= reader.MIN_MAP_SIDE


def test_a_sequential_model_gets_the_same_grad_cam_as_its_functional_twin(tmp_path):
    """The reader re-calls a Sequential's layers (a loaded one is not one graph); the
    heatmap equals that of the same layers and weights built as a functional model,
    and so does the Sequential saved and loaded again."""
    keras.utils.set_random_seed(3)
    seq = sequential()
    inp = keras.Input((12, 12, 1))
    h = inp
    for layer in seq.layers:
        h = layer.__class__.from_config(layer.get_config())(h)
    twin = keras.Model(inp, h)
    for mine, theirs in zip(twin.layers[1:], seq.layers):
        mine.set_weights(theirs.get_weights())
    x = np.random.default_rng(2).random((12, 12, 1), np.float32)
    a, b = gradcam.gradcam(seq, x, class_index=1), gradcam.gradcam(twin, x, class_index=1)
    assert a.layer == b.layer == "conv" and a.score == b.score == "dense pre-softmax"
    assert np.ptp(a.heatmap) > 0
    np.testing.assert_allclose(a.heatmap, b.heatmap, atol=1e-5)
    seq.save(tmp_path / "seq.keras")
    loaded = keras.saving.load_model(tmp_path / "seq.keras", safe_mode=True)
    c = gradcam.gradcam(loaded, x, class_index=1)
    assert c.logits_layer == "predictions"
    np.testing.assert_allclose(c.heatmap, a.heatmap, atol=1e-5)


def test_outputs_model_gives_each_wanted_layer_s_output():
    """One layer: one tensor; a list: a list, in the order asked; None: the input."""
    model = branched()
    x = np.random.default_rng(4).random((2, 12, 12, 1), np.float32)
    join, relu = model.get_layer("join"), model.get_layer("relu_c")
    one = reader.outputs_model(model, relu)(x, training=False)
    both = reader.outputs_model(model, [relu, None, join])(x, training=False)
    assert len(both) == 3
    np.testing.assert_allclose(np.asarray(both[0]), np.asarray(one), atol=1e-6)
    np.testing.assert_array_equal(np.asarray(both[1]), x)
    a = np.maximum(np.asarray(keras.Model(model.inputs[0], model.get_layer("path_a").output)(x)), 0)
    b = np.asarray(keras.Model(model.inputs[0], model.get_layer("path_b_relu").output)(x))
    np.testing.assert_allclose(np.asarray(both[2]), a + b, atol=1e-5)


def test_feature_maps_and_live_snapshots_read_the_same_blocks():
    """The Convolution page's maps and the Train page's live view take the first block
    after its batch norm and activation, the block the reader finds."""
    from cnnlib.training.callbacks import LiveSnapshots

    model = zoo.build("studio_cnn", (16, 16, 1), 3)
    image = np.random.default_rng(5).random((16, 16, 1), np.float32)
    maps = feature_maps.feature_maps(model, image[..., 0])
    first_conv, first_last = reader.conv_blocks(model)[0]
    assert maps[0][0] == first_conv.name and first_last is not first_conv
    live = LiveSnapshots(lambda e: None, image, every_s=1.0, t0=0.0, max_maps=64)
    live.set_model(model)
    live.on_train_begin()
    snap = live.snapshot(0)
    assert snap["layer"] == first_conv.name
    np.testing.assert_allclose(np.asarray(snap["maps"]), maps[0][1], atol=2e-3)  # rounded to 3 places
