"""Where a classifier's logits are: the one rule that Grad-CAM, Classify and
Inside the network follow.

The logits are the class scores before the softmax,
``softmax(z)_i = exp(z_i) / sum_j exp(z_j)``. Grad-CAM differentiates a logit
(Selvaraju et al. 2017: the score "before the softmax"), Classify says
whether the percentages it shows are the model's own softmax, Inside the
network writes the softmax out from the logits. :func:`find_logits` reads a
model's last layers (through :mod:`.reader`) and says which layer holds them.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from cnnlib.network.layers import LayerInfo, activation_name
from cnnlib.network.reader import check_structure, input_of, is_sequential, layers_of


class Logits(NamedTuple):
    """Where a classifier's logits (its class scores before the softmax) are.

    ``how`` is one of:

    - ``"softmax layer"``: the model ends in a separate softmax layer (the zoo's
      ``"logits"`` then ``"softmax"``); the logits are the output of the layer
      before it (``read``), and the model's output is their softmax.
    - ``"built-in softmax"``: the last layer is a ``Dense`` with
      ``activation="softmax"`` (VGG16's ``"predictions"``); the logits are that
      layer before its activation, ``x @ kernel + bias`` of its input ``x`` (the
      output of ``read``): ``head`` computes them.
    - ``"output"``: the last layer has no activation, or a linear one (a model
      trained with ``from_logits=True``); its output is the logits.
    - ``"other activation"``: the last layer applies another function (a
      sigmoid...); its output may be probabilities, and which layer holds
      logits is not known (``layer`` is None).

    Attributes:
        layer: the name of the layer that holds the logits, or None.
        read: the Keras layer whose output is read to get them (None: the model's
            input); for ``"other activation"``, the last layer.
        head: for ``"built-in softmax"``, a function from what ``read`` outputs
            (an ``(N, D)`` tensor) to the logits ``(N, K)``, with the last layer's
            own kernel and bias (the same ``Dense``, linear); None otherwise (what
            is read is the logits, or nothing known).
        output: the name of the last layer (the model's output).
        softmax: whether the model's output is the softmax of these logits.
        how: one of the four above.
    """

    layer: str | None
    read: object
    head: Callable | None
    output: str
    softmax: bool
    how: str


def _decide(last, before) -> Logits:
    """:class:`Logits` of a model whose last layer is ``last``, fed by ``before``
    (a layer, or None for the model's input)."""
    import keras

    act = activation_name(last)
    before_name = getattr(before, "name", None) or "input"
    if isinstance(last, keras.layers.Softmax) or (isinstance(last, keras.layers.Activation)
                                                  and act == "softmax"):
        return Logits(before_name, before, None, last.name, True, "softmax layer")
    if act == "softmax" and isinstance(last, keras.layers.Dense):
        def dense_linear(x, layer=last):
            z = x @ layer.kernel
            return z + layer.bias if layer.use_bias else z

        return Logits(last.name, before, dense_linear, last.name, True, "built-in softmax")
    if act in (None, "linear"):
        return Logits(last.name, last, None, last.name, False, "output")
    return Logits(None, last, None, last.name, False, "other activation")


def _before(model, layer):
    """The layer whose output ``layer`` takes, or None (the model's input, or several)."""
    import keras

    if is_sequential(model):
        layers = layers_of(model)
        i = next(i for i, candidate in enumerate(layers) if candidate is layer)
        return layers[i - 1] if i > 0 else None
    history = getattr(input_of(layer), "_keras_history", None)
    source = history[0] if history else None
    return None if source is None or isinstance(source, keras.layers.InputLayer) else source


def find_logits(model) -> Logits:
    """Where the logits of ``model`` are (see :class:`Logits`): the one rule that
    Grad-CAM, Classify and Inside the network follow.

    Raises:
        ValueError: as :func:`check_structure`.
    """
    check_structure(model)
    last = layers_of(model)[-1]
    return _decide(last, _before(model, last))


def chain_logits(layer_infos: list[LayerInfo]) -> Logits:
    """:func:`find_logits` of the model a :func:`cnnlib.network.reader.chain` was
    read from (its last two layers decide)."""
    last = layer_infos[-1]
    return _decide(last.layer, layer_infos[-2].layer if len(layer_infos) > 1 else None)
