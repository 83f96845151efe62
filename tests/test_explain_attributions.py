"""Saliency maps, integrated gradients and occlusion on the bundled models and real
test images, each checked against a reference written here (a tf.GradientTape on the
model's own "logits" layer, a brute-force occlusion loop) or a property (completeness)."""

import numpy as np
import pytest

from cnnlib import store
from cnnlib.data import datasets
from cnnlib.explain import attributions, occlusion

N = 8


@pytest.fixture(scope="module", params=["mnist", "cifar10"])
def bundled(request):
    """(model, x float32 (N, H, W, C) in [0, 1], labels (N,)) of real test images."""
    model = store.load_model(request.param)
    data = datasets.load(request.param, n_train=10)
    return model, datasets.to_float(data.x_test[:N]), data.y_test[:N].astype(np.int64)


def logits_reference(model):
    """The bundled model's logits, read from its own "logits" layer (the zoo's head)."""
    import keras

    return keras.Model(model.inputs, model.get_layer("logits").output)


def test_vanilla_gradient_equals_a_gradient_tape_on_the_logits_layer(bundled):
    import tensorflow as tf

    model, x, y = bundled
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        z = logits_reference(model)(xt, training=False)
        score = tf.reduce_sum(z * tf.one_hot(y, z.shape[-1]))
    want = np.abs(tape.gradient(score, xt).numpy()).max(axis=-1)  # (N, H, W)
    got = attributions.vanilla_gradient(model, x, y)
    assert got.shape == x.shape[:3] and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6 * want.max())


def test_integrated_gradients_are_complete_at_64_steps(bundled):
    """Completeness (Sundararajan et al. 2017): each map sums to score(x) - score(0).
    Measured here (2-core VM): the error over the batch's total is < 0.3%, per image up
    to ~4% (the paper's rule: raise the steps while it is over 5%)."""
    model, x, y = bundled
    maps = attributions.integrated_gradients(model, x, y, baseline=0.0, steps=64)
    sums, diffs = attributions.completeness(model, x, y, maps, baseline=0.0)
    assert maps.shape == x.shape[:3]
    assert abs(sums.sum() - diffs.sum()) <= 0.01 * np.abs(diffs).sum()
    assert np.all(np.abs(sums - diffs) <= 0.05 * np.abs(diffs))


def test_integrated_gradients_converge_as_the_steps_grow(bundled):
    model, x, y = bundled
    x, y, errors = x[:4], y[:4], []
    for steps in (4, 96):
        sums, diffs = attributions.completeness(
            model, x, y, attributions.integrated_gradients(model, x, y, steps=steps))
        errors.append(np.abs(sums - diffs).sum())
    assert errors[1] < errors[0] / 2


def test_integrated_gradients_of_the_baseline_itself_are_zero(bundled):
    model, x, y = bundled
    maps = attributions.integrated_gradients(model, x[:2], y[:2], baseline=x[:2], steps=8)
    assert np.all(maps == 0)


def test_smoothgrad_without_noise_is_the_vanilla_gradient_and_with_noise_differs(bundled):
    model, x, y = bundled
    plain = attributions.vanilla_gradient(model, x[:2], y[:2])
    np.testing.assert_allclose(attributions.smoothgrad(model, x[:2], y[:2], samples=3, noise=0.0),
                               plain, rtol=1e-5, atol=1e-7)
    smooth = attributions.smoothgrad(model, x[:2], y[:2], samples=8, noise=0.15)
    assert smooth.shape == plain.shape and np.all(smooth >= 0)
    assert not np.allclose(smooth, plain)


def test_occlusion_equals_a_brute_force_loop_on_the_models_own_probabilities(bundled):
    model, x, y = bundled
    img, c, patch, stride = x[0], int(y[0]), 7, 5  # 5 does not divide the last position
    h, w = img.shape[:2]
    base = float(np.asarray(model(img[None], training=False))[0, c])  # the model ends in its softmax
    total, count = np.zeros((h, w)), np.zeros((h, w))
    rows = sorted({*range(0, h - patch + 1, stride), h - patch})
    cols = sorted({*range(0, w - patch + 1, stride), w - patch})
    for r in rows:
        for q in cols:
            covered = img.copy()
            covered[r:r + patch, q:q + patch] = 0.0
            drop = base - float(np.asarray(model(covered[None], training=False))[0, c])
            total[r:r + patch, q:q + patch] += drop
            count[r:r + patch, q:q + patch] += 1
    got = occlusion.occlusion(model, x[:1], c, patch=patch, stride=stride, fill=0.0)
    assert got.shape == (1, h, w) and np.all(count > 0)
    np.testing.assert_allclose(got[0], total / count, atol=2e-5)


def test_bad_arguments_get_a_sentence(bundled):
    model, x, y = bundled
    k = int(model.output_shape[-1])
    with pytest.raises(ValueError, match="Expected a batch of shape"):
        attributions.vanilla_gradient(model, x[0], y[0])
    with pytest.raises(ValueError, match=rf"Class indices must be in \[0, {k}\)"):
        attributions.vanilla_gradient(model, x, k)
    with pytest.raises(ValueError, match="Expected one class index or"):
        attributions.vanilla_gradient(model, x, [0, 1])
    with pytest.raises(ValueError, match="steps"):
        attributions.integrated_gradients(model, x, y, steps=0)
    with pytest.raises(ValueError, match="baseline does not fit"):
        attributions.integrated_gradients(model, x, y, baseline=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="patch"):
        occlusion.occlusion(model, x[:1], 0, patch=x.shape[1] + 1)
