"""A Keras model as ONNX, and the check that ONNX Runtime gives Keras's outputs.

The conversion is Keras's own ``model.export(path, format="onnx")``, which on the
TensorFlow backend traces the model and hands it to ``tf2onnx``; it needs the
packages ``tf2onnx`` and ``onnx`` (the check needs ``onnxruntime``), pinned in
requirements.txt and imported only here, when called. Works offline.

One layer needs help: a ``Normalization`` layer built with a given mean and variance
(a run with ``normalization="standardize"``, :func:`cnnlib.models.zoo.build`) holds
them as eager tensors, which ``tf2onnx`` turns into extra graph *inputs* (ONNX
Runtime then asks for ``.../standardize/Sub/y:0``). :func:`to_onnx` therefore
exports a copy in which that layer is the equal ``Rescaling(1 / std, offset=-mean /
std)``: the same ``(x - mean) / std`` up to float32 rounding.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile

import numpy as np


def to_onnx(model) -> bytes:
    """Convert a Keras model to an ONNX file.

    Args:
        model: a built ``keras.Model``, e.g. a stored CNN Studio model: input float32
            ``(N, H, W, C)`` in [0, 1] (NHWC, kept as is in the ONNX graph), output
            ``(N, num_classes)`` softmax probabilities. The model is called once on
            zeros first (Keras refuses to export a model that was never called).

    Returns:
        The ``.onnx`` file's bytes (float32 weights; ~0.8 MB for the bundled MNIST
        model); the batch dimension stays dynamic.

    Raises:
        ValueError: ``model`` is not a built Keras model.
        RuntimeError: the export failed, e.g. ``tf2onnx`` is not installed (the
            message keeps Keras's, the original error is ``__cause__``).
    """
    import keras

    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(f"to_onnx needs a built keras.Model. Received: model={model!r}")
    model = _without_tensor_constants(model)
    shape = tuple(1 if d is None else int(d) for d in model.input_shape)  # (1, H, W, C)
    model(np.zeros(shape, np.float32), training=False)
    with tempfile.TemporaryDirectory(prefix="cnn-onnx-") as folder:
        path = os.path.join(folder, "model.onnx")
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # its "Saved artifact at ..." listing
                model.export(path, format="onnx", verbose=False)
        except Exception as e:  # ImportError for tf2onnx, converter errors
            raise RuntimeError(f"Keras could not export model {model.name!r} as ONNX: "
                               f"{type(e).__name__}: {e}") from e
        with open(path, "rb") as f:
            data = f.read()
    import onnx

    names = [i.name for i in onnx.load_from_string(data).graph.input]
    if len(names) != 1:
        raise RuntimeError(f"The ONNX export of model {model.name!r} asks for {len(names)} "
                           f"inputs instead of the image alone: {names}")
    return data


def _without_tensor_constants(model):
    """``model``, or a copy with each scalar ``Normalization`` layer replaced by the
    equal ``Rescaling`` layer (same name, same weights elsewhere).

    Raises:
        RuntimeError: a ``Normalization`` layer with one mean per channel (CNN Studio
            builds none), which this does not rewrite.
    """
    import keras

    norms = [la for la in model.layers if isinstance(la, keras.layers.Normalization)]
    if not norms:
        return model

    def clone(layer):
        if not isinstance(layer, keras.layers.Normalization):
            return layer.__class__.from_config(layer.get_config())
        mean, var = np.asarray(layer.mean).reshape(-1), np.asarray(layer.variance).reshape(-1)
        if mean.size != 1 or var.size != 1:
            raise RuntimeError(f"Layer {layer.name!r}: only a Normalization with one mean and "
                               f"variance can be exported to ONNX. Received: mean={mean}")
        std = max(float(np.sqrt(var[0])), keras.config.epsilon())  # as the layer computes it
        return keras.layers.Rescaling(1.0 / std, offset=-float(mean[0]) / std, name=layer.name)

    copy = keras.models.clone_model(model, clone_function=clone)
    for old, new in zip(model.layers, copy.layers):
        if old.weights:
            new.set_weights(old.get_weights())
    return copy


def run_onnx(onnx_bytes: bytes, images: np.ndarray) -> np.ndarray:
    """Run an ONNX model on images with ONNX Runtime (CPU).

    Args:
        onnx_bytes: from :func:`to_onnx`; one float32 input, one output.
        images: float32 ``(N, H, W, C)`` (NHWC) in [0, 1] for CNN Studio models.

    Returns:
        float32 ``(N, num_classes)``: the model's outputs.

    Raises:
        ValueError: ``images`` is not 4-D or its ``(H, W, C)`` differs from the model's
            input (the message names both shapes).
    """
    import onnxruntime

    session = onnxruntime.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    expected = tuple(inp.shape[1:])
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1:] != expected:
        raise ValueError(f"images must be float32 (N, H, W, C) with (H, W, C) = {expected}. "
                         f"Received: images.shape={images.shape}")
    return np.asarray(session.run(None, {inp.name: images})[0], dtype=np.float32)


def max_difference(model, onnx_bytes: bytes, images: np.ndarray) -> float:
    """``max |keras(x) - onnxruntime(x)|`` over all images and classes, a float >= 0.

    Args and errors as :func:`run_onnx`; ``model`` is the Keras model ``onnx_bytes``
    was converted from.
    """
    images = np.asarray(images, dtype=np.float32)
    ref = np.concatenate([np.asarray(model(images[i:i + 256], training=False), np.float32)
                          for i in range(0, len(images), 256)])
    return float(np.max(np.abs(ref - run_onnx(onnx_bytes, images))))
