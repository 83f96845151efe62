"""Fill the Keras cache so that CNN Studio runs without a network.

``python -m cnnlib prefetch`` downloads each dataset with
``keras.datasets.<name>.load_data()`` (into ``~/.keras/datasets``) and, with
``--vgg16``, the VGG16 ImageNet weights (528 MB) and the ImageNet class index
into ``~/.keras/models`` (``$KERAS_HOME/models``), the places Keras itself reads
from. Keras prints a progress bar for each dataset; the VGG16 files come through
:func:`download_file`, the one download path for them (the Classify page's
download button uses it too, via :func:`cnnlib.models.vgg16_files.download`),
which checks each file's MD5 hash as Keras does.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Callable

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


def download_file(item: dict, folder: Path,
                  progress: Callable[[int, int | None], None] | None = None,
                  timeout: float = 30.0) -> Path:
    """Download ``item`` (:data:`VGG16_WEIGHTS` or :data:`IMAGENET_CLASS_INDEX`) into
    ``folder``, checked against its MD5 ``file_hash`` (the hash Keras's ``get_file``
    checks for these files).

    The bytes go to ``<fname>.part`` first and are renamed to ``<fname>`` only once
    the hash matches, so a broken download never leaves a file that looks complete.

    Args:
        item: ``{"fname", "origin", "file_hash", "size_mb"}``.
        folder: where the file goes (created if missing).
        progress: called as ``progress(bytes_done, bytes_total or None)`` after each
            1 MiB chunk.
        timeout: seconds to wait for the server at each read.

    Returns:
        The path of the downloaded file.

    Raises:
        urllib.error.URLError, TimeoutError, OSError: the network or the disk failed.
        ValueError: the MD5 of the bytes differs from ``file_hash``.
        No file is left behind in any of these cases.
    """
    import urllib.request

    target = Path(folder) / item["fname"]
    part = target.with_name(target.name + ".part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        md5, done = hashlib.md5(), 0
        with urllib.request.urlopen(item["origin"], timeout=timeout) as r, open(part, "wb") as f:
            total = int(r.headers.get("Content-Length") or 0) or None
            while chunk := r.read(1 << 20):
                f.write(chunk)
                md5.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        if md5.hexdigest() != item["file_hash"]:
            raise ValueError(f"MD5 {md5.hexdigest()} differs from the expected {item['file_hash']}")
        part.replace(target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return target


def _print_progress(done: int, total: int | None) -> None:
    """A download's progress on one terminal line."""
    of = f" of {total / 2**20:.0f}" if total else ""
    print(f"\r  {done / 2**20:.0f}{of} MB", end="", flush=True)


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
        from cnnlib.keras_home import keras_home

        for item in (VGG16_WEIGHTS, IMAGENET_CLASS_INDEX):
            print(f"{item['fname']} ({item['size_mb']} MB): ", flush=True)
            try:
                path = download_file(item, keras_home() / "models", _print_progress)
                print(f"\n  ok: {path}")
            except Exception as e:
                failures += 1
                print(f"\n  FAILED ({type(e).__name__}: {e})")
    if failures:
        print(f"{failures} download(s) failed: check the internet connection and run again.",
              file=sys.stderr)
    return 1 if failures else 0
