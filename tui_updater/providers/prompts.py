"""Prompts and JSON schemas for MBTI, settings and avatar requests to a chat/image model.

System prompts carry a ``Task:`` line and (for settings) a ``Keys:`` line that test fakes
use to recognise the request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tui_updater.providers.base import MBTI_TYPES, Character
from tui_updater.providers.language import Language

MAX_FIELD_CHARS = 4000
_SOURCE_FIELD_CHARS = 1500

MBTI_SCHEMA_NAME = "mbti_answer"
SETTINGS_SCHEMA_NAME = "character_settings"

FIELD_GUIDES: dict[str, str] = {
    "fullDescription": "a rich description of the character: looks, personality, history (1–3 paragraphs)",
    "speakingStyle": "how the character talks: tone, vocabulary, habits, two catchphrases",
    "scenario": "the situation in which the user meets and chats with the character",
    "exampleDialogs": 'a list of at least 2 exchanges, each an object {"user": ..., "character": ...}',
    "firstMessage": "the character's first message to the user, in character",
    "personality": "a short list of personality traits",
    "backstory": "the character's past, in a paragraph",
    "description": "a one-paragraph description of the character",
    "systemPrompt": "instructions for a roleplay model to play this character",
}

# Visual style per MBTI type for avatar prompts (English: image models follow English best).
MBTI_VISUAL_STYLES: dict[str, str] = {
    "INTJ": "cool composed gaze, dark elegant clothing, deep blue and violet tones, strategist aura",
    "INTP": "thoughtful distracted look, casual layered clothes, soft teal light, books and notes",
    "ENTJ": "confident commanding pose, sharp tailored outfit, bold crimson and black accents",
    "ENTP": "mischievous grin, eclectic outfit, lively orange highlights, playful energy",
    "INFJ": "gentle knowing smile, flowing muted clothes, misty lavender light, quiet mystery",
    "INFP": "dreamy soft eyes, cosy pastel clothing, warm golden hour light, floral details",
    "ENFJ": "warm encouraging smile, graceful outfit, radiant sunlit background, welcoming pose",
    "ENFP": "bright sparkling eyes, colourful creative outfit, vivid rainbow accents, joyful",
    "ISTJ": "serious dependable expression, neat classic uniform, navy and grey palette",
    "ISFJ": "kind caring expression, modest cosy clothing, soft warm beige tones",
    "ESTJ": "firm self-assured look, crisp formal attire, structured clean background",
    "ESFJ": "friendly open smile, cheerful neat outfit, warm pink and peach palette",
    "ISTP": "calm focused look, practical rugged gear, cool steel grey and olive tones",
    "ISFP": "gentle artistic look, stylish soft clothing, painterly natural colours",
    "ESTP": "bold daring grin, sporty dynamic outfit, high-contrast action lighting",
    "ESFP": "radiant playful smile, fashionable vibrant outfit, sparkling stage lights",
}
DEFAULT_VISUAL_STYLE = "expressive face, distinctive outfit, harmonious colours"


def clip(text: object, limit_chars: int = _SOURCE_FIELD_CHARS) -> str:
    """``text`` as a stripped string of at most ``limit_chars`` characters."""
    value = str(text or "").strip()
    return value if len(value) <= limit_chars else value[: limit_chars - 1] + "…"


def character_sheet(character: Character) -> str:
    """The character's known fields as labelled lines (``Name: …``), empty ones left out."""
    labels = (
        ("name", "Name"),
        ("description", "Description"),
        ("fullDescription", "Full description"),
        ("personality", "Personality"),
        ("backstory", "Backstory"),
        ("scenario", "Scenario"),
        ("speakingStyle", "Speaking style"),
        ("mbtiType", "MBTI"),
        ("tags", "Tags"),
    )
    lines = [
        f"{label}: {clip(character.get(key))}" for key, label in labels if clip(character.get(key))
    ]
    return "\n".join(lines) or "Name: (unnamed)"


MBTI_BATCH_SCHEMA_NAME = "mbti_answers"
_MBTI_SHEET_CHARS = 500  # per field: enough to judge a type, cheap enough to batch


def _mbti_answer_properties() -> dict[str, Any]:
    return {
        "mbtiType": {"type": "string", "enum": list(MBTI_TYPES)},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "reason": {"type": "string"},
    }


def mbti_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": _mbti_answer_properties(),
        "required": ["mbtiType", "confidence", "reason"],
        "additionalProperties": False,
    }


def mbti_batch_schema() -> dict[str, Any]:
    answer = {
        "type": "object",
        "properties": {"ref": {"type": "integer"}, **_mbti_answer_properties()},
        "required": ["ref", "mbtiType", "confidence", "reason"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"answers": {"type": "array", "items": answer}},
        "required": ["answers"],
        "additionalProperties": False,
    }


