"""A recomputed neuron (:class:`~.recompute.Neuron`) written out: the formula in
symbols, then with its numbers, as LaTeX lines for ``st.latex``, and one
sentence saying what the layer does. The symbols follow the Keras
documentation of each layer and CNN Explainer's notation; numbers have 4
significant digits. Long lists of numbers stay at the formula's top level (no
fraction around them), where a narrow screen can break the line after an operator
(pages/common.NARROW_CSS).
"""

from __future__ import annotations

import numpy as np

from cnnlib.network import activation_functions as acts
from cnnlib.network.neuron import (
    ActivationDetail,
    BatchNormDetail,
    ConvDetail,
    CopyDetail,
    DenseDetail,
    GlobalPoolDetail,
    Neuron,
    PoolDetail,
    ScaleDetail,
)
from cnnlib.viz.numbers import number

MAX_TERMS = 9  # values written one by one in a sum or a max (a 3 x 3 window); beyond, "..."
MAX_PRODUCTS = 6  # channel sums written out for a convolution (the largest), when more than MAX_TERMS
DENSE_PRODUCTS = 3  # products x_k w_k written out for a dense unit (the largest): one line
BREAKABLE_COMMA = r", \allowbreak "  # a list separator after which a narrow screen may break the line


def num(v: float, digits: int = 4) -> str:
    """``v`` as a formula writes it: :func:`cnnlib.viz.numbers.number` with ``digits``
    significant digits, negatives in parentheses, an exponent in LaTeX."""
    return number(v, digits, parens=True, latex=True)


def _tex(text: str) -> str:
    """Plain text for ``\\text{}`` or ``\\operatorname{}`` (underscores escaped)."""
    return text.replace("_", r"\_")


def _terms(values, total_name: str = "", sep: str = " + ") -> str:
    """``a + b + c`` (or ``sep``-separated) for up to :data:`MAX_TERMS` values, else the
    first ones and ``\\dots``."""
    values = list(values)
    shown = sep.join(num(v) for v in values[:MAX_TERMS])
    if len(values) > MAX_TERMS:
        shown += rf"{sep}\dots \text{{ ({len(values) - MAX_TERMS} more{total_name})}}"
    return shown


def _largest(values: np.ndarray, what: str) -> str:
    """All of ``values`` in order when they are few (:data:`MAX_TERMS`); else the
    :data:`MAX_PRODUCTS` largest in magnitude, each with its index, then the rest's sum."""
    if len(values) <= MAX_TERMS:
        return _terms(values)
    top = np.argsort(-np.abs(values), kind="stable")[:MAX_PRODUCTS]
    rest = float(values.sum() - values[top].sum())
    return (" + ".join(rf"\underbrace{{{num(values[k])}}}_{{{k}}}" for k in top)
            + rf" + {num(rest)} \text{{ (the other {len(values) - len(top)} {what})}}")


def _activation_lines(name: str, total: float, value: float, scores=None, position=None) -> list[str]:
    if name == "linear":
        return []
    if name in acts.VECTOR:
        return [rf"\operatorname{{{_tex(name)}}}(z)_{{{position}}} = {num(value)} \quad "
                rf"\text{{(over all {len(scores)} totals at this position)}}"]
    if name == "relu":
        return [rf"\max(z, 0) = \max({num(total)}, 0) = {num(value)}"]
    return [rf"f(x) = {acts.latex(name)} \quad \text{{({_tex(name)})}}", rf"f({num(total)}) = {num(value)}"]


