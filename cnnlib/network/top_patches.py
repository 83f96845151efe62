"""What a filter looks for: the image patches that activate one channel most.

For a sample of images, :func:`channel_maxima` runs the model up to one layer
in batches and keeps, for every channel, each image's strongest response and
where it is (one pass gives every channel of the layer, so choosing another
channel costs nothing). :func:`top_patches` then takes the ``k`` images whose
response is strongest and the receptive field of that position
(:mod:`.receptive_field`): the patch of the image that produced it. This is
the "maximally activating patches" view of Zeiler & Fergus ("Visualizing and
Understanding Convolutional Networks", ECCV 2014), without the deconvolution.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from cnnlib.network.layer_outputs import up_to
from cnnlib.network.layers import LayerInfo
from cnnlib.network.receptive_field import Field, receptive_field


@dataclasses.dataclass(frozen=True)
class ChannelMaxima:
    """The strongest response of every channel of one layer in each image.

    Attributes:
        values: float32 ``(N, C)``: the maximum of channel ``c``'s map for image ``n``.
        rows, cols: int32 ``(N, C)``: where that maximum is (the first in reading
            order on ties).
    """

    values: np.ndarray
    rows: np.ndarray
    cols: np.ndarray


@dataclasses.dataclass(frozen=True)
class Patch:
    """One of the top patches: image ``image`` of the sample, the channel's
    ``value`` at map position ``(row, col)``, and that position's receptive ``field``."""

    image: int
    value: float
    row: int
    col: int
    field: Field


def channel_maxima(model, chain: list[LayerInfo], index: int, images: np.ndarray,
                   batch: int = 250) -> ChannelMaxima:
    """Every channel's strongest response to each image, for layer ``index`` of a chain.

    Args:
        model: the ``keras.Model`` of the chain.
        chain: its :func:`~cnnlib.network.reader.chain`.
        index: a layer whose output is ``(H, W, C)`` (not the input, 0).
        images: float32 ``(N, H_in, W_in, C_in)``, the model's input as it expects it.
        batch: images per forward pass (memory: ``batch * H * W * C`` floats per layer).

    Returns:
        :class:`ChannelMaxima` of ``(N, C)`` arrays. Dropout and augmentation are off.

    Raises:
        ValueError: the layer's output is not ``(H, W, C)``, or ``index`` is 0 or past
            the chain.
    """
    import keras

    info = chain[index]
    if not info.spatial:
        raise ValueError(f"{info.name}'s output is not a stack of feature maps, so it has no "
                         "patches to show.")
    sub = up_to(model, chain, index)
    h, w, c = info.output_shape
    values, where = [], []
    for start in range(0, len(images), batch):
        out = sub(np.asarray(images[start:start + batch], dtype=np.float32), training=False)
        flat = keras.ops.reshape(out, (-1, h * w, c))  # (B, H * W, C)
        values.append(np.asarray(keras.ops.max(flat, axis=1)))
        where.append(np.asarray(keras.ops.argmax(flat, axis=1)))
    if not values:
        empty = np.zeros((0, c), np.int32)
        return ChannelMaxima(np.zeros((0, c), np.float32), empty, empty)
    flat_pos = np.concatenate(where).astype(np.int32)
    return ChannelMaxima(np.concatenate(values).astype(np.float32), flat_pos // w, flat_pos % w)


def top_patches(maxima: ChannelMaxima, chain: list[LayerInfo], index: int, channel: int,
                k: int = 9) -> list[Patch]:
    """The ``k`` images of the sample whose maps of ``channel`` reach the highest value.

    Args:
        maxima: :func:`channel_maxima` of layer ``index``.
        chain, index: the chain and the layer.
        channel: ``0 <= channel < C``.
        k: how many (fewer when the sample is smaller).

    Returns:
        :class:`Patch` rows, strongest first (ties: the lower image index first).

    Raises:
        ValueError: a channel outside the layer.
    """
    c = maxima.values.shape[1]
    if not 0 <= channel < c:
        raise ValueError(f"The layer has {c} channels, so the channel must be from 0 to {c - 1}. "
                         f"Received: channel={channel}")
    order = np.argsort(-maxima.values[:, channel], kind="stable")[:k]
    out = []
    for n in order.tolist():
        row, col = int(maxima.rows[n, channel]), int(maxima.cols[n, channel])
        out.append(Patch(n, float(maxima.values[n, channel]), row, col,
                         receptive_field(chain, index, row, col)))
    return out
