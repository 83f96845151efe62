"""The output of every layer of a chain for one input (or a batch).

One ``keras.Model`` from the model's input to every layer's output
(:func:`activation_model`), built once per model by the caller and called
directly, ``extractor(x, training=False)``: ``model.predict`` costs about
60 ms of overhead per call on a 2-core machine (the project's measured notes),
more than the forward pass of a small CNN.
"""

from __future__ import annotations

import numpy as np

from cnnlib.network.layers import LayerInfo, chain


def activation_model(model, infos: list[LayerInfo] | None = None):
    """A ``keras.Model`` from ``model``'s input to the output of each layer of its chain.

    Args:
        model: a model that :func:`cnnlib.network.layers.chain` accepts.
        infos: its chain, if already computed.

    Returns:
        A ``keras.Model`` whose call on float32 ``(N, H, W, C)`` returns a list
        with one tensor per layer after the input, ``(N, *info.output_shape)``.

    Raises:
        NotExplorableError: as :func:`chain`.
    """
    import keras

    infos = infos if infos is not None else chain(model)
    inputs, outputs = _graph(model, infos, len(infos) - 1)
    return keras.Model(inputs=inputs, outputs=outputs, name=f"{model.name}_activations")


def _graph(model, infos: list[LayerInfo], last: int):
    """``(input tensor, [output tensor of layers 1..last])`` of the chain: a functional
    model's own tensors; for a ``keras.Sequential``, its layers called again on a new
    input (the weights are the same; a Sequential loaded from a file keeps the tensors
    of each partial rebuild, so its own are not one graph)."""
    import keras

    if not isinstance(model, keras.Sequential):
        return model.inputs[0], [info.layer.output for info in infos[1:last + 1]]
    x = inputs = keras.Input(shape=infos[0].output_shape, dtype=model.inputs[0].dtype)
    outputs = []
    for info in infos[1:last + 1]:
        x = info.layer(x)
        outputs.append(x)
    return inputs, outputs


def activations(extractor, x: np.ndarray) -> list[np.ndarray]:
    """Every layer's output for a batch.

    Args:
        extractor: an :func:`activation_model`.
        x: float32 ``(N, H, W, C)``, the model's input as it expects it (for the
            zoo's models: [0, 1]; for VGG16: :func:`cnnlib.models.vgg16.preprocess`).

    Returns:
        float32 arrays, the input first then one per layer of the chain,
        ``(N, *shape)`` each; dropout and augmentation off (``training=False``).
    """
    x = np.asarray(x, dtype=np.float32)
    outs = extractor(x, training=False)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return [x] + [np.asarray(o, dtype=np.float32) for o in outs]


def layer_model(model, infos: list[LayerInfo], index: int):
    """A ``keras.Model`` from the input to layer ``index`` of the chain (for batches:
    it stops there instead of computing every later layer).

    Raises:
        ValueError: ``index`` is 0 (the input itself) or past the chain.
    """
    import keras

    if not 1 <= index < len(infos):
        raise ValueError(f"Layer index must be from 1 to {len(infos) - 1}. Received: index={index}")
    inputs, outputs = _graph(model, infos, index)
    return keras.Model(inputs=inputs, outputs=outputs[-1])
