"""The end of the network: the logits, the softmax and the predicted class.

``softmax(z)_i = exp(z_i) / sum_j exp(z_j)`` turns the scores ``z`` (logits)
of the last layer into probabilities. Where the logits live depends on the
model:

- a separate softmax layer (the zoo's ``"logits"`` then ``"softmax"``): the
  logits are the output of the layer before it;
- a ``Dense(activation="softmax")`` (VGG16's ``"predictions"``): the logits
  are recomputed from that layer's input, ``x @ kernel + bias``;
- no softmax at all (a model trained ``from_logits=True``): the output is
  the logits, and the softmax is applied here, as the Classify page does
  (:func:`cnnlib.models.inference.to_probabilities`); an output that already is a
  distribution without a softmax layer has no logits to show.

Which of these a model is, :func:`cnnlib.network.logits.chain_logits` says.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from cnnlib.models.inference import is_distribution
from cnnlib.network.activation_functions import softmax, softmax_shift
from cnnlib.network.layers import LayerInfo
from cnnlib.network.logits import chain_logits


@dataclasses.dataclass(frozen=True)
class Scores:
    """What the model concludes for one input.

    Attributes:
        logits: float64 ``(K,)``, the scores before the softmax, or None when
            the model gives probabilities without a softmax layer.
        probs: float64 ``(K,)``, the probabilities (each in [0, 1], summing to 1).
        source: where the logits come from, a sentence fragment (e.g.
            ``"the output of layer 'logits'"``).
        layer: the name of the layer that holds the logits (None with ``logits``).
        applied_here: the model has no softmax; this module applied it.
        shift: subtracted from every logit before ``exp``
            (:func:`~cnnlib.network.activation_functions.softmax_shift`); the
            softmax does not change.
    """

    logits: np.ndarray | None
    probs: np.ndarray
    source: str
    layer: str | None = None
    applied_here: bool = False
    shift: float = 0.0

    @property
    def exps(self) -> np.ndarray | None:
        """float64 ``(K,)``: ``exp(z_i - shift)``, the softmax's numerators."""
        return None if self.logits is None else np.exp(self.logits - self.shift)

    @property
    def predicted(self) -> int:
        return int(np.argmax(self.probs))

    def top(self, k: int = 10) -> np.ndarray:
        """The ``k`` most probable classes, most probable first (int64)."""
        return np.argsort(-self.probs, kind="stable")[:k]


def class_scores(chain: list[LayerInfo], outputs: list[np.ndarray]) -> Scores:
    """The logits and probabilities of one input.

    Where the logits are is :func:`cnnlib.network.logits.chain_logits`'s answer,
    the rule Grad-CAM and Classify follow too.

    Args:
        chain: a :func:`~cnnlib.network.reader.chain` whose last layer gives ``(K,)`` scores.
        outputs: every layer's output for one image without the batch axis
            (or with a batch of 1), in chain order, the input first
            (:func:`~.layer_outputs.layer_outputs`).

    Returns:
        :class:`Scores`.

    Raises:
        ValueError: the last layer's output is not one vector of scores.
    """
    out = [np.asarray(o)[0] if np.ndim(o) == len(i.output_shape) + 1 else np.asarray(o)
           for o, i in zip(outputs, chain)]
    last = chain[-1]
    final = out[-1].astype(np.float64)
    if final.ndim != 1:
        raise ValueError(f"The model ends in {last.name} of shape "
                         f"{' x '.join(map(str, final.shape))}, not one score per class.")
    found = chain_logits(chain)
    if found.how == "softmax layer" and len(chain) > 1:
        z = out[-2].astype(np.float64)
        return Scores(z, final, f"the output of layer {found.layer!r}", layer=found.layer,
                      shift=softmax_shift(z))
    if found.how == "built-in softmax":
        layer = last.layer
        z = out[-2].astype(np.float64) @ np.asarray(layer.kernel, np.float64)
        if layer.use_bias:
            z = z + np.asarray(layer.bias, np.float64)
        return Scores(z, final, f"layer {last.name!r} before its built-in softmax", layer=found.layer,
                      shift=softmax_shift(z))
    if is_distribution(final[None]):
        return Scores(None, final, f"layer {last.name!r} (it gives probabilities without a softmax layer)")
    return Scores(final, softmax(final), f"the output of layer {last.name!r}", layer=last.name,
                  applied_here=True, shift=softmax_shift(final))
