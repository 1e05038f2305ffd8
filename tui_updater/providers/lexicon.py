"""A bilingual (Chinese + English) MBTI cue lexicon, scored per axis, deterministic."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

# Each axis: (first letter, second letter). Cues: Chinese matched as substrings, English as words.
AXES: tuple[tuple[str, str], ...] = (("E", "I"), ("S", "N"), ("T", "F"), ("J", "P"))

CUES: dict[str, tuple[str, ...]] = {
    "E": (
        "开朗", "外向", "活泼", "热情", "健谈", "社交", "爱热闹", "阳光", "豪爽", "大方", "朋友很多", "领袖",
        "outgoing", "extroverted", "extrovert", "sociable", "talkative", "lively", "energetic",
        "cheerful", "bubbly", "charismatic", "party", "gregarious", "loud", "popular",
    ),
    "I": (
        "内向", "安静", "沉默", "孤独", "独处", "寡言", "害羞", "腼腆", "冷淡", "高冷", "孤僻", "内敛",
        "introverted", "introvert", "quiet", "shy", "reserved", "solitary", "loner", "withdrawn",
        "aloof", "silent", "private", "reclusive", "soft-spoken",
    ),
    "S": (
        "务实", "现实", "踏实", "细心", "传统", "经验", "实际", "勤劳", "脚踏实地", "观察", "手艺", "运动",
        "practical", "realistic", "down-to-earth", "detail", "detailed", "hands-on", "traditional",
        "grounded", "observant", "concrete", "athletic", "craftsman", "sensible",
    ),
    "N": (
        "想象", "幻想", "创意", "梦想", "理想", "直觉", "灵感", "哲学", "未来", "神秘", "好奇", "艺术",
        "imaginative", "imagination", "creative", "dreamer", "dreamy", "visionary", "intuitive",
        "curious", "philosophical", "idealistic", "abstract", "inventive", "mystical", "artistic",
    ),
    "T": (
        "理性", "逻辑", "冷静", "分析", "理智", "客观", "严谨", "聪明", "战略", "果断", "科学", "智慧",
        "logical", "rational", "analytical", "calm", "objective", "strategic", "intelligent",
        "clever", "scientist", "decisive", "cold", "cunning", "genius", "pragmatic",
    ),
    "F": (
        "温柔", "善良", "体贴", "感性", "同情", "善解人意", "关心", "治愈", "可爱", "多愁善感", "温暖", "爱心",
        "kind", "gentle", "caring", "empathetic", "compassionate", "warm", "sensitive",
        "emotional", "sweet", "loving", "nurturing", "tender", "affectionate",
    ),
    "J": (
        "有条理", "计划", "自律", "负责", "守规矩", "严格", "认真", "秩序", "坚定", "可靠", "纪律", "完美主义",
        "organized", "organised", "disciplined", "responsible", "punctual", "strict", "orderly",
        "planner", "reliable", "methodical", "diligent", "perfectionist", "structured",
    ),
    "P": (
        "随性", "自由", "冒险", "随意", "即兴", "灵活", "叛逆", "贪玩", "不羁", "好动", "随心所欲", "浪漫",
        "spontaneous", "free-spirited", "adventurous", "flexible", "carefree", "rebellious",
        "playful", "impulsive", "easygoing", "easy-going", "wanderer", "adaptable", "mischievous",
    ),
}  # fmt: skip

# Where cues count, and how much: personality says most about type.
FIELD_WEIGHTS: dict[str, int] = {
    "personality": 3,
    "description": 2,
    "fullDescription": 1,
    "backstory": 1,
    "speakingStyle": 1,
    "name": 1,
}

_ASCII_CUE = re.compile(r"^[a-z -]+$")
_CUE_LETTER: dict[str, str] = {cue: letter for letter, cues in CUES.items() for cue in cues}
assert len(_CUE_LETTER) == sum(len(cues) for cues in CUES.values()), "a cue is listed twice"
_CUE_RANK: dict[str, int] = {cue: rank for cues in CUES.values() for rank, cue in enumerate(cues)}


def _alternation(cues: list[str]) -> str:
    # Longest first, so "随心所欲" wins over a shorter cue at the same position.
    return "|".join(re.escape(cue) for cue in sorted(cues, key=lambda c: (-len(c), c)))


# Two scans per field instead of one per cue: English cues as whole words, Chinese as substrings.
_LATIN_CUES = re.compile(
    r"(?<![a-z])(?:" + _alternation([c for c in _CUE_LETTER if _ASCII_CUE.match(c)]) + r")(?![a-z])"
)
_CJK_CUES = re.compile(_alternation([c for c in _CUE_LETTER if not _ASCII_CUE.match(c)]))


@dataclass(frozen=True)
class AxisVerdict:
    letter: str
    score: int
    other_score: int
    cues: tuple[str, ...]  # cues of ``letter`` that were found, in lexicon order
    tie: bool


def stable_hash(text: str) -> int:
    """A hash that is the same in every process (unlike ``hash()``)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def score_letters(texts: Mapping[str, str]) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Per letter: the weighted count of its cues over the (lower-cased) fields, and the cues found."""
    scores = dict.fromkeys(CUES, 0)
    found: dict[str, set[str]] = {letter: set() for letter in CUES}
    for field, weight in FIELD_WEIGHTS.items():
        text = texts.get(field, "")
        if not text:
            continue
        for pattern in (_LATIN_CUES, _CJK_CUES):
            for cue in pattern.findall(text):
                letter = _CUE_LETTER[cue]
                scores[letter] += weight
                found[letter].add(cue)
    return {
        letter: (scores[letter], tuple(sorted(found[letter], key=_CUE_RANK.__getitem__)))
        for letter in CUES
    }


def classify(texts: Mapping[str, str], tie_key: str) -> tuple[AxisVerdict, ...]:
    """One verdict per axis; a tie is broken by a stable hash of ``tie_key`` and the axis."""
    lowered = {field: str(value).lower() for field, value in texts.items()}
    scored = score_letters(lowered)
    verdicts: list[AxisVerdict] = []
    for first, second in AXES:
        first_score, first_cues = scored[first]
        second_score, second_cues = scored[second]
        if first_score == second_score:
            letter = first if stable_hash(f"{tie_key}:{first}{second}") % 2 == 0 else second
            cues = first_cues if letter == first else second_cues
            verdicts.append(AxisVerdict(letter, first_score, second_score, cues, True))
        elif first_score > second_score:
            verdicts.append(AxisVerdict(first, first_score, second_score, first_cues, False))
        else:
            verdicts.append(AxisVerdict(second, second_score, first_score, second_cues, False))
    return tuple(verdicts)


def confidence_of(verdicts: tuple[AxisVerdict, ...]) -> float:
    """0.3 with no evidence at all, up to 0.95 when every axis is one-sided."""
    margins = [
        0.0 if v.tie else (v.score - v.other_score) / (v.score + v.other_score) for v in verdicts
    ]
    evidence = sum(1 for v in verdicts if v.score + v.other_score > 0)
    value = 0.3 + 0.4 * (sum(margins) / len(margins)) + 0.0625 * evidence
    return round(min(0.95, value), 2)


def reason_of(verdicts: tuple[AxisVerdict, ...], *, max_cues: int = 3) -> str:
    """One line naming the cues that decided each axis, e.g. ``E: 开朗, outgoing; N: 想象; …``."""
    parts: list[str] = []
    for v in verdicts:
        if v.tie and v.score == 0:
            parts.append(f"{v.letter}: no cues (default)")
        elif v.tie:
            parts.append(f"{v.letter}: tie ({', '.join(v.cues[:max_cues])})")
        else:
            parts.append(f"{v.letter}: {', '.join(v.cues[:max_cues])}")
    return "; ".join(parts)
