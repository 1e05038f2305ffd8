"""RemoteService: the UpdaterService of ``--connect``, over the server's REST API and /ws.

Error answers are turned back into the package's exceptions (InvalidParameters with its field,
TaskNotFound, TaskStateError, UnknownTaskType…); an unreachable server is ServerUnreachable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from tui_updater.core.budget import Estimate
from tui_updater.core.changes import ChangeQuery, TaskChangePage
from tui_updater.core.models import BackupInfo, ItemRecord, LogRecord, Priority, TaskRecord
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
    check_bulk_action,
    levels_from,
    parse_item_statuses,
    parse_proposal_statuses,
    parse_sort,
    type_named,
)
from tui_updater.errors import (
    InvalidParameters,
    MigrationError,
    ScheduleNotFound,
    TaskNotFound,
    TavernError,
    UnknownTaskType,
)
from tui_updater.server.channel import EventChannel, RemoteSubscription
from tui_updater.server.codes import CLASS_BY_CODE


class RemoteError(TavernError):
    """The server refused a request for a reason the other exceptions do not cover."""

    def __init__(self, message: str, *, status_code: int, code: str):
        self.status_code = status_code
        self.code = code
        super().__init__(message)


class ServerUnreachable(TavernError):
    """The server did not answer (down, restarting, wrong address)."""


def error_from_response(status_code: int, body: Any) -> TavernError:
    """The exception an error answer stands for."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return RemoteError(
            f"server answered HTTP {status_code}", status_code=status_code, code="http_error"
        )
    code = str(error.get("code") or "")
    message = str(error.get("message") or f"HTTP {status_code}")
    raw_details = error.get("details")
    details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
    if code in ("invalid_parameters", "forbidden_path"):
        field = str(details.get("field") or "")
        reason = str(details.get("reason") or message)
        errors = details.get("errors") if isinstance(details.get("errors"), list) else None
        return InvalidParameters(field, reason, details=errors)
    if code == "unknown_task_type":
        return UnknownTaskType(str(details.get("type") or ""), list(details.get("known") or []))
    if code == "task_not_found":
        return TaskNotFound(str(details.get("taskId") or ""))
    if code == "schedule_not_found":
        return ScheduleNotFound(str(details.get("scheduleId") or ""))
    if code == "migration_error":
        return MigrationError(message, statement_number=details.get("statement"))
    if code in CLASS_BY_CODE:
        return CLASS_BY_CODE[code](message)
    return RemoteError(message, status_code=status_code, code=code or "http_error")


def _priority_name(priority: object) -> str:
    """The name the server's schema takes; parsed here as the local engine parses it."""
    try:
        return Priority.parse(priority).name
    except ValueError as exc:
        raise InvalidParameters("priority", str(exc)) from None


def _http_base(url: str) -> str:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _ws_url(http_base: str) -> str:
    """The event stream, batched: one message carries every event that was ready."""
    parts = urlsplit(http_base)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path + "/ws", "batch=1", ""))


