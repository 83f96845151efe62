"""Grad-CAM: which regions of the input drove a class score.

Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization", ICCV 2017. For a target convolutional layer
with feature maps ``A^k`` (``k`` channels, ``h x w``) and the score ``y^c``
of class ``c`` *before the softmax*:

    alpha_k^c = mean over (i, j) of d y^c / d A^k_ij      (global average pooling of gradients)
    L^c       = ReLU(sum_k alpha_k^c A^k)                 (h x w)

``L^c`` is resized bilinearly to the input's height and width, then divided
by its maximum (so it lies in [0, 1] and peaks at 1; all zeros when nothing
supports the class). Gradients come from ``tf.GradientTape``.

The class score: models from :mod:`cnnlib.models.zoo` have a layer named
``"logits"``, whose output is used. A model whose last layer is a ``Dense``
with the softmax built in (VGG16's ``"predictions"``) gets its logits
recomputed from that layer's input with the layer's own kernel and bias,
i.e. the same layer with a linear activation; the gradient of a softmax
output would also depend on the other classes' scores. A model whose last
layer has a linear activation outputs its logits itself ("output scores").
Any other model falls back to the log of the output probability (the label
in :class:`GradCam` says which).

The target layer: given by name, or found automatically as the last
convolutional block (a ``Conv2D`` and the element-wise layers that directly
follow it: batch normalisation, activation) whose feature map is at least
``MIN_MAP_SIDE`` x ``MIN_MAP_SIDE``, so that the maps are rectified features
of a late block, as in the paper, with room for a location. A 1x1 map
(LeNet-5's C5) upsampled is one uniform square: it says nothing about where.
For VGG16 use ``"block5_conv3"`` (14x14, its ReLU built in).
"""

from __future__ import annotations

import weakref
from typing import NamedTuple

import numpy as np

from cnnlib.explain.feature_maps import conv_blocks

#: The smallest feature map (pixels a side) that :func:`find_target_layer` picks.
MIN_MAP_SIDE = 3


class GradCam(NamedTuple):
    """What :func:`gradcam` returns."""

    heatmap: np.ndarray  # float32 (H, W) in [0, 1], the input's height and width
    class_index: int  # the class explained
    layer: str  # the target layer's name
    score: str  # "logits", "dense pre-softmax", "output scores" or "log probability"
    map_size: tuple[int, int]  # (h, w) of the target layer's feature maps, before upsampling


def find_target_layer(model, min_side: int = MIN_MAP_SIDE) -> str:
    """Name of the last convolutional block whose feature map is at least ``min_side`` a side.

    A block is a ``Conv2D`` with the batch-norm and activation layers right after it
    (:func:`cnnlib.explain.feature_maps.conv_blocks`); its last layer is named. LeNet-5 gives
    ``"c3_conv"`` (10x10), not C5 (1x1). A side that the model leaves open (None)
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


def _score_head(model):
    """(tensor to take from the model, how to turn it into logits, label)."""
    names = {layer.name for layer in model.layers}
    if "logits" in names:
        return model.get_layer("logits").output, None, "logits"
    import keras

    last = model.layers[-1]
    act = getattr(getattr(last, "activation", None), "__name__", "")
    if isinstance(last, keras.layers.Dense) and act == "softmax":
        def to_logits(t, layer=last):
            return t @ layer.kernel + layer.bias  # the Dense layer, linear activation
        return last.input, to_logits, "dense pre-softmax"
    if act == "linear":  # the model outputs its logits (trained with from_logits=True)
        return model.outputs[0], None, "output scores"
    import tensorflow as tf

    return model.outputs[0], lambda t: tf.math.log(t + 1e-12), "log probability"


def gradcam(model, image: np.ndarray, class_index: int | None = None,
            layer_name: str | None = None) -> GradCam:
    """Grad-CAM heatmap of one image.

    Args:
        model: a functional ``keras.Model`` (the zoo's, a stored one, VGG16).
        image: float32 ``(H, W, C)`` or ``(1, H, W, C)``, already preprocessed
            the way the model expects (``[0, 1]`` for the zoo's models,
            ``vgg16.preprocess`` output for VGG16).
        class_index: the class to explain; defaults to the predicted one.
        layer_name: the target layer; defaults to :func:`find_target_layer`.

    Returns:
        :class:`GradCam` with ``heatmap`` float32 ``(H, W)`` in [0, 1] (all zeros
        when no region raises the class score) and the target layer's ``map_size``.

    Raises:
        ValueError: a bad image shape, a class index out of range, an unknown
            layer, a layer whose output is not 4-D ``(N, h, w, k)``, or (no
            ``layer_name``) a model without a convolutional layer whose map is at
            least ``MIN_MAP_SIDE`` a side.
    """
    x = np.asarray(image, dtype=np.float32)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[0] != 1 or tuple(x.shape[1:]) != tuple(model.input_shape[1:]):
        raise ValueError(f"Expected one image of shape {tuple(model.input_shape[1:])}. "
                         f"Received: shape={np.shape(image)}")
    classes = int(model.output_shape[-1])
    if class_index is not None and not 0 <= int(class_index) < classes:
        raise ValueError(f"class_index must be in [0, {classes}). "
                         f"Received: class_index={class_index}")
    name = layer_name or find_target_layer(model)
    compute, label = _cam_function(model, name)
    cam, c = compute(x, np.int32(-1 if class_index is None else class_index))  # (h, w), ()
    import tensorflow as tf

    up = tf.image.resize(cam[..., None], x.shape[1:3], method="bilinear")[..., 0].numpy()  # (H, W)
    peak = float(up.max())
    heat = np.clip(up / peak, 0.0, 1.0) if peak > 0 else np.zeros_like(up)
    return GradCam(heat.astype(np.float32), int(c), name, label, tuple(int(v) for v in cam.shape))


#: model -> {layer name: (traced Grad-CAM function, score label)}; entries go with their model.
_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _cam_function(model, name: str):
    """A ``tf.function`` ``(x (1, H, W, C), class or -1) -> (cam (h, w), class)``,
    traced once per model and layer (building the two-output model costs ~50 ms)."""
    per_model = _CACHE.setdefault(model, {})
    if name in per_model:
        return per_model[name]
    import keras
    import tensorflow as tf

    layer = model.get_layer(name)  # ValueError for an unknown name
    if len(layer.output.shape) != 4:
        raise ValueError(f"Grad-CAM needs a layer with (N, h, w, k) output. Received: "
                         f"layer_name={name!r} with output shape {layer.output.shape}")
    head, to_logits, label = _score_head(model)
    grad_model = keras.Model(model.inputs, [layer.output, head])
    spec = tf.TensorSpec((1, *model.input_shape[1:]), tf.float32)

    @tf.function(input_signature=[spec, tf.TensorSpec((), tf.int32)])
    def compute(x, class_index):
        with tf.GradientTape() as tape:
            fmaps, out = grad_model(x, training=False)  # (1, h, w, k), (1, ...)
            logits = to_logits(out) if to_logits is not None else out  # (1, classes)
            c = tf.where(class_index < 0, tf.argmax(logits[0], output_type=tf.int32), class_index)
            score = tf.gather(logits[0], c)
        grads = tape.gradient(score, fmaps)  # (1, h, w, k)
        alpha = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)  # (1, 1, 1, k)
        return tf.nn.relu(tf.reduce_sum(alpha * fmaps, axis=-1))[0], c  # (h, w), ()

    per_model[name] = (compute, label)
    return per_model[name]
