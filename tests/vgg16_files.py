"""Test helper (not a test module): VGG16 weights files written the way the
official file is, so that loading them takes Keras's legacy ``.h5`` path."""

from pathlib import Path

from cnnlib import prefetch, vgg16


def save_legacy_weights(model, folder: Path) -> Path:
    """Write ``model``'s weights as ``<folder>/vgg16_weights_tf_dim_ordering_tf_kernels.h5``
    in the Keras 2 HDF5 layout of the official file (about 528 MB)."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    path = Path(folder) / prefetch.VGG16_WEIGHTS["fname"]
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    return path


def random_weights_file(folder: Path) -> Path:
    """A weights file of a randomly initialised VGG16 (no download needed)."""
    model = vgg16.build(weights=None)
    try:
        return save_legacy_weights(model, folder)
    finally:
        del model
