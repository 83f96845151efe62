"""One neuron of one layer recomputed in numpy from the previous layer's output.

:func:`explain` takes a layer of a :func:`~cnnlib.network.reader.chain`, the output of the
layer before it (what Keras computed) and the index of one output value, and
returns a :class:`~.neuron.Neuron`: that value recomputed in float64 numpy,
with every number that goes into it (a ``*Detail`` of :mod:`.neuron` per kind
of layer). The
formulas are Keras 3's (https://keras.io/api/layers/):

- ``Conv2D``: ``f(sum_c sum_(i,j) patch_c[i, j] * kernel_c[i, j] + bias)``,
  the patch read as :func:`cnnlib.conv.window.kernel_window` says (zeros
  on the padding, TensorFlow's "same" rule), per axis so that strides and
  dilations may differ between height and width.
- ``Dense``: ``f(sum_k x_k * w_k + bias)``.
- ``BatchNormalization`` (inference): ``gamma * (x - moving_mean) /
  sqrt(moving_variance + epsilon) + beta``.
- ``Normalization``: ``(x - mean) / max(sqrt(variance), 1e-7)``;
  ``Rescaling``: ``x * scale + offset``.
- pooling: the maximum or the mean of the window; with "same" padding the
  padded cells never win and are left out of the mean, as ``tf.nn.max_pool``
  / ``tf.nn.avg_pool`` do; global pooling: over the whole map.
- activations: :mod:`.activation_functions`; softmax over the last axis.
- ``Flatten`` (channels-last, row-major), ``ZeroPadding2D``, ``Dropout`` and
  the other layers of :data:`~.layers.IDENTITY_TYPES`: a copy of one input
  value (or a padding zero).

A layer type or setting not handled raises
:class:`~.layers.NotExplainedError` with a sentence ("not explained for
<type>"); tests check every kind against Keras's own output.
"""

from __future__ import annotations

import numpy as np

from cnnlib.conv.window import kernel_window
from cnnlib.network import activation_functions as acts
from cnnlib.network import neuron
from cnnlib.network.layers import LayerInfo, NotExplainedError, geometry


def _taps(n: int, kernel: int, stride: int, padding, dilation: int, o: int) -> np.ndarray:
    """Input positions of the taps of output ``o`` along one axis (the kernel window's rule)."""
    if not isinstance(padding, str):  # explicit (before, after): ZeroPadding2D only, kernel 1
        return np.array([o - padding[0]], dtype=np.int64)
    return kernel_window((n, 1), (kernel, 1), o, 0, stride, padding, dilation).rows


def window(info: LayerInfo, input_hw: tuple[int, int], row: int, col: int):
    """The input rows and columns read by output ``(row, col)`` of a spatial layer, and
    which taps fall inside the input.

    Returns:
        ``(rows int64 (K_h,), cols int64 (K_w,), inside bool (K_h, K_w))``.

    Raises:
        NotExplainedError: as :func:`~.layers.geometry`.
        ValueError: a position outside the layer's output.
    """
    g = geometry(info)
    axes = (g.padding, g.padding) if isinstance(g.padding, str) else g.padding
    rows = _taps(input_hw[0], g.kernel[0], g.strides[0], axes[0], g.dilation[0], row)
    cols = _taps(input_hw[1], g.kernel[1], g.strides[1], axes[1], g.dilation[1], col)
    inside = ((rows >= 0) & (rows < input_hw[0]))[:, None] & ((cols >= 0) & (cols < input_hw[1]))[None, :]
    return rows, cols, inside


def _read(x: np.ndarray, rows, cols, inside, fill: float) -> np.ndarray:
    """``x[rows][:, cols]`` ``(K_h, K_w, C)`` with ``fill`` where a tap is off the input."""
    r = np.clip(rows, 0, x.shape[0] - 1)[:, None]
    c = np.clip(cols, 0, x.shape[1] - 1)[None, :]
    return np.where(inside[..., None], x[r, c], fill)


def _f64(v) -> np.ndarray:
    return np.asarray(v, dtype=np.float64)


def _broadcast(param, shape) -> np.ndarray:
    """A layer parameter broadcast to one input's ``shape`` (it may carry a batch axis)."""
    p = _f64(param)
    return np.broadcast_to(p.reshape(p.shape[-len(shape):] if p.ndim > len(shape) else p.shape), shape)


def _built_in(info) -> str:
    """The name of a layer's built-in activation; NotExplainedError if not in numpy here."""
    name = info.activation_name() or "linear"
    if not acts.supported(name):
        raise NotExplainedError(f"{info.name}: not explained for the {name!r} activation.")
    return name


