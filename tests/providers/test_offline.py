"""OfflineProvider: deterministic, bilingual MBTI cues, language-preserving settings, avatars."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from tui_updater.providers.artwork import GROUP_COLOURS, initial_of
from tui_updater.providers.base import MBTI_TYPES
from tui_updater.providers.language import cjk_count
from tui_updater.providers.offline import OfflineProvider

FIELDS = ["fullDescription", "speakingStyle", "scenario", "exampleDialogs"]
XIAOHONG = {
    "id": "ck1",
    "name": "小红",
    "description": "一位开朗、热情的画家",
    "personality": "外向，充满想象力，温柔善良，随性自由",
    "backstory": "她在海边的小镇长大。",
}
MARCUS = {
    "id": "ck2",
    "name": "Marcus",
    "description": "A quiet, logical archivist",
    "personality": "introverted, practical, analytical, organized and disciplined",
    "backstory": "He has kept the city records for twenty years.",
}


async def test_same_input_same_output_across_fresh_instances() -> None:
    for character in (XIAOHONG, MARCUS, {"id": "x", "name": ""}):
        first, second = OfflineProvider(), OfflineProvider()
        assert await first.assign_mbti(character) == await second.assign_mbti(character)
        assert await first.write_settings(character, FIELDS) == await second.write_settings(
            character, FIELDS
        )
        png_a = (await first.draw_avatar(character, size_px=128)).value
        png_b = (await second.draw_avatar(character, size_px=128)).value
        assert png_a == png_b


async def test_chinese_cues_decide_and_are_named() -> None:
    answer = (await OfflineProvider().assign_mbti(XIAOHONG)).value
    assert answer.mbti_type == "ENFP"
    assert "E/I: E (" in answer.reason and "开朗" in answer.reason and "想象" in answer.reason
    assert "\n" not in answer.reason
    assert 0.5 < answer.confidence <= 0.95


async def test_english_cues_decide_and_are_named() -> None:
    answer = (await OfflineProvider().assign_mbti(MARCUS)).value
    assert answer.mbti_type == "ISTJ"
    assert "quiet" in answer.reason and "logical" in answer.reason and "organized" in answer.reason


async def test_english_cues_match_whole_words_only() -> None:
    # "unkind" is its own cue (toward T), never "kind" (toward F).
    answer = OfflineProvider().mbti_of({"id": "w", "name": "W", "personality": "unkind"})
    assert "(kind" not in answer.reason and "unkind" in answer.reason
    assert answer.mbti_type[2] == "T"


async def test_no_cues_takes_the_prior_whatever_the_id() -> None:
    answers = {OfflineProvider().mbti_of({"id": f"id-{i}", "name": "Nobody"}) for i in range(40)}
    assert len(answers) == 1  # no coin flips: the id never decides
    (answer,) = answers
    assert answer.mbti_type in MBTI_TYPES
    assert answer.confidence < 0.2
    assert answer.reason.count("no evidence, prior") == 4


async def test_chinese_in_chinese_out() -> None:
    generated = await OfflineProvider().write_settings(XIAOHONG, FIELDS)
    assert generated.offline and generated.model == "offline"
    assert set(generated.value) == set(FIELDS)
    for name, text in generated.value.items():
        assert text.strip(), name
        assert cjk_count(text) > 0, name
        assert len(text) <= 4000
    dialogs = json.loads(generated.value["exampleDialogs"])
    assert len(dialogs) == 3 and all(set(d) == {"user", "character"} for d in dialogs)
    assert "小红" in generated.value["fullDescription"]


async def test_english_in_english_out() -> None:
    generated = await OfflineProvider().write_settings(
        MARCUS, [*FIELDS, "firstMessage", "unknownField"]
    )
    for name, text in generated.value.items():
        assert text.strip(), name
        assert cjk_count(text) == 0, name
    assert "Marcus" in generated.value["speakingStyle"]


@pytest.mark.parametrize(
    ("mbti_type", "group"),
    [
        ("INTJ", "Analysts"),
        ("ENFP", "Diplomats"),
        ("ISTJ", "Sentinels"),
        ("ESTP", "Explorers"),
        (None, None),
    ],
)
async def test_avatar_colour_follows_the_mbti_group(
    mbti_type: str | None, group: str | None
) -> None:
    character = {"id": "a1", "name": "Ada", "mbtiType": mbti_type}
    png = (await OfflineProvider().draw_avatar(character, size_px=64)).value
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (64, 64)
    top, _ = GROUP_COLOURS[group]
    # The top-left corner is the gradient's start, lightened or darkened a little by shapes.
    corner = image.getpixel((0, 0))
    assert isinstance(corner, tuple)
    assert sum(abs(a - b) for a, b in zip(corner, top, strict=True)) < 120


async def test_avatars_differ_by_id_and_name() -> None:
    provider = OfflineProvider()
    one = (await provider.draw_avatar({"id": "1", "name": "Ada"}, size_px=64)).value
    two = (await provider.draw_avatar({"id": "2", "name": "Ada"}, size_px=64)).value
    three = (await provider.draw_avatar({"id": "1", "name": "小红"}, size_px=64)).value
    assert len({one, two, three}) == 3


def test_initials() -> None:
    assert initial_of("alice") == "A"
    assert initial_of("  小红") == "小"
    assert initial_of("«Zed»") == "Z"
    assert initial_of("") == "?"


def test_describe_is_offline() -> None:
    assert OfflineProvider().describe()["online"] is False
