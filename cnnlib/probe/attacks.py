"""Adversarial examples under an L-infinity budget: FGSM, PGD, and the smallest
epsilon that flips a prediction.

- :func:`fgsm`: the fast gradient sign method (Goodfellow, Shlens & Szegedy,
  "Explaining and Harnessing Adversarial Examples", ICLR 2015):
  ``x_adv = clip(x + epsilon * sign(d loss(x, y) / d x), lo, hi)``, or towards a target
  class ``t``: ``clip(x - epsilon * sign(d loss(x, t) / d x), lo, hi)``.
- :func:`pgd`: projected gradient descent (Madry et al., "Towards Deep Learning Models
  Resistant to Adversarial Attacks", ICLR 2018): ``steps`` signed-gradient steps of
  ``step_size``, each projected back onto the epsilon-ball around ``x`` and the input
  range, from ``x`` or (``random_start``) a uniform point of the ball.
- :func:`smallest_flipping_epsilon`: the least epsilon at which FGSM (or PGD) changes the
  predicted class, found by bisection.

The loss is the softmax cross-entropy of the class scores of
:func:`cnnlib.explain.scores.scores_of` (the logits), as Keras's
``sparse_categorical_crossentropy(from_logits=True)``. Every batch is float32 ``(N, H,
W, C)`` in the model's input range ``value_range`` (``(0, 1)`` for this app's models; an
epsilon of ``8 / 255`` is 8 grey levels), labels int ``(N,)``.
"""

from __future__ import annotations

import numpy as np

from cnnlib.explain.scores import check_batch, input_gradient, scores_of

#: Images per forward call (predict); gradients go cnnlib.explain.scores.BATCH at a time.
BATCH = 64


def loss_gradient_sign(model, x: np.ndarray, labels) -> np.ndarray:
    """``sign(d CE(softmax(score(x)), y) / d x)``: float32 ``(N, H, W, C)`` in {-1, 0, 1}."""
    import tensorflow as tf

    x, y = check_batch(model, x, labels)
    def loss(z, k):  # softmax cross-entropy of the scores, per image
        return tf.nn.sparse_softmax_cross_entropy_with_logits(k, z)

    return np.sign(input_gradient(model, x, y, loss))


def _check(epsilon: float, value_range) -> tuple[float, float]:
    lo, hi = (float(v) for v in value_range)
    if not (np.isfinite(epsilon) and epsilon >= 0) or not lo < hi:
        raise ValueError(f"Expected epsilon >= 0 and lo < hi. Received: epsilon={epsilon}, "
                         f"value_range={value_range}")
    return lo, hi