def _conv(info, x, index):
    layer, (row, col, f) = info.layer, index
    rows, cols, inside = window(info, x.shape[:2], row, col)
    patch = _read(_f64(x), rows, cols, inside, 0.0)  # (K_h, K_w, C_in)
    kernel = _f64(layer.kernel[..., f])  # (K_h, K_w, C_in): slice first, then copy
    sums = (patch * kernel).sum(axis=(0, 1))  # (C_in,)
    bias = float(_f64(layer.bias)[f]) if layer.use_bias else None
    total = float(sums.sum() + (bias or 0.0))
    name = _built_in(info)
    if name in acts.VECTOR:  # over the filters at this position: every filter's total
        bias_all = _f64(layer.bias) if layer.use_bias else 0.0
        scores = np.tensordot(patch, _f64(layer.kernel), axes=3) + bias_all  # (F,)
        detail = neuron.ConvDetail(rows, cols, patch, kernel, sums, bias, total, name, scores)
        return float(acts.apply(name, scores)[f]), detail
    detail = neuron.ConvDetail(rows, cols, patch, kernel, sums, bias, total, name)
    return float(acts.apply(name, total)), detail


def _dense(info, x, index):
    layer, (unit,) = info.layer, index
    if x.ndim != 1:
        raise NotExplainedError(f"{info.name}: not explained for a Dense layer on a "
                                f"{' x '.join(map(str, x.shape))} input (only on a vector).")
    inputs, weights = _f64(x), _f64(layer.kernel[:, unit])  # VGG16's fc1 kernel is 411 MB: slice first
    bias = float(_f64(layer.bias)[unit]) if layer.use_bias else None
    total = float(inputs @ weights + (bias or 0.0))
    name = _built_in(info)
    if name in acts.VECTOR:  # over the units: every unit's total (the logits)
        scores = inputs @ _f64(layer.kernel) + (_f64(layer.bias) if layer.use_bias else 0.0)
        detail = neuron.DenseDetail(inputs, weights, bias, total, name, scores)
        return float(acts.apply(name, scores)[unit]), detail
    return float(acts.apply(name, total)), neuron.DenseDetail(inputs, weights, bias, total, name)


def _batchnorm(info, x, index):
    layer = info.layer
    axis = layer.axis[0] if isinstance(layer.axis, (list, tuple)) else layer.axis
    if axis not in (-1, x.ndim):
        raise NotExplainedError(f"{info.name}: not explained for BatchNormalization over axis {axis} "
                                "(only over the channels, the last axis).")
    c = index[-1]
    gamma = float(_f64(layer.gamma)[c]) if layer.scale else 1.0
    beta = float(_f64(layer.beta)[c]) if layer.center else 0.0
    d = neuron.BatchNormDetail(float(x[index]), float(_f64(layer.moving_mean)[c]),
                        float(_f64(layer.moving_variance)[c]), float(layer.epsilon), gamma, beta)
    return gamma * (d.x - d.mean) / np.sqrt(d.variance + d.epsilon) + beta, d


def _scale(info, x, index):
    layer, v = info.layer, float(x[index])
    if info.type == "Rescaling":
        factor = float(_broadcast(layer.scale, x.shape)[index])
        shift = float(_broadcast(layer.offset, x.shape)[index])
        return v * factor + shift, neuron.ScaleDetail("rescaling", v, shift, factor)
    if getattr(layer, "invert", False):
        raise NotExplainedError(f"{info.name}: not explained for an inverted Normalization layer.")
    mean = float(_broadcast(layer.mean, x.shape)[index])
    std = max(float(np.sqrt(_broadcast(layer.variance, x.shape)[index])), 1e-7)
    return (v - mean) / std, neuron.ScaleDetail("normalization", v, mean, std)


def _activation(info, x, index):
    layer, v = info.layer, float(x[index])
    if info.kind == "softmax":
        if info.type == "Softmax" and getattr(layer, "axis", -1) not in (-1, x.ndim - 1):
            raise NotExplainedError(f"{info.name}: a softmax over axis {layer.axis} is not explained here.")
        z = _f64(x[index[:-1]])  # (K,): the scores this softmax is taken over
        return float(acts.softmax(z)[index[-1]]), neuron.ActivationDetail("softmax", v, z, index[-1])
    if info.type == "ReLU":
        opts = {"negative_slope": float(layer.negative_slope), "threshold": float(layer.threshold),
                "max_value": None if layer.max_value is None else float(layer.max_value)}
        text = ", ".join(f"{k}={w:g}" for k, w in opts.items() if w not in (None, 0.0))
        return float(acts.relu_layer(v, **opts)), neuron.ActivationDetail("relu", v, options=text)
    if info.type == "LeakyReLU":
        slope = float(layer.negative_slope)
        return (v if v >= 0 else slope * v), neuron.ActivationDetail("leaky_relu", v,
                                                              options=f"negative_slope={slope:g}")
    if info.type == "ELU":
        alpha = float(layer.alpha)
        value = alpha * np.expm1(v) if v <= 0 else v
        return float(value), neuron.ActivationDetail("elu", v, options=f"alpha={alpha:g}")
    name = _built_in(info)
    if name in acts.VECTOR:  # log_softmax
        z = _f64(x[index[:-1]])
        return float(acts.apply(name, z)[index[-1]]), neuron.ActivationDetail(name, v, z, index[-1])
    return float(acts.apply(name, v)), neuron.ActivationDetail(name, v)


