"""Reading cues in context: negation, contrast, appearance vs. truth, and cues about someone else.

``read_english`` and ``read_chinese`` turn one text into hits: a cue and the factor its weights
are multiplied by (negative when negated, small when the cue describes another person or an
institution, or only a limited side of the character).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tui_updater.providers.mbti.lexicon import Cue, Lexicon

NEGATED = -0.6  # "not shy" is weaker evidence for E than "outgoing"
REJECTED = -0.8  # "hates schedules", "讨厌被约束"
ELSEWHERE = 0.2  # the cue describes someone or something else ("a strict school")
LIMITED = 0.4  # "…but gentle with her family": a side shown to a few
SCOPED = 0.8  # "kind to animals": still the character, but a narrower claim
SEEMING = 0.5  # "seems cold", "看似玩世不恭"
TRULY = 1.3  # "deep down", "其实", "内心"


@dataclass(frozen=True)
class Hit:
    cue: Cue
    factor: float

    @property
    def label(self) -> str:
        return f"not {self.cue.text}" if self.factor < 0 else self.cue.text


# --- English ------------------------------------------------------------------------------------

_EN_CLAUSE = re.compile(
    r"[,.;:!?()\[\]\"“”\n]+|\s(?=(?:but|yet|however|though|although|whereas|except)\b)"
)
_EN_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_EN_NEGATORS = frozenset(
    "not never no hardly rarely seldom barely nor without isn't doesn't don't didn't wasn't "
    "aren't weren't can't cannot won't neither lacks lacking lack nothing none".split()
)
_EN_REJECTORS = frozenset(
    "hates hate hated hating despises despise ignores ignore ignoring breaks break defies defy "
    "rejects reject resents loathes detests avoids avoid refuses disregards flouts dislikes "
    "against bored tired sick mocks".split()
)
_EN_CONTRAST = frozenset("but yet however though although whereas except".split())
_EN_SEEMING = frozenset(
    "seems seem appears appear looks outwardly surface facade façade pretends".split()
)
_EN_TRULY = frozenset("actually truly really underneath beneath inside secretly inwardly".split())
_EN_TRULY_PAIRS = {("deep", "down"), ("at", "heart")}
_EN_REJECTING_PAIRS = {("rather", "than"), ("instead", "of"), ("free", "of"), ("far", "from")}
_EN_PREPOSITIONS = frozenset("with to toward towards around for of by from about among".split())
_EN_LIMITERS = frozenset("only except just".split())
_EN_SUBJECTS = frozenset("she he they who i we which".split())
_EN_PRONOUNS = {
    "her": "one's", "his": "one's", "their": "one's", "its": "one's", "my": "one's",
    "your": "one's", "herself": "oneself", "himself": "oneself", "themselves": "oneself",
    "itself": "oneself", "myself": "oneself", "yourself": "oneself",
}  # fmt: skip
_NEGATION_SPAN = 3
_REJECTION_SPAN = 4


def _en_tokens(clause: str) -> list[str]:
    return [_EN_PRONOUNS.get(t, t) for t in _EN_TOKEN.findall(clause.replace("’", "'"))]


def _en_match(lexicon: Lexicon, tokens: list[str], at: int) -> tuple[Cue, int] | None:
    token = tokens[at]
    for phrase, cue in lexicon.english_phrases.get(token, ()):
        if tuple(tokens[at : at + len(phrase)]) == phrase:
            return cue, len(phrase)
    word = lexicon.english_words.get(token)
    if word is None and token.endswith("'s"):
        word = lexicon.english_words.get(token[:-2])
    return (word, 1) if word is not None else None


def _en_is_other(lexicon: Lexicon, token: str) -> bool:
    stem = token[:-2] if token.endswith("'s") else token
    return stem in lexicon.english_others or stem == "else"


def _en_context(lexicon: Lexicon, tokens: list[str], start: int, end: int) -> float:
    """How much a cue at tokens[start:end] says about the character itself."""
    before = tokens[:start]
    if before and (_en_is_other(lexicon, before[-1]) and before[-1].endswith("'s")):
        return ELSEWHERE  # "her mother's kindness"
    if "by" in before[-2:] and end < len(tokens):
        return ELSEWHERE  # "raised by a stern aunt" (but "driven by ambition" is the character)
    for offset, token in enumerate(tokens[end : end + 2]):
        if token in _EN_PREPOSITIONS or token in ("and", "or", "is", "was"):
            break
        if _en_is_other(lexicon, token):
            return ELSEWHERE  # "a strict boys' school", "cruel stepfamily"
        if offset == 1:
            break
    for index in range(len(before) - 1, -1, -1):
        token = before[index]
        if token in _EN_SUBJECTS:
            break
        if _en_is_other(lexicon, token) and index > 0 and before[index - 1] in ("one's", "the"):
            return ELSEWHERE  # "her father is cold"
    after = tokens[end : end + 4]
    if after and after[0] in _EN_PREPOSITIONS and any(_en_is_other(lexicon, t) for t in after[1:]):
        return SCOPED  # "gentle with her sister"
    return 1.0


def read_english(lexicon: Lexicon, text: str) -> list[Hit]:
    """The English cues of ``text`` with their context factors."""
    hits: list[Hit] = []
    for clause in _EN_CLAUSE.split(text.lower()):
        tokens = _en_tokens(clause)
        if not tokens:
            continue
        contrast = tokens[0] in _EN_CONTRAST
        limited = contrast or any(t in _EN_LIMITERS for t in tokens)
        mood = 1.0
        negation_until, negation = -1, 1.0
        at = 0
        while at < len(tokens):
            token = tokens[at]
            pair = (token, tokens[at + 1] if at + 1 < len(tokens) else "")
            if pair in _EN_TRULY_PAIRS:
                mood, at = TRULY, at + 2
                continue
            if pair in _EN_REJECTING_PAIRS:
                negation_until, negation, at = at + 1 + _REJECTION_SPAN, REJECTED, at + 2
                continue
            match = _en_match(lexicon, tokens, at)
            if match is not None:
                cue, length = match
                if not cue.blocks_only:
                    factor = mood * _en_context(lexicon, tokens, at, at + length)
                    if factor == SCOPED and limited:
                        factor = LIMITED
                    if at <= negation_until:
                        factor *= negation
                    hits.append(Hit(cue, factor))
                if token in _EN_REJECTORS:
                    negation_until, negation = at + _REJECTION_SPAN, REJECTED
                at += length
                continue
            if token in _EN_NEGATORS:
                negation_until, negation = at + _NEGATION_SPAN, NEGATED
            elif token in _EN_REJECTORS:
                negation_until, negation = at + _REJECTION_SPAN, REJECTED
            elif token in _EN_SEEMING:
                mood = SEEMING
            elif token in _EN_TRULY:
                mood = TRULY
            at += 1
    return hits


# --- Chinese ------------------------------------------------------------------------------------

_ZH_CLAUSE = re.compile(r"[，。；：！？、,.;:!?()（）“”\"'‘’《》\n\s]+")
_ZH_MARKER_WORDS: dict[str, str] = {
    **dict.fromkeys(
        "不 并不 从不 绝不 决不 毫不 从未 没有 毫无 缺乏 不再 不太 不够 不会 不是 没 未曾 很少 极少 难得".split(),
        "negate",
    ),
    **dict.fromkeys(
        "讨厌 厌恶 厌烦 反感 受不了 最受不了 看不惯 打乱 打破 无视 藐视 蔑视 抗拒 拒绝 不屑 不喜欢 受够 反对 而不是 而非".split(),
        "reject",
    ),
    **dict.fromkeys("但是 然而 可是 不过 只是 却 但".split(), "contrast"),
    **dict.fromkeys("表面上 看起来 表面 看似 外表 貌似 人前 装作 假装".split(), "seem"),
    **dict.fromkeys("实际上 本质上 骨子里 其实 实则 内心 心里 私下".split(), "truly"),
}
# First character → (marker, kind), longest first, so one dict lookup per character finds them.
_ZH_MARKERS: dict[str, tuple[tuple[str, str], ...]] = {
    first: tuple(
        sorted(
            ((w, k) for w, k in _ZH_MARKER_WORDS.items() if w[0] == first), key=lambda e: -len(e[0])
        )
    )
    for first in {w[0] for w in _ZH_MARKER_WORDS}
}
_ZH_LIMITERS = ("唯独", "只对", "仅对", "只有", "只")
_ZH_SCOPE_NOUNS = ("朋友", "家人", "孩子", "弱者", "动物", "亲人", "自己人")
_ZH_NOT_AGENT = "被对向和跟与为替给把让受从"
_NEGATION_CHARS = 6


def _zh_elsewhere(lexicon: Lexicon, clause: str, start: int, end: int) -> bool:
    """The cue at clause[start:end] describes someone else: "严厉的父亲", or "父亲严厉"."""
    tail = clause[end : end + 6]
    for found in lexicon.chinese_others.finditer(clause):
        if found.start() >= end:
            if tail.startswith("的") and found.start() - end in (1, 2):
                return True
            continue
        if found.end() > start:
            continue
        agent = found.start() == 0 or clause[found.start() - 1] not in _ZH_NOT_AGENT
        between = clause[found.end() : start]
        if agent and not any(p in between for p in ("她", "他", "自己")):
            return True
    return False


def _zh_scopes(lexicon: Lexicon, clause: str, at: int) -> bool:
    """``对`` at ``at`` introduces the people a cue is limited to ("对家人却极为温柔")."""
    window = clause[at + 1 : at + 5]
    return any(window.startswith(n) or window[1:].startswith(n) for n in _ZH_SCOPE_NOUNS) or bool(
        lexicon.chinese_others.match(window) or lexicon.chinese_others.match(window, 1)
    )


def read_chinese(lexicon: Lexicon, text: str) -> list[Hit]:
    """The Chinese cues of ``text`` with their context factors."""
    hits: list[Hit] = []
    cues = lexicon.chinese
    for clause in _ZH_CLAUSE.split(text):
        if not clause:
            continue
        mood, contrast, scoped = 1.0, False, False
        limited = any(word in clause for word in _ZH_LIMITERS)
        negation_until, negation = -1, 1.0
        at = 0
        while at < len(clause):
            char = clause[at]
            entry = next((e for e in cues.get(char, ()) if clause.startswith(e[0], at)), None)
            if entry is not None:
                written, cue = entry
                end = at + len(written)
                if not cue.blocks_only:
                    factor = mood
                    if _zh_elsewhere(lexicon, clause, at, end):
                        factor *= ELSEWHERE
                    elif scoped:
                        factor *= LIMITED if (contrast or limited) else SCOPED
                    if at <= negation_until:
                        factor *= negation
                    hits.append(Hit(cue, factor))
                at = end
                continue
            marker = next(
                (m for m in _ZH_MARKERS.get(char, ()) if clause.startswith(m[0], at)), None
            )
            if marker is not None:
                word, kind = marker
                if kind == "negate" or kind == "reject":
                    negation = NEGATED if kind == "negate" else REJECTED
                    negation_until = at + len(word) + _NEGATION_CHARS
                elif kind == "contrast":
                    contrast, negation_until = True, -1
                else:
                    mood = SEEMING if kind == "seem" else TRULY
                at += len(word)
                continue
            if char == "对" and _zh_scopes(lexicon, clause, at):
                scoped = True
            at += 1
    return hits
