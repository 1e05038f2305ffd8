"""The character view: every field, the avatar, and the journal history with the revert of one
change (compare-and-set: a field the site edited since is left alone and the view says so)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.markup import escape
from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tui_updater.core.service import CharacterChangeEntry, CharacterDetail, UpdaterService
from tui_updater.errors import TavernError
from tui_updater.tui.screens.confirm import ConfirmScreen
from tui_updater.tui.widgets.avatar import AvatarPreview
from tui_updater.tui.widgets.header import KeyFooter

HISTORY_COLUMNS = (
    ("When", 14),
    ("Task", 10),
    ("Field", 12),
    ("Before", 10),
    ("After", 10),
    ("State", 10),
)  # 80 columns hold them; the line below the table has the whole values
VALUE_CHARS = 60  # a value's preview in the history table
FIELD_CHARS = 400  # a field's text in the field list
STATE_MARKS = {
    "applied": "✓ applied",
    "reverted": "↶ reverted",
    "conflict": "✗ conflict",
    "revert_conflict": "✗ kept (edited since)",
    "planned": "… planned",
}


def short(value: Any, limit: int = VALUE_CHARS) -> str:
    if value is None:
        return "∅"
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def when(ms: int) -> str:
    if not ms:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%m-%d %H:%M:%S")


def fields_table(detail: CharacterDetail) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in detail.fields.items():
        shown = "[dim]∅ empty[/dim]" if value is None or not str(value).strip() else None
        table.add_row(name, shown or escape(short(value, FIELD_CHARS)))
    return table


class CharacterScreen(Screen[None]):
    """One character: fields and avatar on top, the history of changes below (newest first)."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("v", "revert_change", "Revert change"),
        Binding("f5,ctrl+r", "reload", "Reload", show=False),
    ]

    def __init__(self, service: UpdaterService, character_id: str) -> None:
        super().__init__()
        self.service = service
        self.character_id = character_id
        self.detail: CharacterDetail | None = None

    def compose(self) -> ComposeResult:
        yield Static(
            f"[b]Character[/b] {escape(self.character_id)}  loading…", id="character-title"
        )
        with Horizontal(id="character-top"):
            with VerticalScroll(id="character-fields"):
                yield Static("", id="character-fields-text")
            yield AvatarPreview("", id="character-avatar")
        yield Static("[b]History[/b]", id="character-history-title")
        yield DataTable(id="character-history", cursor_type="row", zebra_stripes=True)
        yield Static("", id="character-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#character-history", DataTable)
        for label, width in HISTORY_COLUMNS:
            table.add_column(label, key=label, width=width)
        table.focus()
        self.load()

    def action_reload(self) -> None:
        self.load()

    @work(exclusive=True, group="character", exit_on_error=False)
    async def load(self) -> None:
        try:
            detail = await self.service.character(self.character_id)
        except TavernError as exc:
            self.query_one("#character-title", Static).update(
                f"[b]Character[/b] {escape(self.character_id)}  [red]{escape(str(exc))}[/red]"
            )
            return
        self.show(detail)

    def show(self, detail: CharacterDetail) -> None:
        self.detail = detail
        changes = len(detail.history)
        self.query_one("#character-title", Static).update(
            f"[b]{escape(detail.name or detail.character_id)}[/b]  [dim]{escape(detail.character_id)}"
            f"[/dim]  {changes} journaled change{'s' if changes != 1 else ''}"
        )
        self.query_one("#character-fields-text", Static).update(fields_table(detail))
        avatar = self.query_one("#character-avatar", AvatarPreview)
        if detail.avatar_file:
            avatar.show_file(detail.avatar_file, width_cells=20)
        else:
            avatar.update("[dim]no avatar file here[/dim]")
        table = self.query_one("#character-history", DataTable)
        cursor = table.cursor_row
        table.clear()
        for entry in detail.history:
            table.add_row(
                when(entry.created_at_ms),
                entry.task_id[-10:],
                entry.column,
                short(entry.old_value, 24),
                short(entry.new_value, 24),
                STATE_MARKS.get(entry.state, entry.state),
                key=str(entry.entry_id),
            )
        if detail.history:
            table.move_cursor(row=min(cursor, len(detail.history) - 1), animate=False)
        else:
            self.query_one("#character-status", Static).update(
                "[dim]no task has changed this character yet[/dim]"
            )

    def selected(self) -> CharacterChangeEntry | None:
        table = self.query_one("#character-history", DataTable)
        if self.detail is None or not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((e for e in self.detail.history if str(e.entry_id) == key), None)

    @on(DataTable.RowHighlighted, "#character-history")
    def _highlighted(self) -> None:
        entry = self.selected()
        if entry is not None:
            self.query_one("#character-status", Static).update(
                f"[b]{escape(entry.column)}[/b] by {escape(entry.task_id)}\n"
                f"before: {escape(short(entry.old_value, 200))}\n"
                f"after:  {escape(short(entry.new_value, 200))}"
            )

    def action_revert_change(self) -> None:
        entry = self.selected()
        if entry is None:
            self.notify("no change selected")
            return
        if entry.state != "applied":
            self.notify(
                f"this change is {STATE_MARKS.get(entry.state, entry.state)}: nothing to undo"
            )
            return
        question = (
            f"Put [b]{escape(entry.column)}[/b] back to {escape(short(entry.old_value))}?\n"
            "Only if it still holds what the task wrote; an edit made since is kept."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.revert(entry.entry_id)

        self.app.push_screen(ConfirmScreen(question, confirm_label="Revert"), answered)

    @work(exclusive=True, group="character-revert", exit_on_error=False)
    async def revert(self, entry_id: int) -> None:
        try:
            outcome = await self.service.revert_change(entry_id)
        except TavernError as exc:
            self.notify(f"revert refused: {exc}", severity="error")
            return
        if outcome.get("reverted"):
            self.notify("change reverted")
        else:
            self.notify(f"not reverted: {outcome.get('reason')}", severity="warning")
        self.load()
