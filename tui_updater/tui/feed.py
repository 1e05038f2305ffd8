"""Turning engine events into what the dashboard shows: task records and log lines."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tui_updater.core.events import Event
from tui_updater.core.models import TaskRecord, TaskStatus


def record_from_event(event: Event, known: TaskRecord | None) -> TaskRecord | None:
    """The task as the event describes it (full JSON when sent, else changes to ``known``)."""
    record = event.task_record()
    if record is not None:
        return record
    if known is None:
        return None
    changes: dict[str, Any] = {}
    if event.status:
        changes["status"] = TaskStatus(event.status)
    if event.progress is not None:
        changes["progress"] = float(event.progress)
    if event.message is not None:
        changes["message"] = event.message
    return known.evolve(**changes)


def log_line(event: Event) -> str:
    """``HH:MM:SS LEVEL   message`` in local time."""
    clock = dt.datetime.fromtimestamp(event.timestamp_ms / 1000).strftime("%H:%M:%S")
    return f"{clock} {(event.level or 'INFO'):<7} {event.message or ''}"
