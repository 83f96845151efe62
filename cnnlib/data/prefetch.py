"""Fill the Keras cache so that CNN Studio runs without a network.

``python -m cnnlib prefetch`` downloads each dataset with
``keras.datasets.<name>.load_data()`` (into ``~/.keras/datasets``) and, with
``--vgg16``, the VGG16 ImageNet weights (528 MB) and the ImageNet class index
into ``~/.keras/models``, the places Keras itself reads from. Keras prints a
progress bar for each download and checks each file's hash.
"""

from __future__ import annotations

import sys

#: The VGG16 files as keras.applications.vgg16 and imagenet_utils name them.
VGG16_WEIGHTS = {
    "fname": "vgg16_weights_tf_dim_ordering_tf_kernels.h5",
    "origin": "https://storage.googleapis.com/tensorflow/keras-applications/"
              "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
    "file_hash": "64373286793e3c8b2b4e3219cbf3544b",
    "size_mb": 528,
}
IMAGENET_CLASS_INDEX = {
    "fname": "imagenet_class_index.json",
    "origin": "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json",
    "file_hash": "c2c37ea517e94d9795004a39431a14cb",
    "size_mb": 0.04,
}


def main(datasets=("mnist", "fashion_mnist", "cifar10"), vgg16: bool = False) -> int:
    """Download what is asked; print one line per item. Returns 0 if all succeeded."""
    import keras

    failures = 0
    for name in datasets:
        print(f"dataset {name}: ", end="", flush=True)
        try:
            getattr(keras.datasets, name).load_data()
            print("ok")
        except Exception as e:  # network errors come in many types
            failures += 1
            print(f"FAILED ({type(e).__name__}: {e})")
    if vgg16:
        for item in (VGG16_WEIGHTS, IMAGENET_CLASS_INDEX):
            print(f"{item['fname']} ({item['size_mb']} MB): ", flush=True)
            try:
                path = keras.utils.get_file(item["fname"], item["origin"], cache_subdir="models",
                                            file_hash=item["file_hash"])
                print(f"  ok: {path}")
            except Exception as e:
                failures += 1
                print(f"  FAILED ({type(e).__name__}: {e})")
    if failures:
        print(f"{failures} download(s) failed: check the internet connection and run again.",
              file=sys.stderr)
    return 1 if failures else 0
