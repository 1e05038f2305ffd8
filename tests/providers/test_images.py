"""normalise_avatar: verified, square, resized PNG, or InvalidOutput with a reason."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tui_updater.errors import InvalidOutput
from tui_updater.providers.images import normalise_avatar


def encoded(image: Image.Image, image_format: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=image_format)
    return out.getvalue()


@pytest.mark.parametrize(
    ("mode", "size", "image_format", "expected_mode"),
    [
        ("RGB", (300, 200), "JPEG", "RGB"),
        ("RGBA", (200, 300), "PNG", "RGBA"),
        ("L", (100, 100), "PNG", "RGB"),
        ("RGB", (640, 480), "WEBP", "RGB"),
    ],
)
def test_converts_crops_and_resizes(
    mode: str, size: tuple[int, int], image_format: str, expected_mode: str
) -> None:
    raw = encoded(Image.new(mode, size), image_format)
    result = Image.open(io.BytesIO(normalise_avatar(raw, 128, 10_000_000)))
    assert result.format == "PNG"
    assert result.size == (128, 128)
    assert result.mode == expected_mode


def test_crop_is_centred() -> None:
    image = Image.new("RGB", (300, 100), (255, 0, 0))
    image.paste((0, 0, 255), (100, 0, 200, 100))  # blue centre square
    result = Image.open(io.BytesIO(normalise_avatar(encoded(image, "PNG"), 10, 1_000_000))).convert(
        "RGB"
    )
    assert result.getpixel((5, 5)) == (0, 0, 255)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"", "empty"),
        (b"<html>nope</html>", "not a usable image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "not a usable image|damaged"),
    ],
)
def test_refuses_non_images(raw: bytes, match: str) -> None:
    with pytest.raises(InvalidOutput, match=match):
        normalise_avatar(raw, 64, 1_000_000)


def test_refuses_oversize_bytes() -> None:
    raw = encoded(Image.new("RGB", (64, 64)), "PNG")
    with pytest.raises(InvalidOutput, match="over the 10-byte limit"):
        normalise_avatar(raw, 64, 10)


def test_refuses_decompression_bombs() -> None:
    raw = encoded(Image.new("1", (8000, 8000)), "PNG")  # small file, 64 M pixels
    with pytest.raises(InvalidOutput, match=r"pixels|not a usable image"):
        normalise_avatar(raw, 64, 10_000_000)


def test_truncated_image_is_refused() -> None:
    raw = encoded(Image.new("RGB", (200, 200), (10, 20, 30)), "JPEG")
    with pytest.raises(InvalidOutput):
        normalise_avatar(raw[: len(raw) // 2], 64, 1_000_000)
