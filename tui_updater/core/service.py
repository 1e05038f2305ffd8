"""The one interface the dashboard and the server use: local engine or remote (--connect)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from pydantic import ConfigDict

from tui_updater.core.events import Event
from tui_updater.core.models import BackupInfo, ItemRecord, LogRecord, TaskRecord
from tui_updater.core.record import Record, json_key


class TaskTypeInfo(Record):
    """A registered task type as the form and the API see it."""

    name: str = json_key("type")  # "MBTI_ASSIGNMENT"
    title: str = json_key("name")  # "MBTI assignment"
    description: str
    params_schema: dict[str, Any] = json_key("options")  # JSON Schema of the parameters


class ServiceInfo(Record):
    """What the header shows: where the data is and who answers. Keys beyond these (a newer
    server's) are kept and sent on."""

    model_config = ConfigDict(extra="allow")

    database: str  # path of the character database
    demo: bool
    provider: str  # "offline" or the gateway's base URL host
    online: bool
    chat_model: str
    image_model: str
    version: str
    remote: str | None = None  # URL when the dashboard is connected to a server

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.__pydantic_extra__ or {})


class QueueStatus(Record):
    paused: bool
    pending: int
    running: int
    max_running: int = json_key("maxConcurrent")
    total: int = json_key("totalTasks")
    by_status: dict[str, int]


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
