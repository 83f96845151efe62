"""One layer's weights and output shape, from its Keras 3 configuration alone.

:func:`apply` takes a layer's ``class_name``, its ``config`` (the dict a ``.keras``
archive's ``config.json`` holds for it) and the shapes of its inputs without the
batch axis, and returns ``(weights, output_shape)`` in Python ints, with no
TensorFlow and nothing allocated. The formulas are Keras 3's (each layer's
``build`` and ``compute_output_shape``, https://keras.io/api/layers/), which
``count_params()`` sums:

- ``Conv2D``: ``kh * kw * (C_in / groups) * filters + filters`` (bias if
  ``use_bias``); ``DepthwiseConv2D``: ``kh * kw * C_in * m + C_in * m``;
  ``SeparableConv2D``: ``kh * kw * C_in * m + C_in * m * filters + filters``.
  Output size per axis: :func:`cnnlib.conv.arithmetic.output_size`.
- ``Dense``: ``in * units + units``, on the last axis.
- ``BatchNormalization``: ``C * (2 + scale + center)`` (gamma, beta, moving mean,
  moving variance); ``LayerNormalization``: ``prod(axes) * (scale + center)``;
  ``Normalization`` without a given mean: ``2 * prod(kept axes) + 1`` (mean,
  variance, count), with one: 0.
- pooling, ``Flatten``, ``Reshape``, padding, cropping, up-sampling, merges,
  activations, dropout and the random augmentation layers: no weights.

:data:`SHAPE_TYPES` is the set of types handled. A configuration that does not
fit (a missing setting, a window larger than its input, merged shapes that
differ) raises :class:`ShapeError` with a technical message.
"""

from __future__ import annotations

import math
import operator

from cnnlib.conv.arithmetic import output_size
from cnnlib.network.layers import IDENTITY_TYPES

_SAME_SHAPE = frozenset({
    "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Rescaling"}) | IDENTITY_TYPES
_MERGES = frozenset({"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"})
_POOLS = frozenset({"MaxPooling2D", "AveragePooling2D"})
_GLOBAL_POOLS = frozenset({"GlobalAveragePooling2D", "GlobalMaxPooling2D"})
_CONVS = frozenset({"Conv2D", "DepthwiseConv2D", "SeparableConv2D"})

#: Layer types whose weights and output shape :func:`apply` computes.
SHAPE_TYPES = (_SAME_SHAPE | _MERGES | _POOLS | _GLOBAL_POOLS | _CONVS | frozenset({
    "Dense", "BatchNormalization", "LayerNormalization", "Normalization", "Flatten",
    "Reshape", "ZeroPadding2D", "Cropping2D", "UpSampling2D", "Concatenate"}))

Shape = tuple[int, ...]


class ShapeError(ValueError):
    """A layer configuration whose settings or input shapes do not fit (technical text)."""


