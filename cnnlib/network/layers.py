"""One layer of a chain, described: its kind, its window, its settings in words.

:func:`cnnlib.network.reader.chain` lists the layers of a model that is one
straight line, each as a :class:`LayerInfo` (name, type, kind, output shape,
parameters).

:func:`geometry` gives a layer's window on its input (kernel, stride,
dilation, padding) per axis, the one place :mod:`.recompute` and
:mod:`.receptive_field` read it from. A layer type that these modules do not
handle raises :class:`NotExplainedError` ("not explained for <type>").

The kinds of layer (:data:`KINDS`) are the roles a layer plays in the
explanation, e.g. ``"conv"`` for ``Conv2D``, ``"identity"`` for the layers
that do nothing at inference (``Dropout``, the random augmentation layers).
"""

from __future__ import annotations

import dataclasses

#: What a layer does, for the explanation; :func:`kind` maps layer types to these.
KINDS = ("input", "conv", "dense", "batchnorm", "scale", "activation", "softmax", "pool",
         "global_pool", "flatten", "padding", "identity", "other")

#: Layer types (class names) that return their input unchanged at inference.
IDENTITY_TYPES = frozenset({
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "ActivityRegularization", "RandomFlip", "RandomRotation",
    "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness"})

_KIND_OF_TYPE = {
    "Conv2D": "conv", "Dense": "dense", "BatchNormalization": "batchnorm",
    "Normalization": "scale", "Rescaling": "scale", "Activation": "activation", "ReLU": "activation",
    "LeakyReLU": "activation", "ELU": "activation", "Softmax": "softmax",
    "MaxPooling2D": "pool", "AveragePooling2D": "pool", "GlobalAveragePooling2D": "global_pool",
    "GlobalMaxPooling2D": "global_pool", "Flatten": "flatten", "ZeroPadding2D": "padding",
    "InputLayer": "input",
}


class NotExplainedError(ValueError):
    """One layer whose computation is not explained here (its type or a setting);
    ``str(e)`` is a sentence for the user, ``"... not explained for <type> ..."``."""


@dataclasses.dataclass(frozen=True)
class LayerInfo:
    """One layer of a :func:`cnnlib.network.reader.chain`.

    Attributes:
        index: position in the chain, 0 for the input.
        name: the layer's name (the input's: its ``InputLayer``'s name).
        type: the Keras class name, e.g. ``"Conv2D"``.
        kind: one of :data:`KINDS`.
        output_shape: the output shape without the batch axis, e.g. ``(28, 28, 32)``.
        params: number of weights (trainable or not).
        layer: the Keras layer, or None for the input.
    """

    index: int
    name: str
    type: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    layer: object = dataclasses.field(repr=False, compare=False)

    @property
    def spatial(self) -> bool:
        """Whether the output is a stack of feature maps ``(H, W, C)``."""
        return len(self.output_shape) == 3

    def activation_name(self) -> str | None:
        """The name of a built-in activation (``Conv2D(activation="relu")``, an
        ``Activation`` layer): ``"relu"``, ``"softmax"``, ``"linear"``...; None if
        the layer has no ``activation``."""
        return activation_name(self.layer)


def activation_name(layer) -> str | None:
    """The registered name of ``layer.activation`` (``"relu"``, ``"linear"``...), or
    None when the layer has no activation attribute."""
    fn = getattr(layer, "activation", None)
    if fn is None:
        return None
    return getattr(fn, "__name__", type(fn).__name__)


def kind(layer) -> str:
    """The :data:`KINDS` role of a Keras layer (``"other"`` for types not handled here)."""
    name = type(layer).__name__
    if name in IDENTITY_TYPES:
        return "identity"
    found = _KIND_OF_TYPE.get(name, "other")
    if found == "activation" and activation_name(layer) == "softmax":
        return "softmax"
    return found


