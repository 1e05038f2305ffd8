"""Which language a character is written in (Chinese or English), judged from its text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from tui_updater.providers.base import Character

Language = Literal["zh", "en"]

TEXT_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "fullDescription",
    "personality",
    "backstory",
    "scenario",
    "speakingStyle",
    "firstMessage",
)

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def cjk_count(text: str) -> int:
    """Number of CJK ideographs in ``text``."""
    return len(_CJK.findall(text))


def detect_text_language(texts: Iterable[str]) -> Language | None:
    """``zh`` when ideographs carry the text, ``en`` when Latin letters do, None if neither."""
    joined = " ".join(texts)
    ideographs = cjk_count(joined)
    letters = len(_LATIN.findall(joined))
    if ideographs == 0 and letters == 0:
        return None
    # One ideograph carries about as much as a short English word (~4 letters).
    return "zh" if ideographs * 4 >= letters * 0.5 and ideographs > 0 else "en"


def character_language(character: Character) -> Language:
    """The character's language: its text decides; the ``language`` column only breaks silence."""
    texts = [str(character.get(name) or "") for name in TEXT_FIELDS]
    detected = detect_text_language(texts)
    if detected is not None:
        return detected
    declared = str(character.get("language") or "").lower()
    return "zh" if declared.startswith("zh") else "en"
