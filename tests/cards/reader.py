"""An independent Character Card reader written from the specs, for the tests only: PNG chunks
walked with struct and zlib (no Pillow), base64, JSON."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def text_chunks(data: bytes) -> dict[str, str]:
    """Every tEXt chunk of a PNG: keyword → text (Latin-1, as the PNG spec defines it)."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    offset = 8
    found: dict[str, str] = {}
    seen_end = False
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        if kind == b"tEXt":
            keyword, _, text = body.partition(b"\x00")
            found[keyword.decode("latin-1")] = text.decode("latin-1")
        if kind == b"IEND":
            seen_end = True
            break
        offset += 12 + length
    assert seen_end, "no IEND chunk"
    return found


def card_of(data: bytes, keyword: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(base64.b64decode(text_chunks(data)[keyword]))
    return document
