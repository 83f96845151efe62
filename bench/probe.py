"""Speed of the probes (issue 23): each explanation and attack on one image, at the
settings the page starts with (pages/probe_why.default_settings).

Rows: vanilla gradient, SmoothGrad, integrated gradients (with its completeness
check), occlusion, Grad-CAM, FGSM and PGD (10 steps), each on one real MNIST test digit
through the bundled ``mnist`` model and one real CIFAR-10 test image through the bundled
``cifar10`` model (target < 1 s each), and on one 224x224 picture through VGG16 taking
[0, 1] input (``weights=None``: the same compute as with the ImageNet weights; target
< 15 s each, the page shows a progress bar). Medians of a few runs after one warm-up
(which traces the gradient functions).
"""

from __future__ import annotations

import numpy as np

from . import REPO_ROOT, SHARED_DATA
from .common import time_ms, timed_row

SMALL_TARGET_MS = 1000.0
VGG16_TARGET_MS = 15000.0


def _methods(model, x: np.ndarray, c: int, side: int) -> dict:
    from cnnlib.explain import attributions, gradcam, occlusion
    from cnnlib.probe import attacks
    from pages.probe_why import default_settings

    d = default_settings(side)
    return {
        "vanilla gradient": lambda: attributions.vanilla_gradient(model, x, c),
        f"SmoothGrad ({d['samples']} copies)": lambda: attributions.smoothgrad(
            model, x, c, samples=d["samples"]),
        f"integrated gradients ({d['steps']} steps)": lambda: attributions.integrated_gradients(
            model, x, c, steps=d["steps"]),
        f"occlusion ({d['patch']} px square, stride {d['stride']})": lambda: occlusion.occlusion(
            model, x, c, patch=d["patch"], stride=d["stride"]),
        "Grad-CAM": lambda: gradcam.gradcam(model, x[0], class_index=c),
        "FGSM": lambda: attacks.fgsm(model, x, [c], 8 / 255),
        "PGD (10 steps)": lambda: attacks.pgd(model, x, [c], 8 / 255, steps=10),
    }


def run(quick: bool = False) -> list[dict]:
    """Time every method on one image of each model; return the table rows."""
    from cnnlib import store
    from cnnlib.data import datasets
    from cnnlib.models import vgg16

    rows = []
    models = REPO_ROOT / "models"
    reps = 2 if quick else 5
    for name in ("mnist", "cifar10"):
        model = store.load_model(name, models_dir=models)
        data = datasets.load(name, SHARED_DATA if SHARED_DATA.exists() else None, n_train=10)
        x, c = datasets.to_float(data.x_test[:1]), int(data.y_test[0])
        for method, fn in _methods(model, x, c, x.shape[1]).items():
            t = time_ms(fn, repeats=reps, warmup=1)
            rows.append(timed_row(f"{method}: one {name} test image (bundled model)", t,
                                  target=f"< {SMALL_TARGET_MS:.0f} ms",
                                  ok=t["median_ms"] < SMALL_TARGET_MS))
    net = vgg16.build_unit_input(weights=None)
    photo = np.random.default_rng(0).uniform(0, 1, (1, 224, 224, 3)).astype(np.float32)
    for method, fn in _methods(net, photo, 3, 224).items():
        t = time_ms(fn, repeats=1, warmup=1)
        rows.append(timed_row(f"{method}: one 224x224 picture through VGG16", t,
                              target=f"< {VGG16_TARGET_MS / 1000:.0f} s",
                              ok=t["median_ms"] < VGG16_TARGET_MS))
    return rows
