"""normalize_avatar, the one avatar normaliser: any accepted format in, a centred square PNG out,
or InvalidOutput with a reason."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tui_updater.errors import InvalidOutput
from tui_updater.tasks.avatar import normalize_avatar


def encoded(image: Image.Image, image_format: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=image_format)
    return out.getvalue()


@pytest.mark.parametrize(
    ("mode", "size", "image_format"),
    [("RGB", (300, 200), "JPEG"), ("RGBA", (200, 300), "PNG"), ("L", (100, 100), "PNG"),
     ("RGB", (640, 480), "WEBP"), ("P", (90, 60), "GIF")],
)  # fmt: skip
def test_converts_crops_and_resizes(mode: str, size: tuple[int, int], image_format: str) -> None:
    result = Image.open(
        io.BytesIO(normalize_avatar(encoded(Image.new(mode, size), image_format), 128))
    )
    assert (result.format, result.size, result.mode) == ("PNG", (128, 128), "RGBA")


def test_crop_is_centred() -> None:
    image = Image.new("RGB", (300, 100), (255, 0, 0))
    image.paste((0, 0, 255), (100, 0, 200, 100))  # blue centre square
    result = Image.open(io.BytesIO(normalize_avatar(encoded(image, "PNG"), 10))).convert("RGB")
    assert result.getpixel((5, 5)) == (0, 0, 255)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"", "empty"),
        (b"<html>nope</html>", "not a usable image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "not a usable image|corrupt"),
        (encoded(Image.new("RGB", (200, 200), (10, 20, 30)), "JPEG")[:400], "corrupt|not a usable"),
        (encoded(Image.new("RGB", (64, 64)), "TIFF"), "unsupported image format TIFF"),
        (encoded(Image.new("RGB", (8, 8)), "PNG"), "too small"),
    ],
)
def test_refuses_what_is_not_a_usable_image(raw: bytes, match: str) -> None:
    with pytest.raises(InvalidOutput, match=match):
        normalize_avatar(raw, 64)


def test_refuses_decompression_bombs_before_decoding() -> None:
    raw = encoded(Image.new("1", (8000, 8000)), "PNG")  # a small file of 64 M pixels
    with pytest.raises(InvalidOutput, match="too large"):
        normalize_avatar(raw, 64)
