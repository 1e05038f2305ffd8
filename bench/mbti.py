"""Offline MBTI classifier: agreement with the commonly agreed types of the development set.

``bench/data/mbti_characters.tsv`` holds 185 characters written for this project (100 English,
85 Chinese; famous ones described in our own words, plus invented ones), each with its type; 30 %
is held out (``split`` = holdout) and never used for tuning, so overfitting shows as a gap between
the two parts. Figures: exact agreement, agreement per axis, per language, and coverage (share of
axes decided by evidence rather than the prior). The reference, measured in the same run, is the
previous classifier (keyword counts, ties broken by a hash of the character id), kept here in
miniature; "always the prior" is printed as a second baseline.
"""

from __future__ import annotations

import csv
import hashlib
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.common import ROOT, Result, arguments, note, report

BENCH = "mbti"
DATA = ROOT / "bench" / "data" / "mbti_characters.tsv"
AXES = ("E/I", "S/N", "T/F", "J/P")
GOAL_EXACT = 0.50
GOAL_AXIS = 0.75

# The previous classifier's cues (first letter of each pair, then the second) and field weights.
_OLD_CUES = {
    "E": "开朗 外向 活泼 热情 健谈 社交 爱热闹 阳光 豪爽 大方 朋友很多 领袖 outgoing extroverted extrovert "
    "sociable talkative lively energetic cheerful bubbly charismatic party gregarious loud popular",
    "I": "内向 安静 沉默 孤独 独处 寡言 害羞 腼腆 冷淡 高冷 孤僻 内敛 introverted introvert quiet shy reserved "
    "solitary loner withdrawn aloof silent private reclusive soft-spoken",
    "S": "务实 现实 踏实 细心 传统 经验 实际 勤劳 脚踏实地 观察 手艺 运动 practical realistic down-to-earth "
    "detail detailed hands-on traditional grounded observant concrete athletic craftsman sensible",
    "N": "想象 幻想 创意 梦想 理想 直觉 灵感 哲学 未来 神秘 好奇 艺术 imaginative imagination creative dreamer "
    "dreamy visionary intuitive curious philosophical idealistic abstract inventive mystical artistic",
    "T": "理性 逻辑 冷静 分析 理智 客观 严谨 聪明 战略 果断 科学 智慧 logical rational analytical calm "
    "objective strategic intelligent clever scientist decisive cold cunning genius pragmatic",
    "F": "温柔 善良 体贴 感性 同情 善解人意 关心 治愈 可爱 多愁善感 温暖 爱心 kind gentle caring empathetic "
    "compassionate warm sensitive emotional sweet loving nurturing tender affectionate",
    "J": "有条理 计划 自律 负责 守规矩 严格 认真 秩序 坚定 可靠 纪律 完美主义 organized organised disciplined "
    "responsible punctual strict orderly planner reliable methodical diligent perfectionist structured",
    "P": "随性 自由 冒险 随意 即兴 灵活 叛逆 贪玩 不羁 好动 随心所欲 浪漫 spontaneous free-spirited adventurous "
    "flexible carefree rebellious playful impulsive easygoing easy-going wanderer adaptable mischievous",
}
_OLD_FIELDS = {"personality": 3, "description": 2, "backstory": 1, "name": 1}


def _old_pattern() -> tuple[dict[str, str], re.Pattern[str], re.Pattern[str]]:
    letter_of = {cue: letter for letter, cues in _OLD_CUES.items() for cue in cues.split()}
    ordered = sorted(letter_of, key=lambda c: (-len(c), c))
    latin = [c for c in ordered if re.match(r"^[a-z -]+$", c)]
    cjk = [c for c in ordered if not re.match(r"^[a-z -]+$", c)]
    alt = "|".join
    return (
        letter_of,
        re.compile(r"(?<![a-z])(?:" + alt(map(re.escape, latin)) + r")(?![a-z])"),
        re.compile(alt(map(re.escape, cjk))),
    )


_OLD = _old_pattern()


def old_classifier(card: dict[str, str], character_id: str) -> tuple[str, int]:
    """The previous offline verdict and how many axes had a cue (tie: hash of the id)."""
    letter_of, latin, cjk = _OLD
    scores = dict.fromkeys(_OLD_CUES, 0)
    for field, weight in _OLD_FIELDS.items():
        text = card.get(field, "").lower()
        for pattern in (latin, cjk):
            for cue in pattern.findall(text):
                scores[letter_of[cue]] += weight
    letters, covered = [], 0
    for first, second in ("EI", "SN", "TF", "JP"):
        if scores[first] == scores[second]:
            digest = hashlib.sha256(f"{character_id}:{first}{second}".encode()).digest()
            letters.append(first if int.from_bytes(digest[:8], "big") % 2 == 0 else second)
        else:
            letters.append(first if scores[first] > scores[second] else second)
        covered += scores[first] + scores[second] > 0
    return "".join(letters), covered