def fgsm(model, x: np.ndarray, labels, epsilon: float, target=None,
         value_range: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """FGSM adversarial batch (Goodfellow et al. 2015).

    Args:
        model: a ``keras.Model`` classifier.
        x: float32 ``(N, H, W, C)`` in ``value_range``.
        labels: the true classes, int or ``(N,)`` (untargeted: the loss of these is raised).
        epsilon: the L-infinity budget, in the input's units (>= 0).
        target: None (untargeted), or an int or ``(N,)`` class to push towards (its loss
            is lowered).
        value_range: ``(lo, hi)`` the result is clipped to.

    Returns:
        float32 ``(N, H, W, C)`` with ``|x_adv - x| <= epsilon`` and ``lo <= x_adv <= hi``.

    Raises:
        ValueError: a negative epsilon, a bad range, and as
            :func:`cnnlib.explain.scores.check_batch`.
    """
    lo, hi = _check(epsilon, value_range)
    x = np.asarray(x, np.float32)
    if target is None:
        step = epsilon * loss_gradient_sign(model, x, labels)
    else:
        step = -epsilon * loss_gradient_sign(model, x, target)
    return np.clip(x + step, lo, hi).astype(np.float32)


def pgd(model, x: np.ndarray, labels, epsilon: float, steps: int = 10,
        step_size: float | None = None, target=None, random_start: bool = False,
        value_range: tuple[float, float] = (0.0, 1.0), seed: int = 0) -> np.ndarray:
    """PGD adversarial batch (Madry et al. 2018), L-infinity.

    Args:
        steps: signed-gradient steps, 1 to 1000.
        step_size: each step's size (default ``2.5 * epsilon / steps``, Madry et al.'s
            choice).
        random_start: start from a uniform point of the epsilon-ball (clipped to the range).
        seed: of the random start.
        Others: as :func:`fgsm`.

    Returns:
        float32 ``(N, H, W, C)``, inside the epsilon-ball around ``x`` and ``value_range``.

    Raises:
        ValueError: ``steps`` out of range, a negative step size, and as :func:`fgsm`.
    """
    lo, hi = _check(epsilon, value_range)
    if not 1 <= steps <= 1000 or (step_size is not None and not step_size >= 0):
        raise ValueError(f"Expected 1 <= steps <= 1000 and step_size >= 0. Received: "
                         f"steps={steps}, step_size={step_size}")
    size = 2.5 * epsilon / steps if step_size is None else float(step_size)
    x = np.asarray(x, np.float32)
    adv = x.copy()
    if random_start:
        rng = np.random.default_rng(seed)
        adv = np.clip(x + rng.uniform(-epsilon, epsilon, x.shape).astype(np.float32), lo, hi)
    for _ in range(steps):
        if target is None:
            adv = adv + size * loss_gradient_sign(model, adv, labels)
        else:
            adv = adv - size * loss_gradient_sign(model, adv, target)
        adv = np.clip(np.clip(adv, x - epsilon, x + epsilon), lo, hi).astype(np.float32)
    return adv


def predict(model, x: np.ndarray) -> np.ndarray:
    """The predicted class (argmax of the class scores) of each image: int64 ``(N,)``."""
    logits = scores_of(model).logits
    return np.concatenate([np.asarray(logits(x[i:i + BATCH])).argmax(axis=-1)
                           for i in range(0, len(x), BATCH)]).astype(np.int64)


def smallest_flipping_epsilon(model, image: np.ndarray, label: int, hi_epsilon: float = 0.5,
                              tolerance: float = 1 / 255, attack: str = "fgsm",
                              value_range: tuple[float, float] = (0.0, 1.0),
                              **pgd_options) -> float | None:
    """The least epsilon (within ``tolerance``) at which the attack changes the predicted
    class of one image away from ``label``, by bisection on ``[0, hi_epsilon]``.

    Bisection assumes the attack flips every epsilon above the one it finds; FGSM's
    flips need not be monotone in epsilon, so the value is the boundary bisection
    brackets: flipped at the returned epsilon, not flipped ``tolerance`` below it.

    Args:
        image: float32 ``(H, W, C)``.
        label: the class the image should keep (usually the true one, predicted).
        hi_epsilon: the largest budget tried.
        tolerance: the bracket's final width, in the input's units (default one grey level).
        attack: ``"fgsm"`` or ``"pgd"`` (with ``pgd_options``).

    Returns:
        The epsilon, or None when even ``hi_epsilon`` does not flip it (0.0 when the image
        is misclassified already).

    Raises:
        ValueError: an unknown attack, a non-positive ``hi_epsilon`` or ``tolerance``.
    """
    if attack not in ("fgsm", "pgd") or not hi_epsilon > 0 or not tolerance > 0:
        raise ValueError(f"Expected attack fgsm or pgd, hi_epsilon > 0, tolerance > 0. Received: "
                         f"attack={attack!r}, hi_epsilon={hi_epsilon}, tolerance={tolerance}")
    x = np.asarray(image, np.float32)[None]

    def flips(eps: float) -> bool:
        if attack == "fgsm":
            adv = fgsm(model, x, [label], eps, value_range=value_range)
        else:
            adv = pgd(model, x, [label], eps, value_range=value_range, **pgd_options)
        return int(predict(model, adv)[0]) != label

    if int(predict(model, x)[0]) != label:
        return 0.0
    if not flips(hi_epsilon):
        return None
    lo_eps, hi_eps = 0.0, float(hi_epsilon)
    while hi_eps - lo_eps > tolerance:
        mid = (lo_eps + hi_eps) / 2
        if flips(mid):
            hi_eps = mid
        else:
            lo_eps = mid
    return hi_eps
