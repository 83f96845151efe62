"""The memory that decoding a picture takes, estimated from its header alone.

:func:`cnnlib.data.images.decode_image` asks :func:`decode_cost` before it lets
Pillow load the pixels, and refuses (with :func:`too_costly`'s sentence) a
picture whose decoding would take more than its budget.
"""

from __future__ import annotations

#: Pillow's WebP decoding takes ~13-15 bytes a pixel (measured): libwebp's canvases,
#: their copy as bytes, and Pillow's image.
WEBP_BYTES_PER_PIXEL = 16


def decode_cost(img, original_size: tuple[int, int]) -> int:
    """Bytes of memory that loading ``img`` takes, estimated from its header.

    The decoded pixels in Pillow's storage (:func:`bytes_per_pixel` of the
    mode it decodes to, at the size a JPEG draft gives), plus the decoder's
    own buffers where they are large: libwebp's canvases and their copy
    (:data:`WEBP_BYTES_PER_PIXEL` in all), and a progressive JPEG's DCT
    coefficients (2 bytes per sample of each component over the whole,
    unreduced image: libjpeg keeps them all until the last scan).

    Args:
        img: an opened, not yet loaded ``PIL.Image.Image`` (after any ``draft``).
        original_size: ``(width, height)`` in the file's header.
    """
    w, h = img.size
    if img.format == "WEBP":
        return w * h * WEBP_BYTES_PER_PIXEL
    cost = w * h * bytes_per_pixel(img.mode)
    if img.format in ("JPEG", "MPO") and img.info.get("progressive"):
        layers = getattr(img, "layer", None) or [("?", 1, 1, 0)] * 3
        h_max = max(c[1] for c in layers)
        v_max = max(c[2] for c in layers)
        samples = sum(c[1] * c[2] for c in layers) / (h_max * v_max)  # per pixel
        cost += int(2 * samples * original_size[0] * original_size[1])
    return cost


def bytes_per_pixel(mode: str) -> int:
    """Bytes a pixel of Pillow ``mode`` takes in memory: 1 for ``1``, ``L`` and
    ``P``; 2 for ``I;16*``; 4 for every other mode (``RGB`` included: Pillow
    stores it as 4 bytes)."""
    if mode in ("1", "L", "P"):
        return 1
    return 2 if mode.startswith("I;16") else 4


def decode_16_bit_gray_as_8_bit(img) -> None:
    """Make Pillow decode a 16-bit grayscale PNG straight to 8-bit ``L``.

    Each sample becomes its high byte (``v >> 8``, within 1 of ``v / 257``):
    half the memory of ``I;16``, and no float copy in :func:`cnnlib.data.images.to_rgb`. Pillow
    has no public switch for this (``Image.draft`` serves JPEG only); as its
    JPEG draft does, this sets the mode and the tile's raw mode before loading.
    """
    if (img.format == "PNG" and img.mode == "I;16" and len(img.tile) == 1
            and img.tile[0].args == "I;16B"):
        img._mode = "L"
        img.tile = [img.tile[0]._replace(args="L;16B")]


def too_costly(fmt: str, mode: str, size: tuple[int, int], cost: int, limit: int) -> str:
    """The sentence refusing a ``size`` ``(width, height)`` picture of ``fmt`` and ``mode``
    whose decoding would take ``cost`` bytes, more than ``limit``, with how far to downscale."""
    w, h = size
    fits = w * h * limit / cost / 1e6  # megapixels of this kind that would fit
    advice = f"Downscale it to about {fits:.0f} megapixels" if fits >= 1 else "Downscale it"
    if fmt not in ("JPEG", "MPO"):
        advice += " or save it as a JPEG (decoded at a reduced scale)"
    return (f"The {w}x{h} {mode} {fmt} would take about {cost / 1e6:.0f} MB of the server's "
            f"memory to decode; one picture may take {limit / 1e6:.0f} MB. {advice}.")
