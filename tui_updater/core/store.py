"""The TaskStore protocol: durable tasks, items, logs and the write journal (tasks.db)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, runtime_checkable

from tui_updater.core.changes import ChangeQuery, TaskChangePage
from tui_updater.core.journal import Journal
from tui_updater.core.models import ItemRecord, ItemStatus, LogRecord, TaskRecord


class ClaimRequest(NamedTuple):
    """The columns of one character an item of a task is about to write."""

    item_key: str
    character_id: str
    columns: tuple[str, ...]


@runtime_checkable
class CharacterClaims(Protocol):
    """Which task works on which character columns: one task per cell at a time.

    A claim ends with its item (a finished item is saved), with its task (a task saved in any
    status but RUNNING, or deleted), and when the store opens (no task runs yet).
    """

    async def claim(
        self, task_id: str, scope: str, requests: Sequence[ClaimRequest]
    ) -> dict[str, str]:
        """Claim each request's cells in ``scope`` (a character database) for ``task_id`` in
        one transaction; requests that another task holds a cell of are refused: returns their
        item key → the holding task id."""

    async def release_claims(self, task_id: str, item_keys: Sequence[str] | None = None) -> None:
        """Release the task's claims (only these items' when given)."""


class TaskStore(Journal, CharacterClaims, Protocol):
    """Persistence for the engine. Writes are grouped: concurrent calls share one transaction."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def save(
        self,
        *,
        tasks: Sequence[TaskRecord] = (),
        items: Sequence[ItemRecord] = (),
        logs: Sequence[LogRecord] = (),
        new_items: Sequence[ItemRecord] = (),
    ) -> None:
        """Upsert tasks, update items, insert new items and logs, all in one transaction."""

    async def get_task(self, task_id: str) -> TaskRecord | None: ...

    async def task_changes(self, task_id: str, query: ChangeQuery) -> TaskChangePage:
        """One page of the task's journal entries, filtered as ``query`` says."""

    async def list_tasks(
        self,
        *,
        status: str | Sequence[str] | None = None,
        type_name: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        sort: tuple[str, bool] | None = None,
        database: str | None = None,
    ) -> list[TaskRecord]:
        """Newest first, or by ``sort`` = (JSON field name, descending)."""

    async def count_tasks(
        self,
        *,
        status: str | Sequence[str] | None = None,
        type_name: str | Sequence[str] | None = None,
        database: str | None = None,
    ) -> int: ...

    async def unfinished_tasks(self) -> list[TaskRecord]:
        """PENDING and RUNNING tasks, oldest first."""

    async def count_by_status(self) -> dict[str, int]: ...

    async def list_items(
        self,
        task_id: str,
        *,
        statuses: Sequence[ItemStatus] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ItemRecord]: ...

    async def reset_items(
        self, task_id: str, from_statuses: Sequence[ItemStatus], *, only_retryable: bool = False
    ) -> int:
        """Put items in these statuses back to PENDING (attempts kept); return how many."""

    async def task_logs(self, task_id: str, *, limit: int = 500) -> list[LogRecord]:
        """The task's newest ``limit`` log lines, oldest first."""

    async def logs(
        self,
        *,
        since_ms: int | None = None,
        levels: Sequence[str] = (),
        task_id: str | None = None,
        limit: int = 500,
    ) -> list[LogRecord]:
        """The newest ``limit`` stored lines matching, oldest first."""

    async def delete_task(self, task_id: str) -> bool: ...

    async def prune(self, finished_before_ms: int) -> int:
        """Delete finished tasks older than the cutoff; return how many."""

    async def get_state(self, name: str) -> str | None:
        """A persisted engine setting (e.g. whether the queue is paused)."""

    async def set_state(self, name: str, value: str) -> None: ...
