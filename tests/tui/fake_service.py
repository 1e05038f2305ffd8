"""An in-memory UpdaterService with fixed records: deterministic snapshots and edge cases."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from tests.tui.fake_characters import FakeCharacters
from tests.tui.fake_proposals import FakeProposals
from tests.tui.fake_schedules import FakeSchedules
from tui_updater.core.changes import ChangeQuery, TaskChangePage
from tui_updater.core.events import Event, EventType
from tui_updater.core.models import (
    BackupInfo,
    ItemCounts,
    ItemRecord,
    ItemStatus,
    LogRecord,
    Priority,
    TaskRecord,
    TaskStatus,
)
from tui_updater.core.proposals import ProposalView
from tui_updater.core.service import (
    SORT_ATTRIBUTES,
    BulkResult,
    CharacterDetail,
    CharacterPage,
    CharacterQuery,
    QueueStatus,
    ServiceInfo,
    SubscriberOverflow,
    TaskFilter,
    TaskTypeInfo,
    apply_bulk,
    levels_from,
    parse_item_statuses,
    parse_sort,
    type_named,
)
from tui_updater.errors import InvalidParameters, TaskNotFound, TaskStateError
from tui_updater.tasks.avatar import AvatarParams
from tui_updater.tasks.base import format_validation_error
from tui_updater.tasks.mbti import MbtiParams
from tui_updater.tasks.settings import SettingsParams
from tui_updater.tasks.upgrade import DatabaseUpgradeParams

T0_MS = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC
NOW_MS = T0_MS + 3_600_000


def fixed_clock() -> int:
    return NOW_MS


INFO = ServiceInfo(
    "/srv/tavern/data/demo/dev.db", True, "offline", False, "offline", "offline", "1.0.0"
)
MODELS: dict[str, type[BaseModel]] = {
    "MBTI_ASSIGNMENT": MbtiParams,
    "CHARACTER_SETTINGS": SettingsParams,
    "DATABASE_UPGRADE": DatabaseUpgradeParams,
}
TYPES = [
    TaskTypeInfo(
        "MBTI_ASSIGNMENT",
        "MBTI assignment",
        "Assign MBTI types.",
        MbtiParams.model_json_schema(),
        ("assign-mbti", "mbti-assignment"),
    ),
    TaskTypeInfo(
        "CHARACTER_SETTINGS",
        "Character settings",
        "Write missing fields.",
        SettingsParams.model_json_schema(),
        ("generate-character-settings", "character-settings"),
    ),
    TaskTypeInfo(
        "DATABASE_UPGRADE",
        "Database upgrade",
        "Apply a migration.",
        DatabaseUpgradeParams.model_json_schema(),
        ("database-upgrade", "upgrade-database"),
    ),
    TaskTypeInfo(
        "CHARACTER_AVATAR",
        "Character avatar",
        "Draw avatars.",
        AvatarParams.model_json_schema(),
        ("generate-character-avatars", "character-avatars"),
    ),
]
MBTI_RESULT = {
    "success": True,
    "total": 6,
    "done": 6,
    "failed": 0,
    "statistics": {
        "total": 6,
        "byType": {"INTJ": 3, "ENFP": 2, "ISTP": 1},
        "byCategory": {
            "Analysts": {"count": 3},
            "Diplomats": {"count": 2},
            "Sentinels": {"count": 0},
            "Explorers": {"count": 1},
        },
    },
}


def sample_tasks() -> list[TaskRecord]:
    """Three tasks, newest first: running settings, failed avatar, completed MBTI."""
    return [
        TaskRecord(
            "task_1767229200000_0000000003", "CHARACTER_SETTINGS", Priority.HIGH, TaskStatus.RUNNING,
            {"updateFields": ["scenario"]}, T0_MS + 600_000, progress=40.0, message="4/10 items (0 failed)",
            started_at_ms=T0_MS + 600_000 + 1_000, counts=ItemCounts(10, 4, 0, 0),
        ),
        TaskRecord(
            "task_1767229100000_0000000002", "CHARACTER_AVATAR", Priority.NORMAL, TaskStatus.FAILED,
            {"batchSize": 3}, T0_MS + 300_000, progress=100.0, message="1 of 5 item(s) failed", error="1 of 5 item(s) failed",
            started_at_ms=T0_MS + 301_000, finished_at_ms=T0_MS + 331_000, counts=ItemCounts(5, 4, 1, 0),
        ),
        TaskRecord(
            "task_1767229000000_0000000001", "MBTI_ASSIGNMENT", Priority.NORMAL, TaskStatus.COMPLETED,
            {"forceUpdate": False, "batchSize": 25, "concurrency": 4}, T0_MS, progress=100.0, message="completed",
            result=MBTI_RESULT, started_at_ms=T0_MS + 1_000, finished_at_ms=T0_MS + 7_000, counts=ItemCounts(6, 6, 0, 0),
        ),
    ]  # fmt: skip


class FakeSubscription:
    """The events given at start, then whatever the fake service publishes."""

    def __init__(self, events: list[Event], *, overflow: bool = False) -> None:
        self.events = list(events)
        self.overflow = overflow
        self.closed = False
        self._wake = asyncio.Event()

    def push(self, event: Event) -> None:
        self.events.append(event)
        self._wake.set()

    async def batches(self) -> AsyncIterator[list[Event]]:
        if self.overflow:
            raise SubscriberOverflow("behind")
        while not self.closed:
            if self.events:
                batch, self.events = self.events, []
                yield batch
                continue
            self._wake.clear()
            await self._wake.wait()

    def close(self) -> None:
        self.closed = True
        self._wake.set()


class FakeService(FakeSchedules):
    """Implements UpdaterService over in-memory data; records the calls views make.

    The states, results and errors are those of the real service (tests/contract checks it).
    """

    def __init__(
        self,
        tasks: list[TaskRecord] | None = None,
        *,
        events: list[Event] | None = None,
        overflow_first: bool = False,
    ) -> None:
        self.tasks = {t.task_id: t for t in (tasks if tasks is not None else sample_tasks())}
        self.events = events or []
        self.overflow_next = overflow_first
        self.calls: list[tuple[str, Any]] = []
        self.now_ms = NOW_MS
        self.subscriptions = 0
        self.paused = False
        self.characters = FakeCharacters()
        self.proposals = FakeProposals(self._store_with_event)
        self._live: list[FakeSubscription] = []
        self._ids = itertools.count(4)
        self._logs = [
            LogRecord(t.created_at_ms, "INFO", f"task started: {t.task_id}", t.task_id)
            for t in sorted(self.tasks.values(), key=lambda t: t.created_at_ms)
        ]

    def _publish(self, kind: EventType, task: TaskRecord | None = None) -> None:
        event = (
            Event(kind)
            if task is None
            else Event(
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
        for subscription in self._live:
            subscription.push(event)

    def _log(self, level: str, message: str, task_id: str | None) -> None:
        self._logs.append(LogRecord(NOW_MS, level, message, task_id))

    async def info(self) -> ServiceInfo:
        return INFO

    async def queue_status(self) -> QueueStatus:
        by_status: dict[str, int] = {}
        for task in self.tasks.values():
            by_status[task.status.value] = by_status.get(task.status.value, 0) + 1
        return QueueStatus(
            self.paused,
            by_status.get("PENDING", 0),
            by_status.get("RUNNING", 0),
            2,
            len(self.tasks),
            by_status,
        )

    async def task_types(self) -> list[TaskTypeInfo]:
        return TYPES

    async def task_type(self, type_name: str) -> TaskTypeInfo:
        return type_named(await self.task_types(), type_name)

    def _type(self, type_name: str) -> str:
        return type_named(TYPES, type_name).name

    def _params(self, type_name: str, data: Mapping[str, Any] | None) -> dict[str, Any]:
        try:
            params = MODELS[type_name].model_validate(dict(data or {}))
        except ValidationError as exc:
            raise format_validation_error(exc) from None
        return params.model_dump(mode="json", exclude_none=True)

    async def preview(self, type_name: str, data: Mapping[str, Any]) -> int:
        self.calls.append(("preview", dict(data)))
        self._params(self._type(type_name), data)
        if data.get("characterIds") == ["nobody"]:
            raise InvalidParameters("characterIds", "unknown ids: nobody")
        return 12

    @staticmethod
    def _priority(priority: object) -> Priority:
        try:
            return Priority.parse(priority)
        except ValueError as exc:
            raise InvalidParameters("priority", str(exc)) from None

    async def submit(
        self, type_name: str, data: Mapping[str, Any], priority: object = "NORMAL"
    ) -> TaskRecord:
        self.calls.append(("submit", (type_name, dict(data), priority)))
        name = self._type(type_name)
        level = self._priority(priority)
        number = next(self._ids)
        task = TaskRecord(
            f"task_{NOW_MS + (number - 4) * 1000 - 300_000}_{number:010d}",
            name,
            level,
            TaskStatus.PENDING,
            self._params(name, data),
            NOW_MS + (number - 4),
            message="queued",
            updated_at_ms=NOW_MS,
        )
        self.tasks[task.task_id] = task
        self._publish(EventType.TASK_CREATED, task)
        self._log(
            "INFO", f"created task {name} (ID: {task.task_id}, priority {level.name})", task.task_id
        )
        return task

    async def list_tasks(
        self,
        *,
        status: str | Sequence[str] | None = None,
        type_name: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        sort: str | None = None,
        database: str | None = None,
    ) -> list[TaskRecord]:
        query = TaskFilter.parse(status, type_name)
        field, descending = parse_sort(sort) or ("createdAt", True)
        attribute = SORT_ATTRIBUTES[field]

        def key(task: TaskRecord) -> tuple[Any, ...]:
            value = getattr(task, attribute)
            # Missing values first when ascending, as SQLite; ties by age, same direction.
            return (value is not None, value, task.created_at_ms, task.task_id)

        tasks = sorted(
            (t for t in self.tasks.values() if query.matches(t) and database in (None, t.database)),
            key=key,
            reverse=descending,
        )
        return tasks[offset : None if limit is None else offset + limit]

    async def count_tasks(
        self,
        *,
        status: str | Sequence[str] | None = None,
        type_name: str | Sequence[str] | None = None,
        database: str | None = None,
    ) -> int:
        return len(await self.list_tasks(status=status, type_name=type_name, database=database))

    async def get_task(self, task_id: str) -> TaskRecord:
        if task_id not in self.tasks:
            raise TaskNotFound(task_id)
        return self.tasks[task_id]

    async def list_items(
        self,
        task_id: str,
        *,
        limit: int = 500,
        offset: int = 0,
        status: str | Sequence[str] | None = None,
    ) -> list[ItemRecord]:
        statuses = parse_item_statuses(status)
        task = await self.get_task(task_id)
        names = [
            "Ada Sterling",
            "小葵",
            "Unit K-7",
            "Willow",
            "老周",
            "Nyx",
            "Pip",
            "Finn",
            "Kai",
            "Rowan",
        ]
        items = []
        for seq in range(task.counts.total):
            item_status = ItemStatus.DONE if seq < task.counts.done else ItemStatus.PENDING
            error = None
            if task.status is TaskStatus.FAILED and seq == task.counts.total - 1:
                item_status, error = ItemStatus.FAILED, "provider said 400: bad prompt"
            items.append(
                ItemRecord(task_id, seq, f"c{seq}", names[seq % len(names)], item_status, 1, error)
            )
        if statuses:
            items = [item for item in items if item.status in statuses]
        return items[offset : offset + limit]

    async def task_changes(self, task_id: str, query: ChangeQuery) -> TaskChangePage:
        await self.get_task(task_id)
        return self.characters.task_changes(task_id, query)

    async def task_logs(self, task_id: str, *, limit: int = 500) -> list[LogRecord]:
        await self.get_task(task_id)
        return [log for log in self._logs if log.task_id == task_id][-limit:]

    async def logs(
        self,
        *,
        since_ms: int | None = None,
        level: str | None = None,
        task_id: str | None = None,
        limit: int = 500,
    ) -> list[LogRecord]:
        levels = levels_from(level)
        return [
            log
            for log in self._logs
            if log.task_id is not None
            and (since_ms is None or log.timestamp_ms >= since_ms)
            and (not levels or log.level in levels)
            and (task_id is None or log.task_id == task_id)
        ][-limit:]

    def _store(self, task: TaskRecord) -> TaskRecord:
        self.tasks[task.task_id] = task
        return task

    async def cancel(self, task_id: str) -> TaskRecord:
        self.calls.append(("cancel", task_id))
        task = await self.get_task(task_id)
        if task.status.finished:
            raise TaskStateError(f"task {task_id} is already {task.status.value}")
        message = (
            "cancelled before it started" if task.status is TaskStatus.PENDING else "cancelled"
        )
        task = self._store(
            task.evolve(status=TaskStatus.CANCELLED, message=message, finished_at_ms=NOW_MS)
        )
        self._publish(EventType.TASK_CANCELLED, task)
        return task

    async def retry(self, task_id: str, data: Mapping[str, Any] | None = None) -> TaskRecord:
        self.calls.append(("retry", task_id))
        task = await self.get_task(task_id)
        if task.status not in (TaskStatus.FAILED, TaskStatus.CANCELLED):
            raise TaskStateError(
                f"only FAILED or CANCELLED tasks can be retried; {task_id} is {task.status.value}"
            )
        if data:
            task = task.evolve(data=self._params(task.type, {**task.data, **data}))
        task = self._store(
            task.evolve(
                status=TaskStatus.PENDING,
                attempt=task.attempt + 1,
                error=None,
                finished_at_ms=None,
                reverted_at_ms=None,
                message="retrying 0 failed item(s) by request",
            )
        )
        self._publish(EventType.TASK_RETRYING, task)
        return task

    async def set_priority(self, task_id: str, priority: object) -> TaskRecord:
        self.calls.append(("set_priority", (task_id, priority)))
        level = self._priority(priority)
        task = await self.get_task(task_id)
        if task.status is not TaskStatus.PENDING:
            raise TaskStateError(
                f"only a queued task's priority can change; {task_id} is {task.status.value}"
            )
        return self._store(task.evolve(priority=level))

    async def revert(self, task_id: str) -> dict[str, Any]:
        self.calls.append(("revert", task_id))
        task = await self.get_task(task_id)
        if not task.status.finished:
            raise TaskStateError(
                f"task {task_id} is {task.status.value}; cancel it before reverting"
            )
        self._publish(EventType.TASK_PROGRESS, self._store(task.evolve(reverted_at_ms=NOW_MS)))
        return {"reverted": 6, "conflicts": 0}

    async def delete(self, task_id: str) -> None:
        self.calls.append(("delete", task_id))
        task = await self.get_task(task_id)
        if not task.status.finished:
            await self.cancel(task_id)
        del self.tasks[task_id]
        self._logs = [log for log in self._logs if log.task_id != task_id]
        self._publish(EventType.TASK_DELETED, task.evolve(message="deleted"))

    async def bulk(
        self,
        action: str,
        *,
        status: str | Sequence[str] | None = None,
        type_name: str | Sequence[str] | None = None,
    ) -> BulkResult:
        return await apply_bulk(self, action, status=status, type_name=type_name)

    async def pause(self) -> None:
        self.calls.append(("pause", None))
        if not self.paused:
            self.paused = True
            self._publish(EventType.QUEUE_PAUSED)

    async def resume(self) -> None:
        self.calls.append(("resume", None))
        if self.paused:
            self.paused = False
            self._publish(EventType.QUEUE_RESUMED)

    async def list_backups(self) -> list[BackupInfo]:
        return [
            BackupInfo(
                "dev-backup-20260101T000000000Z.db",
                "/b/dev-backup-20260101T000000000Z.db",
                T0_MS,
                73_728,
                "dev",
            ),
            BackupInfo(
                "dev-backup-20260101T003000000Z.db",
                "/b/dev-backup-20260101T003000000Z.db",
                T0_MS + 1_800_000,
                81_920,
                "dev",
            ),
        ]

    async def restore_backup(self, name: str) -> dict[str, Any]:
        self.calls.append(("restore", name))
        return {
            "restored": name,
            "safetyBackup": {"name": "dev-backup-safety.db"},
            "integrity": "ok",
        }

    async def characters_summary(self) -> dict[str, Any]:
        return {
            "table": "Character",
            "total": 41,
            "missing": {"avatar": 20, "fullDescription": 30, "scenario": 39, "mbtiType": 20},
            "mbtiDistribution": {"INTJ": 2, "ENFP": 1, "ISTP": 2, "ESFJ": 1},
            "avatarStatus": {"COMPLETED": 21, "PENDING": 18, "FAILED": 2},
            "columnsAbsent": [],
        }

    async def list_characters(self, query: CharacterQuery) -> CharacterPage:
        self.calls.append(("list_characters", query))
        return self.characters.page(query)

    async def character(self, character_id: str) -> CharacterDetail:
        return self.characters.detail(character_id)

    async def revert_change(self, entry_id: int) -> dict[str, Any]:
        self.calls.append(("revert_change", entry_id))
        return self.characters.revert_change(entry_id)

    async def export_cards(
        self, ids: Sequence[str], fmt: str = "v3", directory: str | None = None
    ) -> dict[str, Any]:
        self.calls.append(("export_cards", (tuple(ids), fmt, directory)))
        return self.characters.export(ids, fmt, directory)

    async def character_ids(self, query: CharacterQuery) -> list[str]:
        self.calls.append(("character_ids", query))
        return self.characters.ids(query)

    def _store_with_event(self, task: TaskRecord) -> None:
        self._publish(EventType.TASK_PROGRESS, self._store(task))

    async def list_proposals(
        self, task_id: str, *, status: str | Sequence[str] | None = None
    ) -> list[ProposalView]:
        return self.proposals.listed(await self.get_task(task_id), status)

    async def accept_proposals(
        self, task_id: str, proposal_ids: Sequence[int] | None = None
    ) -> list[ProposalView]:
        self.calls.append(("accept_proposals", (task_id, proposal_ids)))
        return self.proposals.accept(await self.get_task(task_id), proposal_ids)

    async def reject_proposals(
        self, task_id: str, proposal_ids: Sequence[int] | None = None
    ) -> list[ProposalView]:
        self.calls.append(("reject_proposals", (task_id, proposal_ids)))
        return self.proposals.reject(await self.get_task(task_id), proposal_ids)

    async def edit_proposal(
        self, task_id: str, proposal_id: int, changes: Mapping[str, Any]
    ) -> ProposalView:
        self.calls.append(("edit_proposal", (task_id, proposal_id)))
        return self.proposals.edit(await self.get_task(task_id), proposal_id, changes)

    def subscribe(self) -> FakeSubscription:
        self.subscriptions += 1
        overflow, self.overflow_next = self.overflow_next, False
        subscription = FakeSubscription(
            self.events if self.subscriptions == 1 or not overflow else [], overflow=overflow
        )
        self._live = [s for s in self._live if not s.closed] + [subscription]
        return subscription
