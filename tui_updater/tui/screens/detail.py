"""Task detail: the task summary (parameters, progress, result, avatar), every item or every
change it wrote, the log."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Log, Static

from tui_updater.core.models import ItemRecord, TaskRecord, TaskStatus
from tui_updater.core.service import UpdaterService
from tui_updater.errors import TavernError
from tui_updater.tui.screens.review import ReviewScreen
from tui_updater.tui.widgets.change_list import ChangeList, revert_note
from tui_updater.tui.widgets.header import KeyFooter
from tui_updater.tui.widgets.task_summary import TaskSummary

ITEM_LIMIT = 500  # items per page
ITEM_FILTERS: tuple[str | None, ...] = (None, "FAILED", "CONFLICT", "SKIPPED", "DONE", "PENDING")
RELOAD_INTERVAL_S = 1.0
# A running task's changes: a page of a 100,000-change journal costs a few scans of it, on the
# store's one connection the engine writes through; every few seconds is enough to watch it grow.
CHANGES_INTERVAL_S = 5.0
DRY_RUN_FIELD = "dryRun"  # a completed run with it on offers the same run for real
ITEM_STYLES = {"FAILED": "red", "DONE": "green", "CONFLICT": "yellow", "SKIPPED": "dim"}


class DetailScreen(Screen[None]):
    """One task, refreshed while it runs. Task actions (x r v d) apply to this task."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("w", "toggle_changes", "Changes"),
        Binding("f", "cycle_item_filter", "State"),
        Binding("e", "cycle_change_field", "Field", show=False),
        Binding("slash", "search_changes", "Search", show=False),
        Binding("A", "apply_dry_run", "Apply for real"),
        Binding("right_square_bracket", "item_page(1)", "Next page", show=False),
        Binding("left_square_bracket", "item_page(-1)", "Prev page", show=False),
        Binding("R", "review", "Review"),
    ]

    class CharacterWanted(Message):
        """Enter on an item: show the character it is about."""

        def __init__(self, character_id: str) -> None:
            super().__init__()
            self.character_id = character_id

    class ApplyWanted(Message):
        """``A`` on a completed dry run: the form with its parameters, the dry run off."""

        def __init__(self, type_name: str, data: dict[str, Any], priority: str) -> None:
            super().__init__()
            self.type_name = type_name
            self.data = data
            self.priority = priority

    def __init__(
        self, service: UpdaterService, task: TaskRecord, *, clock: Callable[[], int]
    ) -> None:
        super().__init__()
        self.service = service
        self.task_record = task
        self.clock = clock
        self.items: list[ItemRecord] = []
        self.item_filter: str | None = None
        self.item_offset = 0
        self._changes_at_s = 0.0

    @property
    def task_id(self) -> str:
        return self.task_record.task_id

    def compose(self) -> ComposeResult:
        with Horizontal(id="detail-body"):
            yield TaskSummary(clock=self.clock, id="detail-left")
            with Vertical(id="detail-right"):
                yield Static("", id="detail-revert-note")
                yield Static("[b]Items[/b]", id="detail-items-title")
                yield DataTable(id="detail-items", cursor_type="row", zebra_stripes=True)
                yield ChangeList(self.service, self.task_id, id="detail-changes")
                yield Static("[b]Log[/b]", classes="section")
                yield Log(max_lines=2000, id="detail-log")
        yield KeyFooter()

    @property
    def summary(self) -> TaskSummary:
        return self.query_one("#detail-left", TaskSummary)

    def on_mount(self) -> None:
        table = self.query_one("#detail-items", DataTable)
        for key, label in (
            ("label", "Character"),
            ("status", "State"),
            ("attempts", "Tries"),
            ("error", "Error"),
        ):
            table.add_column(label, key=key)
        self.summary.show_task(self.task_record)
        self.changes.display = False
        self.query_one("#detail-revert-note").display = False
        self.reload()
        self.changes.reload()  # its counts say whether the task was partly reverted
        self.set_interval(RELOAD_INTERVAL_S, self._tick)

    def on_screen_resume(self) -> None:
        """Back from the character view, where one change may have been reverted."""
        if self.is_mounted:
            self.changes.reload()

    @property
    def changes(self) -> ChangeList:
        return self.query_one("#detail-changes", ChangeList)

    @property
    def showing_changes(self) -> bool:
        return bool(self.changes.display)

    def _tick(self) -> None:
        if not self.task_record.status.finished:
            self.reload()
            now_s = time.monotonic()
            if self.showing_changes and now_s - self._changes_at_s >= CHANGES_INTERVAL_S:
                self._changes_at_s = now_s
                self.changes.reload()
        self.summary.refresh_progress()

    def show_task(self, task: TaskRecord) -> None:
        """Called by the app when a newer record of this task arrives."""
        previous = self.task_record
        was_finished = previous.status.finished
        self.task_record = task
        self.summary.show_task(task)
        if task.status.finished and not was_finished:
            self.reload()
        if task.reverted_at_ms != previous.reverted_at_ms or task.status is not previous.status:
            self.changes.reload()
            self.refresh_bindings()  # whether A applies follows the record

    @work(exclusive=True, group="detail-reload", exit_on_error=False)
    async def reload(self) -> None:
        """Fetch items and logs of this task."""
        try:
            items = await self.service.list_items(
                self.task_id, limit=ITEM_LIMIT, offset=self.item_offset, status=self.item_filter
            )
            logs = await self.service.task_logs(self.task_id, limit=500)
        except TavernError:
            return
        if not items and self.item_offset:  # the filter shrank under the page: back to the start
            self.item_offset = 0
            self.reload()
            return
        changed = items != self.items
        self.items = items
        table = self.query_one("#detail-items", DataTable)
        if changed:
            self._fill(table, items)
        self._show_items_title(len(items))
        log = self.query_one("#detail-log", Log)
        log.clear()
        ordered = sorted(logs, key=lambda record: record.timestamp_ms)
        log.write_lines(
            [f"{_clock_time(r.timestamp_ms)} {r.level:<7} {r.message}" for r in ordered]
        )
        if self.item_filter is None and not self.item_offset:
            self.summary.show_items(items)

    def _show_items_title(self, shown: int) -> None:
        first = self.item_offset + 1 if shown else 0
        last = self.item_offset + shown
        state = self.item_filter or "all"
        more = "  [dim]\\[ ] pages[/dim]" if shown >= ITEM_LIMIT or self.item_offset else ""
        self.query_one("#detail-items-title", Static).update(
            f"[b]Items[/b] {state}: {first:,}–{last:,}{more}  [dim]f: state[/dim]"
        )

    def _fill(self, table: DataTable[object], items: list[ItemRecord]) -> None:
        """Replace the rows, keeping the cursor on the same item (or the same row) while the
        task runs and the rows refresh every second."""
        selected: str | None = None
        if table.row_count:
            selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        row = table.cursor_row
        table.clear()
        for item in items:
            table.add_row(
                item.label or item.key,
                Text(item.status.value, style=ITEM_STYLES.get(item.status.value, "")),
                str(item.attempts),
                Text(item.error or "", style="red"),
                key=f"{item.seq}",
            )
        keys = [f"{item.seq}" for item in items]
        if selected in keys:
            row = keys.index(selected)
        if items:
            table.move_cursor(row=min(row, len(items) - 1), animate=False)

    # --- items or changes ---------------------------------------------------------------------

    def action_toggle_changes(self) -> None:
        showing = not self.showing_changes
        self.changes.display = showing
        self.query_one("#detail-items").display = not showing
        self.query_one("#detail-items-title").display = not showing
        if showing:
            self.changes.reload()
            self.changes.table.focus()
        else:
            self.query_one("#detail-items", DataTable).focus()

    def action_cycle_change_field(self) -> None:
        if self.showing_changes:
            self.changes.cycle_field()

    def action_search_changes(self) -> None:
        if not self.showing_changes:
            self.action_toggle_changes()
        self.changes.open_search()

    @on(ChangeList.Loaded)
    def _changes_loaded(self, event: ChangeList.Loaded) -> None:
        note = revert_note(event.page, reverted_task=self.task_record.reverted_at_ms is not None)
        widget = self.query_one("#detail-revert-note", Static)
        widget.update(f"[magenta]{note}[/magenta]  [dim]w: changes[/dim]" if note else "")
        widget.display = bool(note)

    @on(ChangeList.Highlighted)
    def _change_highlighted(self, event: ChangeList.Highlighted) -> None:
        if event.change.file:
            self.summary.show_avatar(event.change.file)

    @on(ChangeList.Chosen)
    def _change_chosen(self, event: ChangeList.Chosen) -> None:
        self.post_message(self.CharacterWanted(event.change.character_id))

    # --- apply a dry run for real --------------------------------------------------------------

    @property
    def is_finished_dry_run(self) -> bool:
        task = self.task_record
        return task.status is TaskStatus.COMPLETED and task.data.get(DRY_RUN_FIELD) is True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply_dry_run":
            return self.is_finished_dry_run
        return True

    def action_apply_dry_run(self) -> None:
        if not self.is_finished_dry_run:
            self.notify("only a completed dry run can be applied", severity="warning")
            return
        task = self.task_record
        data = {**task.data, DRY_RUN_FIELD: False}
        self.post_message(self.ApplyWanted(task.type, data, task.priority.name))

    # --- items ---------------------------------------------------------------------------------

    def action_cycle_item_filter(self) -> None:
        if self.showing_changes:
            self.changes.cycle_state()
            return
        position = ITEM_FILTERS.index(self.item_filter)
        self.item_filter = ITEM_FILTERS[(position + 1) % len(ITEM_FILTERS)]
        self.item_offset = 0
        self.items = []
        self.reload()

    def action_item_page(self, step: int) -> None:
        if self.showing_changes:
            self.changes.turn_page(step)
            return
        offset = self.item_offset + step * ITEM_LIMIT
        if offset < 0 or (step > 0 and len(self.items) < ITEM_LIMIT):
            return
        self.item_offset = offset
        self.items = []
        self.reload()

    def action_review(self) -> None:
        """The proposals of a review-mode task (tui/screens/review.py)."""
        self.app.push_screen(ReviewScreen(self.service, self.task_record))

    def _item(self, key: str | None) -> ItemRecord | None:
        return next((i for i in self.items if f"{i.seq}" == key), None)

    @on(DataTable.RowHighlighted, "#detail-items")
    def _item_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The avatar preview follows the cursor to an item that stored an image."""
        item = self._item(event.row_key.value)
        file = (item.result or {}).get("file") if item is not None else None
        if isinstance(file, str):
            self.summary.show_avatar(file)

    @on(DataTable.RowSelected, "#detail-items")
    def _item_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        item = self._item(event.row_key.value)
        if item is not None:
            self.post_message(self.CharacterWanted(item.key))


def _clock_time(timestamp_ms: int) -> str:
    return dt.datetime.fromtimestamp(timestamp_ms / 1000).strftime("%H:%M:%S")
