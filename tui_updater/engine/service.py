"""LocalService: the UpdaterService over an in-process engine (the dashboard and --serve use it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from tui_updater.core.budget import Estimate, UsageHistory, estimate
from tui_updater.core.changes import ChangeQuery, TaskChangePage
from tui_updater.core.models import BackupInfo, ItemRecord, LogRecord, TaskRecord
from tui_updater.core.proposals import ProposalView
from tui_updater.core.schedules import ScheduleRecord
from tui_updater.core.service import (
    BulkResult,
    CharacterDetail,
    CharacterPage,
    CharacterQuery,
    QueueStatus,
    ServiceInfo,
    TaskFilter,
    TaskTypeInfo,
    apply_bulk,
    levels_from,
    parse_item_statuses,
    parse_proposal_statuses,
    parse_sort,
)
from tui_updater.engine.budgets import model_price
from tui_updater.engine.bus import BusSubscription
from tui_updater.engine.engine import Engine
from tui_updater.engine.proposals import ProposalDesk
from tui_updater.engine.schedules import Scheduler
from tui_updater.errors import InvalidParameters, TaskStateError


class BackupPort(Protocol):
    def list(self) -> list[BackupInfo]: ...

    async def restore(self, name: str, db_path: Path) -> dict[str, Any]: ...


class SummaryPort(Protocol):
    async def summary(self) -> dict[str, Any]: ...


class BrowsePort(Protocol):
    async def page(self, query: CharacterQuery) -> CharacterPage: ...

    async def ids(self, query: CharacterQuery) -> list[str]: ...

    async def detail(self, character_id: str) -> CharacterDetail: ...

    async def revert_change(self, entry_id: int) -> dict[str, Any]: ...


class CardsPort(Protocol):
    async def export(
        self, ids: Sequence[str], fmt: str, directory: str | None
    ) -> dict[str, Any]: ...


class LocalService:
    """Implements core.service.UpdaterService for an engine running in this process."""

    def __init__(
        self,
        engine: Engine,
        info: ServiceInfo,
        *,
        backups: BackupPort,
        characters: SummaryPort | None,
        db_path: Path,
        browser: BrowsePort | None = None,
        gateway_state: Callable[[], dict[str, Any]] | None = None,
        cards: CardsPort | None = None,
        scheduler: Scheduler | None = None,
    ):
        self.engine = engine
        self._scheduler = scheduler
        self._gateway_state = gateway_state
        self._info = info
        self._backups = backups
        self._characters = characters
        self._browser = browser
        self._db_path = db_path
        self._proposals = ProposalDesk(engine)
        self._cards = cards

    async def info(self) -> ServiceInfo:
        return self._info

    async def queue_status(self) -> QueueStatus:
        by_status = await self.engine.store.count_by_status()
        return QueueStatus(
            paused=self.engine.paused,
            pending=self.engine.pending_count,
            running=self.engine.running_count,
            max_running=self.engine.settings.max_running_tasks,
            total=sum(by_status.values()),
            by_status=by_status,
            gateway=self._gateway_state() if self._gateway_state is not None else None,
        )

    async def task_types(self) -> list[TaskTypeInfo]:
        return [self._type_info(name) for name in self.engine.registry.names()]

    async def task_type(self, type_name: str) -> TaskTypeInfo:
        return self._type_info(type_name)

    def _type_info(self, type_name: str) -> TaskTypeInfo:
        registry = self.engine.registry
        t = registry.get(type_name)
        return TaskTypeInfo(
            t.name, t.title, t.description, t.params_schema(), tuple(registry.aliases(t.name))
        )

    async def preview(self, type_name: str, data: Mapping[str, Any]) -> int:
        return await self.engine.preview(type_name, data)

    async def submit(
        self, type_name: str, data: Mapping[str, Any], priority: object = "NORMAL"
    ) -> TaskRecord:
        task = await self.engine.submit(type_name, data, priority)
        warning = self.gateway_cap_warning(data)
        if warning:
            self.engine.log("WARNING", f"{task.task_id}: {warning}", task.task_id)
        return task

    def gateway_cap_warning(self, data: Mapping[str, Any]) -> str | None:
        """What to tell a task asking for more requests in flight than the gateway lane allows
        (a warning, not a refusal: the lane caps it anyway)."""
        asked = data.get("concurrency")
        if self._gateway_state is None or not isinstance(asked, int) or isinstance(asked, bool):
            return None
        cap = int(self._gateway_state().get("maxInFlight") or 0)
        if cap and asked > cap:
            return (
                f"concurrency {asked} is above the gateway's cap of {cap} requests in flight; "
                f"the task will run at most {cap} at a time (raise provider.max_in_flight to allow more)"
            )
        return None

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
        tasks = await self.engine.store.list_tasks(
            database=database,
            status=[s.value for s in query.statuses],
            type_name=list(query.types),
            limit=limit,
            offset=offset,
            sort=parse_sort(sort),
        )
        return [self.engine.live_task(t.task_id) or t for t in tasks]

    async def count_tasks(
        self,
        *,
        status: str | Sequence[str] | None = None,
        type_name: str | Sequence[str] | None = None,
        database: str | None = None,
    ) -> int:
        query = TaskFilter.parse(status, type_name)
        return await self.engine.store.count_tasks(
            status=[s.value for s in query.statuses],
            type_name=list(query.types),
            database=database,
        )

    async def get_task(self, task_id: str) -> TaskRecord:
        return await self.engine.get_task(task_id)

    async def task_changes(self, task_id: str, query: ChangeQuery) -> TaskChangePage:
        await self.engine.get_task(task_id)  # TaskNotFound for an unknown id
        return await self.engine.store.task_changes(task_id, query)

    async def list_items(
        self,
        task_id: str,
        *,
        limit: int = 500,
        offset: int = 0,
        status: str | Sequence[str] | None = None,
    ) -> list[ItemRecord]:
        statuses = parse_item_statuses(status)
        await self.engine.get_task(task_id)  # TaskNotFound for unknown ids
        live = self.engine.live_items(task_id)
        if live:
            ordered = [live[seq] for seq in sorted(live)]
            if statuses:
                ordered = [item for item in ordered if item.status in statuses]
            return ordered[offset : offset + limit]
        return await self.engine.store.list_items(
            task_id, statuses=statuses or None, limit=limit, offset=offset
        )

    async def task_logs(self, task_id: str, *, limit: int = 500) -> list[LogRecord]:
        await self.engine.get_task(task_id)
        await self.engine.flush_logs()
        return await self.engine.store.task_logs(task_id, limit=limit)

    async def logs(
        self,
        *,
        since_ms: int | None = None,
        level: str | None = None,
        task_id: str | None = None,
        limit: int = 500,
    ) -> list[LogRecord]:
        levels = levels_from(level)
        await self.engine.flush_logs()
        return await self.engine.store.logs(
            since_ms=since_ms, levels=levels, task_id=task_id, limit=limit
        )

    async def set_priority(self, task_id: str, priority: object) -> TaskRecord:
        return await self.engine.set_priority(task_id, priority)

    async def bulk(
        self,
        action: str,
        *,
        status: str | Sequence[str] | None = None,
        type_name: str | Sequence[str] | None = None,
    ) -> BulkResult:
        return await apply_bulk(self, action, status=status, type_name=type_name)

    async def cancel(self, task_id: str) -> TaskRecord:
        return await self.engine.cancel(task_id)

    async def retry(self, task_id: str, data: Mapping[str, Any] | None = None) -> TaskRecord:
        return await self.engine.retry(task_id, data)

    async def revert(self, task_id: str) -> dict[str, Any]:
        return await self.engine.revert(task_id)

    async def delete(self, task_id: str) -> None:
        if not (await self.engine.get_task(task_id)).status.finished:
            await self.engine.cancel(task_id)  # proposals stored so far are discarded below too
        await self._proposals.forget(task_id)
        await self.engine.delete(task_id)

    async def pause(self) -> None:
        await self.engine.pause()

    async def resume(self) -> None:
        await self.engine.resume()

    async def list_backups(self) -> list[BackupInfo]:
        return await asyncio.to_thread(self._backups.list)

    async def restore_backup(self, name: str) -> dict[str, Any]:
        if self.engine.running_count:
            raise TaskStateError(
                "tasks are running; pause the queue and let them finish before restoring a backup"
            )
        report = await self._backups.restore(name, self._db_path)
        self.engine.log("WARNING", f"database restored from backup {name}")
        return report

    async def characters_summary(self) -> dict[str, Any]:
        if self._characters is None:
            return {}
        return await self._characters.summary()

    async def list_characters(self, query: CharacterQuery) -> CharacterPage:
        if self._browser is None:
            return CharacterPage((), 0, query.offset)
        return await self._browser.page(query)

    async def character_ids(self, query: CharacterQuery) -> list[str]:
        return [] if self._browser is None else await self._browser.ids(query)

    def _need_browser(self) -> BrowsePort:
        if self._browser is None:
            raise InvalidParameters("characterId", "no character database is open")
        return self._browser

    async def character(self, character_id: str) -> CharacterDetail:
        return await self._need_browser().detail(character_id)

    async def revert_change(self, entry_id: int) -> dict[str, Any]:
        outcome = await self._need_browser().revert_change(entry_id)
        if outcome["reverted"]:
            self.engine.log("INFO", f"reverted journal entry {entry_id}")
        return outcome

    async def list_proposals(
        self, task_id: str, *, status: str | Sequence[str] | None = None
    ) -> list[ProposalView]:
        return await self._proposals.listed(task_id, parse_proposal_statuses(status) or None)

    async def accept_proposals(
        self, task_id: str, proposal_ids: Sequence[int] | None = None
    ) -> list[ProposalView]:
        return await self._proposals.accept(task_id, proposal_ids)

    async def reject_proposals(
        self, task_id: str, proposal_ids: Sequence[int] | None = None
    ) -> list[ProposalView]:
        return await self._proposals.reject(task_id, proposal_ids)

    async def edit_proposal(
        self, task_id: str, proposal_id: int, changes: Mapping[str, Any]
    ) -> ProposalView:
        return await self._proposals.edit(task_id, proposal_id, changes)

    async def export_cards(
        self, ids: Sequence[str], fmt: str = "v3", directory: str | None = None
    ) -> dict[str, Any]:
        if self._cards is None:
            raise InvalidParameters("ids", "no character database is open")
        report = await self._cards.export(list(ids), fmt, directory)
        self.engine.log(
            "INFO",
            f"exported {report['exported']} character cards ({fmt}) to {report['directory']}",
        )
        return report

    async def estimate(self, type_name: str, data: Mapping[str, Any]) -> Estimate:
        engine = self.engine
        candidates = await engine.count_work(type_name, data)
        task_type = engine.registry.get(type_name)
        store = engine.store
        history = (
            await store.usage_per_item(task_type.name) if isinstance(store, UsageHistory) else None
        )
        model, price = model_price(engine.resources, data, task_type.params_schema())
        return estimate(candidates, history, price, model)

    def _schedules(self) -> Scheduler:
        if self._scheduler is None:
            raise TaskStateError("schedules run in the engine that owns the state dir")
        return self._scheduler

    async def list_schedules(self) -> list[ScheduleRecord]:
        return await self._schedules().list()

    async def add_schedule(self, body: Mapping[str, Any]) -> ScheduleRecord:
        return await self._schedules().add(body)

    async def update_schedule(self, schedule_id: str, body: Mapping[str, Any]) -> ScheduleRecord:
        return await self._schedules().update(schedule_id, body)

    async def remove_schedule(self, schedule_id: str) -> None:
        await self._schedules().remove(schedule_id)

    def subscribe(self) -> BusSubscription:
        return self.engine.bus.subscribe()
