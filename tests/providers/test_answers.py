"""Reading model answers: fences, prose around JSON, MBTI and settings validation."""

from __future__ import annotations

import json

import pytest

from tui_updater.providers.answers import (
    AnswerError,
    extract_json,
    validate_mbti,
    validate_settings,
)


@pytest.mark.parametrize(
    "content",
    [
        '{"a": 1}',
        '```json\n{"a": 1}\n```',
        'Sure! Here is the JSON:\n```\n{"a": 1}\n```\nHope it helps.',
        'The answer is {"a": 1} as requested.',
        'Not this {broken, but this: {"a": 1}',
    ],
)
def test_extract_json_finds_the_first_object(content: str) -> None:
    assert extract_json(content) == {"a": 1}


@pytest.mark.parametrize("content", ["", "no json here", "[1, 2, 3]", "{not: json}"])
def test_extract_json_refuses_answers_without_an_object(content: str) -> None:
    with pytest.raises(AnswerError):
        extract_json(content)


def test_validate_mbti_normalises_case_and_percentages() -> None:
    answer = validate_mbti({"mbtiType": " enfp ", "confidence": 85, "reason": "warm,\n  outgoing"})
    assert (answer.mbti_type, answer.confidence, answer.reason) == ("ENFP", 0.85, "warm, outgoing")


@pytest.mark.parametrize(
    ("data", "culprit"),
    [
        ({"mbtiType": "XXXX", "confidence": 0.5, "reason": "r"}, "mbtiType"),
        ({"mbtiType": "INTJ", "confidence": -0.1, "reason": "r"}, "confidence"),
        ({"mbtiType": "INTJ", "confidence": "high", "reason": "r"}, "confidence"),
        ({"mbtiType": "INTJ", "confidence": True, "reason": "r"}, "confidence"),
        ({"mbtiType": "INTJ", "confidence": 0.5, "reason": "  "}, "reason"),
    ],
)
def test_validate_mbti_names_what_is_wrong(data: dict[str, object], culprit: str) -> None:
    with pytest.raises(AnswerError, match=culprit):
        validate_mbti(data)


def test_validate_settings_serialises_dialogs_and_drops_extra_keys() -> None:
    data = {
        "speakingStyle": "  calm and precise ",
        "exampleDialogs": [
            {"user": "Hi", "character": "Hello."},
            {"user": "Bye", "character": "Farewell."},
        ],
        "extra": "ignored",
    }
    result = validate_settings(data, ["speakingStyle", "exampleDialogs"], "en")
    assert result["speakingStyle"] == "calm and precise"
    assert set(result) == {"speakingStyle", "exampleDialogs"}
    assert json.loads(result["exampleDialogs"]) == data["exampleDialogs"]


def test_validate_settings_accepts_dialogs_given_as_a_json_string() -> None:
    pairs = [{"user": "你好", "character": "你好呀"}, {"user": "再见", "character": "再见！"}]
    result = validate_settings({"exampleDialogs": json.dumps(pairs)}, ["exampleDialogs"], "zh")
    assert json.loads(result["exampleDialogs"]) == pairs


@pytest.mark.parametrize(
    ("data", "language", "culprit"),
    [
        ({"scenario": "x"}, "en", "missing keys: speakingStyle"),
        ({"scenario": "", "speakingStyle": "ok"}, "en", "scenario is empty"),
        ({"scenario": "x" * 4001, "speakingStyle": "ok"}, "en", "limit is 4000"),
        ({"scenario": {"a": 1}, "speakingStyle": "ok"}, "en", "scenario must be a string"),
        ({"scenario": "In English", "speakingStyle": "中文"}, "zh", "not written in Chinese"),
    ],
)
def test_validate_settings_refuses_bad_answers(
    data: dict[str, object], language: str, culprit: str
) -> None:
    with pytest.raises(AnswerError, match=culprit):
        validate_settings(data, ["scenario", "speakingStyle"], language)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "dialogs",
    [
        [{"user": "only one", "character": "pair"}],
        [{"user": "", "character": "x"}] * 2,
        "not json",
        {"a": 1},
    ],
)
def test_validate_settings_refuses_bad_dialogs(dialogs: object) -> None:
    with pytest.raises(AnswerError, match=r"exampleDialogs|exchanges|entry"):
        validate_settings({"exampleDialogs": dialogs}, ["exampleDialogs"], "en")
