"""Reading a model's JSON answer defensively and checking it against what was asked."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from tui_updater.providers.base import MBTI_TYPES, MbtiAnswer
from tui_updater.providers.language import Language, cjk_count
from tui_updater.providers.prompts import MAX_FIELD_CHARS

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)```", re.DOTALL)
_REASON_LIMIT_CHARS = 300
_DIALOG_TURN_LIMIT_CHARS = 1000


class AnswerError(ValueError):
    """The model's answer cannot be used; the message says why (sent back for repair)."""


def extract_json(content: str) -> dict[str, Any]:
    """The first JSON object in ``content``: code fences stripped, surrounding prose skipped."""
    text = content.strip()
    if not text:
        raise AnswerError("the answer is empty")
    candidates = [m.group(1).strip() for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        start = candidate.find("{")
        while start != -1:
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except ValueError:
                start = candidate.find("{", start + 1)
                continue
            if isinstance(value, dict):
                return value
            start = candidate.find("{", start + 1)
    raise AnswerError("the answer contains no JSON object")


def validate_mbti(data: dict[str, Any]) -> MbtiAnswer:
    """An MbtiAnswer from ``{"mbtiType", "confidence", "reason"}``, or AnswerError."""
    raw_type = data.get("mbtiType", data.get("mbti_type", data.get("type")))
    mbti_type = str(raw_type or "").strip().upper()
    if mbti_type not in MBTI_TYPES:
        raise AnswerError(
            f"mbtiType {raw_type!r} is not one of the 16 types ({', '.join(MBTI_TYPES)})"
        )
    raw_confidence = data.get("confidence")
    if isinstance(raw_confidence, bool) or not isinstance(raw_confidence, int | float | str):
        raise AnswerError("confidence must be a number from 0 to 1")
    try:
        confidence = float(raw_confidence)
    except ValueError:
        raise AnswerError(f"confidence {raw_confidence!r} is not a number") from None
    if 1 < confidence <= 100:  # a percentage
        confidence /= 100
    if not 0 <= confidence <= 1:
        raise AnswerError(f"confidence {raw_confidence!r} is not between 0 and 1")
    reason = " ".join(str(data.get("reason") or "").split())
    if not reason:
        raise AnswerError("reason is missing or empty")
    if len(reason) > _REASON_LIMIT_CHARS:
        reason = reason[: _REASON_LIMIT_CHARS - 1] + "…"
    return MbtiAnswer(mbti_type=mbti_type, confidence=round(confidence, 3), reason=reason)


def validate_mbti_batch(data: dict[str, Any], count: int) -> dict[int, MbtiAnswer | AnswerError]:
    """Each of refs 1..``count`` with its answer, or the AnswerError that makes it unusable."""
    answers = data.get("answers")
    if not isinstance(answers, list):
        raise AnswerError("answers must be a list with one object per character")
    found: dict[int, MbtiAnswer | AnswerError] = {}
    for entry in answers:
        if not isinstance(entry, dict):
            continue
        ref = entry.get("ref")
        if isinstance(ref, str) and ref.strip().isdigit():
            ref = int(ref)
        if isinstance(ref, bool) or not isinstance(ref, int) or not 1 <= ref <= count:
            continue
        if ref in found:  # two answers for one character: trust neither
            found[ref] = AnswerError(f"two answers for character {ref}")
            continue
        try:
            found[ref] = validate_mbti(entry)
        except AnswerError as exc:
            found[ref] = exc
    return {
        ref: found.get(ref, AnswerError(f"no answer for character {ref}"))
        for ref in range(1, count + 1)
    }


def dialogs_json(value: Any) -> str:
    """``exampleDialogs`` as the JSON string the site stores: a list of ≥2 {user, character}."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise AnswerError("exampleDialogs is not a list of {user, character} pairs") from None
    if isinstance(value, dict):
        inner = value.get("dialogs") or value.get("exampleDialogs")
        value = inner if isinstance(inner, list) else value
    if not isinstance(value, list):
        raise AnswerError("exampleDialogs must be a list of {user, character} pairs")
    pairs: list[dict[str, str]] = []
    for entry in value:
        if not isinstance(entry, dict):
            raise AnswerError("each exampleDialogs entry must be an object {user, character}")
        user = str(entry.get("user") or "").strip()
        reply = str(entry.get("character") or entry.get("assistant") or "").strip()
        if not user or not reply:
            raise AnswerError("each exampleDialogs entry needs a non-empty user and character line")
        pairs.append(
            {"user": user[:_DIALOG_TURN_LIMIT_CHARS], "character": reply[:_DIALOG_TURN_LIMIT_CHARS]}
        )
    if len(pairs) < 2:
        raise AnswerError(f"exampleDialogs needs at least 2 exchanges, got {len(pairs)}")
    return json.dumps(pairs, ensure_ascii=False)


def validate_settings(
    data: dict[str, Any], fields: Sequence[str], language: Language
) -> dict[str, str]:
    """Exactly ``fields``, each non-empty and at most 4000 characters; extra keys are dropped."""
    missing = [name for name in fields if name not in data]
    if missing:
        raise AnswerError(
            f"missing keys: {', '.join(missing)} (expected exactly {', '.join(fields)})"
        )
    result: dict[str, str] = {}
    for name in fields:
        value = data[name]
        if name == "exampleDialogs":
            text = dialogs_json(value)
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value).strip()
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            text = "\n".join(v.strip() for v in value if v.strip())
        else:
            raise AnswerError(f"{name} must be a string")
        if not text:
            raise AnswerError(f"{name} is empty")
        if len(text) > MAX_FIELD_CHARS:
            raise AnswerError(
                f"{name} is {len(text)} characters long; the limit is {MAX_FIELD_CHARS}"
            )
        if language == "zh" and cjk_count(text) == 0:
            raise AnswerError(f"{name} is not written in Chinese like the character")
        result[name] = text
    return result
