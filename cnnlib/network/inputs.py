"""A picture made into the input a model expects, with a picture of it to draw on.

Every preparation returns a :class:`PreparedInput`: the array the model takes
and a picture aligned with it pixel for pixel (the receptive fields are drawn
on it), with the steps in between for display. The steps reuse the project's
own: :func:`cnnlib.data.datasets.to_float` for dataset images, MNIST's recipe
(:func:`cnnlib.data.preprocess.preprocess_canvas`) for a photo of a digit,
:func:`cnnlib.models.vgg16.preprocess_steps` for VGG16, the own datasets' centre
square (:func:`cnnlib.owndata.pictures.square`) for a model trained on one, and
:func:`prepare_image` (gray or RGB, resized) otherwise.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from cnnlib.data.datasets import to_float
from cnnlib.data.images import to_gray

#: How an uploaded picture is prepared: by the model's dataset (see :func:`upload_style`).
STYLES = ("vgg16", "mnist", "fashion_mnist", "own", "plain")


@dataclasses.dataclass(frozen=True)
class PreparedInput:
    """One input for a model.

    Attributes:
        x: float32 ``(1, H, W, C)``, what the model takes.
        picture: float32 ``(H, W)`` or ``(H, W, 3)`` in [0, 1], the same pixels to look at
            (for VGG16 the RGB crop, not the mean-subtracted BGR values).
        steps: ``(title, image)`` pairs from the original picture to ``picture``
            (empty when there is nothing to show); images uint8 or float in [0, 1].
    """

    x: np.ndarray
    picture: np.ndarray
    steps: tuple = ()


def prepare_image(image, input_shape) -> np.ndarray:
    """Fit an image to a model input.

    Args:
        image: float ``(H, W)`` or ``(H, W, 3)`` in [0, 1].
        input_shape: the model's ``(H, W, C)`` (``C`` 1 or 3).

    Returns:
        float32 ``(1, H_m, W_m, C)`` in [0, 1]: converted to grayscale or
        repeated to RGB as ``C`` asks, resized bilinearly (with antialiasing)
        to the model's size.
    """
    import keras

    h, w, c = (int(v) for v in input_shape[-3:])
    x = np.asarray(image, dtype=np.float32)
    x = to_gray(x)[..., None] if c == 1 else (np.repeat(x[..., None], 3, axis=-1) if x.ndim == 2 else x)
    if x.shape[:2] != (h, w):
        x = np.asarray(keras.ops.image.resize(x[None], (h, w), interpolation="bilinear",
                                              antialias=True))[0]
    return np.clip(x, 0.0, 1.0)[None].astype(np.float32)


def _view(x: np.ndarray) -> np.ndarray:
    """``x[0]`` as a picture: ``(H, W)`` for one channel."""
    return x[0, ..., 0] if x.shape[-1] == 1 else x[0]


def from_dataset(image: np.ndarray, input_shape) -> PreparedInput:
    """A dataset image (uint8 ``(H, W, C)``) for a model taking ``input_shape`` ``(H, W, C)``:
    scaled to [0, 1]; converted and resized only if the model takes another shape."""
    x = to_float(np.asarray(image))
    if tuple(x.shape) != tuple(input_shape):
        x = prepare_image(x[..., 0] if x.shape[-1] == 1 else x, input_shape)[0]
    x = x[None].astype(np.float32)
    return PreparedInput(x, _view(x))


def from_picture(picture: np.ndarray, input_shape) -> PreparedInput:
    """A float picture in [0, 1] (``(H, W)`` or ``(H, W, 3)``, e.g. the digit drawn on
    Classify) fitted to ``input_shape`` by :func:`prepare_image`."""
    x = prepare_image(picture, input_shape)
    return PreparedInput(x, _view(x))


def upload_style(dataset: str | None, vgg16: bool = False) -> str:
    """The :data:`STYLES` entry for a model trained on ``dataset`` (a card's
    ``"dataset"``, ``"own:<name>"`` for an own dataset; None when unknown)."""
    if vgg16:
        return "vgg16"
    if isinstance(dataset, str) and dataset.startswith("own:"):
        return "own"
    if dataset == "mnist":
        return "mnist"
    return "fashion_mnist" if dataset == "fashion_mnist" else "plain"


def _light_on_dark(gray: np.ndarray) -> tuple[np.ndarray, bool]:
    """MNIST and Fashion-MNIST are light things on black: invert a picture whose
    background (its mean) is light. Returns the gray picture and whether it was inverted."""
    if float(gray.mean()) > 0.5:
        return 1.0 - gray, True
    return gray, False


def from_upload(rgb: np.ndarray, input_shape, style: str = "plain") -> PreparedInput:
    """An uploaded photo (uint8 ``(H, W, 3)``, :func:`cnnlib.data.images.decode_image`) made
    into the model's input.

    Styles: ``"vgg16"``: centre crop, 224 x 224, in [0, 1] for
    :func:`cnnlib.models.vgg16.build_unit_input` (the steps show its preprocessing too:
    BGR minus the ImageNet means, done by the model's first layer and block1_conv1);
    ``"mnist"``: grayscale, inverted if its background is light, then MNIST's
    recipe (crop to the ink, fit 20 x 20, centre of mass at the centre of 28 x 28);
    ``"fashion_mnist"``: grayscale, inverted if light, resized; ``"own"``: as an own
    dataset's pictures are made (:func:`cnnlib.owndata.pictures.square`: the centre
    square, resized with Lanczos to the model's side ``input_shape[0]``, gray if it
    takes one channel; a model of non-square input gets that square resized to its
    shape by :func:`prepare_image`);
    ``"plain"``: gray or RGB as the model takes, resized.

    Raises:
        ValueError: an unknown style, or (``"mnist"``) no ink in the picture; the
            message is a sentence.
    """
    rgb = np.asarray(rgb, dtype=np.uint8)
    if style == "vgg16":
        from cnnlib.models.vgg16 import preprocess_steps

        _, resized, steps = preprocess_steps(rgb, "center_crop")  # steps: as the model does them
        picture = to_float(resized)  # (224, 224, 3) in [0, 1]: build_unit_input's input
        return PreparedInput(picture[None], picture, tuple(steps))
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}. Received: style={style!r}")
    if style == "own":
        from cnnlib.owndata.pictures import square

        side = int(input_shape[0])
        picture = square(rgb, side, gray=int(input_shape[-1]) == 1)  # uint8 (side, side, C)
        made = from_dataset(picture, input_shape)
        return PreparedInput(made.x, made.picture,
                             (("Your picture", rgb), (f"Centre square, {side}x{side}", picture)))
    if style == "plain":
        x = prepare_image(to_float(rgb), input_shape)
        return PreparedInput(x, _view(x), (("Your picture", rgb),))
    gray, inverted = _light_on_dark(to_gray(rgb))
    steps = [("Your picture", rgb), ("Grayscale, inverted (light on dark, as the dataset)"
                                     if inverted else "Grayscale", gray)]
    if style == "mnist":
        from cnnlib.data.preprocess import preprocess_canvas

        made = preprocess_canvas(np.rint(gray * 255).astype(np.uint8))
        if made.image is None:
            raise ValueError("The picture has no dark-on-light or light-on-dark strokes to read as a "
                             "digit. Upload a photo of one digit.")
        steps += [(s.title, s.image) for s in made.steps[2:]]
        gray = made.image[..., 0]
    x = prepare_image(gray, input_shape)
    return PreparedInput(x, _view(x), tuple(steps))
