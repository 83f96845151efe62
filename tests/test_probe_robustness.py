"""The changes of a robustness curve against numpy references (a 90-degree rotation is
np.rot90, a whole-pixel shift is a slice, a blur is a brute-force convolution), their
identity at level 0, and the curves of the bundled MNIST model on real test digits."""

import numpy as np
import pytest

from cnnlib import store
from cnnlib.data import datasets
from cnnlib.probe import attacks, corruptions, robustness


@pytest.fixture(scope="module")
def digits():
    data = datasets.load("mnist", n_train=10)
    return datasets.to_float(data.x_test[:48]), data.y_test[:48].astype(np.int64)


@pytest.mark.parametrize("name", list(corruptions.CORRUPTIONS))
def test_every_change_is_the_identity_at_level_zero_and_stays_in_range(name):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (3, 12, 12, 2)).astype(np.float32)
    np.testing.assert_array_equal(corruptions.apply(name, x, 0.0), x)
    top = corruptions.CORRUPTIONS[name][2][-1]
    out = corruptions.apply(name, x, top)
    assert out.shape == x.shape and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0 and not np.array_equal(out, x)


def test_a_quarter_turn_is_rot90_and_a_whole_pixel_shift_is_a_slice():
    x = np.random.default_rng(1).uniform(0, 1, (2, 9, 9, 1)).astype(np.float32)
    np.testing.assert_allclose(corruptions.apply("rotation", x, 90), np.rot90(x, 1, axes=(1, 2)),
                               atol=1e-5)
    shifted = corruptions.apply("shift", x, 2 / 9)  # 2 pixels right and down
    np.testing.assert_allclose(shifted[:, 2:, 2:], x[:, :-2, :-2], atol=1e-5)
    np.testing.assert_allclose(shifted[:, 0, 2:], x[:, 0, :-2], atol=1e-5)  # edge repeated


def test_blur_is_a_convolution_with_a_normalised_gaussian():
    x = np.random.default_rng(2).uniform(0, 1, (1, 10, 11, 1)).astype(np.float32)
    k = corruptions.gaussian_kernel(1.2)
    assert abs(k.sum() - 1) < 1e-12 and len(k) == 2 * 4 + 1
    r = len(k) // 2
    padded = np.pad(x[0, :, :, 0].astype(np.float64), r, mode="edge")
    want = np.zeros((10, 11))
    for i in range(10):
        for j in range(11):
            want[i, j] = np.sum(np.outer(k, k) * padded[i:i + 2 * r + 1, j:j + 2 * r + 1])
    np.testing.assert_allclose(corruptions.apply("blur", x, 1.2)[0, :, :, 0], want, atol=1e-6)


def test_full_contrast_loss_is_each_images_mean_and_the_square_has_its_side():
    x = np.random.default_rng(3).uniform(0, 1, (2, 10, 10, 3)).astype(np.float32)
    flat = corruptions.apply("contrast", x, 1.0)
    np.testing.assert_allclose(flat, np.broadcast_to(x.mean(axis=(1, 2, 3), keepdims=True), x.shape),
                               atol=1e-6)
    covered = corruptions.apply("occlusion", x + 0.01, 0.3)  # a 3x3 black square
    assert np.all((covered == 0).all(axis=-1).sum(axis=(1, 2)) == 9)


def test_bad_levels_get_a_sentence():
    x = np.zeros((1, 4, 4, 1), np.float32)
    with pytest.raises(ValueError, match="Unknown change"):
        corruptions.apply("melt", x, 1)
    with pytest.raises(ValueError, match="contrast level must be in"):
        corruptions.apply("contrast", x, 2)
    with pytest.raises(ValueError, match="blur level must be in"):
        corruptions.apply("blur", x, float("nan"))


def test_curves_of_the_bundled_mnist_model_start_at_its_plain_accuracy(digits):
    model = store.load_model("mnist")
    x, y = digits
    plain = float(np.mean(np.asarray(model(x, training=False)).argmax(-1) == y))  # a direct call
    seen = []
    for change in ("rotation", "noise", "occlusion"):
        c = robustness.curve(model, x, y, change, progress=seen.append)
        assert c.levels[0] == 0 and c.accuracy[0] == pytest.approx(plain)
        assert c.per_class.shape == (len(c.levels), 10) and c.n == len(y)
        assert c.accuracy[-1] < c.accuracy[0]  # the largest change costs accuracy
        # the overall accuracy is the per-class accuracies weighted by class counts
        counts = np.bincount(y, minlength=10)
        np.testing.assert_allclose(np.nansum(c.per_class * counts, axis=1) / len(y), c.accuracy)
    assert seen[-1] == 1.0
    f = robustness.fgsm_curve(model, x, y, epsilons=(0.0, 0.1, 0.25))
    assert f.accuracy[0] == pytest.approx(plain) and f.accuracy[2] < 0.5 * plain
    adv = attacks.fgsm(model, x, y, 0.1)
    assert f.accuracy[1] == pytest.approx(np.mean(attacks.predict(model, adv) == y))
