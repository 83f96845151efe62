"""Inside the network's input for a model of someone's own pictures: an uploaded photo
is made as the own datasets' pictures are (the one function that makes them,
:func:`cnnlib.owndata.pictures.square`), not squashed."""

import numpy as np

from cnnlib.data.datasets import to_float
from cnnlib.network import inputs
from cnnlib.owndata import pictures


def photo(h=60, w=90) -> np.ndarray:
    """A non-square uint8 RGB photo whose ends differ from its centre (a squash would
    bring the ends in, a centre square leaves them out)."""
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    a[:, : w // 6] = (255, 0, 0)
    a[:, -w // 6:] = (0, 0, 255)
    return a


def test_an_own_model_gets_the_centre_square_of_its_dataset():
    rgb = photo()
    made = inputs.from_upload(rgb, (32, 32, 3), "own")
    expected = to_float(pictures.square(rgb, 32, gray=False))[None]  # (1, 32, 32, 3)
    assert made.x.shape == (1, 32, 32, 3) and made.x.dtype == np.float32
    np.testing.assert_array_equal(made.x, expected)
    np.testing.assert_array_equal(made.picture, expected[0])
    assert [t for t, _ in made.steps] == ["Your picture", "Centre square, 32x32"]
    squashed = inputs.from_upload(rgb, (32, 32, 3), "plain")
    assert not np.allclose(squashed.x, made.x)  # the red and blue ends are squashed in


def test_a_gray_own_model_gets_the_gray_square():
    rgb = photo()
    gray = inputs.from_upload(rgb, (16, 16, 1), "own")
    np.testing.assert_array_equal(gray.x[0], to_float(pictures.square(rgb, 16, gray=True)))
    assert gray.picture.shape == (16, 16)


def test_the_style_of_an_own_dataset():
    assert inputs.upload_style("own:pens") == "own"
    assert inputs.upload_style("own:pens", vgg16=True) == "vgg16"
    assert inputs.upload_style("cifar10") == "plain"
