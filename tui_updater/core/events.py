"""Engine events: the original's names (task_started, task_progress, …) and field names."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from tui_updater.core.models import TaskRecord, now_ms


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


@dataclass(frozen=True)
class Event:
    type: EventType
    task_id: str | None = None
    status: str | None = None
    progress: float | None = None
    message: str | None = None
    result: Any = None
    error: str | None = None
    timestamp_ms: int = field(default_factory=now_ms)
    task: dict[str, Any] | None = None  # the full task JSON, as received from a server
    level: str | None = None  # for log events
    record: TaskRecord | None = field(default=None, compare=False, repr=False)  # in-process

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

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.type.value,
            "taskId": self.task_id,
            "status": self.status,
            "progress": self.progress,
            "message": self.message,
            "result": self.result,
            "error": self.error,
            "timestamp": self.timestamp_ms,
        }
        task = self.task_json()
        if task is not None:
            data["task"] = task
        if self.level is not None:
            data["level"] = self.level
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        return cls(
            type=EventType(data["type"]),
            task_id=data.get("taskId"),
            status=data.get("status"),
            progress=data.get("progress"),
            message=data.get("message"),
            result=data.get("result"),
            error=data.get("error"),
            timestamp_ms=int(data.get("timestamp") or 0),
            task=data.get("task"),
            level=data.get("level"),
        )
