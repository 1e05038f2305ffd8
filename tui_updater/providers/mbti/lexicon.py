"""The cue lexicon, parsed once from the data modules: English words and phrases, Chinese terms.

Each cue carries one signed weight per axis (E/I, S/N, T/F, J/P; positive toward E, S, T, J).
English single-word cues also answer for the inflected and derived forms written out here
(quiet → quietly, quieter, quietness; curious → curiosity); an explicit entry always wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tui_updater.providers.mbti import cues_en, cues_zh

AXES: tuple[tuple[str, str], ...] = (("E", "I"), ("S", "N"), ("T", "F"), ("J", "P"))
_LETTER_AXIS: dict[str, tuple[int, float]] = {
    letter: (index, 1.0 if position == 0 else -1.0)
    for index, pair in enumerate(AXES)
    for position, letter in enumerate(pair)
}
_WEIGHT = re.compile(r"^([EISNTFJP])(\d+(?:\.\d+)?)$")
_REFLEXIVES = {"herself", "himself", "themselves", "itself", "myself", "yourself", "oneself"}
_POSSESSIVES = {"her", "his", "their", "its", "my", "your", "one's"}

Weights = tuple[float, float, float, float]


@dataclass(frozen=True)
class Cue:
    """A lexicon entry: its written form and its weight on each axis (0 everywhere: a blocker)."""

    text: str
    weights: Weights

    @property
    def blocks_only(self) -> bool:
        return not any(self.weights)


@dataclass(frozen=True)
class Lexicon:
    english_words: dict[str, Cue]
    english_phrases: dict[
        str, tuple[tuple[tuple[str, ...], Cue], ...]
    ]  # first token → longest first
    chinese: dict[str, tuple[tuple[str, Cue], ...]]  # first character → longest first
    english_others: frozenset[str]
    chinese_others: re.Pattern[str]  # nouns for other people and institutions

    @property
    def size(self) -> dict[str, int]:
        """Entries written per language (derived English forms not counted)."""
        english = {cue.text for cue in self.english_words.values()}
        english.update(cue.text for phrases in self.english_phrases.values() for _, cue in phrases)
        chinese = {cue.text for entries in self.chinese.values() for _, cue in entries}
        return {"en": len(english), "zh": len(chinese)}


def parse_entries(block: str) -> list[Cue]:
    """``cue = E3 P0.5`` entries separated by ``;`` or newlines; ``cue = 0`` is a blocker."""
    cues: list[Cue] = []
    for raw in re.split(r"[;\n]", block):
        if not raw.strip():
            continue
        text, _, spec = raw.partition("=")
        text = " ".join(text.split())
        weights = [0.0, 0.0, 0.0, 0.0]
        for token in spec.split():
            if token == "0":
                continue
            match = _WEIGHT.match(token)
            if not text or match is None:
                raise ValueError(f"bad lexicon entry {raw.strip()!r}")
            axis, sign = _LETTER_AXIS[match.group(1)]
            weights[axis] += sign * float(match.group(2))
        cues.append(Cue(text, (weights[0], weights[1], weights[2], weights[3])))
    return cues


def english_forms(word: str) -> list[str]:
    """Inflected and derived forms of a single-word cue (suffix rules for this vocabulary)."""
    if "-" in word or len(word) < 3:
        return [word + "s"] if len(word) >= 3 else []
    forms = [word + "ly", word + "ness", word + "s"]
    if word.endswith("y") and word[-2] not in "aeiou":
        stem = word[:-1]
        forms += [stem + "ily", stem + "iness", stem + "ier", stem + "iest", stem + "ies"]
    elif word.endswith("le"):
        forms += [word[:-1] + "y", word + "r", word + "st"]
    elif word.endswith("e"):
        forms += [word + "r", word + "st", word + "d", word[:-1] + "ing"]
    else:
        forms += [word + "er", word + "est", word + "es", word + "ed", word + "ing"]
    if word.endswith("ic"):
        forms.append(word + "ally")
    if word.endswith("ous"):
        forms += [word[:-3] + "osity", word[:-3] + "ity"]
    if word.endswith(("ent", "ant")):
        forms.append(word[:-1] + "ce")
    if word.endswith("ive"):
        forms.append(word[:-1] + "ity")
    if word.endswith("al"):
        forms.append(word + "ity")
    return forms


def _normal_phrase(text: str) -> tuple[str, ...]:
    tokens = []
    for token in text.lower().split():
        if token in _REFLEXIVES:
            token = "oneself"
        elif token in _POSSESSIVES:
            token = "one's"
        tokens.append(token)
    return tuple(tokens)


def _blocks(module: object) -> list[str]:
    return [
        value for name, value in vars(module).items() if name.isupper() and name != "OTHER_NOUNS"
    ]


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The lexicon (parsed on first use, then shared). Raises on a cue written twice."""
    words: dict[str, Cue] = {}
    phrases: dict[str, list[tuple[tuple[str, ...], Cue]]] = {}
    seen: set[str] = set()
    for block in _blocks(cues_en):
        for cue in parse_entries(block):
            key = cue.text.lower()
            if key in seen:
                raise ValueError(f"English cue {cue.text!r} is listed twice")
            seen.add(key)
            tokens = _normal_phrase(key)
            if len(tokens) == 1:
                words[tokens[0]] = cue
            else:
                phrases.setdefault(tokens[0], []).append((tokens, cue))
    derived: dict[str, Cue] = {}
    for word, cue in sorted(words.items()):
        if cue.blocks_only:
            continue
        for form in english_forms(word):
            if form not in words and form not in derived:
                derived[form] = cue
    words.update(derived)
    chinese: dict[str, list[tuple[str, Cue]]] = {}
    seen_zh: set[str] = set()
    for block in _blocks(cues_zh):
        for cue in parse_entries(block):
            if cue.text in seen_zh:
                raise ValueError(f"Chinese cue {cue.text!r} is listed twice")
            seen_zh.add(cue.text)
            chinese.setdefault(cue.text[0], []).append((cue.text, cue))
    return Lexicon(
        english_words=words,
        english_phrases={
            first: tuple(sorted(entries, key=lambda e: -len(e[0])))
            for first, entries in phrases.items()
        },
        chinese={
            first: tuple(sorted(entries, key=lambda e: -len(e[0])))
            for first, entries in chinese.items()
        },
        english_others=frozenset(cues_en.OTHER_NOUNS.split()),
        chinese_others=re.compile(
            "|".join(
                map(re.escape, sorted(set(cues_zh.OTHER_NOUNS.split()), key=lambda n: -len(n)))
            )
        ),
    )