class RemoteService:
    """Implements core.service.UpdaterService against a ``--serve`` server."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout_s: float = 30.0,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        uds: str | None = None,
    ):
        """``uds``: reach the server on this Unix socket (a state dir's owner) instead of TCP."""
        self.url = _http_base(url)
        if uds is not None and transport is None:
            transport = httpx.AsyncHTTPTransport(uds=uds)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(
            base_url=self.url,
            headers=headers,
            timeout=timeout_s,
            transport=transport,
            trust_env=False,
        )
        self._channel = EventChannel(
            _ws_url(self.url),
            headers=headers,
            backoff_initial_s=backoff_initial_s,
            backoff_max_s=backoff_max_s,
            uds=uds,
        )

    @property
    def connection_state(self) -> str:
        """One of: connected, connecting, reconnecting in 2s, reconnecting, disconnected."""
        return self._channel.state

    @property
    def last_error(self) -> str | None:
        return self._channel.last_error

    async def _call(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        response = await self._request(method, path, json=json, params=params)
        try:
            return response.json()
        except ValueError:
            return None

    async def _request(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = await self._http.request(method, path, json=json, params=query or None)
        except httpx.TransportError as exc:
            raise ServerUnreachable(
                f"cannot reach {self.url}: {exc or type(exc).__name__}"
            ) from None
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            raise error_from_response(response.status_code, body)
        return response

    @staticmethod
    def _task_path(task_id: str, action: str = "") -> str:
        return f"/api/tasks/{quote(task_id, safe='')}{action}"

    async def info(self) -> ServiceInfo:
        status = await self._call("GET", "/api/status")
        return ServiceInfo.from_json(status["service"]).evolve(remote=self.url)

    async def queue_status(self) -> QueueStatus:
        return QueueStatus.from_json((await self._call("GET", "/api/status"))["queue"])

    async def task_types(self) -> list[TaskTypeInfo]:
        return [
            TaskTypeInfo.from_json(item) for item in await self._call("GET", "/api/tasks/types")
        ]

    async def task_type(self, type_name: str) -> TaskTypeInfo:
        return type_named(await self.task_types(), type_name)

    async def preview(self, type_name: str, data: Mapping[str, Any]) -> int:
        answer = await self._call(
            "POST", "/api/tasks/preview", json={"type": type_name, "data": dict(data)}
        )
        return int(answer["count"])

    async def submit(
        self, type_name: str, data: Mapping[str, Any], priority: object = "NORMAL"
    ) -> TaskRecord:
        body = {"type": type_name, "priority": _priority_name(priority), "data": dict(data)}
        return TaskRecord.from_json(await self._call("POST", "/api/tasks", json=body))

    @staticmethod
    def _filter_params(
        status: str | Sequence[str] | None, type_name: str | Sequence[str] | None
    ) -> dict[str, Any]:
        # Parsed here as the local service parses them, so bad values fail the same way.
        query = TaskFilter.parse(status, type_name)
        return {
            "status": ",".join(query.statuses) or None,
            "type": ",".join(query.types) or None,
        }

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
        order = parse_sort(sort)
        params = {
            **self._filter_params(status, type_name),
            "database": database,
            "limit": limit,
            "offset": offset or None,
            "sort": None if order is None else f"{'-' if order[1] else ''}{order[0]}",
        }
        return [
            TaskRecord.from_json(item)
            for item in await self._call("GET", "/api/tasks", params=params)
        ]

    async def count_tasks(
        self,
        *,
        status: str | Sequence[str] | None = None,
        type_name: str | Sequence[str] | None = None,
        database: str | None = None,
    ) -> int:
        params = {**self._filter_params(status, type_name), "database": database, "limit": 1}
        response = await self._request("GET", "/api/tasks", params=params)
        return int(response.headers["X-Total-Count"])

    async def get_task(self, task_id: str) -> TaskRecord:
        return TaskRecord.from_json(await self._call("GET", self._task_path(task_id)))

    async def list_items(
        self,
        task_id: str,
        *,
        limit: int = 500,
        offset: int = 0,
        status: str | Sequence[str] | None = None,
    ) -> list[ItemRecord]:
        statuses = ",".join(parse_item_statuses(status)) or None
        items = await self._call(
            "GET",
            self._task_path(task_id, "/items"),
            params={"limit": limit, "offset": offset, "status": statuses},
        )
        return [ItemRecord.from_json(item) for item in items]

    async def task_changes(self, task_id: str, query: ChangeQuery) -> TaskChangePage:
        params = {
            "field": query.field,
            "state": query.state,
            "search": query.search or None,
            "limit": query.limit,
            "offset": query.offset,
        }
        body = await self._call("GET", self._task_path(task_id, "/changes"), params=params)
        return TaskChangePage.from_json(body)

    async def task_logs(self, task_id: str, *, limit: int = 500) -> list[LogRecord]:
        logs = await self._call("GET", self._task_path(task_id, "/logs"), params={"limit": limit})
        return [LogRecord.from_json(item) for item in logs]

    async def logs(
        self,
        *,
        since_ms: int | None = None,
        level: str | None = None,
        task_id: str | None = None,
        limit: int = 500,
    ) -> list[LogRecord]:
        levels = levels_from(level)
        params = {
            "since": since_ms,
            "level": levels[0] if levels else None,
            "taskId": task_id,
            "limit": limit,
        }
        return [
            LogRecord.from_json(item)
            for item in await self._call("GET", "/api/logs", params=params)
        ]

    async def set_priority(self, task_id: str, priority: object) -> TaskRecord:
        body = {"priority": _priority_name(priority)}
        answer = await self._call("PATCH", self._task_path(task_id), json=body)
        return TaskRecord.from_json(answer)

    async def bulk(
        self,
        action: str,
        *,
        status: str | Sequence[str] | None = None,
        type_name: str | Sequence[str] | None = None,
    ) -> BulkResult:
        check_bulk_action(action)
        query = TaskFilter.parse(status, type_name)
        body: dict[str, Any] = {}
        if query.statuses:
            body["status"] = [s.value for s in query.statuses]
        if query.types:
            body["type"] = list(query.types)
        return BulkResult.from_json(
            await self._call("POST", f"/api/tasks/bulk/{action}", json=body)
        )

    async def cancel(self, task_id: str) -> TaskRecord:
        return TaskRecord.from_json(await self._call("POST", self._task_path(task_id, "/cancel")))

    async def retry(self, task_id: str, data: Mapping[str, Any] | None = None) -> TaskRecord:
        body = {"data": dict(data)} if data else None
        return TaskRecord.from_json(
            await self._call("POST", self._task_path(task_id, "/retry"), json=body)
        )

    async def estimate(self, type_name: str, data: Mapping[str, Any]) -> Estimate:
        body = {"type": type_name, "data": dict(data)}
        return Estimate.from_json(await self._call("POST", "/api/tasks/estimate", json=body))

    async def list_schedules(self) -> list[ScheduleRecord]:
        return [ScheduleRecord.from_json(s) for s in await self._call("GET", "/api/schedules")]

    async def add_schedule(self, body: Mapping[str, Any]) -> ScheduleRecord:
        return ScheduleRecord.from_json(await self._call("POST", "/api/schedules", json=dict(body)))

    async def update_schedule(self, schedule_id: str, body: Mapping[str, Any]) -> ScheduleRecord:
        path = f"/api/schedules/{quote(schedule_id, safe='')}"
        return ScheduleRecord.from_json(await self._call("PATCH", path, json=dict(body)))

    async def remove_schedule(self, schedule_id: str) -> None:
        await self._call("DELETE", f"/api/schedules/{quote(schedule_id, safe='')}")

    async def revert(self, task_id: str) -> dict[str, Any]:
        report: dict[str, Any] = await self._call("POST", self._task_path(task_id, "/revert"))
        return report

    async def delete(self, task_id: str) -> None:
        await self._call("DELETE", self._task_path(task_id))

    async def pause(self) -> None:
        await self._call("POST", "/api/queue/pause")

    async def resume(self) -> None:
        await self._call("POST", "/api/queue/resume")

    async def list_backups(self) -> list[BackupInfo]:
        return [BackupInfo.from_json(item) for item in await self._call("GET", "/api/backups")]

    async def restore_backup(self, name: str) -> dict[str, Any]:
        report: dict[str, Any] = await self._call(
            "POST", f"/api/backups/{quote(name, safe='')}/restore"
        )
        return report

    async def characters_summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = await self._call("GET", "/api/characters/summary")
        return summary

    @staticmethod
    def _character_params(query: CharacterQuery) -> dict[str, Any]:
        return {
            "search": query.search or None,
            "filter": ",".join(query.filters) or None,
            "language": query.language,
            "sort": query.sort,
            "limit": query.limit,
            "offset": query.offset,
        }

    async def list_characters(self, query: CharacterQuery) -> CharacterPage:
        body = await self._call("GET", "/api/characters", params=self._character_params(query))
        return CharacterPage.from_json(body)

    async def character(self, character_id: str) -> CharacterDetail:
        body = await self._call("GET", f"/api/characters/{quote(str(character_id), safe='')}")
        return CharacterDetail.from_json(body)

    async def revert_change(self, entry_id: int) -> dict[str, Any]:
        outcome: dict[str, Any] = await self._call("POST", f"/api/journal/{int(entry_id)}/revert")
        return outcome

    async def export_cards(
        self, ids: Sequence[str], fmt: str = "v3", directory: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"ids": [str(key) for key in ids], "format": fmt}
        if directory:
            body["directory"] = directory
        report: dict[str, Any] = await self._call("POST", "/api/characters/export", json=body)
        return report

    async def character_ids(self, query: CharacterQuery) -> list[str]:
        params = self._character_params(query)
        params.update(limit=None, offset=None)
        body = await self._call("GET", "/api/characters/ids", params=params)
        return [str(key) for key in body["ids"]]

    async def list_proposals(
        self, task_id: str, *, status: str | Sequence[str] | None = None
    ) -> list[ProposalView]:
        statuses = parse_proposal_statuses(status)
        params = {"status": ",".join(statuses) or None}
        body = await self._call("GET", self._task_path(task_id, "/proposals"), params=params)
        return [ProposalView.from_json(p) for p in body]

    async def _settle(
        self, task_id: str, action: str, proposal_ids: Sequence[int] | None
    ) -> list[ProposalView]:
        if proposal_ids is not None and len(proposal_ids) == 1:
            path = self._task_path(task_id, f"/proposals/{int(proposal_ids[0])}/{action}")
            return [ProposalView.from_json(await self._call("POST", path))]
        if proposal_ids is not None and not proposal_ids:
            return []
        body = None if proposal_ids is None else {"proposalIds": [int(i) for i in proposal_ids]}
        path = self._task_path(task_id, f"/proposals/{action}-all")
        return [ProposalView.from_json(p) for p in await self._call("POST", path, json=body)]

    async def accept_proposals(
        self, task_id: str, proposal_ids: Sequence[int] | None = None
    ) -> list[ProposalView]:
        return await self._settle(task_id, "accept", proposal_ids)

    async def reject_proposals(
        self, task_id: str, proposal_ids: Sequence[int] | None = None
    ) -> list[ProposalView]:
        return await self._settle(task_id, "reject", proposal_ids)

    async def edit_proposal(
        self, task_id: str, proposal_id: int, changes: Mapping[str, Any]
    ) -> ProposalView:
        path = self._task_path(task_id, f"/proposals/{int(proposal_id)}")
        body = await self._call("PATCH", path, json={"changes": dict(changes)})
        return ProposalView.from_json(body)

    def subscribe(self) -> RemoteSubscription:
        """Events from /ws; raises SubscriberOverflow (once) after a reconnect: resync then."""
        return self._channel.subscribe()

    async def aclose(self) -> None:
        await self._channel.aclose()
        await self._http.aclose()
