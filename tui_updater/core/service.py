"""The one interface the dashboard and the server use: local engine or remote (--connect)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tui_updater.core.events import Event
from tui_updater.core.models import BackupInfo, ItemRecord, LogRecord, TaskRecord


@dataclass(frozen=True)
class TaskTypeInfo:
    """A registered task type as the form and the API see it."""

    name: str  # "MBTI_ASSIGNMENT"
    title: str  # "MBTI assignment"
    description: str
    params_schema: dict[str, Any]  # JSON Schema of the parameters (pydantic)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.name,
            "name": self.title,
            "description": self.description,
            "options": self.params_schema,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TaskTypeInfo:
        return cls(data["type"], data["name"], data.get("description", ""), dict(data["options"]))


@dataclass(frozen=True)
class ServiceInfo:
    """What the header shows: where the data is and who answers."""

    database: str  # path of the character database
    demo: bool
    provider: str  # "offline" or the gateway's base URL host
    online: bool
    chat_model: str
    image_model: str
    version: str
    remote: str | None = None  # URL when the dashboard is connected to a server
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "demo": self.demo,
            "provider": self.provider,
            "online": self.online,
            "chatModel": self.chat_model,
            "imageModel": self.image_model,
            "version": self.version,
            "remote": self.remote,
            **self.extra,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ServiceInfo:
        known = {
            "database",
            "demo",
            "provider",
            "online",
            "chatModel",
            "imageModel",
            "version",
            "remote",
        }
        return cls(
            data["database"],
            bool(data["demo"]),
            data["provider"],
            bool(data["online"]),
            data.get("chatModel", ""),
            data.get("imageModel", ""),
            data.get("version", ""),
            data.get("remote"),
            {k: v for k, v in data.items() if k not in known},
        )


@dataclass(frozen=True)
class QueueStatus:
    paused: bool
    pending: int
    running: int
    max_running: int
    total: int
    by_status: dict[str, int]
    # The gateway lane (inFlight, limit, maxInFlight, waiting, backingOff, pausedS, pushBacks,
    # requests); None with the offline provider.
    gateway: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "paused": self.paused,
            "pending": self.pending,
            "running": self.running,
            "maxConcurrent": self.max_running,
            "totalTasks": self.total,
            "byStatus": self.by_status,
            "gateway": self.gateway,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QueueStatus:
        return cls(
            bool(data["paused"]),
            int(data["pending"]),
            int(data["running"]),
            int(data["maxConcurrent"]),
            int(data["totalTasks"]),
            dict(data.get("byStatus") or {}),
            data.get("gateway") if isinstance(data.get("gateway"), dict) else None,
        )


class Subscription(Protocol):
    """A bounded stream of engine events; progress is coalesced per task, terminal events kept.

    ``batches()`` yields lists of events. When the subscriber falls too far behind, the stream
    raises ``SubscriberOverflow``: the consumer should resync from a snapshot and subscribe again.
    """

    def batches(self) -> AsyncIterator[list[Event]]: ...

    def close(self) -> None: ...


class SubscriberOverflow(Exception):
    """The subscriber fell behind; resync from ``list_tasks`` and subscribe again."""


class UpdaterService(Protocol):
    """Everything a view can ask of the engine. Implemented locally and by the remote client."""

    async def info(self) -> ServiceInfo: ...

    async def queue_status(self) -> QueueStatus: ...

    async def task_types(self) -> list[TaskTypeInfo]: ...

    async def preview(self, type_name: str, data: Mapping[str, Any]) -> int:
        """How many items the task would touch; raises InvalidParameters naming the field."""

    async def submit(
        self, type_name: str, data: Mapping[str, Any], priority: object = "NORMAL"
    ) -> TaskRecord: ...

    async def list_tasks(
        self,
        *,
        status: str | None = None,
        type_name: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[TaskRecord]: ...

    async def get_task(self, task_id: str) -> TaskRecord: ...

    async def list_items(
        self, task_id: str, *, limit: int = 500, offset: int = 0
    ) -> list[ItemRecord]: ...

    async def task_logs(self, task_id: str, *, limit: int = 500) -> list[LogRecord]: ...

    async def cancel(self, task_id: str) -> TaskRecord: ...

    async def retry(self, task_id: str) -> TaskRecord: ...

    async def revert(self, task_id: str) -> dict[str, Any]: ...

    async def delete(self, task_id: str) -> None: ...

    async def pause(self) -> None: ...

    async def resume(self) -> None: ...

    async def list_backups(self) -> list[BackupInfo]: ...

    async def restore_backup(self, name: str) -> dict[str, Any]: ...

    async def characters_summary(self) -> dict[str, Any]: ...

    def subscribe(self) -> Subscription: ...
