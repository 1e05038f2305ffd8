"""What an axis without evidence takes: the letter the letters the evidence decided make likelier.

The table counts the commonly agreed types of the 130 characters (most of them well-known
fictional ones) in the tuning part of the development set (``bench/data/mbti_characters.tsv``),
plus one per type so no type is ruled out. Each undecided axis takes the letter that is likelier
among the types agreeing with the letters the evidence decided (a tie goes to the first letter):
with nothing decided that is I, S, T, P; evidence for E and T makes P likelier (ESTP, ENTP);
I and S make J likelier.
"""

from __future__ import annotations

from functools import lru_cache

from tui_updater.providers.base import MBTI_TYPES
from tui_updater.providers.mbti.lexicon import AXES

TYPE_COUNTS: dict[str, int] = {
    "INTJ": 13, "INTP": 6, "ENTJ": 5, "ENTP": 11, "INFJ": 3, "INFP": 6, "ENFJ": 4, "ENFP": 8,
    "ISTJ": 9, "ISFJ": 14, "ESTJ": 7, "ESFJ": 2, "ISTP": 10, "ISFP": 5, "ESTP": 13, "ESFP": 14,
}  # fmt: skip
_SMOOTHING = 1
assert set(TYPE_COUNTS) == set(MBTI_TYPES)


def _weight(mbti_type: str) -> int:
    return TYPE_COUNTS[mbti_type] + _SMOOTHING


@lru_cache(maxsize=128)
def complete(decided: tuple[tuple[int, str], ...] = ()) -> tuple[str, dict[int, float]]:
    """The type agreeing with ``decided`` ((axis index, letter) pairs) whose other letters are each
    the likelier one given the decided letters, with that probability per undecided axis."""
    fixed = dict(decided)
    consistent = [t for t in MBTI_TYPES if all(t[axis] == letter for axis, letter in decided)]
    total = sum(_weight(t) for t in consistent)
    letters: list[str] = []
    odds: dict[int, float] = {}
    for axis, pair in enumerate(AXES):
        if axis in fixed:
            letters.append(fixed[axis])
            continue
        first = sum(_weight(t) for t in consistent if t[axis] == pair[0]) / total
        letter = pair[0] if first >= 0.5 else pair[1]
        letters.append(letter)
        odds[axis] = first if letter == pair[0] else 1.0 - first
    return "".join(letters), odds
