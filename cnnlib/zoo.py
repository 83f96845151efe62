"""Model zoo: the classic architectures of the teaching material, and ours.

``build(arch, input_shape, num_classes)`` returns an uncompiled
``keras.Model`` whose every layer has an explicit name. Inputs are float32
NHWC images in ``[0, 1]``; outputs are softmax probabilities ``(N,
num_classes)``. The layer that produces the logits is always named
``"logits"`` and the softmax after it ``"softmax"``, so that Grad-CAM and the
feature-map views can find them.

Parameter counts for the source configurations (checked in the tests):

==============  ==========================================  ==========
arch            source configuration                        params
==============  ==========================================  ==========
logistic        784 inputs, softmax 10                        7,850
mlp             Dense 128-128-10 on 784                     118,282
lenet5          32x32x1, tanh, avg-pool, conv 6-16-120,      61,730
                dense 84
mnist_cnn       28x28x1, conv 64-32, max-pool, dense 256   1,201,578
cifar_small     32x32x3, conv 10, max-pool, dense 100        226,390
cifar_wide      32x32x3, conv 8-512-256, dense 100         1,628,214
cifar_bn3       32x32x3, 3 conv blocks 32-64-128 with BN,    289,443
                3 classes
cifar_6conv     32x32x3, 6 conv (32-32-64-64-64-64),         276,138
                dense 512
==============  ==========================================  ==========
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np


@dataclasses.dataclass(frozen=True)
class ArchInfo:
    """What the UI and the CLI show about an architecture."""

    description: str  # one line
    source: str  # where it comes from
    source_input_shape: tuple[int, int, int]  # (H, W, C) of the source configuration
    source_classes: int
    source_params: int | None  # exact parameter count in that configuration


ARCHITECTURES: dict[str, ArchInfo] = {
    "logistic": ArchInfo(
        "Multinomial logistic regression: flatten, one dense softmax layer.",
        "Teaching material, MNIST baseline (784 inputs, softmax 10).",
        (28, 28, 1), 10, 7_850),
    "mlp": ArchInfo(
        "Multi-layer perceptron: dense 128-128 ReLU, softmax output.",
        "Teaching material, MNIST MLP (Dense 128-128-10 on 784 inputs).",
        (28, 28, 1), 10, 118_282),
    "lenet5": ArchInfo(
        "LeNet-5: tanh conv 6-16-120 (5x5) with average pooling, dense 84.",
        "LeCun et al., 'Gradient-based learning applied to document "
        "recognition', Proc. IEEE 1998; teaching-material variant with batch "
        "normalisation after C1. Smaller inputs are zero-padded to 32x32.",
        (32, 32, 1), 10, 61_730),
    "mnist_cnn": ArchInfo(
        "Keras MNIST CNN: conv 64-32 (3x3), max-pool, dense 256.",
        "Teaching material, MNIST CNN (channels-last).",
        (28, 28, 1), 10, 1_201_578),
    "cifar_small": ArchInfo(
        "Small CIFAR CNN: one conv of 10 filters, max-pool, dense 100.",
        "Teaching material, first CIFAR-10 CNN.",
        (32, 32, 3), 10, 226_390),
    "cifar_wide": ArchInfo(
        "Wide CIFAR CNN: conv 8-512-256 with max-pooling, dense 100.",
        "Teaching material, wide CIFAR-10 CNN.",
        (32, 32, 3), 10, 1_628_214),
    "cifar_bn3": ArchInfo(
        "Three conv blocks (32-64-128), each two convs + batch norm + max-pool.",
        "Teaching material, CIFAR-10 3-class model (airplane, automobile, bird).",
        (32, 32, 3), 3, 289_443),
    "cifar_6conv": ArchInfo(
        "Six convs (32-32-64-64-64-64) in pairs with max-pooling, dense 512.",
        "Teaching material, after the Keras example cifar10_cnn.py.",
        (32, 32, 3), 10, 276_138),
    "studio_cnn": ArchInfo(
        "CNN Studio's default: conv blocks with batch norm and ReLU, global "
        "average pooling, dropout. Recommended for every dataset.",
        "CNN Studio (this project); a VGG-style design with batch norm "
        "(Ioffe & Szegedy 2015) and global average pooling (Lin et al. 2014).",
        (28, 28, 1), 10, None),
}

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
    return _head(layers, x, num_classes)


def _mnist_cnn(layers, x, num_classes):
    x = _conv(layers, 64, 3, "conv1")(x)  # (N, 26, 26, 64)
    x = _conv(layers, 32, 3, "conv2")(x)  # (N, 24, 24, 32)
    x = layers.MaxPooling2D(2, name="pool")(x)  # (N, 12, 12, 32)
    x = layers.Dropout(0.25, name="dropout1")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(256, activation="relu", name="dense")(x)
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
    x = layers.Dropout(0.5, name="dropout")(x)
    x = layers.Dense(100, activation="relu", name="dense")(x)
    return _head(layers, x, num_classes)


def _cifar_bn3(layers, x, num_classes):
    for i, filters in enumerate((32, 64, 128), start=1):
        # 32 -> 32 -> 30 -> 15 -> 15 -> 13 -> 6 -> 6 -> 4 -> 2
        x = _conv(layers, filters, 3, f"block{i}_conv1", padding="same")(x)
        x = _conv(layers, filters, 3, f"block{i}_conv2")(x)
        x = layers.BatchNormalization(name=f"block{i}_bn")(x)
        x = layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
        x = layers.Dropout(0.2, name=f"block{i}_dropout")(x)
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
          num_classes: int | None = None):
    """Build an architecture for a given input shape and class count.

    Args:
        arch: a key of :data:`ARCHITECTURES`.
        input_shape: ``(H, W, C)`` of the float32 ``[0, 1]`` input images;
            ``None`` for the source configuration's.
        num_classes: size of the softmax output, an integer ``>= 2``;
            ``None`` for the source configuration's.

    Returns:
        An uncompiled ``keras.Model`` named ``arch``, input ``(N, H, W, C)``
        float32, output ``(N, num_classes)`` softmax probabilities.

    Raises:
        ValueError: unknown ``arch``; an ``input_shape`` that is not three
            positive integers; a ``num_classes`` that is not an integer of at
            least 2 (0, negative, 2.5, True); or an input too small for the
            architecture. The message names the bad value.
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

    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape, name="image")
    try:
        outputs = _BUILDERS[arch](layers, inputs, num_classes)
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
