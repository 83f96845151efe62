"""Transfer learning: a trained network's convolutional base, frozen, under a new head.

``build(base, input_shape, num_classes)`` returns an uncompiled ``keras.Model`` that,
like every model of the zoo, takes float32 NHWC images in ``[0, 1]`` and gives softmax
probabilities, its logits in a layer named ``"logits"`` and its softmax in one named
``"softmax"``. Its layers, in one chain (no nested model, so Inside the network,
Grad-CAM and the live view read it as any zoo model):

1. ``image``: the dataset's pictures ``(N, H, W, C)``, ``C`` 1 or 3.
2. The adapter, frozen, only what the base needs: ``resize`` (a ``Resizing`` layer,
   bilinear, antialiased when it shrinks) to the base's height and width;
   ``gray_to_rgb`` (a ``Dense(3)`` on the channel axis, kernel of ones: the gray value
   copied into R, G and B) or ``rgb_to_gray`` (``Dense(1)``, the BT.601 luma weights of
   :data:`cnnlib.data.images.LUMA`); for VGG16 ``vgg16_preprocess`` (a ``Dense(3)`` on
   the channel axis doing what ``keras.applications.vgg16.preprocess_input`` does:
   ``x * 255``, RGB to BGR, minus the ImageNet channel means B 103.939, G 116.779,
   R 123.68). Dense layers on the channel axis are 1x1 convolutions that the model
   reader does not count as convolutional layers.
3. The base: the layers of the source network from its first one up to its last
   convolution or pooling block, i.e. before its first ``Flatten``, global pooling or
   ``Dense`` on a flat vector (trailing dropout left out), each copied with its weights,
   ``trainable=False`` and called with ``training=False``, so batch norm keeps its
   moving statistics and dropout stays off.
4. The new head, the only trainable part: ``GlobalAveragePooling2D`` (``gap``),
   ``Dense(128, relu)`` (``head_dense``), ``Dropout(0.3)`` (``head_dropout``),
   ``Dense(num_classes)`` (``logits``) and ``Activation("softmax")`` (``softmax``).
   Trainable parameters: ``(F + 1) * 128 + (128 + 1) * num_classes`` for a base whose
   last feature map has ``F`` channels.

Bases: a model of the store (:mod:`cnnlib.store`: the bundled ``cifar10`` and ``mnist``
or a saved one), read through the store's intake only; or ``"vgg16"``, VGG16's
ImageNet convolutional base (Simonyan & Zisserman 2015; its 13 convolutions and 5
poolings as ``keras.applications.VGG16`` builds them), whose weights are read from the
official file (:func:`cnnlib.models.vgg16_files.find_weights`) with h5py, the
convolutions only. VGG16 takes the pictures at their own size, at least
:data:`VGG16_MIN_SIDE` (its five poolings halve the side five times); at 224x224 one
forward pass costs ~31 GFLOP, at 32x32 about 0.6.

Sources: Yosinski, Clune, Bengio & Lipson, "How transferable are features in deep
neural networks?", NeurIPS 2014 (early layers' features are general, late ones
specific to the task); the Keras guide "Transfer learning & fine-tuning" (F. Chollet:
freeze the base, call it with ``training=False``, train a new head).
"""

from __future__ import annotations

import numpy as np

from cnnlib.data.images import LUMA
from cnnlib.models.vgg16 import BGR_MEANS

#: The ``base_model`` value that means VGG16's ImageNet convolutional base.
VGG16 = "vgg16"
#: VGG16's smallest input side: 32 pixels give a 1x1 feature map after five poolings.
VGG16_MIN_SIDE = 32
#: VGG16's blocks, as keras.applications.VGG16 builds them: filters of each 3x3 conv.
VGG16_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))
#: Zoo architectures without a convolutional layer: no base to take.
NO_CONV_ARCHS = ("logistic", "mlp")
HEAD_UNITS = 128
HEAD_DROPOUT = 0.3
_FLAT_TYPES = ("Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling1D",
               "GlobalMaxPooling1D")


class TransferError(ValueError):
    """A base that cannot be used; ``str(e)`` is one sentence for the page."""


def check_name(base: str) -> str:
    """``base`` if it names a base (``"vgg16"`` or a valid store name), else ValueError
    (:func:`cnnlib.store.catalog.validate_name`'s sentence)."""
    if base == VGG16:
        return base
    from cnnlib.store.catalog import validate_name

    return validate_name(base)


def title(base: str) -> str:
    """How the results name the base: ``"VGG16's (ImageNet)"`` or ``"cifar10's"``."""
    return "VGG16's (ImageNet)" if base == VGG16 else f"{base}'s"


