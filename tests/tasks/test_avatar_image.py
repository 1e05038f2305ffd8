"""normalize_avatar, the one avatar normaliser: any accepted format in, a centred square PNG out,
or InvalidOutput saying what was wrong; decoded reduced, a bounded number at a time."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tui_updater.errors import InvalidOutput
from tui_updater.tasks.avatar_image import DECODE_CONCURRENCY, _decode_reduced, normalize_avatar


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
        (b"<html>nope</html>", r"not an image \(got text/html, 17 bytes\)"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "not an image|corrupt"),
        (encoded(Image.new("RGB", (200, 200), (10, 20, 30)), "JPEG")[:400], "corrupt|not an image"),
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


@pytest.mark.parametrize(
    ("raw", "described"),
    [
        (b"<!DOCTYPE html><html>" + b"x" * 1200, "text/html, 1.2 kB"),
        (b'{"error": {"message": "no"}}', "JSON, 28 bytes"),
        (b"just words", "text, 10 bytes"),
        (bytes(range(256)) * 8, "binary data, 2.0 kB"),
    ],
)
def test_errors_say_what_arrived_instead(raw: bytes, described: str) -> None:
    with pytest.raises(InvalidOutput) as caught:
        normalize_avatar(raw, 64)
    assert str(caught.value) == f"not an image (got {described})"
    assert "BytesIO" not in str(caught.value)


@pytest.mark.parametrize(
    ("size", "image_format"), [((4000, 3000), "JPEG"), ((3000, 3000), "PNG"), ((2000, 900), "WEBP")]
)
def test_large_images_are_decoded_reduced(size: tuple[int, int], image_format: str) -> None:
    raw = encoded(Image.new("RGB", size, (200, 10, 10)), image_format)
    with Image.open(io.BytesIO(raw)) as source:
        reduced = _decode_reduced(source, 64)
    assert 64 <= min(reduced.size) < 2 * 64  # never carried at full size past the decode
    result = Image.open(io.BytesIO(normalize_avatar(raw, 64)))
    assert result.size == (64, 64)


def test_exif_orientation_is_applied_after_reducing() -> None:
    image = Image.new("RGB", (400, 200), (255, 0, 0))
    image.paste((0, 0, 255), (0, 0, 200, 200))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90° clockwise: the blue half ends on top
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    result = Image.open(io.BytesIO(normalize_avatar(out.getvalue(), 32))).convert("RGB")
    top, bottom = result.getpixel((20, 4)), result.getpixel((20, 28))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[2] > 200 > top[0] and bottom[0] > 200 > bottom[2], (top, bottom)


_SIX_AT_ONCE = """
import resource, sys, threading
from tui_updater.tasks.avatar_image import normalize_avatar
raw = open(sys.argv[1], "rb").read()
errors = []
def run():
    try:
        normalize_avatar(raw, 256)
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=run) for _ in range(6)]
for thread in threads: thread.start()
for thread in threads: thread.join()
print(json.dumps({"peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "errors": errors}))
""".replace("import resource", "import json, resource")


def test_six_huge_decodes_at_once_stay_within_a_bounded_peak(tmp_path: Path) -> None:
    # 4000x4000 px in a few kB: 64 MB per full-size decode. Six at once unbounded (main's
    # decoder: full size, then RGBA copies) peaked past 1 GB; two slots keep it near 2 x 64 MB.
    path = tmp_path / "huge.png"
    Image.new("RGB", (4000, 4000), (30, 60, 90)).save(path, format="PNG")
    assert path.stat().st_size < 200_000
    child = subprocess.run(
        [sys.executable, "-c", _SIX_AT_ONCE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    report = json.loads(child.stdout)
    assert report["errors"] == []
    peak_mb = report["peak_kb"] / 1024
    # Interpreter + Pillow, plus the slots with room for the allocator's per-thread arenas (peaks
    # of 300-370 MB were seen): still far below the unbounded decoder's 1.1 GB.
    budget_mb = 120 + DECODE_CONCURRENCY * 64 * 3
    assert peak_mb < budget_mb, f"peak RSS {peak_mb:.0f} MB over the {budget_mb:.0f} MB budget"