_MBTI_RULES = (
    "You classify fictional characters by MBTI personality type.\n"
    "If the character is well known (from a novel, film, game, anime or history), give the type "
    "fans and type communities commonly agree on for them. Otherwise reason from the card: how "
    "the character gains energy (E/I), takes in information (S/N), decides (T/F) and lives (J/P).\n"
    "confidence is a number from 0 to 1: high for a commonly agreed type or clear evidence, low "
    "when the card says little. reason is one short line naming the traits that decided it "
    "(or that the type is the commonly agreed one).\n"
)


def mbti_sheet(character: Character) -> str:
    """The fields that show a personality, each clipped short."""
    labels = (
        ("name", "Name"),
        ("description", "Description"),
        ("personality", "Personality"),
        ("backstory", "Backstory"),
        ("speakingStyle", "Speaking style"),
        ("tags", "Tags"),
    )
    lines = [
        f"{label}: {clip(character.get(key), _MBTI_SHEET_CHARS)}"
        for key, label in labels
        if clip(character.get(key))
    ]
    return "\n".join(lines) or "Name: (unnamed)"


def mbti_messages(character: Character) -> list[dict[str, str]]:
    system = (
        "Task: MBTI_ASSIGNMENT\n"
        + _MBTI_RULES
        + "Answer with one JSON object only, no prose and no code fences:\n"
        '{"mbtiType": one of ' + ", ".join(MBTI_TYPES) + ', "confidence": 0..1, "reason": "..."}'
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Character:\n{mbti_sheet(character)}"},
    ]


def mbti_batch_messages(characters: Sequence[Character]) -> list[dict[str, str]]:
    """One request for several characters, numbered by ``ref`` from 1."""
    system = (
        "Task: MBTI_ASSIGNMENT\n"
        f"Batch: {len(characters)}\n"
        + _MBTI_RULES
        + "Judge each character on its own. Answer with one JSON object only, no prose and no "
        'code fences: {"answers": [{"ref": the character\'s number, "mbtiType": one of '
        + ", ".join(MBTI_TYPES)
        + ', "confidence": 0..1, "reason": "..."}, ...]} with one answer per character.'
    )
    sheets = "\n\n".join(
        f"Character {ref}:\n{mbti_sheet(character)}"
        for ref, character in enumerate(characters, start=1)
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": sheets}]


def settings_schema(fields: Sequence[str]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name in fields:
        if name == "exampleDialogs":
            pair = {
                "type": "object",
                "properties": {"user": {"type": "string"}, "character": {"type": "string"}},
                "required": ["user", "character"],
                "additionalProperties": False,
            }
            properties[name] = {"type": "array", "items": pair, "minItems": 2}
        else:
            properties[name] = {"type": "string", "maxLength": MAX_FIELD_CHARS}
    return {
        "type": "object",
        "properties": properties,
        "required": list(fields),
        "additionalProperties": False,
    }


def settings_messages(
    character: Character, fields: Sequence[str], language: Language
) -> list[dict[str, str]]:
    language_rule = (
        "Write every value in Simplified Chinese, as the character is written in Chinese."
        if language == "zh"
        else "Write every value in English, as the character is written in English."
    )
    guides = "\n".join(
        f"- {name}: {FIELD_GUIDES.get(name, 'text for this field')}" for name in fields
    )
    system = (
        "Task: CHARACTER_SETTINGS\n"
        f"Keys: {', '.join(fields)}\n"
        "You write roleplay character settings for a character-chat site.\n"
        "Answer with one JSON object only, no prose and no code fences, with exactly these keys:\n"
        f"{guides}\n"
        f"Every value is non-empty and at most {MAX_FIELD_CHARS} characters. {language_rule} "
        "Stay consistent with what is already known about the character."
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Character:\n{character_sheet(character)}"},
    ]


def schema_in_prompt(schema: dict[str, Any]) -> str:
    """A user-message suffix describing the schema, for gateways without structured output."""
    return "Reply with JSON matching this JSON Schema:\n" + json.dumps(schema, ensure_ascii=False)


def repair_message(error: str) -> dict[str, str]:
    return {
        "role": "user",
        "content": (
            f"Your answer was not valid: {error}. "
            "Reply again with the corrected JSON object only, no prose and no code fences."
        ),
    }


def avatar_prompt(character: Character) -> str:
    """An image prompt from name, description, personality and the MBTI visual style."""
    name = clip(character.get("name"), 80) or "a character"
    description = clip(character.get("description") or character.get("fullDescription"), 300)
    personality = clip(character.get("personality"), 200)
    mbti = str(character.get("mbtiType") or "").strip().upper()
    style = MBTI_VISUAL_STYLES.get(mbti, DEFAULT_VISUAL_STYLE)
    parts = [f"Portrait of {name}"]
    if description:
        parts.append(description)
    if personality:
        parts.append(f"personality: {personality}")
    parts.append(style)
    parts.append(
        "anime style, high quality, detailed face, soft lighting, clean background, "
        "character portrait, square composition, no text, no watermark"
    )
    return ", ".join(parts)
