"""A model that reads pixels in another range, made to read [0, 1] like every model the
probes work on (:mod:`cnnlib.explain`, :mod:`cnnlib.probe`).

A file saved from Keras's own tutorials may read pixels in 0..255 (its ``Rescaling``
inside). :func:`with_unit_input` rebuilds such a model, one flat chain
(:func:`cnnlib.network.reader.chain`), behind a ``Rescaling`` layer: each layer is made
again from its config and given the same weights, so the new graph is flat (the model
reader and Grad-CAM see every layer) and the file's model is left as it is.
"""

from __future__ import annotations

from cnnlib.network import reader


def with_unit_input(model, scale: float):
    """``model`` taking pixels in [0, 1]: the input times ``scale`` (255 for a model that
    reads 0..255), then ``model``'s layers with their weights.

    Args:
        model: a ``keras.Model`` whose layers form one chain.
        scale: what [0, 1] is multiplied by, > 0.

    Returns:
        A new ``keras.Model``: ``new(x)`` equals ``model(scale * x)``.

    Raises:
        ValueError: a non-positive scale.
        cnnlib.network.reader.NotExplorableError: not one chain of layers (the sentence).
    """
    if not scale > 0:
        raise ValueError(f"Expected scale > 0. Received: scale={scale}")
    import keras

    layers = [info.layer for info in reader.chain(model)[1:]]
    inp = keras.Input(tuple(model.input_shape[1:]), name="pixels_0_1")
    out = keras.layers.Rescaling(float(scale), name="to_the_models_range")(inp)
    for layer in layers:
        fresh = type(layer).from_config(layer.get_config())
        out = fresh(out)
        fresh.set_weights(layer.get_weights())
    return keras.Model(inp, out, name=f"{model.name}_unit_input")
