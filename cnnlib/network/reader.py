"""The model reader: the only code that walks a Keras model's layers.

Every view that looks inside a model asks it the same questions, and this
module is where they are answered once:

- what the model takes and gives (:func:`check_image_input`,
  :func:`check_structure`): one batch of images ``(N, H, W, C)`` in, one row
  of class scores ``(N, K)`` out;
- its layers as one chain from the image to the class scores
  (:func:`chain`, for Inside the network), or a sentence saying why they are
  not one (:class:`NotExplorableError`);
- its convolutional blocks (:func:`conv_blocks`: a ``Conv2D`` and the batch
  norm and activation layers right after it) and the last one whose feature
  map leaves room for a location (:func:`last_conv_block`, Grad-CAM's
  target);
- where its logits are (:mod:`.logits`, built on this module's walk);
- a ``keras.Model`` from its input to the outputs of some of its layers
  (:func:`outputs_model`), called directly (``m(x, training=False)``) rather
  than through ``predict``.

A ``keras.Sequential`` is one chain by construction; one loaded from a file
keeps the tensors of each partial rebuild, so its layers' ``input`` and
``output`` are not one graph: :func:`outputs_model` calls its layers again on
a new input (same weights) instead.
"""

from __future__ import annotations

from cnnlib.network.layers import LayerInfo, describe_shape, kind

#: The smallest feature map (pixels a side) that :func:`last_conv_block` picks by default.
MIN_MAP_SIDE = 3

#: Keras layer classes (and their subclasses) that keep a feature map's shape and
#: positions, so that they belong to the convolution they follow (batch norm, activations).
SHAPE_KEEPING_TYPES = ("BatchNormalization", "Activation", "ReLU", "LeakyReLU", "ELU", "PReLU")


class NotExplorableError(ValueError):
    """A model this page cannot explore as a whole; ``str(e)`` is a sentence for the user."""


def shape_text(shape) -> str:
    """A shape without its batch axis, ``(28, 28, 1)``, as ``28x28x1`` (an open side: ``?``)."""
    return "x".join("?" if d is None else str(d) for d in shape)


#: What a classifier here takes and gives, per side: (rank with the batch axis, the
#: sentence for more than one tensor, the sentence for another rank).
_SIDES = {
    "input": (4, "The model takes {n} inputs; a classifier here takes one image.",
              "The model takes input of shape {shape}, not images (height x width x channels)."),
    "output": (2, "The model gives {n} outputs; a classifier here gives one row of class scores.",
               "The model gives output of shape {shape}, not one score per class."),
}


def _check_side(model, side: str) -> None:
    rank, several, other_rank = _SIDES[side]
    tensors = model.inputs if side == "input" else model.outputs
    if len(tensors) != 1:
        raise ValueError(several.format(n=len(tensors)))
    shape = model.input_shape if side == "input" else model.output_shape
    if len(shape) != rank:
        raise ValueError(other_rank.format(shape=shape_text(shape[1:])))


def check_image_input(model) -> None:
    """Refuse a model that does not take one batch of images ``(N, H, W, C)``.

    Raises:
        ValueError: more than one input, or an input of another rank; the
            message is a sentence naming what the model takes.
    """
    _check_side(model, "input")


def check_structure(model) -> None:
    """Refuse a model that is not a one-image-in, one-row-of-scores-out classifier.

    Raises:
        ValueError: as :func:`check_image_input`, or more than one output, or
            an output that is not ``(N, classes)``; the message is a sentence
            naming what the model has.
    """
    _check_side(model, "input")
    _check_side(model, "output")


def layers_of(model) -> list:
    """The model's top-level layers in order, ``InputLayer`` left out."""
    import keras

    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def is_sequential(model) -> bool:
    import keras

    return isinstance(model, keras.Sequential)


def chain(model) -> list[LayerInfo]:
    """The layers of ``model`` in order, the input first.

    Args:
        model: a ``keras.Model`` (``Sequential`` or functional).

    Returns:
        ``[LayerInfo(index=0, kind="input", ...), LayerInfo(index=1, ...), ...]``:
        the input, then every layer (``InputLayer`` left out), the last one
        giving the model's output.

    Raises:
        NotExplorableError: more than one input or output, an input that is not
            ``(H, W, C)`` images of a fixed size, a layer used twice, a model
            nested as a layer, or a layer that does not take exactly the
            previous layer's output (a branch, a skip connection); the message
            says which layer.
    """
    import keras

    try:
        check_image_input(model)  # one input, of images (N, H, W, C): the Classify page's rule
    except ValueError as e:
        raise NotExplorableError(str(e)) from e
    if len(model.outputs) != 1:
        raise NotExplorableError(f"The model gives {len(model.outputs)} outputs; this page "
                                 "explores models that give one row of class scores.")
    shape = tuple(model.inputs[0].shape[1:])
    if any(d is None for d in shape):
        raise NotExplorableError(f"The model takes images of any size ({describe_shape(shape)}); this "
                                 "page explores models that take images of a fixed height and width.")
    source = model.inputs[0]
    history = getattr(source, "_keras_history", None)  # (InputLayer, node, tensor index)
    name = getattr(history[0], "name", None) if history else None
    layer_infos = [LayerInfo(0, name or getattr(source, "name", None) or "input", "InputLayer", "input",
                             tuple(int(d) for d in shape), 0, None)]
    sequential = is_sequential(model)  # one chain by construction (its nodes say nothing)
    for layer in layers_of(model):
        if isinstance(layer, keras.Model):
            raise NotExplorableError(f"Layer {layer.name!r} is a whole model inside this one; "
                                     "this page explores one flat chain of layers.")
        if not sequential:
            _check_link(layer, source)
            source = layer.output
        layer_infos.append(LayerInfo(len(layer_infos), layer.name, type(layer).__name__, kind(layer),
                                     tuple(layer.output.shape[1:]), int(layer.count_params()), layer))
    if not sequential and source is not model.outputs[0]:
        raise NotExplorableError("The model's output is not its last layer's output; this page "
                                 "explores models whose layers form one chain.")
    return layer_infos


