"""What a trained network sees: its learned first-layer kernels and the
feature maps of each convolutional block for one image.

The convolutional blocks (a ``Conv2D`` and the batch norm and activation right
after it) and the model that outputs their maps come from the model reader,
:mod:`cnnlib.network.reader`; the image is fitted to the model's input by
:func:`cnnlib.network.inputs.prepare_image`. Keras is imported inside the
functions: importing this module leaves TensorFlow unloaded until a model is
actually inspected.
"""

from __future__ import annotations

import numpy as np

from cnnlib.network import reader
from cnnlib.network.inputs import prepare_image


def first_layer_kernels(model) -> np.ndarray:
    """float32 ``(K_h, K_w, C, F)``: the weights of the first Conv2D layer.

    Raises:
        ValueError: the model has no Conv2D layer.
    """
    layers = reader.conv_layers(model)
    if not layers:
        raise ValueError(f"Model {model.name!r} has no convolutional layer to show.")
    return np.asarray(layers[0].kernel, dtype=np.float32)


def feature_model(model):
    """A ``keras.Model`` from ``model``'s input to the feature maps of each of its
    Conv2D layers after their batch norm and activation
    (:func:`cnnlib.network.reader.conv_blocks`): a list, one ``(N, H_l, W_l, F_l)``
    tensor per conv layer.

    Raises:
        ValueError: no Conv2D layer.
    """
    blocks = reader.conv_blocks(model)
    if not blocks:
        raise ValueError(f"Model {model.name!r} has no convolutional layer to show.")
    return reader.outputs_model(model, [last for _, last in blocks])


def feature_maps(model, image, extractor=None) -> list[tuple[str, np.ndarray]]:
    """The feature maps of every Conv2D layer of ``model`` for one image.

    Args:
        model: a ``keras.Model`` taking float32 NHWC images in [0, 1].
        image: float ``(H, W)`` or ``(H, W, 3)`` in [0, 1]; fitted with
            :func:`cnnlib.network.inputs.prepare_image`.
        extractor: a :func:`feature_model` of ``model`` to reuse, or None.

    Returns:
        ``[(conv layer name, float32 (H_l, W_l, F_l)), ...]`` in layer order: each
        conv layer's feature maps after its batch norm and activation.
    """
    extractor = extractor or feature_model(model)
    x = prepare_image(image, model.input_shape[1:])
    outputs = extractor(x, training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    names = [conv.name for conv, _ in reader.conv_blocks(model)]
    return [(name, np.asarray(out)[0]) for name, out in zip(names, outputs)]
