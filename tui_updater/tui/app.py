"""The dashboard app: panes, key bindings, actions, and applying engine events in batches.

It talks to the engine only through ``UpdaterService`` (local engine or remote client).
"""

from __future__ import annotations

import asyncio
import inspect
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Input

from tui_updater.core.capabilities import TaskCapabilities
from tui_updater.core.events import Event, EventType
from tui_updater.core.heap import settle_heap
from tui_updater.core.models import TaskRecord, TaskStatus, now_ms
from tui_updater.core.service import (
    QueueStatus,
    ServiceInfo,
    SubscriberOverflow,
    TaskTypeInfo,
    UpdaterService,
)
from tui_updater.errors import TavernError
from tui_updater.tui.commands import TavernCommands
from tui_updater.tui.feed import log_line, record_from_event
from tui_updater.tui.keys import KEYS
from tui_updater.tui.marks import QueueMarks
from tui_updater.tui.screens.backups import BackupsScreen
from tui_updater.tui.screens.character import CharacterScreen
from tui_updater.tui.screens.characters import CharactersScreen
from tui_updater.tui.screens.confirm import ConfirmScreen
from tui_updater.tui.screens.detail import DetailScreen
from tui_updater.tui.screens.form import TaskForm
from tui_updater.tui.screens.help import HelpScreen
from tui_updater.tui.screens.schedules import SchedulesScreen
from tui_updater.tui.widgets.detail_pane import DetailPane, Panes
from tui_updater.tui.widgets.header import HeaderBar, KeyFooter
from tui_updater.tui.widgets.log_pane import LogPane
from tui_updater.tui.widgets.queue_table import MAX_ROWS, SORT_MODES, QueueTable, task_matches
from tui_updater.tui.widgets.steady import SteadyStatic

TASK_ACTIONS = {
    "focus_task",
    "cancel_task",
    "retry_task",
    "revert_task",
    "delete_task",
    "shift_priority",
}
MAIN_ONLY = {"filter", "toggle_log_filter", "leave_filter", "cycle_sort", "mark_task"}
ANYWHERE = {"quit", "help", "new_task", "characters", "backups", "schedules", "toggle_pause"}
OURS = TASK_ACTIONS | MAIN_ONLY | ANYWHERE
AGE_REFRESH_S = 5.0  # every row's age and ETA are redrawn once per period…
AGE_SLICES = 10  # …a tenth of the rows at a time, so no frame repaints every visible age
EMPTY_QUEUE_HINT = (
    "No tasks yet: [b]n[/b] new task · [b]a s m u[/b] by type · [b]c[/b] characters · [b]?[/b] keys"
)


