"""Task, item, log and backup records; their JSON (camelCase, as the original API) derives from
the field declarations through ``Record``."""

from __future__ import annotations

import enum
import time
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, computed_field, model_validator

from tui_updater.core.record import Record, json_key


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


# A priority in records: read from its name or number, written as its name ("HIGH").
PriorityName = Annotated[
    Priority, BeforeValidator(Priority.parse), PlainSerializer(lambda p: p.name, return_type=str)
]


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


class ItemCounts(Record):
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


class TokenUsage(Record):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        if other is NO_USAGE:  # a run that made no request (every run of most types)
            return self
        if self is NO_USAGE:
            return other
        return TokenUsage.trusted(  # summed per item on the hot path; ints stay ints
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            requests=self.requests + other.requests,
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


# The empty counts and usage, one of each: records are frozen, so every new task can share them
# instead of building two records of zeros (the factories below are typed, not validated).
NO_ITEMS = ItemCounts()
NO_USAGE = TokenUsage()


class TaskRecord(Record):
    task_id: str
    type: str
    priority: PriorityName
    status: TaskStatus
    data: dict[str, Any]
    created_at_ms: int
    progress: float = 0.0
    message: str = ""
    result: dict[str, Any] | None = None
    error: str | None = None
    attempt: int = 1
    started_at_ms: int | None = None
    finished_at_ms: int | None = json_key("completedAt", default=None)
    updated_at_ms: int = 0
    counts: ItemCounts = json_key("items", default_factory=lambda: NO_ITEMS)
    usage: TokenUsage = Field(default_factory=lambda: NO_USAGE)
    # The character database the task belongs to: its absolute path, and the identity of that
    # file when the task was created ("device:inode:schema fingerprint"; see core/binding.py).
    database: str | None = None
    database_identity: str | None = None
    # When everything the task wrote was reverted (status keeps how the run ended).
    reverted_at_ms: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _priority_from_value(cls, data: Any) -> Any:
        """JSON carries the priority twice (name and number); the number wins."""
        if isinstance(data, dict) and "priorityValue" in data:
            return {**data, "priority": data["priorityValue"]}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def priority_value(self) -> int:
        return int(self.priority)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def review_pending(self) -> int:
        """Proposals of a review-mode task that wait for the operator (kept in its result)."""
        count = (self.result or {}).get("reviewPending", 0)
        return count if isinstance(count, int) and not isinstance(count, bool) else 0


class ItemRecord(Record):
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
    # The claimed fields' values when the item was selected: what its writes expect to replace.
    # Stored with the item; not part of its JSON (the views have no use for it).
    first_seen: dict[str, Any] | None = Field(default=None, exclude=True)


class LogRecord(Record):
    timestamp_ms: int
    level: str  # DEBUG, INFO, WARNING, ERROR
    message: str
    task_id: str | None = None


class BackupInfo(Record):
    name: str  # file name inside the backup dir
    path: str
    created_at_ms: int
    size_bytes: int = json_key("size")
    source_db: str  # the database it was taken from (stem or path)
