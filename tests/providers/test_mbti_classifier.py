"""The offline MBTI classifier: no coin flips, cues read in context, reasons that name them."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from tui_updater.characters.cast import DEMO_CAST
from tui_updater.providers.base import MBTI_TYPES
from tui_updater.providers.mbti import classify
from tui_updater.providers.mbti.lexicon import load_lexicon, parse_entries
from tui_updater.providers.mbti.priors import complete
from tui_updater.providers.offline import OfflineProvider

DEV_SET = Path(__file__).resolve().parents[2] / "bench" / "data" / "mbti_characters.tsv"
_PART = re.compile(
    r"^([EISNTFJP])/([EISNTFJP]): (?:([EISNTFJP]) \((.+)\)|(?:no evidence|weak or mixed evidence \((.+)\)), prior ([EISNTFJP]))$"
)


def dev_set() -> list[dict[str, str]]:
    with DEV_SET.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def cards() -> list[dict[str, str]]:
    """Every demo character and every development-set character, as the provider sees them."""
    demo = [
        {"name": c.name, "description": c.description, "personality": c.personality or "",
         "backstory": c.backstory or "", "speakingStyle": c.speaking_style or ""}
        for c in DEMO_CAST
    ]  # fmt: skip
    own = [
        {"name": r["name"], "description": r["description"], "personality": r["personality"],
         "backstory": r["backstory"]}
        for r in dev_set()
    ]  # fmt: skip
    return demo + own


def letter(axis: int, **fields: str) -> str:
    return classify(fields).mbti_type[axis]


def score(axis: int, **fields: str) -> float:
    return classify(fields).axes[axis].score


def test_renamed_ids_give_the_same_answers() -> None:
    provider = OfflineProvider()
    first = [provider.mbti_of({"id": f"c{i}", **card}) for i, card in enumerate(cards())]
    renamed = [
        provider.mbti_of({"id": f"other-{i * 7919}", **card}) for i, card in enumerate(cards())
    ]
    assert first == renamed
    assert len({answer.mbti_type for answer in first}) >= 12  # the cards really differ


def test_every_reason_names_the_deciding_cues_or_the_prior() -> None:
    lexicon = load_lexicon()
    written = {cue.text for cue in lexicon.english_words.values()}
    written |= {cue.text for phrases in lexicon.english_phrases.values() for _, cue in phrases}
    written |= {cue.text for entries in lexicon.chinese.values() for _, cue in entries}
    for card in cards():
        answer = OfflineProvider().mbti_of(card)
        parts = answer.reason.split("; ")
        assert len(parts) == 4, answer.reason
        for axis, part in enumerate(parts):
            match = _PART.match(part)
            assert match is not None, part
            decided = match.group(3) or match.group(6)
            assert decided == answer.mbti_type[axis]
            for named in (match.group(4), match.group(5)):
                for label in (named or "").split(", ") if named else ():
                    assert label.removeprefix("not ") in written, label


def test_no_evidence_takes_the_documented_prior() -> None:
    verdict = classify({"description": "Lives in a house."})
    expected, _ = complete()
    assert verdict.mbti_type == expected
    assert all(axis.from_prior for axis in verdict.axes)
    assert "J/P: no evidence, prior " + expected[3] in verdict.reason
    # The prior is conditional: E and T evidence alone make P likelier than J.
    assert classify({"personality": "outgoing, talkative, logical, analytical"}).mbti_type[3] == "P"
    assert classify({"personality": "quiet, shy, practical, down-to-earth"}).mbti_type[3] == "J"


def test_negation_turns_a_cue_around() -> None:
    assert letter(3, personality="never plans ahead") == "P"
    assert letter(3, personality="从不计划，也不守时") == "P"
    assert letter(0, personality="not shy at all") == "E"
    assert score(2, personality="并不冷漠") < 0  # toward F, not T
    assert letter(3, personality="hates schedules and being told what to do") == "P"
    assert letter(3, personality="最受不了被管束，可以打乱所有计划") == "P"


def test_a_side_shown_to_a_few_does_not_decide() -> None:
    assert letter(2, personality="冷酷无情，对家人却极为温柔") == "T"
    assert letter(2, personality="cold and ruthless, but gentle with his little sister") == "T"
    limited = score(2, personality="对家人却极为温柔")
    assert -1.5 < limited < 0  # still F, only weakly


def test_cues_about_someone_else_are_discounted() -> None:
    assert classify({"backstory": "Sent to a strict boys' school."}).axes[3].from_prior
    assert classify({"description": "Her father is cold."}).axes[2].from_prior
    assert classify({"backstory": "在严厉的父亲身边长大。"}).axes[3].from_prior
    assert classify({"backstory": "父亲冷漠。"}).axes[2].from_prior
    assert classify({"backstory": "Raised by a stern aunt."}).axes[3].from_prior
    assert not classify({"description": "She is cold."}).axes[2].from_prior
    assert letter(3, personality="driven by ambition") == "J"  # "by" + the trait itself


def test_phrases_outrank_their_words() -> None:
    assert classify({"personality": "tests hypotheses out loud"}).axes[0].from_prior
    assert letter(0, personality="keeps to herself") == "I"
    assert letter(0, personality="the life of the party") == "E"
    assert "kind" not in classify({"description": "some kind of wizard"}).reason


def test_inflected_and_derived_forms_match() -> None:
    for form in ("quietly", "quietness", "quieter"):
        assert letter(0, personality=f"{form} and reserved") == "I", form
    assert "(generous" in classify({"personality": "full of generosity"}).reason
    assert letter(2, personality="gently teases") == "F"


def test_one_personality_word_cannot_flip_two_in_the_description() -> None:
    verdict = classify({"description": "A quiet, reserved archivist.", "personality": "outgoing"})
    assert verdict.mbti_type[0] == "I"


def test_seeming_counts_less_than_being() -> None:
    assert abs(score(3, personality="看似玩世不恭")) < abs(score(3, personality="玩世不恭"))
    assert abs(score(2, personality="seems cold")) < abs(score(2, personality="is cold"))


def test_lexicon_is_large_bilingual_and_has_card_words() -> None:
    lexicon = load_lexicon()
    assert lexicon.size["en"] >= 600 and lexicon.size["zh"] >= 600
    chinese = {text for entries in lexicon.chinese.values() for text, _ in entries}
    for word in (
        "高冷",
        "腹黑",
        "话痨",
        "社恐",
        "桀骜",
        "精明",
        "冲动",
        "好战",
        "温柔",
        "严谨",
        "随性",
    ):
        assert word in chinese, word
    for word in ("dutiful", "stern", "blunt"):
        assert word in lexicon.english_words, word


@pytest.mark.parametrize("entry", ["quiet = X3", "= E3", "quiet = E"])
def test_bad_lexicon_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="bad lexicon entry"):
        parse_entries(entry)


def test_development_set_is_big_enough_and_split() -> None:
    rows = dev_set()
    assert len(rows) >= 150
    assert all(row["type"] in MBTI_TYPES for row in rows)
    by_language = {lang: sum(1 for r in rows if r["language"] == lang) for lang in ("en", "zh")}
    assert min(by_language.values()) >= 0.4 * len(rows)
    holdout = sum(1 for r in rows if r["split"] == "holdout")
    assert 0.25 * len(rows) <= holdout <= 0.35 * len(rows)
    assert len({r["name"] for r in rows}) == len(rows)
