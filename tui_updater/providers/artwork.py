"""Procedural offline avatars: MBTI-group colours, hash-derived shapes, the name's initial."""

from __future__ import annotations

import functools
import hashlib
import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from tui_updater.providers.base import mbti_group
from tui_updater.providers.language import cjk_count


def stable_hash(text: str) -> int:
    """A hash that is the same in every process (unlike ``hash()``), for avatar shapes."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


# (top colour, bottom colour) per MBTI group: Analysts purple, Diplomats green,
# Sentinels blue, Explorers yellow, unknown grey.
GROUP_COLOURS: dict[str | None, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "Analysts": ((136, 97, 167), (74, 48, 110)),
    "Diplomats": ((51, 164, 116), (24, 100, 72)),
    "Sentinels": ((66, 152, 180), (34, 86, 132)),
    "Explorers": ((228, 174, 58), (190, 120, 30)),
    None: ((140, 140, 148), (84, 84, 92)),
}

CJK_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
CJK_FONT_HINTS = (
    "notosanscjk",
    "notoserifcjk",
    "sourcehansans",
    "wqy",
    "droidsansfallback",
    "ukai",
    "uming",
)
LATIN_FONT_PATHS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
)

FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.cache
def find_cjk_font() -> Path | None:
    """A font file able to draw Chinese, if the system has one (searched once)."""
    candidates: list[Path] = []
    for directory in CJK_FONT_DIRS:
        if directory.is_dir():
            candidates.extend(
                p for p in directory.rglob("*") if p.suffix.lower() in (".ttc", ".ttf", ".otf")
            )
    for hint in CJK_FONT_HINTS:
        for path in sorted(candidates):
            if hint in path.name.lower().replace("-", "").replace("_", ""):
                return path
    return None


@functools.cache
def _font(path: Path | None, size_px: int) -> FontType | None:
    try:
        if path is not None:
            return ImageFont.truetype(str(path), size_px)
        for latin in LATIN_FONT_PATHS:
            if latin.exists():
                return ImageFont.truetype(str(latin), size_px)
        return ImageFont.load_default(size=size_px)
    except OSError:
        return None


def initial_of(name: str) -> str:
    """The first CJK character, or the upper-cased first letter/digit, or ``?``."""
    for char in name.strip():
        if cjk_count(char):
            return char
        if char.isalnum():
            return char.upper()
    return "?"


def _gradient(size_px: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    column = Image.new("RGB", (1, size_px))
    for y in range(size_px):
        t = y / max(1, size_px - 1)
        column.putpixel(
            (0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    return column.resize((size_px, size_px), Image.Resampling.NEAREST)


def _shapes(image: Image.Image, seed: int) -> None:
    """Translucent circles placed by ``seed``; same seed, same picture."""
    size = image.width
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for index in range(5):
        bits = stable_hash(f"{seed}:{index}")
        cx = bits % size
        cy = (bits >> 16) % size
        radius = size // 8 + (bits >> 32) % (size // 3)
        alpha = 28 + (bits >> 48) % 40
        shade = 255 if index % 2 == 0 else 0
        draw.ellipse(
            (cx - radius, cy - radius, cx + radius, cy + radius), fill=(shade, shade, shade, alpha)
        )
    image.alpha_composite(overlay)


def _glyph_blocks(draw: ImageDraw.ImageDraw, char: str, size_px: int) -> None:
    """A 3×3 block pattern from the character's code point, when no font can draw it."""
    code = ord(char)
    cell = size_px // 7
    origin = (size_px - 3 * cell) // 2
    for index in range(9):
        if (code >> index) & 1 or index == 4:
            x = origin + (index % 3) * cell
            y = origin + (index // 3) * cell
            draw.rounded_rectangle(
                (x + 3, y + 3, x + cell - 3, y + cell - 3), radius=cell // 5, fill="white"
            )


def draw_avatar_png(character_id: str, name: str, mbti_type: str | None, size_px: int) -> bytes:
    """A deterministic PNG avatar: group-coloured gradient, hash-placed shapes, centred initial."""
    top, bottom = GROUP_COLOURS.get(mbti_group((mbti_type or "").upper()), GROUP_COLOURS[None])
    image = _gradient(size_px, top, bottom).convert("RGBA")
    _shapes(image, stable_hash(f"avatar:{character_id}"))
    draw = ImageDraw.Draw(image)
    ring = max(2, size_px // 64)
    inset = size_px // 10
    draw.ellipse(
        (inset, inset, size_px - inset, size_px - inset), outline=(255, 255, 255, 200), width=ring
    )
    char = initial_of(name)
    font_size = max(8, int(size_px * 0.42))
    is_cjk = bool(cjk_count(char))
    font = _font(find_cjk_font() if is_cjk else None, font_size)
    if font is None or (is_cjk and find_cjk_font() is None):
        _glyph_blocks(draw, char, size_px)
    else:
        draw.text((size_px / 2, size_px / 2), char, font=font, fill="white", anchor="mm")
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG")
    return out.getvalue()
