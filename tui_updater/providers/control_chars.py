"""Invisible and control characters removed from model text before it reaches a row.

A model (or a gateway in between) can return NUL, terminal controls or bidi overrides: NUL
truncates text in C consumers, C0/C1 controls drive terminals, and bidi overrides (U+202A–U+202E,
U+2066–U+2069) make a stored text read differently from what it holds ("Trojan Source"). Line
feed and tab are kept; so are ZWJ/ZWNJ (U+200C/U+200D), which emoji and Indic scripts need.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

UNSAFE_CHARS = re.compile(
    "["
    "\x00-\x08\x0b-\x1f\x7f"  # C0 controls except \t and \n, and DEL
    "\x80-\x9f"  # C1 controls
    "\u061c\u200e\u200f"  # Arabic letter mark, LRM, RLM
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2066-\u2069"  # bidi isolates
    "\u200b\u2060-\u2064\ufeff"  # zero-width space, word joiner, invisible operators, BOM
    "\ufff9-\ufffb"  # interlinear annotation controls
    "]"
)


def strip_unsafe(text: str) -> tuple[str, int]:
    """``text`` without unsafe characters, and how many were removed."""
    cleaned, removed = UNSAFE_CHARS.subn("", text)
    return cleaned, removed


def strip_unsafe_value(value: Any) -> tuple[Any, int]:
    """A JSON value with unsafe characters removed from every string in it (keys included)."""
    if isinstance(value, str):
        return strip_unsafe(value)
    if isinstance(value, Mapping):
        total = 0
        cleaned: dict[Any, Any] = {}
        for key, inner in value.items():
            clean_key, key_removed = strip_unsafe_value(key)
            clean_inner, inner_removed = strip_unsafe_value(inner)
            cleaned[clean_key] = clean_inner
            total += key_removed + inner_removed
        return cleaned, total
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        items = [strip_unsafe_value(inner) for inner in value]
        return [item for item, _ in items], sum(removed for _, removed in items)
    return value, 0


def strip_unsafe_fields(
    values: Mapping[str, str], *, json_fields: Sequence[str] = ()
) -> tuple[dict[str, str], int]:
    """Row values with unsafe characters removed; ``json_fields`` hold JSON text, cleaned inside
    (an escaped ``\\u0000`` in JSON is a NUL to whoever decodes it)."""
    cleaned: dict[str, str] = {}
    total = 0
    for name, text in values.items():
        if name in json_fields:
            if "\\" not in text and UNSAFE_CHARS.search(text) is None:
                # Without an escape, JSON text holds exactly the characters its strings decode
                # to: nothing to remove, and no need to decode it.
                cleaned[name] = text
                continue
            try:
                decoded = json.loads(text)
            except ValueError:
                decoded = None
            if decoded is not None:
                value, removed = strip_unsafe_value(decoded)
                cleaned[name] = json.dumps(value, ensure_ascii=False) if removed else text
                total += removed
                continue
        cleaned[name], removed = strip_unsafe(text)
        total += removed
    return cleaned, total


def removed_note(count: int) -> str:
    """The result/log wording for ``count`` removed characters."""
    return f"removed {count} control character{'s' if count != 1 else ''}"
