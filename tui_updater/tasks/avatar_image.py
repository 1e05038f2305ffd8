"""Decoding an untrusted avatar image into a square PNG within a fixed memory budget.

The header is read first (``Image.open`` is lazy): format, size and pixel count are checked
before a single pixel is decoded. JPEG is decoded already scaled down (``draft``: the decoder
skips the detail); other formats are decoded once at full size and box-reduced at once, so the
full-size copy is the only large one and lives for one step. Every decode runs on one of
``DECODE_CONCURRENCY`` threads of the process, whichever task asks: a full-size decode of the
largest accepted image is ``MAX_SOURCE_PIXELS`` × 4 bytes, and the allocator keeps what a
thread freed for that thread, so fewer threads also means less memory held after the decode
(six decodes of 4000×4000 px at once: 1156 MB peak before, 142 MB with two threads).
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

from PIL import Image, ImageOps, UnidentifiedImageError

from tui_updater.errors import InvalidOutput

MAX_SOURCE_PIXELS = 40_000_000  # 160 MB while decoded at full size
MIN_SOURCE_SIDE_PX = 16
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF"})
DECODE_CONCURRENCY = 2
_DECODERS = ThreadPoolExecutor(DECODE_CONCURRENCY, thread_name_prefix="avatar-decode")
_ORIENTATION_TAG = 0x0112
_TRANSPOSES = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def describe_payload(data: bytes) -> str:
    """What ``data`` looks like, for an error message: ``text/html, 1.2 kB``."""
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        kind = "text/html"
    elif head.startswith((b"{", b"[")):
        kind = "JSON"
    elif head.startswith(b"<"):
        kind = "XML or HTML"
    else:
        try:
            text = data[:512].decode("utf-8")
        except UnicodeDecodeError:
            kind = "binary data"
        else:
            kind = "text" if text.isprintable() or text.strip().isprintable() else "binary data"
    return f"{kind}, {_size_text(len(data))}"


def _size_text(size_bytes: int) -> str:
    if size_bytes < 1000:
        return f"{size_bytes} bytes"
    if size_bytes < 1_000_000:
        return f"{size_bytes / 1000:.1f} kB"
    return f"{size_bytes / 1_000_000:.1f} MB"


def _decode_reduced(source: Image.Image, size_px: int) -> Image.Image:
    """``source`` decoded with its short side at least ``size_px`` (and not much more)."""
    width, height = source.size
    short = min(width, height)
    if source.format == "JPEG" and short > size_px:
        scale = size_px / short
        source.draft(source.mode, (max(1, int(width * scale)), max(1, int(height * scale))))
    source.load()
    image: Image.Image = source
    factor = min(image.size) // size_px
    if factor >= 2:
        image = image.reduce(factor)
    return image


def normalize_avatar(data: bytes, size_px: int, *, max_pixels: int = MAX_SOURCE_PIXELS) -> bytes:
    """A centred square RGBA PNG of ``size_px`` from image bytes; InvalidOutput saying what is
    wrong with them otherwise. Blocks until a decoder thread is free (call it off the loop)."""
    return _DECODERS.submit(_normalize, data, size_px, max_pixels).result()


def _normalize(data: bytes, size_px: int, max_pixels: int) -> bytes:
    if not data:
        raise InvalidOutput("the image is empty")
    try:
        with Image.open(io.BytesIO(data)) as source:
            if source.format not in ACCEPTED_FORMATS:
                raise InvalidOutput(
                    f"unsupported image format {source.format} ({_size_text(len(data))}); "
                    f"accepted: {', '.join(sorted(ACCEPTED_FORMATS))}"
                )
            width, height = source.size
            if width * height > max_pixels:
                raise InvalidOutput(
                    f"image too large ({width}x{height} px {source.format} in "
                    f"{_size_text(len(data))}; the limit is {max_pixels:,} pixels)"
                )
            if min(width, height) < MIN_SOURCE_SIDE_PX:
                raise InvalidOutput(f"image too small ({width}x{height} px)")
            orientation = source.getexif().get(_ORIENTATION_TAG)
            image = _decode_reduced(source, size_px)
    except Image.DecompressionBombError as exc:
        raise InvalidOutput(f"image too large ({_size_text(len(data))}): {exc}") from None
    except UnidentifiedImageError:
        raise InvalidOutput(f"not an image (got {describe_payload(data)})") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidOutput(f"corrupt image ({_size_text(len(data))}): {exc}") from None
    transpose = _TRANSPOSES.get(orientation) if isinstance(orientation, int) else None
    if transpose is not None:
        image = image.transpose(transpose)
    square = ImageOps.fit(
        image.convert("RGBA"), (size_px, size_px), method=Image.Resampling.LANCZOS
    )
    out = io.BytesIO()
    square.save(out, format="PNG")
    return out.getvalue()
