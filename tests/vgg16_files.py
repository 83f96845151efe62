"""Test helper (not a test module): VGG16 weights files written the way the
official file is, so that loading them takes Keras's legacy ``.h5`` path
(``model.load_weights`` of a ``.h5`` that is not ``.weights.h5``)."""

from pathlib import Path

import numpy as np

from cnnlib.data import prefetch
from cnnlib.models import vgg16


def write_keras2_h5_weights(model, path: Path) -> Path:
    """Write ``model``'s weights to ``path`` in the Keras 2 HDF5 weights layout
    (the official VGG16 file's), with h5py only.

    The layout: the root's ``layer_names`` attribute lists every layer in
    order; one group per layer holds a ``weight_names`` attribute and one
    dataset per weight, trainable weights first (the order the legacy loader
    assigns them in). Keras matches layers by position, not by name.
    """
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([layer.name.encode("utf8") for layer in model.layers])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for layer in model.layers:
            group = f.create_group(layer.name)
            weights = layer.trainable_weights + layer.non_trainable_weights
            names = [f"{layer.name}/{w.name}:0".encode("utf8") for w in weights]
            group.attrs["weight_names"] = np.array(names, dtype="S")  # (0,) for no weights
            for name, w in zip(names, weights):
                group.create_dataset(name.decode("utf8"), data=np.asarray(w))
    return Path(path)


def save_legacy_weights(model, folder: Path) -> Path:
    """Write ``model``'s weights as ``<folder>/vgg16_weights_tf_dim_ordering_tf_kernels.h5``
    in the Keras 2 HDF5 layout of the official file (about 528 MB)."""
    return write_keras2_h5_weights(model, Path(folder) / prefetch.VGG16_WEIGHTS["fname"])


def random_weights_file(folder: Path) -> Path:
    """A weights file of a randomly initialised VGG16 (no download needed)."""
    model = vgg16.build(weights=None)
    try:
        return save_legacy_weights(model, folder)
    finally:
        del model