def as_int(value, what: str, minimum: int = 1) -> int:
    """``value`` as a Python int ``>= minimum`` (JSON ints only, not bools or floats).

    Raises:
        ShapeError: anything else; the message names ``what``.
    """
    if isinstance(value, bool):
        raise ShapeError(f"{what} must be a whole number. Received: {what}={value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise ShapeError(f"{what} must be a whole number. Received: {what}={value!r}") from None
    if number < minimum:
        raise ShapeError(f"{what} must be at least {minimum}. Received: {what}={number}")
    return number


def _pair(value, what: str, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints, as Keras's ``standardize_tuple`` reads ``kernel_size``..."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ShapeError(f"{what} must be one or two numbers. Received: {what}={value!r}")
        return as_int(value[0], what, minimum), as_int(value[1], what, minimum)
    n = as_int(value, what, minimum)
    return n, n


def _two_sides(value, what: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """``ZeroPadding2D``/``Cropping2D`` amounts: ``n``, ``(h, w)`` or ``((t, b), (l, r))``."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, (list, tuple)) for v in value):
        return _pair(value[0], what, 0), _pair(value[1], what, 0)
    h, w = _pair(value, what, 0)
    return (h, h), (w, w)


def _spatial(shape: Shape, cfg: dict, cls: str) -> tuple[Shape, int, bool]:
    """``((H, W), C, channels_first)`` of a rank-3 input."""
    if len(shape) != 3:
        raise ShapeError(f"{cls} needs (H, W, C) inputs. Received: input shape {shape}")
    first = cfg.get("data_format") == "channels_first"
    return (shape[1:] if first else shape[:2]), (shape[0] if first else shape[2]), first


def _join(hw: Shape, channels: int, first: bool) -> Shape:
    return (channels, *hw) if first else (*hw, channels)


def _windowed(hw: Shape, kernel, strides, padding, dilation=(1, 1)) -> Shape:
    """Output ``(H, W)`` by :func:`~cnnlib.conv.arithmetic.output_size` per axis."""
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ShapeError(f'padding must be "valid" or "same". Received: padding={padding!r}')
    try:
        return tuple(output_size(n, k, s, padding.lower(), d)
                     for n, k, s, d in zip(hw, kernel, strides, dilation))
    except ValueError as e:
        raise ShapeError(str(e)) from None


def _axes(axis, rank: int, cls: str) -> list[int]:
    """``axis`` (an int or a list) as non-negative axes of a rank-``rank`` shape (no batch)."""
    items = axis if isinstance(axis, (list, tuple)) else [axis]
    out = []
    for a in items:
        a = as_int(a, "axis", minimum=-(rank + 1))
        # Keras counts axes with the batch axis: -1 is the last, 0 the batch
        if a == 0 or a > rank:
            raise ShapeError(f"{cls} axis {a} is not an axis of inputs of rank {rank} + batch")
        out.append(a - 1 if a > 0 else rank + a)
    return out


def _one_axis(axis, rank: int, cls: str) -> int:
    """A single axis (an int or a one-item list), as :func:`_axes` reads it."""
    found = _axes(axis, rank, cls)
    if len(found) != 1:
        raise ShapeError(f"{cls} takes one axis. Received: axis={axis!r}")
    return found[0]


def _conv(cls: str, cfg: dict, shape: Shape) -> tuple[int, Shape]:
    hw, c_in, first = _spatial(shape, cfg, cls)
    kernel = _pair(cfg.get("kernel_size"), "kernel_size")
    strides = _pair(cfg.get("strides", 1), "strides")
    dilation = _pair(cfg.get("dilation_rate", 1), "dilation_rate")
    out_hw = _windowed(hw, kernel, strides, cfg.get("padding", "valid"), dilation)
    bias = bool(cfg.get("use_bias", True))
    taps = kernel[0] * kernel[1]
    if cls == "Conv2D":
        filters = as_int(cfg.get("filters"), "filters")
        groups = as_int(cfg.get("groups", 1), "groups")
        if c_in % groups or filters % groups:
            raise ShapeError(f"groups={groups} must divide the input channels ({c_in}) and "
                             f"filters ({filters})")
        return taps * (c_in // groups) * filters + filters * bias, _join(out_hw, filters, first)
    m = as_int(cfg.get("depth_multiplier", 1), "depth_multiplier")
    if cls == "DepthwiseConv2D":
        return taps * c_in * m + c_in * m * bias, _join(out_hw, c_in * m, first)
    filters = as_int(cfg.get("filters"), "filters")
    weights = taps * c_in * m + c_in * m * filters + filters * bias
    return weights, _join(out_hw, filters, first)


def _pool(cls: str, cfg: dict, shape: Shape) -> tuple[int, Shape]:
    hw, c, first = _spatial(shape, cfg, cls)
    if cls in _GLOBAL_POOLS:
        return 0, (_join((1, 1), c, first) if cfg.get("keepdims") else (c,))
    pool = _pair(cfg.get("pool_size", 2), "pool_size")
    strides = pool if cfg.get("strides") is None else _pair(cfg["strides"], "strides")
    return 0, _join(_windowed(hw, pool, strides, cfg.get("padding", "valid")), c, first)


def _resize(cls: str, cfg: dict, shape: Shape) -> tuple[int, Shape]:
    hw, c, first = _spatial(shape, cfg, cls)
    if cls == "UpSampling2D":
        size = _pair(cfg.get("size", 2), "size")
        return 0, _join((hw[0] * size[0], hw[1] * size[1]), c, first)
    key = "padding" if cls == "ZeroPadding2D" else "cropping"
    (t, b), (left, r) = _two_sides(cfg.get(key, 1 if key == "padding" else 0), key)
    sign = 1 if cls == "ZeroPadding2D" else -1
    out = (hw[0] + sign * (t + b), hw[1] + sign * (left + r))
    if min(out) < 1:
        raise ShapeError(f"cropping {cfg.get(key)!r} leaves nothing of an input {shape}")
    return 0, _join(out, c, first)


def _norm(cls: str, cfg: dict, shape: Shape) -> tuple[int, Shape]:
    rank = len(shape)
    if cls == "BatchNormalization":
        axis = _one_axis(cfg.get("axis", -1), rank, cls)
        return shape[axis] * (2 + bool(cfg.get("scale", True)) + bool(cfg.get("center", True))), shape
    if cls == "LayerNormalization":
        size = math.prod(shape[a] for a in _axes(cfg.get("axis", -1), rank, cls))
        rms = bool(cfg.get("rms_scaling", False))
        scale = bool(cfg.get("scale", True)) or rms
        center = bool(cfg.get("center", True)) and not rms
        return size * (scale + center), shape
    # Normalization: weights only when the mean and variance are to be adapted
    if cfg.get("mean") is not None:
        return 0, shape
    axis = cfg.get("axis", -1)
    kept = [] if axis is None else _axes(axis, rank, cls)
    return 2 * math.prod(shape[a] for a in kept) + 1, shape


def _reshape(cfg: dict, shape: Shape) -> Shape:
    target = cfg.get("target_shape")
    if not isinstance(target, (list, tuple)) or not target:
        raise ShapeError(f"Reshape needs a target_shape. Received: {target!r}")
    dims = [as_int(v, "target_shape", minimum=-1) for v in target]
    total = math.prod(shape)
    if dims.count(-1) > 1 or 0 in dims:
        raise ShapeError(f"Reshape target_shape {target} is not a shape")
    known = math.prod(d for d in dims if d != -1)
    if -1 in dims:
        if total % known:
            raise ShapeError(f"Reshape cannot make {shape} into {target}")
        dims[dims.index(-1)] = total // known
    if math.prod(dims) != total:
        raise ShapeError(f"Reshape cannot make {shape} ({total} values) into {target}")
    return tuple(dims)


def _merge(cls: str, cfg: dict, shapes: list[Shape]) -> Shape:
    if len(shapes) < 2:
        raise ShapeError(f"{cls} needs at least two inputs. Received: {len(shapes)}")
    if any(len(s) != len(shapes[0]) for s in shapes):
        raise ShapeError(f"{cls} needs inputs of the same rank. Received: {shapes}")
    if cls == "Concatenate":
        axis = _one_axis(cfg.get("axis", -1), len(shapes[0]), cls)
        others = {s[:axis] + s[axis + 1:] for s in shapes}
        if len(others) != 1:
            raise ShapeError(f"Concatenate along axis {axis + 1} needs inputs alike on the "
                             f"other axes. Received: {shapes}")
        first = shapes[0]
        return first[:axis] + (sum(s[axis] for s in shapes),) + first[axis + 1:]
    out = []
    for dims in zip(*shapes):  # broadcasting: equal sizes, or 1
        sizes = set(dims) - {1}
        if len(sizes) > 1:
            raise ShapeError(f"{cls} cannot combine inputs of shapes {shapes}")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def apply(cls: str, cfg: dict, shapes: list[Shape]) -> tuple[int, Shape]:
    """Weights and output shape of one layer.

    Args:
        cls: the Keras class name, one of :data:`SHAPE_TYPES`.
        cfg: the layer's ``config`` dict.
        shapes: the shapes of its inputs, each without the batch axis, ints >= 1
            (one for every layer but the merges).

    Returns:
        ``(weights, output_shape)``: the number of weights ``count_params()``
        counts for this layer (trainable or not), an int >= 0, and the output
        shape without the batch axis.

    Raises:
        ShapeError: a type not in :data:`SHAPE_TYPES`, a setting that is missing or
            not a number, or input shapes the layer cannot take.
    """
    if cls in _MERGES or cls == "Concatenate":
        return 0, _merge(cls, cfg, shapes)
    if len(shapes) != 1:
        raise ShapeError(f"{cls} takes one input. Received: {len(shapes)}")
    shape = shapes[0]
    if cls in _SAME_SHAPE:
        return 0, shape
    if cls == "Dense":
        units = as_int(cfg.get("units"), "units")
        if not shape:
            raise ShapeError("Dense needs inputs with at least one axis")
        return shape[-1] * units + units * bool(cfg.get("use_bias", True)), shape[:-1] + (units,)
    if cls in _CONVS:
        return _conv(cls, cfg, shape)
    if cls in _POOLS or cls in _GLOBAL_POOLS:
        return _pool(cls, cfg, shape)
    if cls in ("UpSampling2D", "ZeroPadding2D", "Cropping2D"):
        return _resize(cls, cfg, shape)
    if cls in ("BatchNormalization", "LayerNormalization", "Normalization"):
        return _norm(cls, cfg, shape)
    if cls == "Flatten":
        return 0, (math.prod(shape),)
    if cls == "Reshape":
        return 0, _reshape(cfg, shape)
    raise ShapeError(f"No shape rule for layer type {cls}")
