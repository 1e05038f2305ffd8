"""Task, item, log and backup records, and their JSON shape (camelCase, as the original API)."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any, TypeVar

R = TypeVar("R")


def _evolve(record: R, changes: dict[str, Any]) -> R:
    """A copy of a frozen record with some fields changed (``dataclasses.replace`` minus its
    per-call introspection, which dominated the engine's hot path). Field names are checked."""
    fields_ = record.__dataclass_fields__  # type: ignore[attr-defined]
    for name in changes:
        if name not in fields_:
            raise TypeError(f"{type(record).__name__} has no field {name!r}")
    copy = object.__new__(type(record))
    copy.__dict__.update(record.__dict__)
    copy.__dict__.update(changes)
    return copy


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds."""
    return int(time.time() * 1000)


class Priority(enum.IntEnum):
    """Task priority; a higher value runs first."""

    LOW = 1
    NORMAL = 2
    HIGH = 3
    URGENT = 4

    @classmethod
    def parse(cls, value: object) -> Priority:
        """Accept a name in any case, a number, or a numeric string; raise ValueError otherwise."""
        if isinstance(value, Priority):
            return value
        if isinstance(value, bool):
            raise ValueError(f"invalid priority {value!r}")
        if isinstance(value, int):
            try:
                return cls(value)
            except ValueError:
                pass
        elif isinstance(value, str):
            text = value.strip()
            if text.isdigit():
                return cls.parse(int(text))
            member = cls.__members__.get(text.upper())
            if member is not None:
                return member
        names = ", ".join(f"{p.name} ({p.value})" for p in cls)
        raise ValueError(f"invalid priority {value!r}; use one of {names}")


class TaskStatus(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def finished(self) -> bool:
        return self in (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)


class ItemStatus(enum.StrEnum):
    """Item life cycle: PENDING → RUNNING → OBTAINED (result stored) → DONE | SKIPPED | CONFLICT.

    FAILED may follow PENDING/RUNNING/OBTAINED. An OBTAINED item is applied from its stored
    result after a crash, never requested again.
    """

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    OBTAINED = "OBTAINED"
    DONE = "DONE"
    SKIPPED = "SKIPPED"
    CONFLICT = "CONFLICT"
    FAILED = "FAILED"

    @property
    def finished(self) -> bool:
        return self in (ItemStatus.DONE, ItemStatus.SKIPPED, ItemStatus.CONFLICT, ItemStatus.FAILED)


@dataclass(frozen=True)
class ItemCounts:
    total: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0  # skipped and conflicts

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.skipped

    def progress(self) -> float:
        """Percent of items finished, 0–100 with one decimal."""
        if self.total <= 0:
            return 0.0
        return round(100.0 * self.finished / self.total, 1)


@dataclass(frozen=True)
class TokenUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.requests + other.requests,
        )

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_json(self) -> dict[str, int]:
        return {
            "promptTokens": self.prompt_tokens,
            "completionTokens": self.completion_tokens,
            "totalTokens": self.total_tokens,
            "requests": self.requests,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> TokenUsage:
        data = data or {}
        return cls(
            int(data.get("promptTokens", 0)),
            int(data.get("completionTokens", 0)),
            int(data.get("requests", 0)),
        )


@dataclass(frozen=True)
class TaskRecord:
    task_id: str
    type: str
    priority: Priority
    status: TaskStatus
    data: dict[str, Any]
    created_at_ms: int
    progress: float = 0.0
    message: str = ""
    result: dict[str, Any] | None = None
    error: str | None = None
    attempt: int = 1
    started_at_ms: int | None = None
    finished_at_ms: int | None = None
    updated_at_ms: int = 0
    counts: ItemCounts = field(default_factory=ItemCounts)
    usage: TokenUsage = field(default_factory=TokenUsage)

    def evolve(self, **changes: Any) -> TaskRecord:
        return _evolve(self, changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "taskId": self.task_id,
            "type": self.type,
            "priority": self.priority.name,
            "priorityValue": int(self.priority),
            "status": self.status.value,
            "progress": self.progress,
            "message": self.message,
            "data": self.data,
            "result": self.result,
            "error": self.error,
            "attempt": self.attempt,
            "createdAt": self.created_at_ms,
            "startedAt": self.started_at_ms,
            "completedAt": self.finished_at_ms,
            "updatedAt": self.updated_at_ms,
            "items": {
                "total": self.counts.total,
                "done": self.counts.done,
                "failed": self.counts.failed,
                "skipped": self.counts.skipped,
            },
            "usage": self.usage.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskRecord:
        items = data.get("items") or {}
        return cls(
            task_id=data["taskId"],
            type=data["type"],
            priority=Priority.parse(data.get("priorityValue", data.get("priority", 2))),
            status=TaskStatus(data["status"]),
            data=data.get("data") or {},
            created_at_ms=int(data.get("createdAt") or 0),
            progress=float(data.get("progress") or 0.0),
            message=data.get("message") or "",
            result=data.get("result"),
            error=data.get("error"),
            attempt=int(data.get("attempt") or 1),
            started_at_ms=data.get("startedAt"),
            finished_at_ms=data.get("completedAt"),
            updated_at_ms=int(data.get("updatedAt") or 0),
            counts=ItemCounts(
                int(items.get("total", 0)),
                int(items.get("done", 0)),
                int(items.get("failed", 0)),
                int(items.get("skipped", 0)),
            ),
            usage=TokenUsage.from_json(data.get("usage")),
        )


@dataclass(frozen=True)
class ItemRecord:
    task_id: str
    seq: int
    key: str  # the character id (as text) or another item key
    label: str  # what to show: the character's name
    status: ItemStatus = ItemStatus.PENDING
    attempts: int = 0
    error: str | None = None
    result: dict[str, Any] | None = None
    updated_at_ms: int = 0
    retryable: bool = False  # the last failure was transient (auto-retry may rerun it)

    def evolve(self, **changes: Any) -> ItemRecord:
        return _evolve(self, changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "taskId": self.task_id,
            "seq": self.seq,
            "key": self.key,
            "label": self.label,
            "status": self.status.value,
            "attempts": self.attempts,
            "error": self.error,
            "result": self.result,
            "updatedAt": self.updated_at_ms,
            "retryable": self.retryable,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ItemRecord:
        return cls(
            task_id=data["taskId"],
            seq=int(data["seq"]),
            key=str(data["key"]),
            label=data.get("label") or "",
            status=ItemStatus(data["status"]),
            attempts=int(data.get("attempts") or 0),
            error=data.get("error"),
            result=data.get("result"),
            updated_at_ms=int(data.get("updatedAt") or 0),
            retryable=bool(data.get("retryable")),
        )


@dataclass(frozen=True)
class LogRecord:
    timestamp_ms: int
    level: str  # DEBUG, INFO, WARNING, ERROR
    message: str
    task_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp_ms,
            "level": self.level,
            "message": self.message,
            "taskId": self.task_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogRecord:
        return cls(int(data["timestamp"]), data["level"], data["message"], data.get("taskId"))


@dataclass(frozen=True)
class BackupInfo:
    name: str  # file name inside the backup dir
    path: str
    created_at_ms: int
    size_bytes: int
    source_db: str  # the database it was taken from (stem or path)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "createdAt": self.created_at_ms,
            "size": self.size_bytes,
            "sourceDb": self.source_db,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BackupInfo:
        return cls(
            data["name"], data["path"], int(data["createdAt"]), int(data["size"]), data["sourceDb"]
        )
