"""One picture of an own dataset: untrusted bytes in, a small square uint8 PNG out.

Every picture goes through :func:`cnnlib.data.images.decode_image` (formats, pixel
count, decoding memory and file size bounded; EXIF orientation applied), then is
centre-cropped to a square, resized to the dataset's side with Lanczos
(``Image.resize(..., reducing_gap=2.0)``, as a thumbnail), made gray by the BT.601
luma of :func:`cnnlib.data.images.to_gray` where the dataset is gray, and stored as
an 8-bit PNG (``L`` or ``RGB``).
"""

from __future__ import annotations

import hashlib
import io
import re

import numpy as np

from cnnlib.data.images import ImageError, decode_image, to_gray
from cnnlib.owndata.errors import OwnDataError

#: The sides a dataset's pictures may have, pixels.
SIZES = (32, 64, 96)
MIN_CLASSES, MAX_CLASSES = 2, 10
#: A class with fewer pictures cannot be split for training.
MIN_PER_CLASS = 2
#: Dataset and class names: ASCII letters, digits, space, ``_``, ``-`` and ``.``, 1-40
#: characters, starting with a letter or digit and not ending with a space.
NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9 _.-]{0,38}[A-Za-z0-9_.-])?$")
#: The digits of a picture's id (the SHA-256 of its PNG file).
ID_HEX = 16


def validate_name(name, what: str = "A class name") -> str:
    """``name`` if it is a valid dataset or class name (:data:`NAME_RE`).

    Raises:
        OwnDataError: another name; the sentence says what a name may hold.
    """
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise OwnDataError(f"{what} uses 1-40 letters, digits, spaces, '_', '-' or '.', and starts "
                           f"with a letter or digit. Received: {name!r:.60}.")
    return name


def validate_classes(class_names) -> tuple[str, ...]:
    """The class names as a tuple, if there are 2-10 valid, distinct ones (distinct
    without regard to case: ``Cat`` and ``cat`` would share a folder on some disks).

    Raises:
        OwnDataError: too few or too many, a bad name or a repeated one.
    """
    names = tuple(class_names)
    if not MIN_CLASSES <= len(names) <= MAX_CLASSES:
        raise OwnDataError(f"A dataset has {MIN_CLASSES} to {MAX_CLASSES} classes. "
                           f"Received: {len(names)}.")
    for n in names:
        validate_name(n)
    lower = [n.lower() for n in names]
    for n in names:
        if lower.count(n.lower()) > 1:
            raise OwnDataError(f"Two classes are both named {n!r} (ignoring case); give each "
                               "class its own name.")
    return names


def validate_size(size) -> int:
    if isinstance(size, bool) or size not in SIZES:
        raise OwnDataError(f"A dataset's pictures are 32, 64 or 96 pixels a side. "
                           f"Received: size={size!r}.")
    return int(size)


def square(rgb: np.ndarray, size: int, gray: bool) -> np.ndarray:
    """The centre square of ``rgb`` resized to ``size`` a side.

    Args:
        rgb: uint8 ``(H, W, 3)``, values 0..255.
        size: the side of the result, pixels.
        gray: make it gray by luminance (:func:`cnnlib.data.images.to_gray`).

    Returns:
        uint8 ``(size, size, 1)`` if ``gray`` else ``(size, size, 3)``, values 0..255.
    """
    from PIL import Image

    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = np.ascontiguousarray(rgb[top:top + side, left:left + side])  # (side, side, 3)
    out = np.asarray(Image.fromarray(crop).resize((size, size), Image.Resampling.LANCZOS,
                                                  reducing_gap=2.0), dtype=np.uint8)
    if gray:
        return np.rint(to_gray(out) * 255).astype(np.uint8)[..., None]  # (size, size, 1)
    return out


def picture_from_bytes(data: bytes, size: int, gray: bool, label: str = "The picture") -> np.ndarray:
    """Decode untrusted picture bytes (an upload, a camera frame, a zip member) into a
    dataset picture.

    Args:
        data: the file's bytes.
        size: the dataset's side (:data:`SIZES`).
        gray: whether the dataset is gray.
        label: how the sentence names the picture (e.g. ``"cat/01.png in the zip"``).

    Returns:
        uint8 ``(size, size, C)``, ``C`` 1 or 3, values 0..255.

    Raises:
        OwnDataError: the bounded decoder refused it (not an image, corrupt, a picture
            bomb, too costly to decode, too large a file); its sentence follows ``label``.
    """
    try:
        decoded = decode_image(data)
    except ImageError as e:
        raise OwnDataError(f"{label} cannot be used: {e}") from None
    return square(decoded.array, size, gray)


def encode_png(picture: np.ndarray) -> bytes:
    """The PNG file of a uint8 ``(S, S, 1)`` or ``(S, S, 3)`` picture (mode ``L`` or ``RGB``)."""
    from PIL import Image

    img = Image.fromarray(picture[..., 0] if picture.shape[2] == 1 else picture)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def picture_id(png: bytes) -> str:
    """A picture's id: the first :data:`ID_HEX` hex digits of its PNG file's SHA-256
    (the same picture added twice to one class is kept once)."""
    return hashlib.sha256(png).hexdigest()[:ID_HEX]


def read_png(path, size: int, gray: bool) -> np.ndarray:
    """A stored picture back as uint8 ``(size, size, C)``.

    Raises:
        OwnDataError: the file is not a ``size`` x ``size`` PNG of the dataset's kind
            (changed by hand).
    """
    from PIL import Image

    try:
        with Image.open(path, formats=["PNG"]) as img:
            if img.size != (size, size):
                raise OwnDataError(f"The stored picture {path} is {img.size[0]}x{img.size[1]} "
                                   f"pixels, not {size}x{size}; remove it.")
            a = np.asarray(img.convert("L" if gray else "RGB"), dtype=np.uint8)
    except OwnDataError:
        raise
    except Exception as e:
        raise OwnDataError(f"The stored picture {path} cannot be read ({type(e).__name__}); "
                           "remove it.") from None
    return a[..., None] if gray else a
