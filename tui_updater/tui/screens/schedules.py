"""The schedules screen (list, enable/disable, remove with confirmation, last/next run, tasks
created) and the trigger prompt the task form's "schedule this" opens."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, Static

from tui_updater.core.schedules import ScheduleRecord
from tui_updater.core.service import UpdaterService
from tui_updater.errors import InvalidParameters, TavernError
from tui_updater.tui.screens.confirm import ConfirmScreen
from tui_updater.tui.widgets.header import KeyFooter

_EVERY = re.compile(r"^\s*every\s+(\d+)\s*(m|min|mins|minutes?)?\s*$", re.IGNORECASE)


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%m-%d %H:%M UTC")


def trigger_fields(text: str) -> dict[str, Any]:
    """``"every 5"`` → a watch rule every 5 minutes; anything else is a cron expression."""
    matched = _EVERY.match(text)
    if matched:
        return {"everyMinutes": int(matched.group(1))}
    return {"cron": text.strip()}


def budget_fields(text: str) -> dict[str, Any]:
    """The daily token budget as typed ("" for none); InvalidParameters naming maxTokens."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned:
        return {}
    if not cleaned.lstrip("-").isdigit():
        raise InvalidParameters("maxTokens", "a whole number of tokens per day")
    return {"maxTokens": int(cleaned)}


class TriggerPrompt(ModalScreen[ScheduleRecord | None]):
    """Asks when a schedule fires (and its daily budget), then adds it through the service."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Cancel", priority=True)]

    def __init__(self, service: UpdaterService, body: dict[str, Any]) -> None:
        super().__init__()
        self.service = service
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(id="trigger-box"):
            yield Static(f"[b]Schedule {self.body.get('type', '')}[/b]", id="trigger-title")
            yield Static(
                '"every 5" = when candidates appear, looked for every 5 minutes; '
                'or a cron expression in UTC, e.g. "0 3 * * *"',
                classes="field-help",
            )
            yield Input(placeholder="every 5", id="trigger-when")
            yield Static("Token budget per day (empty: none)", classes="field-help")
            yield Input(placeholder="", id="trigger-budget")
            yield Static("", id="trigger-status")
            yield Static("[b]enter[/b] add   [b]esc[/b] cancel", id="trigger-hint")

    def on_mount(self) -> None:
        self.query_one("#trigger-when", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.add()

    @work(exclusive=True, group="add-schedule", exit_on_error=False)
    async def add(self) -> None:
        when = self.query_one("#trigger-when", Input).value or "every 5"
        status = self.query_one("#trigger-status", Static)
        try:
            body = {
                **self.body,
                **trigger_fields(when),
                **budget_fields(self.query_one("#trigger-budget", Input).value),
            }
            schedule = await self.service.add_schedule(body)
        except TavernError as exc:
            status.update(f"[red]Not added: {exc}[/red]")
            return
        self.dismiss(schedule)


class SchedulesScreen(Screen[None]):
    """Every schedule: trigger, state, last and next run, tasks created, what the last check did."""

    BINDINGS = [
        Binding("escape,t", "app.pop_screen", "Close"),
        Binding("n", "app.new_task", "New (ctrl+t in the form)"),
        Binding("e", "toggle_enabled", "On/off"),
        Binding("delete,x", "remove", "Remove"),
        Binding("f5,ctrl+r", "reload", "Reload"),
    ]

    def __init__(self, service: UpdaterService) -> None:
        super().__init__()
        self.service = service
        self.schedules: list[ScheduleRecord] = []

    def compose(self) -> ComposeResult:
        yield Static("[b]Schedules[/b]  loading…", id="schedules-title")
        yield DataTable(id="schedules-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="schedules-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#schedules-table", DataTable)
        for key, label in (
            ("state", "On"),
            ("what", "Task"),
            ("trigger", "Trigger"),
            ("budget", "Budget/day"),
            ("last", "Last run"),
            ("next", "Next run"),
            ("tasks", "Tasks"),
            ("message", "Last check"),
        ):
            table.add_column(label, key=key)
        table.focus()
        self.load()

    def on_screen_resume(self) -> None:
        self.load()  # back from the form: a schedule may have been added

    def action_reload(self) -> None:
        self.load()

    @work(exclusive=True, group="schedules", exit_on_error=False)
    async def load(self) -> None:
        title = self.query_one("#schedules-title", Static)
        try:
            self.schedules = await self.service.list_schedules()
        except TavernError as exc:
            title.update(f"[b]Schedules[/b]  [red]{exc}[/red]")
            return
        table = self.query_one("#schedules-table", DataTable)
        table.clear()
        for schedule in self.schedules:
            budget = "-" if schedule.max_tokens is None else f"{schedule.max_tokens:,} tokens"
            if schedule.max_cost is not None:
                budget = f"{budget}, cost {schedule.max_cost:g}"
            table.add_row(
                "on" if schedule.enabled else "off",
                schedule.name or schedule.type,
                schedule.trigger_text,
                budget,
                _when(schedule.last_run_ms),
                _when(schedule.next_run_ms) if schedule.enabled else "-",
                f"{schedule.tasks_created} (last {schedule.last_task_id or '-'})",
                schedule.message,
                key=schedule.schedule_id,
            )
        hint = (
            "e switches the selected one on/off, x removes it"
            if self.schedules
            else "none yet: n opens the task form, ctrl+t there schedules it"
        )
        title.update(f"[b]Schedules[/b]  {len(self.schedules)} — {hint}")

    @property
    def selected(self) -> ScheduleRecord | None:
        table = self.query_one("#schedules-table", DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return next((s for s in self.schedules if s.schedule_id == row_key.value), None)

    def action_toggle_enabled(self) -> None:
        schedule = self.selected
        if schedule is None:
            self.notify("no schedule selected", severity="warning")
            return
        self.apply_change(schedule.schedule_id, {"enabled": not schedule.enabled})

    @work(group="schedule-change", exit_on_error=False)
    async def apply_change(self, schedule_id: str, body: dict[str, Any]) -> None:
        status = self.query_one("#schedules-status", Static)
        try:
            changed = await self.service.update_schedule(schedule_id, body)
        except TavernError as exc:
            status.update(f"[red]{exc}[/red]")
            return
        status.update(f"{changed.name or changed.type}: {'on' if changed.enabled else 'off'}")
        self.load()

    def action_remove(self) -> None:
        schedule = self.selected
        if schedule is None:
            self.notify("no schedule selected", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.remove_schedule(schedule.schedule_id)

        self.app.push_screen(
            ConfirmScreen(
                f"Remove the schedule [b]{schedule.name or schedule.type}[/b] "
                f"({schedule.trigger_text})?\nThe tasks it created are kept.",
                confirm_label="Remove",
            ),
            answered,
        )

    @work(group="schedule-change", exit_on_error=False)
    async def remove_schedule(self, schedule_id: str) -> None:
        status = self.query_one("#schedules-status", Static)
        try:
            await self.service.remove_schedule(schedule_id)
        except TavernError as exc:
            status.update(f"[red]{exc}[/red]")
            return
        status.update(f"removed {schedule_id}")
        self.load()