class TavernApp(QueueMarks, App[int]):
    """The dashboard. ``service`` is a LocalService or the remote client; ``clock`` gives epoch ms."""

    CSS_PATH = "app.tcss"
    TITLE = "tavern-updater-tui"
    COMMANDS = App.COMMANDS | {TavernCommands}
    BINDINGS = [
        *(Binding(k.key, k.action, k.description, show=k.show) for k in KEYS),
        Binding("escape", "leave_filter", "Back", show=False),
    ]

    def __init__(
        self,
        service: UpdaterService,
        *,
        remote: bool = False,
        clock: Callable[[], int] | None = None,
        flush_interval_s: float = 0.2,
    ) -> None:
        super().__init__()
        self.service = service
        self.remote = remote
        self.clock = clock or now_ms
        self.flush_interval_s = flush_interval_s
        self.task_records: dict[str, TaskRecord] = {}
        self.task_types: list[TaskTypeInfo] = []
        self.service_info: ServiceInfo | None = None
        self.queue: QueueStatus | None = None
        self.paused = False
        self.filter_text = ""
        self.resyncs = 0
        self._events: list[Event] = []
        self._snapshot: list[TaskRecord] | None = None
        self._select_task: str | None = None  # a task just created: move the cursor to it

    def compose(self) -> ComposeResult:
        yield HeaderBar(id="header")
        with Vertical(id="main"):
            yield Input(placeholder="filter: id, type, status, priority (esc leaves)", id="filter")
            yield SteadyStatic("", id="paging")
            with Panes(id="panes"):
                yield QueueTable(clock=self.clock, id="queue")
                yield DetailPane(self.service, clock=self.clock, id="detail-pane")
            yield LogPane(id="log-pane")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._handle_sigterm()
        self.query_one("#filter", Input).display = False
        self.query_one(QueueTable).focus()
        self.load_info()
        self.consume_events()
        self.set_interval(self.flush_interval_s, self._tick(self.flush_events))
        self.set_interval(1.0, self._tick(self.refresh_status))
        self.set_interval(
            AGE_REFRESH_S / AGE_SLICES,
            self._tick(lambda: self.query_one(QueueTable).refresh_ages(AGE_SLICES)),
        )

    def _handle_sigterm(self) -> None:
        """SIGTERM exits like ``q`` does, so the terminal leaves the alternate screen and gets
        its modes back (the default action kills the process with the terminal left raw)."""
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.exit, 143)
        except (NotImplementedError, RuntimeError, ValueError):  # no signals here (Windows, thread)
            pass

    def on_unmount(self) -> None:
        try:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
        except (NotImplementedError, RuntimeError, ValueError):
            pass

    @staticmethod
    def _tick(callback: Callable[[], object]) -> Callable[[], Awaitable[None]]:
        """A timer callback that does nothing once the app is tearing its widgets down."""

        async def tick() -> None:
            try:
                result = callback()
                if inspect.isawaitable(result):
                    await result
            except NoMatches:  # closing: the widgets it would update are gone
                pass

        return tick

    @property
    def table(self) -> QueueTable:
        return self.query_one("#queue", QueueTable)

    # --- loading and events -------------------------------------------------------------------

    @work(group="info", exit_on_error=False)
    async def load_info(self) -> None:
        try:
            self.service_info = await self.service.info()
            self._types_loaded(await self.service.task_types())
        except TavernError as exc:
            self.notify(f"cannot reach the engine: {exc}", severity="error")
            return
        self.query_one(HeaderBar).show(self.service_info)
        await self.refresh_status()

    def _types_loaded(self, types: list[TaskTypeInfo]) -> None:
        self.task_types = types
        self.table.set_short_names(
            {info.name: self.capabilities(info.name).short_name or info.name for info in types}
        )

    def capabilities(self, type_name: str) -> TaskCapabilities:
        """What the type's schema declares (destructive, makes backups…); defaults if unknown."""
        for info in self.task_types:
            if info.name == type_name:
                return TaskCapabilities.of(info.params_schema)
        return TaskCapabilities()

    def _title(self, type_name: str) -> str:
        return next((i.title for i in self.task_types if i.name == type_name), type_name)

    async def refresh_status(self) -> None:
        connection = getattr(self.service, "connection_state", None)
        header = self.query_one(HeaderBar)
        try:
            self.queue = await self.service.queue_status()
        except Exception:  # remote server away: the header says so, the next tick retries
            state = getattr(self.service, "connection_state", None)
            if state is not None and str(state) == "connected":
                state = "server not answering; retrying"
            header.show(connection=None if state is None else str(state))
            return
        self.paused = self.queue.paused
        self.table.set_paused(self.paused)
        header.show(status=self.queue, connection=None if connection is None else str(connection))
        self._update_paging()

    @work(exclusive=True, group="events", exit_on_error=False)
    async def consume_events(self) -> None:
        """Buffer engine events; on overflow (or a lost stream) resync from list_tasks."""
        while True:
            subscription = self.service.subscribe()
            try:
                snapshot = await self.service.list_tasks(limit=MAX_ROWS)
                self._events = [e for e in self._events if e.type is EventType.LOG]
                self._snapshot = snapshot
                async for batch in subscription.batches():
                    self._events.extend(batch)
            except SubscriberOverflow:
                self.resyncs += 1
                continue
            except Exception:  # a remote stream dropped: wait, then resync
                await asyncio.sleep(1.0)
            finally:
                subscription.close()
            await asyncio.sleep(0.5)

    def flush_events(self) -> None:
        """Apply everything buffered since the last tick in one batch update."""
        if not self._events and self._snapshot is None:
            self.query_one(DetailPane).sync(self.task_records)
            return
        events, self._events = self._events, []
        snapshot, self._snapshot = self._snapshot, None
        changed: set[str] = set()
        deleted: set[str] = set()
        new_lines: list[tuple[str | None, str]] = []
        table = self.table
        with self.batch_update():
            if snapshot is not None:
                self.task_records = {t.task_id: t for t in snapshot}
                table.show(t for t in snapshot if task_matches(t, self.filter_text))
                changed.update(self.task_records)
            added = False
            for event in events:
                if event.type is EventType.LOG:
                    new_lines.append((event.task_id, log_line(event)))
                elif event.type in (EventType.QUEUE_PAUSED, EventType.QUEUE_RESUMED):
                    self.paused = event.type is EventType.QUEUE_PAUSED
                    table.set_paused(self.paused)
                elif event.type is EventType.TASK_DELETED and event.task_id:
                    self.task_records.pop(event.task_id, None)
                    table.remove_task(event.task_id)
                    deleted.add(event.task_id)
                elif event.task_id:
                    task = record_from_event(event, self.task_records.get(event.task_id))
                    if task is None:
                        continue
                    self.task_records[task.task_id] = task
                    changed.add(task.task_id)
                    if task_matches(task, self.filter_text):
                        added = table.upsert(task) or added
                    else:
                        table.remove_task(task.task_id)
            if added:
                table.order_rows()
            if self._select_task and table.is_shown(self._select_task):
                table.move_cursor(row=table.get_row_index(self._select_task), animate=False)
                self._select_task = None
            self.query_one(LogPane).add(new_lines)
            self._update_detail(changed, deleted)
            self._update_paging()
        if snapshot is not None:
            settle_heap()  # the rows just built live on: out of the collector's full passes

    def _update_detail(self, changed: set[str], deleted: set[str]) -> None:
        self.query_one(DetailPane).sync(self.task_records, changed)
        screen = self.screen
        if isinstance(screen, DetailScreen):
            if screen.task_id in deleted:
                self.pop_screen()
            elif screen.task_id in changed:
                screen.show_task(self.task_records[screen.task_id])

    def _update_paging(self) -> None:
        shown = self.table.shown_count
        total = self.queue.total if self.queue else len(self.task_records)
        parts = []
        if self.filter_text:
            parts.append(f"filter [b]{self.filter_text}[/b]: {shown} shown")
        elif total > shown and shown >= MAX_ROWS:
            parts.append(f"showing the {shown} newest of {total} tasks")
        elif not shown and self.queue is not None:
            parts.append(EMPTY_QUEUE_HINT)
        if self.table.marked:
            parts.append(
                f"[b]{len(self.table.marked)} marked[/b]: x cancel · r retry · d delete · + - priority"
            )
        paging = self.query_one("#paging", SteadyStatic)
        paging.show_text("  ".join(parts))
        paging.display = bool(parts)

    # --- which actions apply where ------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in OURS:
            return True
        screen = self.screen
        if isinstance(screen, ModalScreen):
            return False
        if isinstance(screen, DetailScreen):
            return action not in MAIN_ONLY
        if screen is not self.screen_stack[0]:
            return action in ANYWHERE
        return True

    def current_task(self) -> TaskRecord | None:
        screen = self.screen
        if isinstance(screen, DetailScreen):
            return self.task_records.get(screen.task_id, screen.task_record)
        task_id = self.table.selected_task_id
        return self.task_records.get(task_id) if task_id else None

    def _need_task(self) -> TaskRecord | None:
        task = self.current_task()
        if task is None:
            self.notify("no task selected", severity="warning")
        return task

    # --- actions ------------------------------------------------------------------------------

    def action_new_task(self, type_name: str = "") -> None:
        self.open_form(type_name)

    @on(CharactersScreen.CharacterChosen)
    @on(DetailScreen.CharacterWanted)
    def _character_wanted(
        self, event: CharactersScreen.CharacterChosen | DetailScreen.CharacterWanted
    ) -> None:
        self.push_screen(CharacterScreen(self.service, event.character_id))

    @on(DetailScreen.ApplyWanted)
    def _apply_wanted(self, event: DetailScreen.ApplyWanted) -> None:
        self.open_form(event.type_name, values=event.data, priority=event.priority)

    @on(CharactersScreen.TaskRequested)
    def _characters_task(self, event: CharactersScreen.TaskRequested) -> None:
        self.open_form(event.type_name, event.character_ids)

    @work(exclusive=True, group="form", exit_on_error=False)
    async def open_form(
        self,
        type_name: str,
        character_ids: list[str] | None = None,
        *,
        values: dict[str, Any] | None = None,
        priority: str = "NORMAL",
    ) -> None:
        if not self.task_types:
            try:
                self._types_loaded(await self.service.task_types())
            except TavernError as exc:
                self.notify(f"cannot load task types: {exc}", severity="error")
                return

        def created(task: TaskRecord | None) -> None:
            if task is not None:
                self._select_task = task.task_id
                self.notify(f"created {task.type} task {task.task_id}")

        await self.push_screen(
            TaskForm(
                self.service,
                self.task_types,
                preselect=type_name or None,
                character_ids=character_ids,
                values=values,
                priority=priority,
            ),
            created,
        )

    def action_focus_task(self) -> None:
        task = self._need_task()
        if task is not None and not isinstance(self.screen, DetailScreen):
            self.push_screen(DetailScreen(self.service, task, clock=self.clock))

    @on(QueueTable.TaskSelected)
    def _task_selected(self, event: QueueTable.TaskSelected) -> None:
        self.action_focus_task()

    def _confirm(self, question: str, label: str, then: Callable[[], object]) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.push_screen(ConfirmScreen(question, confirm_label=label), answered)

    def action_cancel_task(self) -> None:
        if self._bulk("cancel"):
            return
        task = self._need_task()
        if task is None:
            return
        if self.capabilities(task.type).destructive:
            title = self._title(task.type).lower()
            self._confirm(
                f"Cancel the {title} [b]{task.task_id}[/b]?\nA half-applied {title} is rolled back.",
                "Cancel task",
                lambda: self.call_service("cancel", task.task_id),
            )
        else:
            self.call_service("cancel", task.task_id)

    def action_retry_task(self) -> None:
        if self._bulk("retry"):
            return
        task = self._need_task()
        if task is not None:
            self.call_service("retry", task.task_id)

    def action_revert_task(self) -> None:
        task = self._need_task()
        if task is not None and task.status is TaskStatus.PENDING:
            self.notify(f"{task.task_id} has not run yet: it wrote nothing to revert")
        elif task is not None:
            effect = (
                "Restore the backup taken before it? Changes made since are undone too."
                if self.capabilities(task.type).makes_backups
                else "Fields edited since are left alone."
            )
            self._confirm(
                f"Revert every change task [b]{task.task_id}[/b] ({task.type}) wrote?\n{effect}",
                "Revert",
                lambda: self.call_service("revert", task.task_id),
            )

    def action_delete_task(self) -> None:
        if self._bulk("delete"):
            return
        task = self._need_task()
        if task is not None:
            running = {
                TaskStatus.PENDING: " It has not started and will not run.",
                TaskStatus.RUNNING: " It is still running and will be cancelled.",
            }.get(task.status, "")
            self._confirm(
                f"Delete task [b]{task.task_id}[/b] ({task.type}) and its items and logs?{running}",
                "Delete",
                lambda: self.call_service("delete", task.task_id),
            )

    def action_toggle_pause(self) -> None:
        self.call_service("resume" if self.paused else "pause")

    @work(group="actions", exit_on_error=False)
    async def call_service(self, verb: str, task_id: str | None = None) -> None:
        """Run one engine command; report the outcome as a notification."""
        method = getattr(self.service, verb)
        try:
            outcome = await (method(task_id) if task_id is not None else method())
        except TavernError as exc:
            self.notify(f"{verb} refused: {exc}", severity="error")
            return
        if verb in ("pause", "resume"):
            self.paused = verb == "pause"
            self.table.set_paused(self.paused)
            await self.refresh_status()
            self.notify("queue paused: nothing new starts" if self.paused else "queue resumed")
        elif verb == "revert" and isinstance(outcome, dict):
            detail = ", ".join(f"{k}={v}" for k, v in outcome.items() if isinstance(v, int | str))
            self.notify(f"reverted {task_id}: {detail}")
        else:
            self.notify(f"{verb}: {task_id}")

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        records = sorted(self.task_records.values(), key=lambda t: t.task_id, reverse=True)
        self.table.show(t for t in records if task_matches(t, self.filter_text))
        self._update_paging()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def action_leave_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus:
            self.table.focus()
            if not box.value:
                box.display = False
        elif box.value:
            box.value = ""
            box.display = False

    def action_cycle_sort(self) -> None:
        table = self.table
        table.set_sort(SORT_MODES[(SORT_MODES.index(table.sort_mode) + 1) % len(SORT_MODES)])
        self.notify(f"queue sorted by {table.sort_mode}, running tasks first")

    def action_toggle_log_filter(self) -> None:
        pane = self.query_one(LogPane)
        pane.filter_to(None if pane.task_filter else self.table.selected_task_id)

    def action_characters(self) -> None:
        if not isinstance(self.screen, CharactersScreen):
            self.push_screen(CharactersScreen(self.service))

    def action_backups(self) -> None:
        if not isinstance(self.screen, BackupsScreen):
            self.push_screen(BackupsScreen(self.service))

    def action_schedules(self) -> None:
        if not isinstance(self.screen, SchedulesScreen):
            self.push_screen(SchedulesScreen(self.service))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        local = sum(1 for t in self.task_records.values() if t.status is TaskStatus.RUNNING)
        running = max(self.queue.running if self.queue else 0, local)
        if not running:
            self.exit(0)
            return
        self._confirm(
            f"{running} task(s) running.\nQuit now? They are interrupted and resume on the next start.",
            "Quit",
            lambda: self.exit(0),
        )
