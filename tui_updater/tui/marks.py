"""Marks in the queue and what acts on them: bulk cancel / retry / delete, priority changes.

A mixin of the dashboard app: it uses the app's table, records, service and confirmation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work

from tui_updater.core.models import Priority, TaskRecord
from tui_updater.errors import TavernError

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.screen import Screen

    from tui_updater.core.service import UpdaterService
    from tui_updater.tui.widgets.queue_table import QueueTable

BULK_VERBS = {"cancel": "Cancel", "retry": "Retry", "delete": "Delete"}


class QueueMarks:
    """Space marks tasks; x r d then act on every marked one; + - change priorities."""

    if TYPE_CHECKING:
        service: UpdaterService
        task_records: dict[str, TaskRecord]

        @property
        def table(self) -> QueueTable: ...

        @property
        def screen(self) -> Screen[object]: ...

        @property
        def screen_stack(self) -> list[Screen[object]]: ...

        def notify(
            self,
            message: str,
            *,
            title: str = "",
            severity: SeverityLevel = "information",
            timeout: float | None = None,
            markup: bool = True,
        ) -> None: ...

        def _need_task(self) -> TaskRecord | None: ...

        def _update_paging(self) -> None: ...

        def _confirm(self, question: str, label: str, then: Callable[[], object]) -> None: ...

    def _marked(self) -> list[TaskRecord]:
        """The marked tasks, on the main screen only (a detail screen acts on its own task)."""
        if self.screen is not self.screen_stack[0]:
            return []
        return [self.task_records[i] for i in self.table.marked if i in self.task_records]

    def action_mark_task(self) -> None:
        task_id = self.table.selected_task_id
        if task_id is None:
            return
        self.table.toggle_mark(task_id)
        row = self.table.cursor_row
        if row < self.table.row_count - 1:
            self.table.move_cursor(row=row + 1)
        self._update_paging()

    def _bulk(self, verb: str) -> bool:
        """Ask once, then run ``verb`` on every marked task; False when nothing is marked."""
        tasks = self._marked()
        if not tasks:
            return False
        ids = [t.task_id for t in tasks]
        self._confirm(
            f"{BULK_VERBS[verb]} the [b]{len(ids)} marked[/b] task(s)?\n"
            "A task in the wrong state for it is skipped and named.",
            BULK_VERBS[verb],
            lambda: self.bulk_call(verb, ids),
        )
        return True

    @work(group="actions", exit_on_error=False)
    async def bulk_call(self, verb: str, task_ids: list[str]) -> None:
        done = 0
        skipped: list[str] = []
        for task_id in task_ids:
            try:
                await getattr(self.service, verb)(task_id)
            except TavernError as exc:
                skipped.append(f"{task_id[-10:]}: {exc}")
            else:
                done += 1
        self.table.clear_marks()
        self._update_paging()
        note = f"; skipped {len(skipped)} ({skipped[0]}{'…' if len(skipped) > 1 else ''})"
        self.notify(
            f"{verb}: {done} task(s){note if skipped else ''}",
            severity="warning" if skipped else "information",
        )

    def action_shift_priority(self, step: int) -> None:
        targets = self._marked() or [t for t in [self._need_task()] if t is not None]
        if targets:
            self.shift_priority(targets, step)

    @work(group="actions", exit_on_error=False)
    async def shift_priority(self, tasks: list[TaskRecord], step: int) -> None:
        for task in tasks:
            wanted = max(Priority.LOW, min(Priority.URGENT, int(task.priority) + step))
            if wanted == task.priority:
                continue
            try:
                updated = await self.service.set_priority(task.task_id, wanted)
            except TavernError as exc:
                self.notify(f"priority of {task.task_id[-10:]}: {exc}", severity="warning")
                continue
            self.task_records[updated.task_id] = updated
            if self.table.is_shown(updated.task_id):
                self.table.upsert(updated)
            self.notify(f"{updated.task_id[-10:]} priority {Priority(updated.priority).name}")
