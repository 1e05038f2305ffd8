"""An in-memory UpdaterService with fixed records: deterministic snapshots and edge cases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from tui_updater.core.events import Event
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
from tui_updater.core.service import QueueStatus, ServiceInfo, SubscriberOverflow, TaskTypeInfo
from tui_updater.errors import InvalidParameters, TaskNotFound
from tui_updater.tasks.avatar import AvatarParams
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
TYPES = [
    TaskTypeInfo(
        "MBTI_ASSIGNMENT", "MBTI assignment", "Assign MBTI types.", MbtiParams.model_json_schema()
    ),
    TaskTypeInfo(
        "CHARACTER_SETTINGS",
        "Character settings",
        "Write missing fields.",
        SettingsParams.model_json_schema(),
    ),
    TaskTypeInfo(
        "DATABASE_UPGRADE",
        "Database upgrade",
        "Apply a migration.",
        DatabaseUpgradeParams.model_json_schema(),
    ),
    TaskTypeInfo(
        "CHARACTER_AVATAR", "Character avatar", "Draw avatars.", AvatarParams.model_json_schema()
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
    def __init__(self, events: list[Event], *, overflow: bool = False) -> None:
        self.events = events
        self.overflow = overflow
        self.closed = False

    async def batches(self) -> AsyncIterator[list[Event]]:
        if self.overflow:
            raise SubscriberOverflow("behind")
        if self.events:
            yield list(self.events)
        while not self.closed:
            await asyncio.sleep(0.05)
        return

    def close(self) -> None:
        self.closed = True


class FakeService:
    """Implements UpdaterService over fixed data; records the calls views make."""

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
        self.subscriptions = 0

    async def info(self) -> ServiceInfo:
        return INFO

    async def queue_status(self) -> QueueStatus:
        by_status: dict[str, int] = {}
        for task in self.tasks.values():
            by_status[task.status.value] = by_status.get(task.status.value, 0) + 1
        return QueueStatus(
            False,
            by_status.get("PENDING", 0),
            by_status.get("RUNNING", 0),
            2,
            len(self.tasks),
            by_status,
        )

    async def task_types(self) -> list[TaskTypeInfo]:
        return TYPES

    async def preview(self, type_name: str, data: Mapping[str, Any]) -> int:
        self.calls.append(("preview", dict(data)))
        if data.get("characterIds") == ["nobody"]:
            raise InvalidParameters("characterIds", "unknown ids: nobody")
        return 12

    async def submit(
        self, type_name: str, data: Mapping[str, Any], priority: object = "NORMAL"
    ) -> TaskRecord:
        self.calls.append(("submit", (type_name, dict(data), priority)))
        task = TaskRecord(
            "task_1767229300000_0000000004",
            type_name,
            Priority.parse(priority),
            TaskStatus.PENDING,
            dict(data),
            NOW_MS,
        )
        self.tasks[task.task_id] = task
        return task

    async def list_tasks(
        self,
        *,
        status: str | None = None,
        type_name: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[TaskRecord]:
        ordered = sorted(self.tasks.values(), key=lambda t: t.task_id, reverse=True)
        return ordered[offset : None if limit is None else offset + limit]

    async def get_task(self, task_id: str) -> TaskRecord:
        if task_id not in self.tasks:
            raise TaskNotFound(task_id)
        return self.tasks[task_id]

    async def list_items(
        self, task_id: str, *, limit: int = 500, offset: int = 0
    ) -> list[ItemRecord]:
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
            status = ItemStatus.DONE if seq < task.counts.done else ItemStatus.PENDING
            error = None
            if task.status is TaskStatus.FAILED and seq == task.counts.total - 1:
                status, error = ItemStatus.FAILED, "provider said 400: bad prompt"
            items.append(
                ItemRecord(task_id, seq, f"c{seq}", names[seq % len(names)], status, 1, error)
            )
        return items[offset : offset + limit]

    async def task_logs(self, task_id: str, *, limit: int = 500) -> list[LogRecord]:
        return [LogRecord(T0_MS, "INFO", f"task started: {task_id}", task_id)]

    async def cancel(self, task_id: str) -> TaskRecord:
        self.calls.append(("cancel", task_id))
        return await self.get_task(task_id)

    async def retry(self, task_id: str) -> TaskRecord:
        self.calls.append(("retry", task_id))
        return await self.get_task(task_id)

    async def revert(self, task_id: str) -> dict[str, Any]:
        self.calls.append(("revert", task_id))
        return {"reverted": 6, "conflicts": 0}

    async def delete(self, task_id: str) -> None:
        self.calls.append(("delete", task_id))

    async def pause(self) -> None:
        self.calls.append(("pause", None))

    async def resume(self) -> None:
        self.calls.append(("resume", None))

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

    def subscribe(self) -> FakeSubscription:
        self.subscriptions += 1
        overflow, self.overflow_next = self.overflow_next, False
        return FakeSubscription(
            self.events if self.subscriptions == 1 or not overflow else [], overflow=overflow
        )
