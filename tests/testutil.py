"""Constants and markers shared by the tests (imported as ``from testutil import ...``)."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = (REPO.parent / "shared" / "datasets").resolve()

requires_shared_data = pytest.mark.skipif(
    not (SHARED_DATA / "mnist.npz").exists(),
    reason=f"real data not found at {SHARED_DATA}",
)


def tiny_config(**overrides):
    """A 1-epoch MNIST run on 320 real images (288 train, 32 validation, 9 batches of 32)."""
    from cnnlib.training import config

    base = dict(dataset="mnist", arch="mnist_cnn", epochs=1, batch_size=32, n_train=320,
                n_test=64, validation_split=0.1)
    base.update(overrides)
    return config.TrainConfig(**base)


def tiny_classifier(k: int = 3):
    """A "logistic" zoo model of (8, 8, 1) images and ``k`` classes: ``8*8*k + k``
    parameters, a model whose size tells which one was saved (store tests)."""
    from cnnlib.models import zoo

    return zoo.build("logistic", (8, 8, 1), k)
