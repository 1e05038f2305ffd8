"""The characters screen: how many characters miss each field, and the MBTI distribution."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui_updater.core.service import UpdaterService
from tui_updater.errors import TavernError
from tui_updater.tui.widgets.charts import bar_chart, mbti_chart
from tui_updater.tui.widgets.header import KeyFooter


class CharactersScreen(Screen[None]):
    """A read-only overview of the character database (service.characters_summary)."""

    BINDINGS = [
        Binding("escape,c", "app.pop_screen", "Close"),
        Binding("f5,ctrl+r", "reload", "Reload"),
    ]

    def __init__(self, service: UpdaterService) -> None:
        super().__init__()
        self.service = service
        self.summary: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="characters-body"):
            yield Static("[b]Characters[/b]  loading…", id="characters-title")
            yield Static("", id="characters-missing")
            yield Static("", id="characters-mbti")
            yield Static("", id="characters-avatars")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.load()

    @work(exclusive=True, group="characters", exit_on_error=False)
    async def load(self) -> None:
        try:
            summary = await self.service.characters_summary()
        except TavernError as exc:
            self.query_one("#characters-title", Static).update(
                f"[b]Characters[/b]  [red]{exc}[/red]"
            )
            return
        self.show(summary)

    def show(self, summary: dict[str, Any]) -> None:
        self.summary = summary
        total = int(summary.get("total") or 0)
        table = summary.get("table") or "?"
        self.query_one("#characters-title", Static).update(
            f"[b]Characters[/b]  table [b]{table}[/b]: {total} characters"
        )
        missing = summary.get("missing") or {}
        rows = sorted(
            ((str(k), int(v)) for k, v in missing.items()), key=lambda kv: (-kv[1], kv[0])
        )
        missing_text = bar_chart(rows, total=total, default_style="dark_orange")
        absent = summary.get("columnsAbsent") or []
        heading = "[b]Missing or empty fields[/b] (share of all characters)"
        if absent:
            heading += (
                f"\n[yellow]columns absent from the table: {', '.join(map(str, absent))}[/yellow]"
            )
        self.query_one("#characters-missing", Static).update(_join(heading, missing_text))
        distribution = {str(k): int(v) for k, v in (summary.get("mbtiDistribution") or {}).items()}
        assigned = sum(distribution.values())
        self.query_one("#characters-mbti", Static).update(
            _join(
                f"\n[b]MBTI distribution[/b] ({assigned} of {total} assigned)",
                mbti_chart(distribution),
            )
        )
        statuses = sorted(
            ((str(k), int(v)) for k, v in (summary.get("avatarStatus") or {}).items()),
            key=lambda kv: kv[0],
        )
        self.query_one("#characters-avatars", Static).update(
            _join("\n[b]Avatar status[/b]", bar_chart(statuses, total=total, default_style="cyan"))
        )


def _join(markup: str, body: Any) -> Any:
    from rich.console import Group
    from rich.text import Text

    return Group(Text.from_markup(markup), body)
