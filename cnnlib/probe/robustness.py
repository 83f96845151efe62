"""Where a model breaks: its accuracy on test images as one change grows
(:mod:`cnnlib.probe.corruptions`), or under FGSM as epsilon grows
(:func:`cnnlib.probe.attacks.fgsm`).

A curve is the accuracy at each level, overall and per class, on the same images; at
level 0 every change is the identity, so the curve starts at the plain accuracy.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np

from cnnlib.probe import attacks, corruptions


class Curve(NamedTuple):
    """What :func:`curve` and :func:`fgsm_curve` return."""

    change: str  # a corruption's name, or "fgsm"
    levels: np.ndarray  # float64 (L,)
    accuracy: np.ndarray  # float64 (L,), fractions in [0, 1]
    per_class: np.ndarray  # float64 (L, K): accuracy on each class's images (NaN: none)
    n: int  # images


def _score(change: str, levels, predictions: list[np.ndarray], y: np.ndarray, k: int) -> Curve:
    acc = np.array([np.mean(p == y) for p in predictions])
    per_class = np.full((len(predictions), k), np.nan)
    for j in range(k):
        mask = y == j
        if mask.any():
            per_class[:, j] = [np.mean(p[mask] == j) for p in predictions]
    return Curve(change, np.asarray(levels, np.float64), acc, per_class, len(y))


def curve(model, x: np.ndarray, y: np.ndarray, change: str, levels: Sequence[float] | None = None,
          seed: int = 0, progress: Callable[[float], None] | None = None) -> Curve:
    """Accuracy as the change ``change`` grows.

    Args:
        model: a ``keras.Model`` classifier taking ``[0, 1]`` images.
        x: float32 ``(N, H, W, C)`` in ``[0, 1]``; y: int ``(N,)`` labels.
        change: a name of :data:`cnnlib.probe.corruptions.CORRUPTIONS`.
        levels: the levels (default: the change's own).
        seed: of the random changes (noise, the occluding square's place).
        progress: called with the fraction done, in ``[0, 1]``.

    Raises:
        ValueError: an unknown change or level (:func:`cnnlib.probe.corruptions.apply`).
    """
    if change not in corruptions.CORRUPTIONS:
        raise ValueError(f"Unknown change {change!r}; expected one of "
                         f"{', '.join(corruptions.CORRUPTIONS)}.")
    levels = corruptions.CORRUPTIONS[change][2] if levels is None else levels
    y = np.asarray(y, np.int64)
    predictions = []
    for i, level in enumerate(levels):
        predictions.append(attacks.predict(model, corruptions.apply(change, x, level, seed)))
        if progress is not None:
            progress((i + 1) / len(levels))
    return _score(change, levels, predictions, y, int(model.output_shape[-1]))


#: The default epsilons of an FGSM curve, in [0, 1] units (0 to 76 grey levels).
FGSM_EPSILONS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)


def fgsm_curve(model, x: np.ndarray, y: np.ndarray, epsilons: Sequence[float] = FGSM_EPSILONS,
               progress: Callable[[float], None] | None = None) -> Curve:
    """Accuracy under FGSM (untargeted, on the true labels) as epsilon grows.

    Raises:
        ValueError: a negative epsilon, and as :func:`cnnlib.probe.attacks.fgsm`.
    """
    y = np.asarray(y, np.int64)
    predictions = []
    for i, eps in enumerate(epsilons):
        predictions.append(attacks.predict(model, attacks.fgsm(model, x, y, float(eps))))
        if progress is not None:
            progress((i + 1) / len(epsilons))
    return _score("fgsm", epsilons, predictions, y, int(model.output_shape[-1]))
