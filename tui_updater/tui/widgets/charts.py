"""Horizontal bar charts as Rich Text (MBTI distribution, missing-field counts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widgets import Static

MBTI_GROUP_STYLES = {
    "NT": "magenta",  # Analysts
    "NF": "green",  # Diplomats
    "SJ": "blue",  # Sentinels
    "SP": "yellow",  # Explorers
}


def mbti_style(mbti_type: str) -> str:
    t = mbti_type.upper()
    if len(t) != 4:
        return "cyan"
    if t[1] == "N":
        return MBTI_GROUP_STYLES["NT" if t[2] == "T" else "NF"]
    return MBTI_GROUP_STYLES["SJ" if t[3] == "J" else "SP"]


def bar_chart(
    rows: Sequence[tuple[str, int]],
    *,
    width: int = 30,
    total: int | None = None,
    styles: Mapping[str, str] | None = None,
    default_style: str = "cyan",
) -> Text:
    """One line per (label, count): label, a bar scaled to the largest count, count and share."""
    text = Text()
    if not rows:
        text.append("(no data)", style="dim")
        return text
    largest = max(count for _, count in rows) or 1
    label_width = max(len(label) for label, _ in rows)
    share_of = total if total is not None else sum(count for _, count in rows)
    for index, (label, count) in enumerate(rows):
        if index:
            text.append("\n")
        length = round(width * count / largest) if count else 0
        style = (styles or {}).get(label, default_style)
        text.append(f"{label:<{label_width}} ", style="bold")
        text.append("█" * length, style=style)
        text.append(" " * (width - length))
        share = f" {100.0 * count / share_of:5.1f}%" if share_of else ""
        text.append(f" {count:>5d}{share}")
    return text


def mbti_chart(
    distribution: Mapping[str, int], *, width: int = 30, limit: int | None = None
) -> Text:
    """Types by count, largest first; with ``limit``, only the first rows (shares of all)."""
    rows = sorted(distribution.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = rows[:limit] if limit is not None else rows
    text = bar_chart(
        shown,
        width=width,
        total=sum(count for _, count in rows),
        styles={t: mbti_style(t) for t, _ in shown},
    )
    if len(shown) < len(rows):
        text.append(f"\n… {len(rows) - len(shown)} more type(s)", style="dim")
    return text


class BarChart(Static):
    """A Static holding a bar chart; ``plot`` replaces the data."""

    def plot(
        self, rows: Sequence[tuple[str, int]], *, total: int | None = None, mbti: bool = False
    ) -> None:
        if mbti:
            self.update(mbti_chart(dict(rows)))
        else:
            self.update(bar_chart(rows, total=total))
