"""A Keras model as TFLite and ONNX, each checked against Keras, in the calling process.

:func:`convert` converts a loaded model and checks both formats on test images
(:func:`test_images`: the run's own, read again from its config); a format that fails
is kept as the sentence why (:class:`Converted`), so that the other is still offered.
The server does this only in a limited child process (:mod:`cnnlib.export.child`);
the command line, on the person's own machine, calls it directly. The public names
are also :mod:`cnnlib.export.run_files`'s.
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: Within this ``max |keras - other|`` (probability units) a converted model "matches".
TOLERANCE = 1e-5
#: The formats, in the order they are made and shown.
FORMATS = ("TFLite", "ONNX")


@dataclasses.dataclass(frozen=True)
class Converted:
    """One format of a model, checked, or the reason it is missing.

    Attributes:
        fmt: ``"TFLite"`` or ``"ONNX"``.
        data: the file's bytes, or None when the conversion failed.
        max_difference: ``max |keras - converted|`` of the softmax outputs on the
            ``n_checked`` images (probability units, >= 0), or None when not converted.
        n_checked: how many images were compared.
        images: what they were: ``"test images"``, or ``"random images"`` when the
            model's test images could not be read.
        error: why there is no file (a sentence), or None.
        detail: the technical text behind ``error`` (a converter's message, a child's
            stderr), shown folded; "" when there is none.
        lasting: False for a failure that may pass on another try (the wall-clock limit
            on a loaded server, a child that ended unexpectedly): not to be cached.
    """

    fmt: str
    data: bytes | None
    max_difference: float | None = None
    n_checked: int = 0
    images: str = "test images"
    error: str | None = None
    detail: str = ""
    lasting: bool = True

    def check_sentence(self) -> str:
        """E.g. ``"ONNX outputs match Keras within 3e-07 on 64 test images."``."""
        if self.data is None:
            return f"No {self.fmt} file: {self.error}"
        verdict = ("match Keras within" if self.max_difference <= TOLERANCE
                   else "differ from Keras by up to")
        return (f"{self.fmt} outputs {verdict} {self.max_difference:.1g} on {self.n_checked} "
                f"{self.images}.")


@dataclasses.dataclass(frozen=True)
class ModelFiles:
    """The converted files of one model."""

    tflite: Converted
    onnx: Converted

    @property
    def lasting(self) -> bool:
        """Whether this result may be cached: no format failed in a way that may pass."""
        return self.tflite.lasting and self.onnx.lasting

    def files(self, stem: str) -> dict[str, bytes]:
        """``{file name: bytes}``: ``<stem>.tflite`` and ``<stem>.onnx``, those converted."""
        return {f"{stem}.{c.fmt.lower()}": c.data for c in (self.tflite, self.onnx)
                if c.data is not None}


def convert_one(fmt: str, model, images: np.ndarray, kind: str) -> Converted:
    """``model`` as ``fmt`` (one of :data:`FORMATS`), checked on ``images`` (float32
    ``(n, H, W, C)`` in [0, 1], what :func:`check_images` gives, ``kind`` its words); a
    converter's failure kept as its sentence (``RuntimeError``, ``ImportError``,
    ``ValueError``; other errors, ``MemoryError`` among them, propagate)."""
    from cnnlib.export import onnx_model, tflite

    to, check = {"TFLite": (tflite.to_tflite, tflite.max_difference),
                 "ONNX": (onnx_model.to_onnx, onnx_model.max_difference)}[fmt]
    try:
        data = to(model)
        return Converted(fmt, data, check(model, data, images), len(images), kind)
    except (RuntimeError, ImportError, ValueError) as e:  # ImportError: onnx(runtime) missing
        return Converted(fmt, None, error=str(e).rstrip(".") + ".")


def convert(model, images: np.ndarray | None, n_images: int = 64) -> ModelFiles:
    """Convert a Keras model to TFLite and ONNX and check both against it.

    Args:
        model: a built ``keras.Model`` with input float32 ``(N, H, W, C)`` in [0, 1].
        images: float32 ``(N, H, W, C)`` in [0, 1], the model's test images, ``N >= 1``;
            or None: ``n_images`` uniform random images (seed 0) instead, said so.
        n_images: at most this many images are compared, >= 1.

    Returns:
        A :class:`ModelFiles`; a format that failed holds the reason.

    Raises:
        ValueError: ``n_images < 1``, or images whose shape is not the model's input.
    """
    images, kind = check_images(model, images, n_images)
    return ModelFiles(*(convert_one(fmt, model, images, kind) for fmt in FORMATS))


def check_images(model, images: np.ndarray | None, n_images: int) -> tuple[np.ndarray, str]:
    """The images a conversion is checked on, and their words for the sentence.

    Args:
        model: a built ``keras.Model`` (its input shape, for random images).
        images: float32 ``(N, H, W, C)`` in [0, 1], or None (or empty): random ones.
        n_images: at most this many, >= 1.

    Returns:
        ``(images, kind)``: float32 ``(n, H, W, C)`` in [0, 1], ``n <= n_images``; and
        ``"test images"`` or ``"random images (the test images could not be read)"``
        (``n_images`` uniform random images, seed 0).

    Raises:
        ValueError: ``n_images < 1``.
    """
    if n_images < 1:
        raise ValueError(f"n_images must be at least 1. Received: n_images={n_images}")
    kind = "test images"
    if images is None or len(images) == 0:
        shape = tuple(int(d) for d in model.input_shape[1:])
        images = np.random.default_rng(0).random((n_images, *shape), dtype=np.float32)
        kind = "random images (the test images could not be read)"
    return np.asarray(images, np.float32)[:n_images], kind  # (n, H, W, C)


def test_images(config: dict, n_images: int = 64) -> np.ndarray | None:
    """The first ``n_images`` of the test images a run with ``config`` was evaluated on.

    Args:
        config: a ``TrainConfig.to_dict()`` (a run's, or a model card's ``config``): its
            ``dataset`` (an own one is read by its ``dataset_owner`` tag: the caller makes
            sure it is the person's own), ``data_dir``, ``n_test`` and ``seed``.
        n_images: how many, >= 1.

    Returns:
        float32 ``(n, H, W, C)`` in [0, 1], or None when the dataset cannot be read.
    """
    from cnnlib import owndata
    from cnnlib.data import datasets
    from cnnlib.training import engine
    from cnnlib.training.config import TrainConfig

    try:
        x, _, _ = engine.held_out_test(TrainConfig.from_dict(config))
    except (datasets.DatasetUnavailableError, *owndata.ERRORS, ValueError, TypeError, KeyError):
        return None
    return datasets.to_float(x[:n_images]) if len(x) else None  # (n, H, W, C) float32