def describe(base: str, frozen: int, trainable: int) -> str:
    """The sentence a run's results give, e.g. ``"cifar10's convolutional base (frozen,
    287,104 weights) + new head (17,155 weights)"``."""
    return (f"{title(base)} convolutional base (frozen, {frozen:,} weights) + new head "
            f"({trainable:,} weights)")


def param_counts(model) -> tuple[int, int]:
    """``(trainable, frozen)`` parameter counts of ``model``."""
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    frozen = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return trainable, frozen


# --------------------------------------------------------------------- bases --

def _base_layers(model, name: str) -> list:
    """The layers of a stored classifier's convolutional base, in order (see the module
    docstring, step 3). Raises TransferError naming the model when it has none."""
    from cnnlib.network import reader

    try:
        reader.check_structure(model)
        chain = reader.chain(model)
    except ValueError as e:  # NotExplorableError included
        raise TransferError(f"Model {name!r} cannot be a starting point: {e}") from None
    layers = []
    for info in chain[1:]:
        layer = info.layer
        flat_input = len(getattr(reader.input_of(layer), "shape", ())) == 2
        if type(layer).__name__ in _FLAT_TYPES or (type(layer).__name__ == "Dense" and flat_input):
            break
        layers.append(layer)
    while layers and type(layers[-1]).__name__ in ("Dropout", "SpatialDropout2D"):
        layers.pop()
    if not any(type(layer).__name__ == "Conv2D" for layer in layers) or (
            layers and len(layers[-1].output.shape) != 4):
        raise TransferError(f"Model {name!r} cannot be a starting point: it has no "
                            "convolutional base (no Conv2D layer before its first Flatten, "
                            "global pooling or Dense layer).")
    return layers


def _load_stored(name: str, models_dir):
    """The stored model ``name`` through the store's intake (never a bare
    ``keras.models.load_model``). Raises TransferError with the store's sentence."""
    from cnnlib.store import catalog
    from cnnlib.store.errors import ModelLoadError

    try:
        return catalog.load_model(name, models_dir)
    except (ModelLoadError, ValueError) as e:
        raise TransferError(f"Model {name!r} cannot be a starting point: {e}") from None


