"""Keras's activation functions in numpy (float64), each with its formula.

The definitions follow the Keras 3 documentation of ``keras.activations``
(https://keras.io/api/layers/activations/); ``hard_sigmoid`` is Keras 3's
``relu6(x + 3) / 6``, ``gelu`` the exact form (Keras's default,
``approximate=False``), ``leaky_relu`` with Keras's default slope 0.2.
:func:`relu_layer` is the ``keras.layers.ReLU`` layer with its options.
"""

from __future__ import annotations

import math

import numpy as np

_erf = np.frompyfunc(math.erf, 1, 1)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + exp(-x)), without overflow


def _softplus(x):
    return np.logaddexp(0.0, x)


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805

#: name -> (function on float64 arrays, LaTeX of f(x)).
ELEMENTWISE = {
    "linear": (lambda x: x, r"x"),
    "relu": (lambda x: np.maximum(x, 0.0), r"\max(x, 0)"),
    "relu6": (lambda x: np.clip(x, 0.0, 6.0), r"\min(\max(x, 0), 6)"),
    "leaky_relu": (lambda x: np.where(x >= 0, x, 0.2 * x), r"x \text{ if } x \ge 0 \text{ else } 0.2\,x"),
    "elu": (_elu, r"x \text{ if } x > 0 \text{ else } e^x - 1"),
    "selu": (lambda x: _SELU_SCALE * _elu(x, _SELU_ALPHA),
             r"1.0507\,(x \text{ if } x > 0 \text{ else } 1.6733\,(e^x - 1))"),
    "sigmoid": (_sigmoid, r"\frac{1}{1 + e^{-x}}"),
    "hard_sigmoid": (lambda x: np.clip(x + 3.0, 0.0, 6.0) / 6.0, r"\frac{\min(\max(x + 3, 0), 6)}{6}"),
    "tanh": (np.tanh, r"\tanh(x)"),
    "softplus": (_softplus, r"\ln(1 + e^x)"),
    "softsign": (lambda x: x / (1.0 + np.abs(x)), r"\frac{x}{1 + |x|}"),
    "silu": (lambda x: x * _sigmoid(x), r"\frac{x}{1 + e^{-x}}"),
    "swish": (lambda x: x * _sigmoid(x), r"\frac{x}{1 + e^{-x}}"),
    "gelu": (lambda x: 0.5 * x * (1.0 + np.asarray(_erf(np.asarray(x) / math.sqrt(2.0)), np.float64)),
             r"\tfrac{x}{2}\left(1 + \operatorname{erf}(x / \sqrt{2})\right)"),
    "exponential": (np.exp, r"e^x"),
    "mish": (lambda x: x * np.tanh(_softplus(x)), r"x \tanh(\ln(1 + e^x))"),
}

#: Activations computed over a whole vector (the last axis), not value by value.
VECTOR = ("softmax", "log_softmax")

SOFTMAX_LATEX = r"\operatorname{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}"


def supported(name: str | None) -> bool:
    """Whether :func:`apply` knows activation ``name`` (None means linear)."""
    return name is None or name in ELEMENTWISE or name in VECTOR


def softmax(z) -> np.ndarray:
    """float64 softmax over the last axis, the maximum subtracted first (same values):
    the library's one softmax (``exp(z_i) / sum_j exp(z_j)``)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


#: Largest ``|z|`` for which a written-out softmax shows ``exp(z)`` itself; beyond, some
#: ``exp(z)`` would overflow float64 or have too many digits to read.
READABLE_EXP = 30.0


def softmax_shift(z) -> float:
    """What a written-out softmax subtracts from every score before ``exp``: ``max z``
    when some ``|z| > READABLE_EXP``, else 0 (the softmax does not change)."""
    z = np.asarray(z, dtype=np.float64)
    return float(z.max()) if np.abs(z).max() > READABLE_EXP else 0.0


def apply(name: str | None, x) -> np.ndarray:
    """Activation ``name`` on ``x`` in float64 (softmax and log-softmax over the last axis).

    Raises:
        ValueError: an activation not in :data:`ELEMENTWISE` or :data:`VECTOR`.
    """
    x = np.asarray(x, dtype=np.float64)
    if name is None:
        return x
    if name == "softmax":
        return softmax(x)
    if name == "log_softmax":
        return np.log(softmax(x))
    if name not in ELEMENTWISE:
        raise ValueError(f"The activation {name!r} is not explained here.")
    return np.asarray(ELEMENTWISE[name][0](x), dtype=np.float64)


def latex(name: str | None) -> str:
    """LaTeX of ``f(x)`` for an element-wise activation (``"x"`` for None)."""
    return ELEMENTWISE.get(name or "linear", (None, name or "x"))[1]


def relu_layer(x, negative_slope: float = 0.0, max_value: float | None = None,
               threshold: float = 0.0) -> np.ndarray:
    """``keras.layers.ReLU``: ``max_value`` from there up, ``x`` from ``threshold`` up to it,
    ``negative_slope * (x - threshold)`` below ``threshold``; float64."""
    x = np.asarray(x, dtype=np.float64)
    out = np.where(x >= threshold, x, negative_slope * (x - threshold))
    return np.minimum(out, max_value) if max_value is not None else out
