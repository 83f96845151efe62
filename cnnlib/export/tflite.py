"""A Keras model as TensorFlow Lite, and the check that both give the same outputs.

The conversion is TensorFlow's own (``tf.lite.TFLiteConverter.from_keras_model``,
float32, no quantization), so the file holds the same arithmetic as the Keras
model: on CPU the outputs agree to within float32 rounding (~1e-7 here). The
interpreter is ``ai_edge_litert``'s where that package is installed (TensorFlow
calls ``tf.lite.Interpreter`` deprecated), else TensorFlow's ``tf.lite.Interpreter``,
which TF 2.21 still ships.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np


def to_tflite(model) -> bytes:
    """Convert a Keras model to a TensorFlow Lite flatbuffer.

    Args:
        model: a built ``keras.Model``, e.g. a stored CNN Studio model: input float32
            ``(N, H, W, C)`` in [0, 1] (NHWC), output ``(N, num_classes)`` softmax
            probabilities. Dropout and batch norm are converted in inference mode.

    Returns:
        The ``.tflite`` file's bytes (float32 weights, no quantization; about the
        size of the weights: ~0.8 MB for the bundled 205,546-parameter MNIST model).
        The batch dimension stays dynamic.

    Raises:
        ValueError: ``model`` is not a built Keras model (it has no input shape).
        RuntimeError: the converter failed (its message is kept, as ``__cause__``).
    """
    import keras
    import tensorflow as tf

    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(f"to_tflite needs a built keras.Model. Received: model={model!r}")
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Keras's "Saved artifact at ..." listing
            return bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    except Exception as e:  # the converter raises ConverterError and others
        raise RuntimeError(f"TensorFlow Lite could not convert model {model.name!r}: "
                           f"{type(e).__name__}: {e}") from e


def _interpreter_class():
    """LiteRT's interpreter where installed, else TensorFlow's (deprecated there)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import warnings

        import tensorflow as tf

        with warnings.catch_warnings():  # "tf.lite.Interpreter is deprecated": known, said above
            warnings.simplefilter("ignore")
            return lambda **kw: tf.lite.Interpreter(**kw)
    return Interpreter


def run_tflite(tflite_bytes: bytes, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Run a TFLite model on images with the TFLite interpreter.

    Args:
        tflite_bytes: from :func:`to_tflite`; one float32 input, one float32 output.
        images: float32 ``(N, H, W, C)`` (NHWC) in the model's input range ([0, 1] for
            CNN Studio models), ``N >= 1``.
        batch_size: images per ``invoke`` (the input tensor is resized to it).

    Returns:
        float32 ``(N, num_classes)``: the model's outputs (softmax probabilities for
        CNN Studio models).

    Raises:
        ValueError: ``images`` is not 4-D, is empty, or its ``(H, W, C)`` differs from
            the model's input (the message names both shapes).
    """
    import warnings

    images = np.asarray(images, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interp = _interpreter_class()(model_content=tflite_bytes)
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    expected = tuple(int(d) for d in inp["shape"][1:])
    if images.ndim != 4 or len(images) == 0 or images.shape[1:] != expected:
        raise ValueError(f"images must be float32 (N, H, W, C) with N >= 1 and (H, W, C) = "
                         f"{expected}. Received: images.shape={images.shape}")
    outputs = []
    size = None
    for i in range(0, len(images), batch_size):
        batch = images[i:i + batch_size]  # (B, H, W, C)
        if len(batch) != size:
            interp.resize_tensor_input(inp["index"], batch.shape)
            interp.allocate_tensors()
            size = len(batch)
        interp.set_tensor(inp["index"], batch)
        interp.invoke()
        outputs.append(np.array(interp.get_tensor(out["index"]), dtype=np.float32))
    return np.concatenate(outputs)  # (N, num_classes)


def max_difference(model, tflite_bytes: bytes, images: np.ndarray) -> float:
    """The largest absolute difference between Keras's and TFLite's outputs.

    Args:
        model: the Keras model ``tflite_bytes`` was converted from.
        tflite_bytes: from :func:`to_tflite`.
        images: float32 ``(N, H, W, C)`` in [0, 1], ``N >= 1``; real test images make
            the check meaningful (softmax outputs near 0 or 1 hide differences in the
            logits less than random noise does).

    Returns:
        ``max |keras(x) - tflite(x)|`` over all images and classes, a float >= 0 (in
        probability units for CNN Studio models; ~1e-7 is float32 rounding).

    Raises:
        ValueError: as :func:`run_tflite`.
    """
    images = np.asarray(images, dtype=np.float32)
    lite = run_tflite(tflite_bytes, images)
    ref = np.concatenate([np.asarray(model(images[i:i + 256], training=False), np.float32)
                          for i in range(0, len(images), 256)])
    return float(np.max(np.abs(ref - lite)))