def input_of(layer):
    """The tensor ``layer`` takes, or None (several inputs, or none readable)."""
    try:
        return layer.input
    except (AttributeError, ValueError, RuntimeError):
        return None


def _check_link(layer, source) -> None:
    """Refuse a layer of a functional model that is used twice or does not take ``source``."""
    if len(getattr(layer, "_inbound_nodes", ())) > 1:
        raise NotExplorableError(f"Layer {layer.name!r} is used more than once; this page "
                                 "explores models whose layers form one chain.")
    if input_of(layer) is not source:
        raise NotExplorableError(
            f"Layer {layer.name!r} does not simply take the previous layer's output (the "
            "model branches or joins); this page explores models whose layers form one "
            "chain, such as a keras.Sequential.")


def conv_layers(model) -> list:
    """The ``keras.layers.Conv2D`` layers of ``model``, in order (top level of the
    model, as the zoo builds them)."""
    import keras

    return [layer for layer in layers_of(model) if isinstance(layer, keras.layers.Conv2D)]


def conv_blocks(model) -> list[tuple[object, object]]:
    """For each Conv2D layer of ``model`` (top level, in order), the pair ``(conv
    layer, last layer of its block)``: the block is the conv and the layers of
    :data:`SHAPE_KEEPING_TYPES` that directly take its output, one after another (a
    conv with a built-in activation is its own last layer)."""
    import keras

    layers, sequential = layers_of(model), is_sequential(model)
    keep = tuple(getattr(keras.layers, name) for name in SHAPE_KEEPING_TYPES)
    convs = {id(layer) for layer in conv_layers(model)}
    blocks = []
    for i, layer in enumerate(layers):
        if id(layer) not in convs:
            continue
        j = i
        while (j + 1 < len(layers) and isinstance(layers[j + 1], keep)
               and (sequential or input_of(layers[j + 1]) is layers[j].output)):
            j += 1
        blocks.append((layer, layers[j]))
    return blocks


def last_conv_block(model, min_side: int = MIN_MAP_SIDE) -> str:
    """Name of the last layer of the last convolutional block (:func:`conv_blocks`)
    whose feature map is at least ``min_side`` a side: Grad-CAM's target, the
    rectified features of a late block with room for a location. LeNet-5 gives
    ``"c3_conv"`` (10x10), not C5 (1x1). A side the model leaves open (None)
    counts as large enough.

    Raises:
        ValueError: the model has no ``Conv2D`` layer (an MLP, logistic regression),
            or none with a map of at least ``min_side`` x ``min_side``; the message
            says so in a sentence (Grad-CAM does not apply).
    """
    blocks = conv_blocks(model)
    if not blocks:
        raise ValueError(f"Model {model.name!r} has no convolutional layer, so Grad-CAM "
                         "does not apply (it needs spatial feature maps).")
    sizes = []
    for _, last in reversed(blocks):
        h, w = last.output.shape[1:3]
        if all(side is None or side >= min_side for side in (h, w)):
            return last.name
        sizes.append(f"{last.name} {h}x{w}")
    raise ValueError(f"Model {model.name!r} has no convolutional layer with a feature map of at "
                     f"least {min_side}x{min_side} ({', '.join(reversed(sizes))}), so Grad-CAM "
                     "cannot say where: it would paint one uniform square.")


def outputs_model(model, wanted, name: str | None = None):
    """A ``keras.Model`` from ``model``'s input to the outputs of some of its layers.

    Args:
        model: a ``keras.Model`` with one input.
        wanted: one of its top-level layers, or a list of them (None or an
            ``InputLayer``: the input itself).
        name: the new model's name (Keras picks one when None).

    Returns:
        A ``keras.Model`` sharing ``model``'s weights whose call on float32
        ``(N, H, W, C)`` returns one tensor per wanted layer, ``(N, *output
        shape)``: one tensor for one layer, a list for a list.
    """
    import keras

    many = isinstance(wanted, (list, tuple))
    targets = list(wanted) if many else [wanted]
    if not is_sequential(model):
        inputs = model.inputs[0]
        outputs = [inputs if t is None or isinstance(t, keras.layers.InputLayer) else t.output
                   for t in targets]
    else:  # a Sequential loaded from a file is not one graph: call its layers again
        layers = layers_of(model)
        found = {id(t) for t in targets}
        last = max((i for i, layer in enumerate(layers) if id(layer) in found), default=-1)
        x = inputs = keras.Input(shape=model.inputs[0].shape[1:], dtype=model.inputs[0].dtype)
        got = {}
        for layer in layers[:last + 1]:
            x = got[id(layer)] = layer(x)
        outputs = [got.get(id(t), inputs) for t in targets]
    return keras.Model(inputs=inputs, outputs=outputs if many else outputs[0], name=name)
