"""What a trained network sees: its learned first-layer kernels and the
feature maps of each convolutional layer for one image.

Keras is imported inside the functions: importing this module is cheap and
leaves TensorFlow unloaded until a model is actually inspected.
"""

from __future__ import annotations

import numpy as np

from cnnlib.data.images import to_gray


def conv_layers(model) -> list:
    """The ``keras.layers.Conv2D`` layers of ``model``, in order (top level
    of the model, as the zoo builds them)."""
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def shape_keeping_layers() -> tuple[type, ...]:
    """The Keras layer classes that keep a feature map's shape and positions
    (batch norm, activations): they belong to the conv layer they follow."""
    import keras

    L = keras.layers
    return (L.BatchNormalization, L.Activation, L.ReLU, L.LeakyReLU, L.ELU, L.PReLU)


def conv_blocks(model) -> list[tuple[object, object]]:
    """For each Conv2D layer of ``model`` (top level, in order), the pair ``(conv
    layer, last layer of its block)``: the block is the conv and the batch-norm and
    activation layers that directly take its output, one after another (a conv with
    a built-in activation is its own last layer).
    """
    layers, keep = model.layers, shape_keeping_layers()
    convs = {id(layer) for layer in conv_layers(model)}
    blocks = []
    for i, layer in enumerate(layers):
        if id(layer) not in convs:
            continue
        j = i
        while (j + 1 < len(layers) and isinstance(layers[j + 1], keep)
               and layers[j + 1].input is layers[j].output):
            j += 1
        blocks.append((layer, layers[j]))
    return blocks


def first_layer_kernels(model) -> np.ndarray:
    """float32 ``(K_h, K_w, C, F)``: the weights of the first Conv2D layer.

    Raises:
        ValueError: the model has no Conv2D layer.
    """
    layers = conv_layers(model)
    if not layers:
        raise ValueError(f"Model {model.name!r} has no convolutional layer to show.")
    return np.asarray(layers[0].kernel, dtype=np.float32)


def prepare_image(image, input_shape) -> np.ndarray:
    """Fit an image to a model input.

    Args:
        image: float ``(H, W)`` or ``(H, W, 3)`` in [0, 1].
        input_shape: the model's ``(H, W, C)`` (``C`` 1 or 3).

    Returns:
        float32 ``(1, H_m, W_m, C)`` in [0, 1]: converted to grayscale or
        repeated to RGB as ``C`` asks, resized bilinearly (with antialiasing)
        to the model's size.
    """
    import keras

    h, w, c = (int(v) for v in input_shape[-3:])
    x = np.asarray(image, dtype=np.float32)
    x = to_gray(x)[..., None] if c == 1 else (np.repeat(x[..., None], 3, axis=-1) if x.ndim == 2 else x)
    if x.shape[:2] != (h, w):
        x = np.asarray(keras.ops.image.resize(x[None], (h, w), interpolation="bilinear",
                                              antialias=True))[0]
    return np.clip(x, 0.0, 1.0)[None].astype(np.float32)


def feature_model(model):
    """A ``keras.Model`` from ``model``'s input to the feature maps of each of its
    Conv2D layers after their batch norm and activation (:func:`conv_blocks`): a
    list, one ``(N, H_l, W_l, F_l)`` tensor per conv layer.

    Raises:
        ValueError: no Conv2D layer.
    """
    import keras

    blocks = conv_blocks(model)
    if not blocks:
        raise ValueError(f"Model {model.name!r} has no convolutional layer to show.")
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs  # a bare tensor, not [tensor]
    return keras.Model(inputs=inputs, outputs=[last.output for _, last in blocks])


def feature_maps(model, image, extractor=None) -> list[tuple[str, np.ndarray]]:
    """The feature maps of every Conv2D layer of ``model`` for one image.

    Args:
        model: a ``keras.Model`` taking float32 NHWC images in [0, 1].
        image: float ``(H, W)`` or ``(H, W, 3)`` in [0, 1]; fitted with
            :func:`prepare_image`.
        extractor: a :func:`feature_model` of ``model`` to reuse, or None.

    Returns:
        ``[(conv layer name, float32 (H_l, W_l, F_l)), ...]`` in layer order: each
        conv layer's feature maps after its batch norm and activation.
    """
    extractor = extractor or feature_model(model)
    x = prepare_image(image, model.input_shape[1:])
    outputs = extractor(x, training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    names = [conv.name for conv, _ in conv_blocks(model)]
    return [(name, np.asarray(out)[0]) for name, out in zip(names, outputs)]
