"""What the engine says: task events (progress throttled per task) and log lines.

Log lines go to python logging (stderr / the log file), to the event bus, and — buffered and
written every 0.2 s — to tasks.db for the task they belong to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from tui_updater.core.events import Event, EventType
from tui_updater.core.models import LogRecord, TaskRecord, now_ms
from tui_updater.core.store import TaskStore
from tui_updater.engine.bus import EventBus
from tui_updater.engine.clock import Clock

logger = logging.getLogger("tui_updater")
PROGRESS_INTERVAL_S = 0.1  # at most 10 progress events per second per task
LOG_FLUSH_S = 0.2


class Reporter:
    """Publishes task events and log lines for one engine."""

    def __init__(
        self,
        bus: EventBus,
        store: TaskStore,
        clock: Clock,
        *,
        is_running: Callable[[str], bool],
        spawn: Callable[[Coroutine[Any, Any, None]], None],
    ):
        self.bus = bus
        self._store = store
        self._clock = clock
        self._is_running = is_running
        self._spawn = spawn
        self._log_buffer: list[LogRecord] = []
        self._log_flush: asyncio.TimerHandle | None = None
        self._last_progress: dict[str, float] = {}
        self._progress_timers: dict[str, asyncio.TimerHandle] = {}
        self._latest: dict[str, TaskRecord] = {}
        self._stopping = False

    # --- task events ----------------------------------------------------------------------------

    def emit(self, kind: EventType, task: TaskRecord) -> None:
        if not self.bus.wanted:
            return
        self.bus.publish(
            Event(
                kind,
                task_id=task.task_id,
                status=task.status.value,
                progress=task.progress,
                message=task.message,
                result=task.result if kind.terminal else None,
                error=task.error,
                record=task,
            )
        )

    def progress(self, task: TaskRecord) -> None:
        """Publish progress at most every PROGRESS_INTERVAL_S per task; the last one lands.

        Throttled progress is merged, never lost: the newest waits for its turn, goes out at once
        when every item is finished, and always goes out before the task's terminal event.
        """
        if not self.bus.wanted and task.task_id not in self._progress_timers:
            return  # nobody would receive it, and none of its progress waits to go out
        self._latest[task.task_id] = task
        now = self._clock.monotonic()
        last = self._last_progress.get(task.task_id)
        counts = task.counts
        if last is None or now - last >= PROGRESS_INTERVAL_S or counts.finished >= counts.total:
            self._publish_progress(task.task_id)
        elif task.task_id not in self._progress_timers:
            delay = PROGRESS_INTERVAL_S - (now - last)
            self._progress_timers[task.task_id] = asyncio.get_running_loop().call_later(
                delay, self._publish_due, task.task_id
            )

    def _publish_due(self, task_id: str) -> None:
        """The throttle timer: publish the waiting progress unless the run has ended meanwhile."""
        self._progress_timers.pop(task_id, None)
        if self._is_running(task_id):
            self._publish_progress(task_id)
        else:
            self._latest.pop(task_id, None)

    def _publish_progress(self, task_id: str) -> None:
        timer = self._progress_timers.pop(task_id, None)
        if timer is not None:
            timer.cancel()
        task = self._latest.pop(task_id, None)
        if task is None:
            return
        self._last_progress[task_id] = self._clock.monotonic()
        if not self.bus.wanted:
            return
        counts = task.counts
        task = task.evolve(
            message=f"{counts.finished}/{counts.total} items ({counts.failed} failed)"
        )
        self.emit(EventType.TASK_PROGRESS, task)

    def terminal(self, kind: EventType, task: TaskRecord) -> None:
        """A task's last event; progress still waiting for it goes out first, never after."""
        self._publish_progress(task.task_id)
        self._last_progress.pop(task.task_id, None)
        self.emit(kind, task)

    # --- log lines ------------------------------------------------------------------------------

    def log(self, level: str, message: str, task_id: str | None = None) -> None:
        """Record a log line: python logging (stderr/file), tasks.db, and the event bus."""
        level = level.upper()
        logger.log(getattr(logging, level, logging.INFO), message)
        # Unvalidated: every field is typed by the engine's own signature (three lines a task).
        record = LogRecord.trusted(
            timestamp_ms=now_ms(), level=level, message=message, task_id=task_id
        )
        self._log_buffer.append(record)
        if self.bus.wanted:
            self.bus.publish(
                Event(
                    EventType.LOG,
                    task_id=task_id,
                    message=message,
                    level=level,
                    timestamp_ms=record.timestamp_ms,
                )
            )
        if self._log_flush is None and not self._stopping:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._log_flush = loop.call_later(LOG_FLUSH_S, lambda: self._spawn(self.flush_logs()))

    async def flush_logs(self) -> None:
        """Write buffered log lines of tasks to tasks.db now."""
        self._log_flush = None
        logs, self._log_buffer = self._log_buffer, []
        persisted = [log for log in logs if log.task_id]
        if persisted:
            await self._store.save(logs=persisted)

    def drop_logs(self, task_id: str) -> None:
        """Forget buffered lines of a task that is being deleted."""
        self._log_buffer = [log for log in self._log_buffer if log.task_id != task_id]

    async def stop(self) -> None:
        """Cancel timers and write what is buffered."""
        self._stopping = True
        for timer in self._progress_timers.values():
            timer.cancel()
        if self._log_flush is not None:  # else it fires after stop and spawns a flush too late
            self._log_flush.cancel()
        await self.flush_logs()
