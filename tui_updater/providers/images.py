"""Checking and normalising avatar images: verified, square, resized, PNG."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from tui_updater.errors import InvalidOutput

MAX_IMAGE_PIXELS = 40_000_000  # ~6300×6300; anything bigger is refused as a decompression bomb
ALLOWED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF", "BMP"})


def _open_checked(raw: bytes) -> Image.Image:
    """Open ``raw`` as an image after verifying it, refusing decompression bombs."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(raw)) as probe:
                image_format = probe.format or "?"
                width, height = probe.size
                probe.verify()
        except (
            UnidentifiedImageError,
            Image.DecompressionBombError,
            Image.DecompressionBombWarning,
        ) as exc:
            raise InvalidOutput(f"the avatar is not a usable image: {exc}") from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise InvalidOutput(f"the avatar image is damaged: {exc}") from None
    if image_format not in ALLOWED_FORMATS:
        raise InvalidOutput(f"the avatar is a {image_format} image; expected PNG, JPEG or WebP")
    if width < 1 or height < 1 or width * height > MAX_IMAGE_PIXELS:
        raise InvalidOutput(f"the avatar is {width}×{height} pixels, outside the allowed size")
    image = Image.open(io.BytesIO(raw))
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidOutput(f"the avatar image is damaged: {exc}") from None
    return image


def normalise_avatar(raw: bytes, size_px: int, max_bytes: int) -> bytes:
    """``raw`` checked, converted to RGB(A), centre-cropped square, resized to ``size_px``, as PNG.

    Raises InvalidOutput with a readable reason when it is empty, too big or not an image.
    """
    if size_px < 1:
        raise ValueError("size_px must be positive")
    if not raw:
        raise InvalidOutput("the avatar image is empty")
    if len(raw) > max_bytes:
        raise InvalidOutput(
            f"the avatar image is {len(raw)} bytes, over the {max_bytes}-byte limit"
        )
    image = _open_checked(raw)
    image = ImageOps.exif_transpose(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    image = image.convert("RGBA" if has_alpha else "RGB")
    side = min(image.size)
    left = (image.width - side) // 2
    top = (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    if side != size_px:
        image = image.resize((size_px, size_px), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