@dataclasses.dataclass(frozen=True)
class Geometry:
    """Where a spatial layer's output position reads its input, per axis (height, width).

    Output position ``o`` along an axis reads input positions
    ``o * stride - before + t * dilation`` for ``t = 0 .. kernel - 1``, where
    ``before`` is the padding added before that axis (:meth:`pads`); positions
    outside ``0 .. n - 1`` fall on the padding.

    Attributes:
        kernel, strides, dilation: ``(height, width)`` ints >= 1.
        padding: ``"valid"``, ``"same"`` (TensorFlow's rule, the odd pixel
            after: :func:`cnnlib.conv.arithmetic.padding_amounts`), or explicit
            ``((top, bottom), (left, right))`` zeros (``ZeroPadding2D``).
    """

    kernel: tuple[int, int] = (1, 1)
    strides: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    padding: str | tuple = "valid"

    def pads(self, input_hw: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((top, bottom), (left, right))`` zeros added to an input of ``input_hw``."""
        from cnnlib.conv.arithmetic import padding_amounts

        if not isinstance(self.padding, str):
            return self.padding
        return tuple(padding_amounts(n, k, s, self.padding, d) for n, k, s, d in
                     zip(input_hw, self.kernel, self.strides, self.dilation))


IDENTITY_GEOMETRY = Geometry()


def _pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int) else tuple(int(v) for v in value)


def geometry(info: LayerInfo) -> Geometry | None:
    """The window of a layer whose output is ``(H, W, C)``.

    Returns:
        A :class:`Geometry`: the layer's own for ``Conv2D``, pooling and
        ``ZeroPadding2D``; :data:`IDENTITY_GEOMETRY` (each position reads the
        same position) for the input and the element-wise layers (batch norm,
        activations, scaling, dropout). None for a layer that reads its whole
        input (``Flatten``, ``Dense``, global pooling).

    Raises:
        NotExplainedError: a layer type not handled here, or channels-first data,
            or grouped convolutions.
    """
    layer, k = info.layer, info.kind
    if k in ("flatten", "dense", "global_pool"):
        return None
    if k in ("input", "batchnorm", "scale", "activation", "identity"):
        return IDENTITY_GEOMETRY
    if k == "softmax":
        axis = getattr(layer, "axis", -1)
        if info.spatial and axis not in (-1, len(info.output_shape)):
            raise NotExplainedError(f"{info.name}: a softmax over axis {axis} is not explained here.")
        return IDENTITY_GEOMETRY
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise NotExplainedError(f"{info.name}: not explained for {info.type} on channels-first data.")
    if k == "conv":
        if getattr(layer, "groups", 1) != 1:
            raise NotExplainedError(f"{info.name}: not explained for a grouped {info.type} "
                                    f"(groups={layer.groups}).")
        return Geometry(_pair(layer.kernel_size), _pair(layer.strides), _pair(layer.dilation_rate),
                        layer.padding.lower())
    if k == "pool":
        return Geometry(_pair(layer.pool_size), _pair(layer.strides), (1, 1), layer.padding.lower())
    if k == "padding":
        (top, bottom), (left, right) = (_pair(p) for p in layer.padding)
        return Geometry(padding=((top, bottom), (left, right)))
    raise NotExplainedError(f"{info.name}: not explained for {info.type} layers.")


def describe_shape(shape) -> str:
    """``(28, 28, 32)`` as ``"28 x 28 x 32"`` (a side left open: ``"?"``)."""
    return " x ".join("?" if d is None else str(d) for d in shape)


def _hw(pair) -> str:
    a, b = pair
    return f"{a}" if a == b else f"{a} x {b}"


def settings(info: LayerInfo) -> str:
    """The layer's settings in a few words, e.g. ``"32 filters 3 x 3, stride 1, padding
    same, relu"`` for a ``Conv2D``; ``""`` when there is nothing to say."""
    layer, k = info.layer, info.kind
    act = info.activation_name()
    act = "" if act in (None, "linear") else f", {act}"
    if k == "input":
        return "the image as the model receives it"
    if k == "conv":
        kh, kw = _pair(layer.kernel_size)
        dil = _pair(layer.dilation_rate)
        return (f"{layer.filters} filters {kh} x {kw}, stride {_hw(_pair(layer.strides))}, padding "
                f"{layer.padding}" + (f", dilation {_hw(dil)}" if dil != (1, 1) else "")
                + ("" if layer.use_bias else ", no bias") + act)
    if k == "pool":
        kh, kw = _pair(layer.pool_size)
        return f"{kh} x {kw} window, stride {_hw(_pair(layer.strides))}, padding {layer.padding}"
    if k == "dense":
        return f"{layer.units} units" + act
    if k in ("activation", "softmax"):
        return act[2:] or type(layer).__name__
    if k == "batchnorm":
        return f"moving mean and variance, epsilon {layer.epsilon:g}"
    if k == "global_pool":
        return "the maximum of each map" if info.type == "GlobalMaxPooling2D" else "the mean of each map"
    if k == "flatten":
        return "the maps laid out in one row"
    if k == "padding":
        (top, bottom), (left, right) = (_pair(p) for p in layer.padding)
        return f"zeros: {top} rows above, {bottom} below, {left} columns left, {right} right"
    if k == "identity":
        return "passes its input through at inference"
    if k == "scale":
        return "(x - mean) / std" if info.type == "Normalization" else "x * scale + offset"
    return ""
