"""Model zoo: the classic architectures of the teaching material, and ours.

``build(arch, input_shape, num_classes)`` returns an uncompiled
``keras.Model`` whose every layer has an explicit name. Inputs are float32
NHWC images in ``[0, 1]``; outputs are softmax probabilities ``(N,
num_classes)``. The layer that produces the logits is always named
``"logits"`` and the softmax after it ``"softmax"``, so that Grad-CAM and the
feature-map views can find them. Where a tutorial writes
``Dense(n, activation="softmax")`` the zoo builds these two layers instead:
same parameters, same output.

Each architecture taken from a tutorial follows that tutorial layer by layer
(type, order, activation, padding, pooling, dropout rate, batch-norm
position). ``tests/test_zoo.py`` checks every layer (type, output shape,
parameters) against the summary the tutorial prints, or, where it prints
none, against its code. Parameter counts for the source configurations:

==============  ====  ============================================  ==========
arch            tut.  source configuration                              params
==============  ====  ============================================  ==========
logistic        [2]   784 inputs, dense 10, softmax                      7,850
mlp             [3]   784 inputs, dense 128-128 ReLU, softmax 10       118,282
lenet5          [1]   32x32x1, tanh 5x5 conv 6, BN, avg-pool,           61,730
                      conv 16, avg-pool, conv 120, dense 84,
                      dropout 0.2
mnist_cnn       [2]   28x28x1, conv 64-32, max-pool, dropout         1,201,578
                      0.25, dense 256, dropout 0.5 (the text
                      prints 3,058,410: see ARCHITECTURES)
cifar_small     [1]   32x32x3, conv 10, max-pool, dense 100            226,390
cifar_wide      [1]   32x32x3, conv 8-512-256, dense 100             1,628,214
cifar_bn3       [0]   32x32x3, 3 blocks 32-64-128 of conv (same),      289,443
                      BN, conv, max-pool, dropout 0.5; 3 classes
cifar_6conv     [4]   32x32x3, 6 conv (32-32-64-64-64-64), each        276,138
                      pair + max-pool + dropout 0.25; dense 512,
                      dropout 0.5
==============  ====  ============================================  ==========

Tutorials: [0] "Image Classification with CNNs"; [1] "Convolution Neural
Network for image classification: CIFAR10"; [2] "Image Classification With
Convolutional Neural Networks"; [3] "Image Classification with Tensorflow";
[4] "Keras Image Classification".
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np


@dataclasses.dataclass(frozen=True)
class ArchInfo:
    """What the UI and the CLI show about an architecture."""

    description: str  # the layers, and any correction to the source text (shown on the Train page)
    source: str  # where it comes from: the tutorial, by title
    source_input_shape: tuple[int, int, int]  # (H, W, C) of the source configuration
    source_classes: int
    source_params: int | None  # exact parameter count in that configuration


_T0 = '"Image Classification with CNNs"'
_T1 = '"Convolution Neural Network for image classification: CIFAR10"'
_T2 = '"Image Classification With Convolutional Neural Networks"'
_T3 = '"Image Classification with Tensorflow"'
_T4 = '"Keras Image Classification"'

ARCHITECTURES: dict[str, ArchInfo] = {
    "logistic": ArchInfo(
        "Multinomial logistic regression: the image flattened to 784 values, "
        "one dense layer of 10, softmax.",
        f"Tutorial {_T2}, the logistic-regression baseline it sets against its CNN "
        "(the text flattens the images before the model; here a Flatten layer does).",
        (28, 28, 1), 10, 7_850),
    "mlp": ArchInfo(
        "Multi-layer perceptron: the image flattened to 784 values, two dense "
        "layers of 128 ReLU units, softmax over 10.",
        f"Tutorial {_T3} (the text flattens the images before the model; here a "
        "Flatten layer does).",
        (28, 28, 1), 10, 118_282),
    "lenet5": ArchInfo(
        "LeNet-5: tanh 5x5 convs of 6, 16 and 120 filters (valid padding), batch "
        "norm after the first, 2x2 average pooling after the first two, dense 84 "
        "(tanh), dropout 0.2, softmax.",
        f"Tutorial {_T1}, its LeNet-5 listing (batch norm after C1 and dropout "
        "before the output are the tutorial's additions to LeCun et al., "
        "'Gradient-based learning applied to document recognition', Proc. IEEE "
        "1998). Inputs smaller than 32x32 are zero-padded to 32x32.",
        (32, 32, 1), 10, 61_730),
    "mnist_cnn": ArchInfo(
        "MNIST CNN: 3x3 convs of 64 and 32 filters, each followed by a ReLU, "
        "2x2 max-pool, dropout 0.25, dense 256 + ReLU, dropout 0.5, softmax. "
        "The tutorial's summary prints 3,058,410 parameters because its first "
        "conv is channels-first and the second reads its (64, 26, 26) output as "
        "channels-last: 64x26 pixels of 26 channels. This is the intended "
        "channels-last model, with 1,201,578.",
        f"Tutorial {_T2}, its MNIST CNN.",
        (28, 28, 1), 10, 1_201_578),
    "cifar_small": ArchInfo(
        "Small CIFAR-10 CNN: one 3x3 conv of 10 filters (ReLU), 2x2 max-pool, "
        "dense 100 (ReLU), softmax. The tutorial's code asks for 8 filters, but "
        "its printed summary (280 parameters, 10 channels) and its prose have 10; "
        "this follows the summary.",
        f"Tutorial {_T1}, its first CIFAR-10 CNN.",
        (32, 32, 3), 10, 226_390),
    "cifar_wide": ArchInfo(
        "Wide CIFAR-10 CNN: 3x3 convs of 8, 512 and 256 filters (ReLU), 2x2 "
        "max-pool after the first two, dense 100 (ReLU), softmax; no dropout.",
        f"Tutorial {_T1}, its enlarged CIFAR-10 CNN.",
        (32, 32, 3), 10, 1_628_214),
    "cifar_bn3": ArchInfo(
        "Three blocks of 32, 64 and 128 filters, each: 3x3 conv (same padding, "
        "ReLU), batch norm, 3x3 conv (valid, ReLU), 2x2 max-pool, dropout 0.5; "
        "then softmax.",
        f"Tutorial {_T0}: CIFAR-10 restricted to airplane, automobile and bird.",
        (32, 32, 3), 3, 289_443),
    "cifar_6conv": ArchInfo(
        "Six 3x3 ReLU convs (32-32-64-64-64-64) in pairs, same then valid "
        "padding, each pair followed by a 2x2 max-pool and dropout 0.25; dense "
        "512 (ReLU), dropout 0.5, softmax. Its first conv has 3x3x3x32 = 864 "
        "weights and 32 biases; the tutorial's text writes that product as 288.",
        f"Tutorial {_T4}, its CIFAR-10 network (the text shows that model's "
        "summary only as a picture).",
        (32, 32, 3), 10, 276_138),
    "studio_cnn": ArchInfo(
        "CNN Studio's default: conv blocks with batch norm and ReLU, global "
        "average pooling, dropout. Recommended for every dataset.",
        "CNN Studio (this project); a VGG-style design with batch norm "
        "(Ioffe & Szegedy 2015) and global average pooling (Lin et al. 2014).",
        (28, 28, 1), 10, None),
}

#: The architectures offered for people's own datasets (:mod:`cnnlib.owndata`: square
#: pictures of 32, 64 or 96 pixels, gray or RGB, 2-10 classes). Every architecture
#: builds on those shapes, but a Flatten before a dense layer makes the parameters grow
#: with the picture's area; these stay under :data:`OWN_DATA_MAX_PARAMS` even at
#: 96x96x3 with 10 classes (measured: studio_cnn 289,642 at any size, its global
#: average pooling making it truly shape-agnostic; cifar_bn3 415,914; logistic
#: 276,490; cifar_small 2,210,390; lenet5 2,965,070). Left out: mlp (3.6 M),
#: cifar_6conv (3.4 M), cifar_wide (11 M), mnist_cnn (17 M), too large for a few
#: hundred pictures. tests/test_zoo.py checks the list against the rule.
OWN_DATA_ARCHS = ("studio_cnn", "cifar_bn3", "cifar_small", "lenet5", "logistic")
OWN_DATA_MAX_PARAMS = 3_000_000

#: The recommended architecture for each dataset.
DEFAULT_ARCH = {
    "mnist": "studio_cnn",
    "fashion_mnist": "studio_cnn",
    "cifar10": "studio_cnn",
    "cifar10_3class": "studio_cnn",
}


def _conv(layers, filters, kernel, name, padding="valid", activation="relu"):
    return layers.Conv2D(filters, kernel, padding=padding, activation=activation, name=name)


def _head(layers, x, num_classes):
    """Dense logits followed by a separate softmax layer."""
    x = layers.Dense(num_classes, name="logits")(x)
    return layers.Activation("softmax", name="softmax")(x)


def _logistic(layers, x, num_classes):
    return _head(layers, layers.Flatten(name="flatten")(x), num_classes)


def _mlp(layers, x, num_classes):
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="dense1")(x)
    x = layers.Dense(128, activation="relu", name="dense2")(x)
    return _head(layers, x, num_classes)


def _lenet5(layers, x, num_classes):
    h, w = x.shape[1], x.shape[2]
    if h < 32 or w < 32:  # LeNet-5 expects 32x32: pad MNIST's 28x28 by 2
        x = layers.ZeroPadding2D(((max(0, 32 - h) // 2, max(0, 32 - h) - max(0, 32 - h) // 2),
                                  (max(0, 32 - w) // 2, max(0, 32 - w) - max(0, 32 - w) // 2)),
                                 name="pad_to_32")(x)
    x = _conv(layers, 6, 5, "c1_conv", activation="tanh")(x)  # (N, 28, 28, 6)
    x = layers.BatchNormalization(name="c1_bn")(x)
    x = layers.AveragePooling2D(2, name="s2_pool")(x)  # (N, 14, 14, 6)
    x = _conv(layers, 16, 5, "c3_conv", activation="tanh")(x)  # (N, 10, 10, 16)
    x = layers.AveragePooling2D(2, name="s4_pool")(x)  # (N, 5, 5, 16)
    x = _conv(layers, 120, 5, "c5_conv", activation="tanh")(x)  # (N, 1, 1, 120)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(84, activation="tanh", name="f6_dense")(x)
    x = layers.Dropout(0.2, name="f6_dropout")(x)
    return _head(layers, x, num_classes)


def _mnist_cnn(layers, x, num_classes):
    # The tutorial puts each ReLU in an Activation layer of its own; so does this.
    x = _conv(layers, 64, 3, "conv1", activation=None)(x)  # (N, 26, 26, 64)
    x = layers.Activation("relu", name="relu1")(x)
    x = _conv(layers, 32, 3, "conv2", activation=None)(x)  # (N, 24, 24, 32)
    x = layers.Activation("relu", name="relu2")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)  # (N, 12, 12, 32)
    x = layers.Dropout(0.25, name="dropout1")(x)
    x = layers.Flatten(name="flatten")(x)  # (N, 4608)
    x = layers.Dense(256, name="dense")(x)
    x = layers.Activation("relu", name="relu3")(x)
    x = layers.Dropout(0.5, name="dropout2")(x)
    return _head(layers, x, num_classes)


def _cifar_small(layers, x, num_classes):
    x = _conv(layers, 10, 3, "conv1")(x)  # (N, 30, 30, 10)
    x = layers.MaxPooling2D(2, name="pool1")(x)  # (N, 15, 15, 10)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(100, activation="relu", name="dense")(x)
    return _head(layers, x, num_classes)


def _cifar_wide(layers, x, num_classes):
    x = _conv(layers, 8, 3, "conv1")(x)  # (N, 30, 30, 8)
    x = layers.MaxPooling2D(2, name="pool1")(x)  # (N, 15, 15, 8)
    x = _conv(layers, 512, 3, "conv2")(x)  # (N, 13, 13, 512)
    x = layers.MaxPooling2D(2, name="pool2")(x)  # (N, 6, 6, 512)
    x = _conv(layers, 256, 3, "conv3")(x)  # (N, 4, 4, 256)
    x = layers.Flatten(name="flatten")(x)  # (N, 4096)
    x = layers.Dense(100, activation="relu", name="dense")(x)
    return _head(layers, x, num_classes)


def _cifar_bn3(layers, x, num_classes):
    for i, filters in enumerate((32, 64, 128), start=1):
        # 32 -> 32 -> 30 -> 15 -> 15 -> 13 -> 6 -> 6 -> 4 -> 2
        x = _conv(layers, filters, 3, f"block{i}_conv1", padding="same")(x)
        x = layers.BatchNormalization(name=f"block{i}_bn")(x)  # after the first conv
        x = _conv(layers, filters, 3, f"block{i}_conv2")(x)
        x = layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
        x = layers.Dropout(0.5, name=f"block{i}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)  # (N, 2 * 2 * 128)
    return _head(layers, x, num_classes)


def _cifar_6conv(layers, x, num_classes):
    for i, filters in enumerate((32, 64, 64), start=1):
        # 32 -> 32 -> 30 -> 15 -> 15 -> 13 -> 6 -> 6 -> 4 -> 2
        x = _conv(layers, filters, 3, f"block{i}_conv1", padding="same")(x)
        x = _conv(layers, filters, 3, f"block{i}_conv2")(x)
        x = layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
        x = layers.Dropout(0.25, name=f"block{i}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)  # (N, 2 * 2 * 64)
    x = layers.Dense(512, activation="relu", name="dense")(x)
    x = layers.Dropout(0.5, name="dropout")(x)
    return _head(layers, x, num_classes)


def _studio_cnn(layers, x, num_classes):
    """Three blocks of (conv-BN-ReLU) x 2 + max-pool, then global average pooling.

    Widths 32-64-128 for colour images and 32-64-96 for grayscale ones.
    """
    widths = (32, 64, 128) if x.shape[-1] > 1 else (32, 64, 96)
    for i, filters in enumerate(widths, start=1):
        for j in (1, 2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False,
                              name=f"block{i}_conv{j}")(x)
            x = layers.BatchNormalization(name=f"block{i}_bn{j}")(x)
            x = layers.Activation("relu", name=f"block{i}_relu{j}")(x)
        if i < len(widths):
            x = layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
            x = layers.Dropout(0.1 * i, name=f"block{i}_dropout")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    return _head(layers, x, num_classes)


_BUILDERS: dict[str, Callable] = {
    "logistic": _logistic, "mlp": _mlp, "lenet5": _lenet5,
    "mnist_cnn": _mnist_cnn, "cifar_small": _cifar_small,
    "cifar_wide": _cifar_wide, "cifar_bn3": _cifar_bn3,
    "cifar_6conv": _cifar_6conv, "studio_cnn": _studio_cnn,
}


def _is_int(value) -> bool:
    """An ``int`` (numpy's too), but not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def build(arch: str, input_shape: tuple[int, int, int] | None = None,
          num_classes: int | None = None, standardize: tuple[float, float] | None = None):
    """Build an architecture for a given input shape and class count.

    Args:
        arch: a key of :data:`ARCHITECTURES`.
        input_shape: ``(H, W, C)`` of the float32 ``[0, 1]`` input images;
            ``None`` for the source configuration's.
        num_classes: size of the softmax output, an integer ``>= 2``;
            ``None`` for the source configuration's.
        standardize: ``(mean, std)`` of the training images in [0, 1]: the model
            then starts with a ``Normalization`` layer named ``"standardize"``
            computing ``(x - mean) / std`` (one value for all pixels and channels, as
            tutorial 003 "Image Classification with Tensorflow" standardizes its
            inputs), so that it still takes [0, 1] images and every page feeds it the
            same way. None: no such layer.

    Returns:
        An uncompiled ``keras.Model`` named ``arch``, input ``(N, H, W, C)``
        float32, output ``(N, num_classes)`` softmax probabilities.

    Raises:
        ValueError: unknown ``arch``; an ``input_shape`` that is not three
            positive integers; a ``num_classes`` that is not an integer of at
            least 2 (0, negative, 2.5, True); a ``standardize`` std that is not
            positive and finite; or an input too small for the architecture. The
            message names the bad value.
    """
    if arch not in _BUILDERS:
        raise ValueError(f"Unknown architecture. Expected one of {list(_BUILDERS)}. "
                         f"Received: arch={arch!r}")
    info = ARCHITECTURES[arch]
    # `is None`, not `or`: an empty shape or 0 classes is an error, not "the default"
    input_shape = tuple(info.source_input_shape if input_shape is None else input_shape)
    num_classes = info.source_classes if num_classes is None else num_classes
    if len(input_shape) != 3 or not all(_is_int(v) and v >= 1 for v in input_shape):
        raise ValueError(f"input_shape must be (H, W, C), three positive integers. "
                         f"Received: input_shape={input_shape}")
    if not _is_int(num_classes) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer of at least 2. "
                         f"Received: num_classes={num_classes!r}")
    input_shape, num_classes = tuple(int(v) for v in input_shape), int(num_classes)
    if standardize is not None:
        mean, std = (float(v) for v in standardize)
        if not (np.isfinite(mean) and np.isfinite(std) and std > 0):
            raise ValueError(f"standardize needs a finite mean and a positive std. "
                             f"Received: standardize={standardize}")

    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    if standardize is not None:
        x = layers.Normalization(mean=mean, variance=std ** 2, axis=None, name="standardize")(x)
    try:
        outputs = _BUILDERS[arch](layers, x, num_classes)
    except ValueError as e:
        raise ValueError(f"Architecture {arch!r} cannot take input_shape={input_shape}: {e}") from e
    return keras.Model(inputs, outputs, name=arch)


def summary_rows(model) -> list[dict]:
    """One dict per layer: ``name``, ``type``, ``output_shape``, ``params``."""
    rows = []
    for layer in model.layers:
        try:
            shape = tuple(layer.output.shape)
        except (AttributeError, ValueError):
            shape = ()
        rows.append({
            "name": layer.name,
            "type": type(layer).__name__,
            "output_shape": "(" + ", ".join("N" if d is None else str(d) for d in shape) + ")",
            "params": int(layer.count_params()),
        })
    return rows
