"""What an axis without evidence takes: the likeliest type given the letters the evidence decided.

The table counts the commonly agreed types of the 107 well-known fictional characters in the
tuning part of the development set (``bench/data/mbti_characters.tsv``), plus one per type so no
type is ruled out. Marginally it favours I, S, T and P; jointly it knows that S goes with J more
than with P among sentinels, and that E with T leans to P (ESTP, ENTP) — so a character whose
evidence says E and T but says nothing on J/P gets P, while I + S with nothing else gets J.
"""

from __future__ import annotations

from functools import lru_cache

from tui_updater.providers.base import MBTI_TYPES

TYPE_COUNTS: dict[str, int] = {
    "INTJ": 12, "INTP": 6, "ENTJ": 4, "ENTP": 9, "INFJ": 3, "INFP": 5, "ENFJ": 3, "ENFP": 6,
    "ISTJ": 6, "ISFJ": 13, "ESTJ": 7, "ESFJ": 2, "ISTP": 6, "ISFP": 5, "ESTP": 11, "ESFP": 9,
}  # fmt: skip
_SMOOTHING = 1
assert set(TYPE_COUNTS) == set(MBTI_TYPES)


def _weight(mbti_type: str) -> int:
    return TYPE_COUNTS[mbti_type] + _SMOOTHING


@lru_cache(maxsize=128)
def complete(decided: tuple[tuple[int, str], ...] = ()) -> tuple[str, dict[int, float]]:
    """The likeliest type agreeing with ``decided`` ((axis index, letter) pairs), and for each
    undecided axis the probability of its letter given the decided ones (ties: earlier type)."""
    consistent = [t for t in MBTI_TYPES if all(t[axis] == letter for axis, letter in decided)]
    best = max(consistent, key=lambda t: (_weight(t), -MBTI_TYPES.index(t)))
    total = sum(_weight(t) for t in consistent)
    odds = {
        axis: sum(_weight(t) for t in consistent if t[axis] == best[axis]) / total
        for axis in range(4)
        if axis not in dict(decided)
    }
    return best, odds
