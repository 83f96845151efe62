"""Python source that rebuilds a Keras model layer by layer, from its layers' configs.

One line of Keras code per layer, e.g. ``x = layers.Conv2D(32, (3, 3),
padding="same", use_bias=False, name="block1_conv1")(x)``: the arguments that
define the layer (:data:`ARGUMENTS`), each written only where it differs from
Keras's default, and always the layer's name (the views rely on names). Covers the
layers the model zoo (:mod:`cnnlib.models.zoo`) builds, all in one chain.
"""

from __future__ import annotations

import inspect

import numpy as np

#: The layer classes written out, with the constructor arguments that define each
#: (first the positional ones, by their order in Keras's signature).
ARGUMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Conv2D": (("filters", "kernel_size"),
               ("strides", "padding", "dilation_rate", "activation", "use_bias")),
    "Dense": (("units",), ("activation", "use_bias")),
    "MaxPooling2D": ((), ("pool_size", "strides", "padding")),
    "AveragePooling2D": ((), ("pool_size", "strides", "padding")),
    "GlobalAveragePooling2D": ((), ()),
    "GlobalMaxPooling2D": ((), ()),
    "Flatten": ((), ()),
    "Dropout": (("rate",), ()),
    "BatchNormalization": ((), ("axis", "momentum", "epsilon", "center", "scale")),
    "Activation": (("activation",), ()),
    "ZeroPadding2D": (("padding",), ()),
    "Rescaling": (("scale",), ("offset",)),
}

#: What a ``Normalization`` layer is written as: its mean and std come from the
#: script's own training images (``MEAN``, ``STD``), as the run computed them.
NORMALIZATION_LINE = ('x = layers.Normalization(mean=MEAN, variance=STD ** 2, axis=None, '
                      'name={name!r})(x)')


def _plain(value):
    """A config value as plain Python (lists become tuples, numpy scalars numbers)."""
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _defaults(cls) -> dict:
    return {name: _plain(p.default) for name, p in inspect.signature(cls.__init__).parameters.items()
            if p.default is not inspect.Parameter.empty}


def layer_line(layer) -> str:
    """One line of Python that rebuilds ``layer`` on ``x`` (``x = layers.X(...)(x)``).

    Args:
        layer: a Keras layer of a class in :data:`ARGUMENTS`, or ``Normalization``
            (written as :data:`NORMALIZATION_LINE`, with the script's ``MEAN`` and ``STD``).

    Returns:
        The line, without indentation or newline.

    Raises:
        ValueError: a layer class this module does not write (names the layer and class).
    """
    import keras

    kind = type(layer).__name__
    if kind == "Normalization":
        return NORMALIZATION_LINE.format(name=layer.name)
    if kind not in ARGUMENTS:
        raise ValueError(f"Cannot write layer {layer.name!r} as code: {kind} is not one of "
                         f"{sorted(ARGUMENTS) + ['Normalization']}. Received: layer={layer!r}")
    positional, keywords = ARGUMENTS[kind]
    config, defaults = layer.get_config(), _defaults(getattr(keras.layers, kind))
    args = [repr(_plain(config[name])) for name in positional]
    for name in keywords:
        value = _plain(config.get(name, defaults.get(name)))
        if name in defaults and value == defaults[name]:
            continue
        if name == "activation" and value == "linear" and defaults.get(name) is None:
            continue  # Keras's default: no activation
        if name == "strides" and value == _plain(config.get("pool_size")):
            continue  # pooling's strides default to its pool size
        args.append(f"{name}={value!r}")
    args.append(f"name={layer.name!r}")
    return f"x = layers.{kind}({', '.join(args)})(x)"


def model_code(model) -> str:
    """Python source that rebuilds ``model``'s architecture (fresh weights).

    Args:
        model: a ``keras.Model`` whose layers form one chain from one ``InputLayer``
            (every zoo model does); its input is float32 ``(N, H, W, C)``.

    Returns:
        Lines that define ``model`` (a ``keras.Model`` of the same name, layer classes,
        layer names, output shapes and parameter count), using the names ``keras``,
        ``layers`` and, with a ``Normalization`` layer, ``MEAN`` and ``STD``. Each line
        ends with its output shape as a comment.

    Raises:
        ValueError: a layer :func:`layer_line` cannot write, or a model that is not
            one chain (a layer with several inputs).
    """
    shape = tuple(model.input_shape[1:])
    first = model.layers[0]
    lines = [f"inputs = keras.Input(shape={shape!r}, name={first.name!r})  # (N, "
             + ", ".join(str(d) for d in shape) + ")", "x = inputs"]
    for layer in model.layers[1:]:
        if isinstance(layer.input, (list, tuple)):
            raise ValueError(f"Only a chain of layers can be written as code; layer "
                             f"{layer.name!r} has {len(layer.input)} inputs.")
        out = ", ".join("N" if d is None else str(d) for d in layer.output.shape)
        lines.append(f"{layer_line(layer)}  # ({out})")
    lines.append(f"model = keras.Model(inputs, x, name={model.name!r})")
    return "\n".join(lines)