def formula(neuron: Neuron) -> list[str]:
    """LaTeX lines: the formula in symbols, then with the numbers, ending in the value."""
    d, v = neuron.detail, neuron.value
    if isinstance(d, ConvDetail):
        c = len(d.channel_sums)
        bias, b = (rf" + {num(d.bias)}", " + b") if d.bias is not None else ("", "")
        if c == 1:  # one input channel: the products themselves
            lines = [r"z = \sum_{i, j} x[i, j] \, w[i, j]" + b,
                     rf"z = {_terms(d.products.ravel(), ' products')}{bias} = {num(d.total)}"]
        else:
            lines = [r"z = \sum_{c} \sum_{i, j} x_c[i, j] \, w_c[i, j]" + b,
                     rf"z = {_largest(d.channel_sums, 'channels')}{bias} = {num(d.total)}"]
        return lines + _activation_lines(d.activation, d.total, v, d.scores, neuron.index[-1])
    if isinstance(d, DenseDetail):
        bias = rf" + {num(d.bias)}" if d.bias is not None else ""
        top = d.largest(DENSE_PRODUCTS)
        rest = float(d.products.sum() - d.products[top].sum())
        shown = " + ".join(rf"{num(d.inputs[k])} \cdot {num(d.weights[k])}" for k in top)
        if len(d.inputs) > DENSE_PRODUCTS:
            shown += rf" + {num(rest)} \text{{ (the other {len(d.inputs) - DENSE_PRODUCTS})}}"
        lines = [r"z = \sum_k x_k \, w_k" + (" + b" if d.bias is not None else ""),
                 rf"z = {shown}{bias} = {num(d.total)}"]
        return lines + _activation_lines(d.activation, d.total, v, d.scores, neuron.index[-1])
    if isinstance(d, BatchNormDetail):
        return [r"y = \gamma \, \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta",
                rf"y = {num(d.gamma)} \cdot \frac{{{num(d.x)} - {num(d.mean)}}}"
                rf"{{\sqrt{{{num(d.variance)} + {num(d.epsilon, 2)}}}}} + {num(d.beta)} = {num(v)}"]
    if isinstance(d, ScaleDetail):
        if d.formula == "normalization":
            return [r"y = \frac{x - \mu}{\sigma}",
                    rf"y = \frac{{{num(d.x)} - {num(d.shift)}}}{{{num(d.factor)}}} = {num(v)}"]
        return [r"y = x \cdot s + o", rf"y = {num(d.x)} \cdot {num(d.factor)} + {num(d.shift)} = {num(v)}"]
    if isinstance(d, ActivationDetail):
        if d.vector is not None:
            z = d.vector
            shift = acts.softmax_shift(z)
            e = np.exp(z - shift)
            sym = (r"\frac{e^{z_i - \max z}}{\sum_j e^{z_j - \max z}}" if shift
                   else r"\frac{e^{z_i}}{\sum_j e^{z_j}}")
            exp_j = r"e^{z_j - \max z}" if shift else r"e^{z_j}"
            lines = [rf"\operatorname{{softmax}}(z)_i = {sym}",  # the sum on its own line: it may wrap
                     rf"\sum_j {exp_j} = {_terms(e)} = {num(e.sum())}",
                     rf"\frac{{{num(e[d.position])}}}{{{num(e.sum())}}} = {num(v)}"]
            return lines if d.function == "softmax" else lines + [rf"\ln(\cdot) = {num(v)}"]
        if d.function == "relu" and not d.options:
            return [r"y = \max(x, 0)", rf"y = \max({num(d.x)}, 0) = {num(v)}"]
        options = rf" \quad \text{{({_tex(d.options)})}}" if d.options else ""
        return [rf"y = {acts.latex(d.function)}{options}",
                rf"x = {num(d.x)} \;\Rightarrow\; y = {num(v)}"]
    if isinstance(d, PoolDetail):
        real = d.window[~np.isnan(d.window)]
        if d.mode == "max":
            return [r"y = \max_{(i, j) \in \text{window}} x[i, j]",
                    rf"y = \max({_terms(real, ' values', sep=BREAKABLE_COMMA)}) = {num(v)}"]
        return [r"y = \frac{1}{n} \sum_{(i, j) \in \text{window}} x[i, j]",
                rf"y = \frac{{1}}{{{d.count}}} \, ({_terms(real, ' values')}) = {num(v)}"]
    if isinstance(d, GlobalPoolDetail):
        h, w = d.values.shape
        if d.mode == "max":
            return [r"y = \max_{i, j} x[i, j]",
                    rf"y = {num(v)} \quad \text{{(the largest of {h} x {w} values)}}"]
        return [r"y = \frac{1}{H W} \sum_{i, j} x[i, j]",
                rf"y = \frac{{{num(float(d.values.sum()))}}}{{{h} \cdot {w}}} = {num(v)}"]
    return []


def sentence(neuron: Neuron) -> str:
    """What the layer does to produce this value, in one or two sentences (Markdown)."""
    d, name = neuron.detail, f"**{neuron.layer}** ({neuron.type})"
    if neuron.kind == "input":
        return f"{name}: this is a value of the input itself, as the model receives it."
    if isinstance(d, ConvDetail):
        kh, kw, c = d.kernel.shape
        return (f"{name} slides a {kh} x {kw} x {c} filter over the previous layer's maps: this value is "
                f"the sum, over the {c} input channel{'s' * (c > 1)}, of the patch times the kernel "
                f"slice" + (", plus the bias" if d.bias is not None else "")
                + (f", then {d.activation}." if d.activation != "linear" else "."))
    if isinstance(d, DenseDetail):
        return (f"{name} multiplies each of its {len(d.inputs)} inputs by a weight and adds them up"
                + (" with a bias" if d.bias is not None else "")
                + (f", then {d.activation}." if d.activation != "linear" else ".")
                + " The largest contributions are written out.")
    if isinstance(d, BatchNormDetail):
        return (f"{name} standardises each channel with the mean and variance it measured during "
                "training (moving averages), then scales by gamma and shifts by beta.")
    if isinstance(d, ScaleDetail):
        return f"{name} shifts and scales every input value the same way."
    if isinstance(d, ActivationDetail):
        if d.vector is not None:
            return (f"{name} turns the {len(d.vector)} scores at this position into probabilities "
                    "that add up to 1.")
        return f"{name} applies {d.function} to one value of the previous layer, at the same position."
    if isinstance(d, PoolDetail):
        kh, kw = d.window.shape
        if d.mode == "max":
            i, j = d.winner
            return (f"{name} keeps the largest value of a {kh} x {kw} window of the previous layer: "
                    f"the winner is at row {int(d.rows[i])}, column {int(d.cols[j])}.")
        return f"{name} averages a {kh} x {kw} window of the previous layer ({d.count} real values)."
    if isinstance(d, GlobalPoolDetail):
        return f"{name} takes the {'largest value' if d.mode == 'max' else 'mean'} of a whole feature map."
    if isinstance(d, CopyDetail):
        if d.source is None:
            return f"{name}: this position is padding, so its value is 0."
        where = ", ".join(str(i) for i in d.source)
        return f"{name}: {d.why}; this value is the previous layer's value at ({where})."
    return name
