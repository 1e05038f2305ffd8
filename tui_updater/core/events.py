"""Engine events: the original's names (task_started, task_progress, …) and field names."""

from __future__ import annotations

import enum
from typing import Any

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from tui_updater.core.models import TaskRecord, now_ms
from tui_updater.core.record import Record


class EventType(enum.StrEnum):
    TASK_CREATED = "task_created"
    TASK_STARTED = "task_started"
    TASK_PROGRESS = "task_progress"
    TASK_COMPLETED = "task_completed"
    TASK_FAILED = "task_failed"
    TASK_CANCELLED = "task_cancelled"
    TASK_RETRYING = "task_retrying"
    TASK_DELETED = "task_deleted"
    QUEUE_PAUSED = "queue_paused"
    QUEUE_RESUMED = "queue_resumed"
    LOG = "log"

    @property
    def terminal(self) -> bool:
        """Events that end a task's story; never dropped or coalesced."""
        return self in (
            EventType.TASK_COMPLETED,
            EventType.TASK_FAILED,
            EventType.TASK_CANCELLED,
            EventType.TASK_DELETED,
        )


class Event(Record):
    type: EventType
    task_id: str | None = None
    status: str | None = None
    progress: float | None = None
    message: str | None = None
    result: Any = None
    error: str | None = None
    timestamp_ms: int = Field(default_factory=now_ms)
    task: dict[str, Any] | None = None  # the full task JSON, as received from a server
    level: str | None = None  # for log events
    record: TaskRecord | None = Field(default=None, exclude=True, repr=False)  # in-process

    def task_json(self) -> dict[str, Any] | None:
        """The full task as JSON (built only when someone asks: most consumers never do)."""
        if self.task is not None:
            return self.task
        return None if self.record is None else self.record.to_json()

    def task_record(self) -> TaskRecord | None:
        """The full task as a record, without a JSON round trip for in-process events."""
        if self.record is not None:
            return self.record
        return None if self.task is None else TaskRecord.from_json(self.task)

    @model_serializer(mode="wrap")
    def _wire_shape(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """``task`` (from the record when in-process) and ``level`` appear only when present."""
        data: dict[str, Any] = handler(self)
        task = self.task_json()
        if task is None:
            data.pop("task", None)
        else:
            data["task"] = task
        if self.level is None:
            data.pop("level", None)
        return data