def _pool(info, x, index):
    row, col, c = index
    rows, cols, inside = window(info, x.shape[:2], row, col)
    values = _read(_f64(x[..., c:c + 1]), rows, cols, inside, np.nan)[..., 0]  # (k_h, k_w)
    count = int(inside.sum())
    if info.type == "MaxPooling2D":
        i, j = np.unravel_index(int(np.nanargmax(values)), values.shape)
        return float(values[i, j]), neuron.PoolDetail("max", rows, cols, values, (int(i), int(j)), count)
    return float(np.nansum(values) / count), neuron.PoolDetail("avg", rows, cols, values, None, count)


def _global_pool(info, x, index):
    values = _f64(x[..., index[-1]])  # (H, W)
    mode = "max" if info.type == "GlobalMaxPooling2D" else "avg"
    value = values.max() if mode == "max" else values.mean()
    return float(value), neuron.GlobalPoolDetail(mode, values)


def _copy(info, x, index):
    if info.kind == "flatten":
        source = tuple(int(v) for v in np.unravel_index(index[0], x.shape))
        why = (f"Flatten lays the {' x '.join(map(str, x.shape))} values out in one row (row by row, "
               "channels innermost)")
    elif info.kind == "padding":
        rows, cols, inside = window(info, x.shape[:2], index[0], index[1])
        source = (int(rows[0]), int(cols[0]), index[2]) if inside[0, 0] else None
        why = "ZeroPadding2D adds rows and columns of zeros around the maps"
    else:
        source = index
        why = f"{info.type} passes its input through unchanged at inference (it acts only in training)"
    return (0.0 if source is None else float(x[source])), neuron.CopyDetail(source, why)


_BY_KIND = {"conv": _conv, "dense": _dense, "batchnorm": _batchnorm, "scale": _scale,
            "activation": _activation, "softmax": _activation, "pool": _pool,
            "global_pool": _global_pool, "flatten": _copy, "padding": _copy, "identity": _copy}


def explain(info: LayerInfo, x_in: np.ndarray, index) -> neuron.Neuron:
    """Recompute one output value of a layer from the layer's input.

    Args:
        info: a layer of a :func:`~cnnlib.network.reader.chain`.
        x_in: the layer's input for one image, without the batch axis: the
            previous layer's output (float32 ``(H, W, C)`` or ``(D,)``); for
            the input itself (``info.index == 0``), the input.
        index: the output value's index without the batch axis, a tuple of
            ints within ``info.output_shape``.

    Returns:
        A :class:`~.neuron.Neuron` whose ``value`` equals Keras's output at ``index``
        up to float32 rounding (relative 1e-4 in the tests).

    Raises:
        NotExplainedError: a layer type or setting not handled (the sentence
            names it).
        ValueError: an index outside the layer's output.
    """
    index = tuple(int(i) for i in index)
    shape = info.output_shape
    if len(index) != len(shape) or not all(0 <= i < n for i, n in zip(index, shape)):
        raise ValueError(f"{info.name}'s output is {' x '.join(map(str, shape))}, so the index must "
                         f"have {len(shape)} numbers within it. Received: index={index}")
    x = np.asarray(x_in)
    if info.kind == "input":
        return neuron.Neuron(info.name, info.type, info.kind, index, float(x[index]))
    compute = _BY_KIND.get(info.kind)
    if compute is None:
        raise NotExplainedError(f"{info.name}: not explained for {info.type} layers.")
    if info.spatial and info.kind in ("conv", "pool", "padding"):
        geometry(info)  # refuses channels-first data and grouped convolutions first
    value, detail = compute(info, x, index)
    return neuron.Neuron(info.name, info.type, info.kind, index, float(value), detail)


def random_index(shape: tuple[int, ...], rng: np.random.Generator) -> tuple[int, ...]:
    """A uniformly random index into an array of ``shape``."""
    return tuple(int(rng.integers(n)) for n in shape)
