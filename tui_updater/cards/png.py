"""Cards inside PNG files: the card JSON, base64, in a ``tEXt`` chunk (``chara`` for V2, ``ccv3``
for V3), written and read through Pillow's PngInfo. Reading refuses files past a size cap and
images past a pixel cap (decompression bombs) before anything is decoded."""

from __future__ import annotations

import base64
import binascii
import io
import json
import warnings
from typing import Any

from PIL import Image, PngImagePlugin, UnidentifiedImageError

from tui_updater.errors import InvalidParameters

KEYWORD_V2, KEYWORD_V3 = "chara", "ccv3"
MAX_CARD_FILE_BYTES = 32 * 1024 * 1024
MAX_IMAGE_PIXELS = 8192 * 8192
PLACEHOLDER_SIZE_PX = 400
_PLACEHOLDER_COLOUR = (96, 108, 130)


def placeholder_png() -> bytes:
    """A plain image for a character without an avatar (cards must carry one)."""
    out = io.BytesIO()
    Image.new("RGB", (PLACEHOLDER_SIZE_PX, PLACEHOLDER_SIZE_PX), _PLACEHOLDER_COLOUR).save(
        out, format="PNG"
    )
    return out.getvalue()


def _encode(document: dict[str, Any]) -> str:
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def write_card_png(image: bytes | None, chunks: dict[str, dict[str, Any]]) -> bytes:
    """The image (any format Pillow reads; a placeholder when None or unreadable) as PNG, with
    each card document in a ``tEXt`` chunk under its keyword; earlier card chunks are dropped."""
    source = image if image is not None else placeholder_png()
    try:
        picture = _open_checked(source, "avatar")
        picture.load()
    except InvalidParameters:
        picture = Image.open(io.BytesIO(placeholder_png()))
        picture.load()
    if picture.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        picture = picture.convert("RGBA")
    info = PngImagePlugin.PngInfo()
    for keyword, document in chunks.items():
        info.add_text(keyword, _encode(document))
    out = io.BytesIO()
    picture.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def _open_checked(data: bytes, source: str) -> Image.Image:
    if len(data) > MAX_CARD_FILE_BYTES:
        raise InvalidParameters(source, f"larger than {MAX_CARD_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data))
            width, height = picture.size
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidParameters(source, "not a readable image, or too large to decode") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidParameters(source, f"not a readable image ({exc})") from None
    if width * height > MAX_IMAGE_PIXELS:
        raise InvalidParameters(source, f"image of {width}x{height} pixels is too large")
    return picture


def read_card_chunks(data: bytes, source: str) -> dict[str, Any]:
    """The decoded card documents of a PNG by keyword (``ccv3``, ``chara``); InvalidParameters
    naming ``source`` for a file that is no PNG, is truncated, or carries no card."""
    picture = _open_checked(data, source)
    if picture.format != "PNG":
        raise InvalidParameters(source, f"a card image must be a PNG, not {picture.format}")
    try:
        # load() reads every chunk to the end: a truncated file fails here, not later. Pillow
        # caps a compressed text chunk's expansion and all text together (text bombs).
        picture.load()
        texts = dict(getattr(picture, "text", {}))
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidParameters(source, f"damaged or truncated PNG ({exc})") from None
    found: dict[str, Any] = {}
    for keyword in (KEYWORD_V3, KEYWORD_V2):
        if keyword in texts:
            found[keyword] = decode_chunk(str(texts[keyword]), f"{source}: {keyword} chunk")
    if not found:
        raise InvalidParameters(source, "no character card in this PNG (no chara or ccv3 chunk)")
    return found


def decode_chunk(text: str, source: str) -> Any:
    """base64 → UTF-8 → JSON, each failure named."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameters(source, "not base64") from None
    return decode_json(raw, source)


def decode_json(raw: bytes, source: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidParameters(source, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InvalidParameters(
            source, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None


def image_of(data: bytes) -> bytes:
    """A card PNG's picture without its text chunks (what becomes the character's avatar)."""
    picture = Image.open(io.BytesIO(data))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()
