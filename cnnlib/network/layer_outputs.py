"""The output of every layer of a chain for one input (or a batch).

One ``keras.Model`` from the model's input to every layer's output
(:func:`extractor`, built by :func:`cnnlib.network.reader.outputs_model`), built
once per model by the caller and called directly,
``extractor(x, training=False)``: ``model.predict`` costs about 60 ms of
overhead per call on a 2-core machine (the project's measured notes), more
than the forward pass of a small CNN.
"""

from __future__ import annotations

import numpy as np

from cnnlib.network import reader
from cnnlib.network.layers import LayerInfo


def extractor(model, chain: list[LayerInfo] | None = None):
    """A ``keras.Model`` from ``model``'s input to the output of each layer of its chain.

    Args:
        model: a model that :func:`cnnlib.network.reader.chain` accepts.
        chain: its chain, if already read.

    Returns:
        A ``keras.Model`` whose call on float32 ``(N, H, W, C)`` returns a list
        with one tensor per layer after the input, ``(N, *info.output_shape)``.

    Raises:
        NotExplorableError: as :func:`~cnnlib.network.reader.chain`.
    """
    chain = chain if chain is not None else reader.chain(model)
    return reader.outputs_model(model, [info.layer for info in chain[1:]],
                                name=f"{model.name}_layer_outputs")


def layer_outputs(extractor, x: np.ndarray) -> list[np.ndarray]:
    """Every layer's output for a batch.

    Args:
        extractor: an :func:`extractor`.
        x: float32 ``(N, H, W, C)``, the model's input as it expects it (for the
            zoo's models and the app's VGG16, :func:`cnnlib.models.vgg16.build_unit_input`:
            [0, 1]; for :func:`cnnlib.models.vgg16.build`'s: :func:`cnnlib.models.vgg16.preprocess`).

    Returns:
        float32 arrays, the input first then one per layer of the chain,
        ``(N, *shape)`` each; dropout and augmentation off (``training=False``).
    """
    x = np.asarray(x, dtype=np.float32)
    outs = extractor(x, training=False)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return [x] + [np.asarray(o, dtype=np.float32) for o in outs]


def up_to(model, chain: list[LayerInfo], index: int):
    """A ``keras.Model`` from the input to layer ``index`` of the chain (for batches:
    it stops there instead of computing every later layer); one output tensor.

    Raises:
        ValueError: ``index`` is 0 (the input itself) or past the chain.
    """
    if not 1 <= index < len(chain):
        raise ValueError(f"Layer index must be from 1 to {len(chain) - 1}. Received: index={index}")
    return reader.outputs_model(model, chain[index].layer)