@dataclass(frozen=True)
class Score:
    count: int
    exact: float
    axes: tuple[float, float, float, float]
    coverage: float


def load(split: str | None = None, language: str | None = None) -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [
        r
        for r in rows
        if (split is None or r["split"] == split)
        and (language is None or r["language"] == language)
    ]


def card_of(row: dict[str, str]) -> dict[str, str]:
    return {k: row[k] for k in ("name", "description", "personality", "backstory")}


def measure(
    rows: Sequence[dict[str, str]], judge: Callable[[int, dict[str, str]], tuple[str, int]]
) -> Score:
    exact, covered = 0, 0
    axes = [0, 0, 0, 0]
    for index, row in enumerate(rows):
        mbti_type, evidence_axes = judge(index, card_of(row))
        exact += mbti_type == row["type"]
        covered += evidence_axes
        for axis in range(4):
            axes[axis] += mbti_type[axis] == row["type"][axis]
    n = max(1, len(rows))
    return Score(
        len(rows),
        exact / n,
        (axes[0] / n, axes[1] / n, axes[2] / n, axes[3] / n),
        covered / (4 * n),
    )


def new_judge(_index: int, card: dict[str, str]) -> tuple[str, int]:
    from tui_updater.providers.mbti import classify

    verdict = classify(card)
    return verdict.mbti_type, verdict.evidence_axes


def prior_judge(_index: int, _card: dict[str, str]) -> tuple[str, int]:
    from tui_updater.providers.mbti.priors import complete

    return complete()[0], 0


def old_judge(index: int, card: dict[str, str]) -> tuple[str, int]:
    return old_classifier(card, f"character-{index}")


def _pct(value: float) -> float:
    return round(100 * value, 1)


def run_part(split: str) -> list[Result]:
    rows = load(split)
    new, old, prior = measure(rows, new_judge), measure(rows, old_judge), measure(rows, prior_judge)
    part = "held-out part" if split == "holdout" else "tuned part"
    reference = "previous classifier (keyword counts, id-hash ties)"
    results = [
        report(
            Result(BENCH, f"exact agreement, {part} (n={new.count})", _pct(new.exact), "%",
                   reference, _pct(old.exact), goal="≥ 50 %", passed=new.exact >= GOAL_EXACT)
        )
    ]  # fmt: skip
    for axis, name in enumerate(AXES):
        results.append(
            report(
                Result(BENCH, f"{name} agreement, {part}", _pct(new.axes[axis]), "%", reference,
                       _pct(old.axes[axis]), goal="≥ 75 %", passed=new.axes[axis] >= GOAL_AXIS)
            )
        )  # fmt: skip
    results.append(
        report(
            Result(BENCH, f"coverage (axes decided by evidence), {part}", _pct(new.coverage), "%",
                   "previous classifier: axes with any cue", _pct(old.coverage))
        )
    )  # fmt: skip
    for language in ("en", "zh"):
        subset = [r for r in rows if r["language"] == language]
        lang_new, lang_old = measure(subset, new_judge), measure(subset, old_judge)
        results.append(
            report(
                Result(BENCH, f"exact agreement, {part}, {language} (n={lang_new.count})",
                       _pct(lang_new.exact), "%", reference, _pct(lang_old.exact))
            )
        )  # fmt: skip
        note(
            BENCH,
            f"{part} {language}: per axis "
            + ", ".join(f"{name} {_pct(v)} %" for name, v in zip(AXES, lang_new.axes, strict=True))
            + f"; coverage {_pct(lang_new.coverage)} %",
        )
    note(
        BENCH,
        f"{part}: always the prior ({prior_judge(0, {})[0]}) agrees exactly {_pct(prior.exact)} %, "
        + ", ".join(f"{name} {_pct(v)} %" for name, v in zip(AXES, prior.axes, strict=True)),
    )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    arguments(__doc__ or BENCH, argv)  # --quick changes nothing: the whole set takes < 1 s
    if not DATA.exists():
        print(f"SKIPPED [{BENCH}]: {DATA} is missing", flush=True)
        return 0
    for split in ("tune", "holdout"):
        run_part(split)
    return 0


if __name__ == "__main__":
    sys.exit(main())