def vgg16_conv_weights(path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The 13 convolutions' ``(kernel (3, 3, C_in, F), bias (F,))`` float32 from a VGG16
    weights file in the official Keras 2 HDF5 layout (root attribute ``layer_names``, a
    group per layer whose ``weight_names`` lists kernel then bias), as
    ``{"block1_conv1": (kernel, bias), ...}``; the dense top is never read.

    Raises:
        cnnlib.models.vgg16_files.WeightsUnavailableError: not HDF5, a layer missing,
            a wrong shape; the message says how to get the right file.
    """
    import h5py

    from cnnlib.data.prefetch import VGG16_WEIGHTS
    from cnnlib.models.vgg16_files import (
        ENV_WEIGHTS,
        WeightsUnavailableError,
        how_to_get,
    )

    out, c_in = {}, 3
    try:
        with h5py.File(str(path), "r") as f:
            for b, widths in enumerate(VGG16_BLOCKS, start=1):
                for i, filters in enumerate(widths, start=1):
                    group = f[f"block{b}_conv{i}"]
                    kernel, bias = (np.asarray(group[n], np.float32)
                                    for n in group.attrs["weight_names"][:2])
                    if kernel.shape != (3, 3, c_in, filters) or bias.shape != (filters,):
                        raise ValueError(f"block{b}_conv{i} has a kernel {kernel.shape}")
                    out[f"block{b}_conv{i}"], c_in = (kernel, bias), filters
    except (OSError, KeyError, ValueError, TypeError) as e:
        summary = f"The VGG16 weights file {path} cannot be loaded (a wrong or truncated file?)."
        raise WeightsUnavailableError(f"{summary} ({type(e).__name__}: {e}) "
                                      f"{how_to_get(VGG16_WEIGHTS, ENV_WEIGHTS)}", summary) from e
    return out


# --------------------------------------------------------------------- build --

def build(base: str, input_shape: tuple[int, int, int], num_classes: int, *,
          models_dir=None, vgg16_weights="auto"):
    """The transfer model: adapter, frozen base, new head (see the module docstring).

    Args:
        base: ``"vgg16"`` or the name of a stored model (:mod:`cnnlib.store`).
        input_shape: ``(H, W, C)`` of the dataset's float32 ``[0, 1]`` images, C 1 or 3.
        num_classes: the new head's classes, an integer >= 2.
        models_dir: the store folder (None: the app's store, bundled models first).
        vgg16_weights: for VGG16, ``"auto"`` (:func:`cnnlib.models.vgg16_files.find_weights`),
            a weights file's path, or None (random weights: the architecture only, for a
            summary or a test).

    Returns:
        An uncompiled ``keras.Model`` named ``transfer_<base>``: input float32
        ``(N, H, W, C)`` in [0, 1], output softmax probabilities ``(N, num_classes)``;
        only the head's weights are trainable.

    Raises:
        TransferError: an unusable stored model (missing, refused by the intake, not an
            image classifier with a convolutional base), or an image shape the base
            cannot take; one sentence.
        cnnlib.models.vgg16_files.WeightsUnavailableError: VGG16's weights are missing or
            unreadable; the message says how to get them.
        ValueError: a bad ``input_shape`` or ``num_classes``, naming it.
    """
    import keras
    from keras import layers

    from cnnlib.models import zoo

    input_shape = tuple(int(v) for v in input_shape)
    if len(input_shape) != 3 or input_shape[2] not in (1, 3) or min(input_shape) < 1:
        raise ValueError(f"input_shape must be (H, W, C) with C 1 or 3. "
                         f"Received: input_shape={input_shape}")
    if isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 2:
        raise ValueError(f"num_classes must be an integer of at least 2. "
                         f"Received: num_classes={num_classes!r}")
    check_name(base)
    if base == VGG16:
        if vgg16_weights == "auto":
            from cnnlib.models.vgg16_files import find_weights

            vgg16_weights = find_weights()
        weights = vgg16_conv_weights(vgg16_weights) if vgg16_weights is not None else None
        side = max(VGG16_MIN_SIDE, input_shape[0], input_shape[1])
        target, sources = (side, side, 3), None
    else:
        source = _load_stored(base, models_dir)
        sources = _base_layers(source, base)
        target = tuple(source.input_shape[1:])
        if target[2] not in (1, 3) or None in target:
            raise TransferError(f"Model {base!r} cannot be a starting point: it takes "
                                f"{target} images, not a fixed size of gray or RGB pictures.")

    inputs = keras.Input(shape=input_shape, name="image")  # (N, H, W, C) in [0, 1]
    x = inputs
    adapters = []
    if input_shape[:2] != target[:2]:
        shrink = target[0] < input_shape[0] or target[1] < input_shape[1]
        adapters.append(layers.Resizing(target[0], target[1], antialias=shrink, name="resize"))
    if input_shape[2] == 1 and target[2] == 3:  # gray copied into R, G and B
        adapters.append((layers.Dense(3, use_bias=False, name="gray_to_rgb"),
                         [np.ones((1, 3), np.float32)]))
    elif input_shape[2] == 3 and target[2] == 1:
        adapters.append((layers.Dense(1, use_bias=False, name="rgb_to_gray"),
                         [LUMA.reshape(3, 1)]))
    if base == VGG16:  # preprocess_input, "caffe" mode: 255 x, RGB -> BGR, minus the means
        kernel = np.zeros((3, 3), np.float32)
        kernel[2, 0] = kernel[1, 1] = kernel[0, 2] = 255.0  # input R G B -> output B G R
        adapters.append((layers.Dense(3, name="vgg16_preprocess"),
                         [kernel, -np.asarray(BGR_MEANS, np.float32)]))
    for item in adapters:
        layer, values = item if isinstance(item, tuple) else (item, None)
        layer.trainable = False
        x = layer(x)
        if values is not None:
            layer.set_weights(values)

    if base == VGG16:
        for b, widths in enumerate(VGG16_BLOCKS, start=1):
            for i, filters in enumerate(widths, start=1):
                conv = layers.Conv2D(filters, 3, padding="same", activation="relu",
                                     name=f"block{b}_conv{i}", trainable=False)
                x = conv(x)
                if weights is not None:
                    conv.set_weights(list(weights[f"block{b}_conv{i}"]))
            x = layers.MaxPooling2D(2, strides=2, name=f"block{b}_pool", trainable=False)(x)
    else:
        for src in sources:  # a copy of each layer, with its weights, frozen
            layer = type(src).from_config(src.get_config())
            layer.trainable = False
            x = layer(x, training=False)
            layer.set_weights(src.get_weights())
        del source

    x = layers.GlobalAveragePooling2D(name="gap")(x)  # (N, F)
    x = layers.Dense(HEAD_UNITS, activation="relu", name="head_dense")(x)
    x = layers.Dropout(HEAD_DROPOUT, name="head_dropout")(x)
    outputs = zoo._head(layers, x, int(num_classes))  # logits, softmax: the zoo's rule
    return keras.Model(inputs, outputs, name=f"transfer_{base}")
