"""Gradient attributions: which input pixels a class score depends on.

Every function takes a Keras model, a batch ``x`` float32 ``(N, H, W, C)`` in the
model's input range (``[0, 1]`` for this app's models, its VGG16 included:
:func:`cnnlib.models.vgg16.build_unit_input`) and class indices (one, or one per
image), differentiates the class score of :func:`cnnlib.explain.scores.scores_of` (the logits) with
``tf.GradientTape``, and returns float32 ``(N, H, W)`` maps (the channels reduced as
each method's paper does):

- :func:`vanilla_gradient`: ``max_c |d score / d x|`` (Simonyan, Vedaldi & Zisserman,
  "Deep Inside Convolutional Networks", 2014).
- :func:`smoothgrad`: that map averaged over noisy copies of the input (Smilkov et
  al., "SmoothGrad: removing noise by adding noise", 2017).
- :func:`integrated_gradients`: ``(x - x') * mean over a path of d score / d x``,
  summed over channels (Sundararajan, Taly & Yan, "Axiomatic Attribution for Deep
  Networks", ICML 2017); its maps sum to ``score(x) - score(x')`` (completeness) up
  to the error of the quadrature (:func:`completeness` measures it).
"""

from __future__ import annotations

import numpy as np

from cnnlib.explain.scores import BATCH, check_batch, input_gradient, scores_of


def input_gradients(model, x: np.ndarray, class_indices) -> np.ndarray:
    """``d score_c / d x`` for each image: float32 ``(N, H, W, C)``.

    Args:
        model: a ``keras.Model`` classifier.
        x: float32 ``(N, H, W, C)``, the model's input shape.
        class_indices: an int or ``(N,)`` ints in ``[0, K)``.

    Raises:
        ValueError: as :func:`cnnlib.explain.scores.check_batch`.
    """
    import tensorflow as tf

    x, c = check_batch(model, x, class_indices)
    return input_gradient(model, x, c, lambda z, k: tf.gather(z, k, axis=1, batch_dims=1))


def class_score(model, x: np.ndarray, class_indices) -> np.ndarray:
    """The class score (logit) ``score_c(x)`` of each image: float32 ``(N,)``."""
    x, c = check_batch(model, x, class_indices)
    logits = scores_of(model).logits
    z = np.concatenate([np.asarray(logits(x[i:i + BATCH])) for i in range(0, len(x), BATCH)])
    return z[np.arange(len(x)), c].astype(np.float32)


def vanilla_gradient(model, x: np.ndarray, class_indices) -> np.ndarray:
    """Saliency map ``max over channels of |d score_c / d x|``: float32 ``(N, H, W)`` >= 0
    (Simonyan et al. 2014). Raises ValueError as :func:`input_gradients`."""
    return np.abs(input_gradients(model, x, class_indices)).max(axis=-1)


def smoothgrad(model, x: np.ndarray, class_indices, samples: int = 25, noise: float = 0.15,
               value_range: tuple[float, float] = (0.0, 1.0), seed: int = 0) -> np.ndarray:
    """SmoothGrad (Smilkov et al. 2017): the vanilla gradient map averaged over
    ``samples`` copies of each image with Gaussian noise of standard deviation
    ``noise * (hi - lo)`` added (the paper's "noise level", 10-20% recommended).

    Args:
        samples: copies per image, >= 1.
        noise: the noise level, a fraction of the input range, >= 0.
        value_range: ``(lo, hi)`` of the model's input.
        seed: of the noise.

    Returns:
        float32 ``(N, H, W)`` >= 0.

    Raises:
        ValueError: ``samples < 1``, ``noise < 0``, and as :func:`input_gradients`.
    """
    if samples < 1 or not noise >= 0:
        raise ValueError(f"Expected samples >= 1 and noise >= 0. Received: samples={samples}, "
                         f"noise={noise}")
    x, c = check_batch(model, x, class_indices)
    sigma = noise * (value_range[1] - value_range[0])
    rng = np.random.default_rng(seed)
    out = np.zeros(x.shape[:3], np.float32)
    for i in range(len(x)):  # the copies of one image go through the model as batches
        noisy = x[i] + rng.normal(0.0, sigma, (samples, *x.shape[1:])).astype(np.float32)
        out[i] = vanilla_gradient(model, noisy, c[i]).mean(axis=0)
    return out


def integrated_gradients(model, x: np.ndarray, class_indices, baseline: np.ndarray | float = 0.0,
                         steps: int = 64) -> np.ndarray:
    """Integrated gradients (Sundararajan et al. 2017), summed over channels.

    ``IG_i(x) = (x_i - x'_i) * integral_0^1 d score_c(x' + a (x - x')) / d x_i da``, the
    integral by ``steps``-point Gauss-Legendre quadrature on ``[0, 1]`` (Captum's default
    approximation of the integral; for the same number of gradients its error is about
    half a Riemann sum's on this app's models, measured). Completeness: the map of an
    image sums to ``score_c(x) - score_c(x')`` up to the quadrature's error
    (:func:`completeness`), which shrinks as ``steps`` grows; the paper advises more
    steps while it is over 5%.

    Args:
        baseline: ``x'``: a number (0.0, black in ``[0, 1]``) or an array broadcastable
            to ``x`` (e.g. a blurred copy).
        steps: gradients per image, 1 to 1024.

    Returns:
        float32 ``(N, H, W)``, signed: positive where the pixel raised the score.

    Raises:
        ValueError: ``steps`` out of range, a baseline that does not broadcast, and as
            :func:`input_gradients`.
    """
    if not 1 <= steps <= 1024:
        raise ValueError(f"Expected 1 <= steps <= 1024. Received: steps={steps}")
    x, c = check_batch(model, x, class_indices)
    base = _baseline(baseline, x)
    nodes, weights = np.polynomial.legendre.leggauss(steps)  # on [-1, 1]
    alphas = ((nodes + 1) / 2).astype(np.float32)[:, None, None, None]  # on [0, 1]
    weights = weights / 2
    out = np.zeros(x.shape[:3], np.float32)
    for i in range(len(x)):  # the path of one image goes through the model as batches
        path = base[i] + alphas * (x[i] - base[i])  # (steps, H, W, C)
        grads = input_gradients(model, path, c[i]).astype(np.float64)
        mean_grad = np.tensordot(weights, grads, axes=1)  # (H, W, C)
        out[i] = ((x[i] - base[i]) * mean_grad).sum(axis=-1)
    return out


def completeness(model, x: np.ndarray, class_indices, maps: np.ndarray,
                 baseline: np.ndarray | float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``(sums, differences)``: each integrated-gradients map's sum and the
    ``score_c(x) - score_c(x')`` it should equal (Sundararajan et al. 2017, axiom of
    completeness), float32 ``(N,)`` each; their gap is the quadrature's error.

    Raises:
        ValueError: as :func:`integrated_gradients`.
    """
    x, c = check_batch(model, x, class_indices)
    base = _baseline(baseline, x)
    diff = class_score(model, x, c) - class_score(model, np.ascontiguousarray(base), c)
    return np.asarray(maps, np.float64).sum(axis=(1, 2)).astype(np.float32), diff


def _baseline(baseline, x: np.ndarray) -> np.ndarray:
    try:
        return np.broadcast_to(np.asarray(baseline, np.float32), x.shape)
    except ValueError:
        raise ValueError(f"The baseline does not fit the batch {x.shape}. Received: "
                         f"{np.shape(baseline)}") from None
