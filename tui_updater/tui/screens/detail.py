"""Task detail: the task summary (parameters, progress, result, avatar), every item, the log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Log, Static

from tui_updater.core.models import ItemRecord, TaskRecord
from tui_updater.core.service import UpdaterService
from tui_updater.errors import TavernError
from tui_updater.tui.widgets.header import KeyFooter
from tui_updater.tui.widgets.task_summary import TaskSummary

ITEM_LIMIT = 500
RELOAD_INTERVAL_S = 1.0
ITEM_STYLES = {"FAILED": "red", "DONE": "green", "CONFLICT": "yellow", "SKIPPED": "dim"}


class DetailScreen(Screen[None]):
    """One task, refreshed while it runs. Task actions (x r v d) apply to this task."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(
        self, service: UpdaterService, task: TaskRecord, *, clock: Callable[[], int]
    ) -> None:
        super().__init__()
        self.service = service
        self.task_record = task
        self.clock = clock
        self.items: list[ItemRecord] = []

    @property
    def task_id(self) -> str:
        return self.task_record.task_id

    def compose(self) -> ComposeResult:
        with Horizontal(id="detail-body"):
            yield TaskSummary(clock=self.clock, id="detail-left")
            with Vertical(id="detail-right"):
                yield Static("[b]Items[/b]", id="detail-items-title")
                yield DataTable(id="detail-items", cursor_type="row", zebra_stripes=True)
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
        self.reload()
        self.set_interval(RELOAD_INTERVAL_S, self._tick)

    def _tick(self) -> None:
        if not self.task_record.status.finished:
            self.reload()
        self.summary.refresh_progress()

    def show_task(self, task: TaskRecord) -> None:
        """Called by the app when a newer record of this task arrives."""
        was_finished = self.task_record.status.finished
        self.task_record = task
        self.summary.show_task(task)
        if task.status.finished and not was_finished:
            self.reload()

    @work(exclusive=True, group="detail-reload", exit_on_error=False)
    async def reload(self) -> None:
        """Fetch items and logs of this task."""
        try:
            items = await self.service.list_items(self.task_id, limit=ITEM_LIMIT)
            logs = await self.service.task_logs(self.task_id, limit=500)
        except TavernError:
            return
        self.items = items
        table = self.query_one("#detail-items", DataTable)
        table.clear()
        for item in items:
            table.add_row(
                item.label or item.key,
                Text(item.status.value, style=ITEM_STYLES.get(item.status.value, "")),
                str(item.attempts),
                Text(item.error or "", style="red"),
                key=f"{item.seq}",
            )
        self.query_one("#detail-items-title", Static).update(
            f"[b]Items[/b] ({len(items)}{'+' if len(items) >= ITEM_LIMIT else ''})"
        )
        log = self.query_one("#detail-log", Log)
        log.clear()
        ordered = sorted(logs, key=lambda record: record.timestamp_ms)
        log.write_lines(
            [f"{_clock_time(r.timestamp_ms)} {r.level:<7} {r.message}" for r in ordered]
        )
        self.summary.show_items(items)


def _clock_time(timestamp_ms: int) -> str:
    return dt.datetime.fromtimestamp(timestamp_ms / 1000).strftime("%H:%M:%S")
