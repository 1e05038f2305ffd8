"""Per-axis scoring of a character's fields: weighted evidence, the prior where it is silent,
a confidence and a one-line reason that names the deciding cues (or the prior)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from tui_updater.providers.mbti.lexicon import AXES, load_lexicon
from tui_updater.providers.mbti.priors import complete
from tui_updater.providers.mbti.reading import Hit, read_chinese, read_english

# How much a field says about the character. Description and personality are the card itself;
# backstory and scenario talk about other people and events, so a word there counts for less.
# No single cue outweighs two that agree with each other in another field.
FIELD_WEIGHTS: dict[str, float] = {
    "description": 1.0,
    "personality": 1.0,
    "tags": 0.8,
    "speakingStyle": 0.7,
    "fullDescription": 0.6,
    "backstory": 0.5,
    "systemPrompt": 0.3,
    "firstMessage": 0.3,
    "scenario": 0.2,
    "exampleDialogs": 0.2,
}
MIN_EVIDENCE = 0.5  # below this an axis is decided by the prior
_MAX_NAMED = 3


@dataclass(frozen=True)
class AxisVerdict:
    axis: str  # "E/I"
    letter: str
    score: float  # signed evidence, positive toward the first letter
    cues: tuple[str, ...]  # the cues behind ``letter``, strongest first
    against: tuple[str, ...]  # the cues for the other letter
    from_prior: bool
    confidence: float

    def reason(self) -> str:
        if not self.from_prior:
            return f"{self.axis}: {self.letter} ({', '.join(self.cues[:_MAX_NAMED])})"
        if not self.cues and not self.against:
            return f"{self.axis}: no evidence, prior {self.letter}"
        seen = ", ".join((*self.cues, *self.against)[:_MAX_NAMED])
        return f"{self.axis}: weak or mixed evidence ({seen}), prior {self.letter}"


@dataclass(frozen=True)
class MbtiVerdict:
    mbti_type: str
    axes: tuple[AxisVerdict, ...]

    @property
    def confidence(self) -> float:
        """The chance the whole type is right if the axes err independently (0.05..0.95)."""
        product = math.prod(axis.confidence for axis in self.axes)
        return round(min(0.95, max(0.05, product)), 2)

    @property
    def reason(self) -> str:
        return "; ".join(axis.reason() for axis in self.axes)

    @property
    def evidence_axes(self) -> int:
        return sum(1 for axis in self.axes if not axis.from_prior)


_LATIN = re.compile(r"[A-Za-z]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=16384)
def _hits(text: str) -> tuple[Hit, ...]:
    """The hits of one text; cached, since names, tags and short fields repeat across a table."""
    lexicon = load_lexicon()
    hits = read_english(lexicon, text) if _LATIN.search(text) else []
    if _CJK.search(text):
        hits += read_chinese(lexicon, text)
    return tuple(hits)


def evidence(texts: Mapping[str, str]) -> list[dict[str, float]]:
    """Per axis: each cue's contribution (its strongest occurrence over the fields), by label."""
    per_axis: list[dict[str, float]] = [{}, {}, {}, {}]
    for field, weight in FIELD_WEIGHTS.items():
        text = texts.get(field) or ""
        if not text:
            continue
        for hit in _hits(text):
            for axis, cue_weight in enumerate(hit.cue.weights):
                if cue_weight == 0:
                    continue
                value = cue_weight * hit.factor * weight
                key = hit.label
                if abs(value) > abs(per_axis[axis].get(key, 0.0)):
                    per_axis[axis][key] = value
    return per_axis


def _axis_confidence(score: float) -> float:
    return 1.0 - 0.5 * math.exp(-abs(score) / 2.5)


def classify(texts: Mapping[str, str]) -> MbtiVerdict:
    """The type of the character whose fields are ``texts`` (logical name → text)."""
    return _classify(tuple(sorted((k, str(v)) for k, v in texts.items() if v)))


@lru_cache(maxsize=4096)
def _classify(items: tuple[tuple[str, str], ...]) -> MbtiVerdict:
    per_axis = evidence(dict(items))
    scores = [sum(contributions.values()) for contributions in per_axis]
    decided = {
        axis: AXES[axis][0] if score > 0 else AXES[axis][1]
        for axis, score in enumerate(scores)
        if abs(score) >= MIN_EVIDENCE
    }
    best, odds = complete(tuple(sorted(decided.items())))
    verdicts: list[AxisVerdict] = []
    for axis, (first, second) in enumerate(AXES):
        letter = best[axis]
        sign = 1.0 if letter == first else -1.0
        ranked = sorted(per_axis[axis].items(), key=lambda kv: (-abs(kv[1]), kv[0]))
        named = tuple(label for label, value in ranked if value * sign > 0)
        against = tuple(label for label, value in ranked if value * sign < 0)
        prior = axis not in decided
        verdicts.append(
            AxisVerdict(
                axis=f"{first}/{second}",
                letter=letter,
                score=round(scores[axis], 3),
                cues=named,
                against=against,
                from_prior=prior,
                confidence=odds[axis] if prior else _axis_confidence(scores[axis]),
            )
        )
    return MbtiVerdict(best, tuple(verdicts))
