"""The main screen's task-detail pane: a compact summary of the task highlighted in the queue.

The app calls ``sync`` from its buffered event flush; the pane redraws only when its task (or
that task's record) changed, and fetches items through the service in a throttled worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from tui_updater.core.models import ItemRecord, TaskRecord
from tui_updater.core.service import UpdaterService
from tui_updater.errors import TavernError
from tui_updater.tui.widgets.queue_table import QueueTable
from tui_updater.tui.widgets.task_summary import TaskSummary

WIDE_CELLS = 120  # narrower terminals hide the pane (enter still opens the detail screen)
QUEUE_MIN_CELLS = 78  # the queue's compact columns
PANE_SHARE = 0.4
ITEM_SCAN = 500  # items fetched to find the first failures and the avatar file
FETCH_INTERVAL_S = 1.0
PROGRESS_INTERVAL_S = 1.0


class Panes(Horizontal):
    """Queue on the left, detail pane on the right; the pane hides below WIDE_CELLS."""

    @on(QueueTable.TaskHighlighted)
    def _follow(self, event: QueueTable.TaskHighlighted) -> None:
        self.query_one(DetailPane).follow(event.task_id)

    def on_resize(self, event: events.Resize) -> None:
        width = event.size.width
        pane = self.query_one(DetailPane)
        pane.display = width >= WIDE_CELLS
        pane.styles.width = max(30, min(round(width * PANE_SHARE), width - QUEUE_MIN_CELLS))


class DetailPane(Vertical):
    """Follows the highlighted task; ``sync`` applies what changed since the last flush."""

    DEFAULT_CSS = """
    DetailPane { height: 1fr; border-left: tall $panel; }
    DetailPane > #pane-title { height: 1; background: $panel; padding: 0 1; }
    DetailPane > #pane-empty { color: $text-muted; padding: 0 1; }
    DetailPane > TaskSummary { height: 1fr; padding: 0 1; }
    """

    def __init__(
        self, service: UpdaterService, *, clock: Callable[[], int], id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.service = service
        self.clock = clock
        self.wanted_id: str | None = None  # the highlighted task
        self.task_id: str | None = None  # the task shown
        self._settled_id: str | None = None  # highlighted at the previous flush
        self._fetched: tuple[int, int] | None = None  # failed, done counts at the last fetch
        self._fetch_at_s = 0.0
        self._progress_at_s = 0.0
        self.fetches = 0

    def compose(self) -> ComposeResult:
        yield Static("[b]Task[/b]  [dim](enter: items and full log)[/dim]", id="pane-title")
        yield Static("no task selected", id="pane-empty")
        yield TaskSummary(clock=self.clock, compact=True, id="pane-summary")

    def on_mount(self) -> None:
        self.summary.display = False

    @property
    def summary(self) -> TaskSummary:
        return self.query_one("#pane-summary", TaskSummary)

    def follow(self, task_id: str | None) -> None:
        """The queue's cursor moved; ``sync`` shows that task once the cursor rests (no work
        here: scrolling through the queue draws nothing until it stops)."""
        self.wanted_id = task_id

    def sync(self, records: Mapping[str, TaskRecord], changed: Collection[str] = ()) -> None:
        """Called on every flush: redraw if the task changed, its record changed, or time passed."""
        if not self.display or not self.is_mounted:
            return
        task = records.get(self.wanted_id) if self.wanted_id else None
        if task is None:
            if self.task_id is not None or not self.query_one("#pane-empty").display:
                self.task_id = None
                self._fetched = None
                self.summary.display = False
                self.query_one("#pane-empty").display = True
            return
        now_s = time.monotonic()
        if task.task_id != self.task_id and task.task_id != self._settled_id:
            self._settled_id = task.task_id  # the cursor may still be moving: draw next flush
            return
        if task.task_id != self.task_id:
            self.task_id = task.task_id
            self._fetched = None
            self.query_one("#pane-empty").display = False
            self.summary.display = True
            self.summary.show_task(task)
            self._progress_at_s = now_s
        elif task.task_id in changed:
            self.summary.show_task(task)
        elif not task.status.finished and now_s - self._progress_at_s >= PROGRESS_INTERVAL_S:
            self._progress_at_s = now_s
            self.summary.refresh_progress()  # rate and ETA move with the clock
        self._maybe_fetch(task, now_s)

    def _maybe_fetch(self, task: TaskRecord, now_s: float) -> None:
        """Fetch items when they can show something new, at most once per FETCH_INTERVAL_S.

        New failures need their errors; an avatar task needs its first stored file once.
        """
        fetched_failed, fetched_done = self._fetched or (0, 0)
        failures = task.counts.failed > 0 and task.counts.failed != fetched_failed
        avatar = (
            task.type == "CHARACTER_AVATAR"
            and task.counts.done > fetched_done
            and self.summary.avatar_path is None
        )
        if not (failures or avatar):
            return
        if self._fetched is not None and now_s - self._fetch_at_s < FETCH_INTERVAL_S:
            return  # a later flush fetches
        self._fetched = (task.counts.failed, task.counts.done)
        self._fetch_at_s = now_s
        self.fetches += 1
        self._load_items(task.task_id)

    @work(exclusive=True, group="pane-items", exit_on_error=False)
    async def _load_items(self, task_id: str) -> None:
        try:
            items: list[ItemRecord] = await self.service.list_items(task_id, limit=ITEM_SCAN)
        except TavernError:
            self._fetched = (0, 0)  # try again after FETCH_INTERVAL_S
            return
        if task_id == self.task_id:
            self.summary.show_items(items)
