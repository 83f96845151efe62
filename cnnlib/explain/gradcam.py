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

The class score: the logits where :func:`cnnlib.network.logits.find_logits`
finds them, the rule Classify and Inside the network follow too. A model
ending in a separate softmax layer (the zoo's ``"logits"`` then
``"softmax"``) gives the output of the layer before it ("logits"). A model
whose last layer is a ``Dense`` with the softmax built in (VGG16's
``"predictions"``) gets its logits recomputed from that layer's input with
the layer's own kernel and bias, i.e. the same layer with a linear
activation ("dense pre-softmax"); the gradient of a softmax output would also
depend on the other classes' scores. A model whose last layer has no
activation or a linear one outputs its logits itself ("output scores"). Any
other model falls back to the log of the output probability (the label in
:class:`GradCam` says which).

The target layer: given by name, or found automatically by
:func:`cnnlib.network.reader.last_conv_block`: the last convolutional block (a
``Conv2D`` and the element-wise layers that directly follow it: batch
normalisation, activation) whose feature map is at least ``MIN_MAP_SIDE`` x
``MIN_MAP_SIDE``, so that the maps are rectified features of a late block, as
in the paper, with room for a location. A 1x1 map (LeNet-5's C5) upsampled is
one uniform square: it says nothing about where. For VGG16 use
``"block5_conv3"`` (14x14, its ReLU built in).
"""

from __future__ import annotations

import weakref
from typing import NamedTuple

import numpy as np

from cnnlib.explain.scores import SCORE_LABELS  # the score it differentiates, by where the logits are
from cnnlib.network import reader
from cnnlib.network.logits import find_logits


class GradCam(NamedTuple):
    """What :func:`gradcam` returns."""

    heatmap: np.ndarray  # float32 (H, W) in [0, 1], the input's height and width
    class_index: int  # the class explained
    layer: str  # the target layer's name
    score: str  # "logits", "dense pre-softmax", "output scores" or "log probability"
    map_size: tuple[int, int]  # (h, w) of the target layer's feature maps, before upsampling
    logits_layer: str | None  # the layer whose logits are explained (None: "log probability")




def gradcam(model, image: np.ndarray, class_index: int | None = None,
            layer_name: str | None = None) -> GradCam:
    """Grad-CAM heatmap of one image.

    Args:
        model: a ``keras.Model``, functional or ``Sequential`` (the zoo's, a
            stored one, VGG16).
        image: float32 ``(H, W, C)`` or ``(1, H, W, C)``, already preprocessed
            the way the model expects (``[0, 1]`` for the zoo's models and the app's
            VGG16, :func:`cnnlib.models.vgg16.build_unit_input`; ``vgg16.preprocess``
            output for :func:`cnnlib.models.vgg16.build`'s).
        class_index: the class to explain; defaults to the predicted one.
        layer_name: the target layer; defaults to
            :func:`cnnlib.network.reader.last_conv_block`.

    Returns:
        :class:`GradCam` with ``heatmap`` float32 ``(H, W)`` in [0, 1] (all zeros
        when no region raises the class score) and the target layer's ``map_size``.

    Raises:
        ValueError: a bad image shape, a class index out of range, an unknown
            layer, a layer whose output is not 4-D ``(N, h, w, k)``, a model that
            is not one image in and one row of scores out
            (:func:`cnnlib.network.reader.check_structure`), or (no
            ``layer_name``) a model without a convolutional layer whose map is at
            least :data:`cnnlib.network.reader.MIN_MAP_SIDE` a side.
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
    name = layer_name or reader.last_conv_block(model)
    compute, label, logits_layer = _cam_function(model, name)
    cam, c = compute(x, np.int32(-1 if class_index is None else class_index))  # (h, w), ()
    import tensorflow as tf

    up = tf.image.resize(cam[..., None], x.shape[1:3], method="bilinear")[..., 0].numpy()  # (H, W)
    peak = float(up.max())
    heat = np.clip(up / peak, 0.0, 1.0) if peak > 0 else np.zeros_like(up)
    return GradCam(heat.astype(np.float32), int(c), name, label, tuple(int(v) for v in cam.shape),
                   logits_layer)


#: model -> {layer name: (traced Grad-CAM function, score label, logits layer)}; entries go
#: with their model.
_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _cam_function(model, name: str):
    """``(compute, score label, logits layer)``: ``compute`` is a ``tf.function``
    ``(x (1, H, W, C), class or -1) -> (cam (h, w), class)``, traced once per model
    and layer (building the two-output model costs ~50 ms)."""
    per_model = _CACHE.setdefault(model, {})
    if name in per_model:
        return per_model[name]
    import tensorflow as tf

    layer = model.get_layer(name)  # ValueError for an unknown name
    if len(layer.output.shape) != 4:
        raise ValueError(f"Grad-CAM needs a layer with (N, h, w, k) output. Received: "
                         f"layer_name={name!r} with output shape {layer.output.shape}")
    logits = find_logits(model)
    label = SCORE_LABELS[logits.how]
    to_logits = logits.head
    if logits.how == "other activation":  # no logits known: the log of the output
        def to_logits(t):
            return tf.math.log(t + 1e-12)
    grad_model = reader.outputs_model(model, [layer, logits.read])
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

    per_model[name] = (compute, label, logits.layer)
    return per_model[name]
