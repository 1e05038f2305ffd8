"""The characters screen's summary: missing fields, the MBTI distribution and avatar status."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from tui_updater.tui.widgets.charts import bar_chart, mbti_chart


def _join(markup: str, body: Any) -> RenderableType:
    return Group(Text.from_markup(markup), body)


def missing_fields(summary: dict[str, Any]) -> RenderableType:
    total = int(summary.get("total") or 0)
    missing = summary.get("missing") or {}
    rows = sorted(((str(k), int(v)) for k, v in missing.items()), key=lambda kv: (-kv[1], kv[0]))
    heading = "[b]Missing or empty fields[/b] (share of all characters)"
    absent = summary.get("columnsAbsent") or []
    if absent:
        heading += (
            f"\n[yellow]columns absent from the table: {', '.join(map(str, absent))}[/yellow]"
        )
    return _join(heading, bar_chart(rows, total=total, default_style="dark_orange"))


def mbti_distribution(summary: dict[str, Any]) -> RenderableType:
    total = int(summary.get("total") or 0)
    distribution = {str(k): int(v) for k, v in (summary.get("mbtiDistribution") or {}).items()}
    assigned = sum(distribution.values())
    return _join(
        f"\n[b]MBTI distribution[/b] ({assigned} of {total} assigned)", mbti_chart(distribution)
    )


def avatar_status(summary: dict[str, Any]) -> RenderableType:
    total = int(summary.get("total") or 0)
    statuses = sorted(
        ((str(k), int(v)) for k, v in (summary.get("avatarStatus") or {}).items()),
        key=lambda kv: kv[0],
    )
    return _join("\n[b]Avatar status[/b]", bar_chart(statuses, total=total, default_style="cyan"))
