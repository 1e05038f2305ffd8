"""REST routes under /api: tasks, quick operations, queue control, status, backups, characters.

Every handler talks to the engine through ``request.app.state.service`` (an UpdaterService).
"""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

from tui_updater.core.changes import CHANGE_STATES, MAX_CHANGE_PAGE, ChangeQuery
from tui_updater.core.models import ItemStatus, TaskStatus
from tui_updater.core.service import (
    BULK_ACTIONS,
    CHARACTER_FILTERS,
    CHARACTER_SORTS,
    LOG_LEVELS,
    MAX_CHARACTER_PAGE,
    SORT_FIELDS,
    CharacterQuery,
    TaskTypeInfo,
    UpdaterService,
)
from tui_updater.errors import UnknownTaskType
from tui_updater.server.bodies import (
    EXPORT_BODY_SCHEMA,
    check_schema,
    priority_field,
    query_choice,
    query_int,
    query_text,
    query_values,
    read_object,
)
from tui_updater.server.errors import ApiError, invalid_field
from tui_updater.server.review_routes import REVIEW_ROUTES
from tui_updater.server.schedule_routes import SCHEDULE_ROUTES, retry_data
from tui_updater.server.security import restrict_local_paths

CREATE_FIELDS = ("type", "priority", "data", "options")
BULK_FIELDS = ("status", "type")
MAX_LIST_LIMIT = 100_000
MAX_OFFSET = 10**9
TASK_STATUSES = tuple(TaskStatus)
ITEM_STATUSES = tuple(ItemStatus)
SORT_VALUES = tuple(v for field in SORT_FIELDS for v in (field, f"-{field}"))
CHARACTER_SORT_VALUES = tuple(v for field in CHARACTER_SORTS for v in (field, f"-{field}"))


@dataclass(frozen=True)
class ApiContext:
    """What the routes need besides the request: the service and the server's limits."""

    service: UpdaterService
    migrations_dir: Path
    max_body_bytes: int
    started_at_s: float


def _ctx(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.api
    return ctx


def _task_id(request: Request) -> str:
    return str(request.path_params["task_id"])


async def _task_type(service: UpdaterService, body: dict[str, Any]) -> TaskTypeInfo:
    """The body's ``type``: a registered name or one of its aliases, exactly as OpenAPI lists."""
    types = await service.task_types()
    raw = body.get("type")
    if not isinstance(raw, str) or not raw.strip():
        raise invalid_field("type", f"required: one of {', '.join(t.name for t in types)}")
    for info in types:
        if raw == info.name or raw in info.aliases:
            return info
    raise UnknownTaskType(raw, [t.name for t in types])


async def _submit(
    ctx: ApiContext, info: TaskTypeInfo, data: dict[str, Any], priority: object
) -> JSONResponse:
    check_schema(info.params_schema, data)
    data = restrict_local_paths(data, await ctx.service.task_types(), ctx.migrations_dir)
    task = await ctx.service.submit(info.name, data, priority)
    location = f"/api/tasks/{quote(task.task_id, safe='')}"
    return JSONResponse(task.to_json(), status_code=201, headers={"Location": location})


def _data_field(body: dict[str, Any]) -> dict[str, Any]:
    if "data" in body and "options" in body:
        raise invalid_field(
            "options", "give the parameters once, as data (options is its old name)"
        )
    name = "data" if "data" in body else "options"
    if name not in body:
        return {}
    data = body[name]
    if not isinstance(data, dict):
        raise invalid_field(
            name, f"expected a JSON object of parameters, not {type(data).__name__}"
        )
    return data


# --- tasks ------------------------------------------------------------------------------------


async def list_tasks(request: Request) -> Response:
    """The array stays the body (as the original's); the total before paging is a header."""
    ctx = _ctx(request)
    status = query_values(request, "status", allowed=TASK_STATUSES)
    types = query_values(request, "type")
    sort = query_choice(request, "sort", allowed=SORT_VALUES)
    limit = query_int(request, "limit", default=None, minimum=1, maximum=MAX_LIST_LIMIT)
    offset = query_int(request, "offset", default=0, minimum=0, maximum=MAX_OFFSET) or 0
    type_names = [t.strip().upper() for t in types] if types else None
    database = query_text(request, "database") or None  # a character database's path
    tasks = await ctx.service.list_tasks(
        status=status,
        type_name=type_names,
        limit=limit,
        offset=offset,
        sort=sort,
        database=database,
    )
    total = await ctx.service.count_tasks(status=status, type_name=type_names, database=database)
    return JSONResponse([task.to_json() for task in tasks], headers={"X-Total-Count": str(total)})


async def create_task(request: Request) -> Response:
    ctx = _ctx(request)
    body = await read_object(request, ctx.max_body_bytes, required=True)
    for key in body:
        if key not in CREATE_FIELDS:
            raise invalid_field(key, "unknown field; a task is {type, priority, data}")
    info = await _task_type(ctx.service, body)
    return await _submit(ctx, info, _data_field(body), priority_field(body))


async def preview_task(request: Request) -> Response:
    ctx = _ctx(request)
    body = await read_object(request, ctx.max_body_bytes, required=True)
    for key in body:
        if key not in CREATE_FIELDS:
            raise invalid_field(key, "unknown field; a preview is {type, data}")
    info = await _task_type(ctx.service, body)
    priority_field(body)  # checked as for a create, though a preview does not use it
    data = _data_field(body)
    check_schema(info.params_schema, data)
    data = restrict_local_paths(data, await ctx.service.task_types(), ctx.migrations_dir)
    count = await ctx.service.preview(info.name, data)
    return JSONResponse({"type": info.name, "count": count})


async def task_types(request: Request) -> Response:
    return JSONResponse([info.to_json() for info in await _ctx(request).service.task_types()])


async def get_task(request: Request) -> Response:
    task = await _ctx(request).service.get_task(_task_id(request))
    return JSONResponse(task.to_json())


async def patch_task(request: Request) -> Response:
    ctx = _ctx(request)
    body = await read_object(request, ctx.max_body_bytes, required=True)
    for key in body:
        if key != "priority":
            raise invalid_field(key, "unknown field; only priority can change")
    if "priority" not in body:
        raise invalid_field("priority", "required")
    task = await ctx.service.set_priority(_task_id(request), priority_field(body))
    return JSONResponse(task.to_json())


async def delete_task(request: Request) -> Response:
    task_id = _task_id(request)
    await _ctx(request).service.delete(task_id)
    return JSONResponse({"success": True, "taskId": task_id, "message": f"task {task_id} deleted"})


async def cancel_task(request: Request) -> Response:
    return JSONResponse((await _ctx(request).service.cancel(_task_id(request))).to_json())


async def retry_task(request: Request) -> Response:
    ctx = _ctx(request)
    data = retry_data(await read_object(request, ctx.max_body_bytes, required=False))
    return JSONResponse((await ctx.service.retry(_task_id(request), data)).to_json())


async def revert_task(request: Request) -> Response:
    return JSONResponse(await _ctx(request).service.revert(_task_id(request)))


async def task_items(request: Request) -> Response:
    limit = query_int(request, "limit", default=500, minimum=1, maximum=MAX_LIST_LIMIT) or 500
    offset = query_int(request, "offset", default=0, minimum=0, maximum=MAX_OFFSET) or 0
    status = query_values(request, "status", allowed=ITEM_STATUSES)
    items = await _ctx(request).service.list_items(
        _task_id(request), limit=limit, offset=offset, status=status
    )
    return JSONResponse([item.to_json() for item in items])


async def task_changes(request: Request) -> Response:
    query = ChangeQuery.parse(
        field=query_text(request, "field"),
        state=query_choice(request, "state", allowed=CHANGE_STATES),
        search=query_text(request, "search"),
        limit=query_int(request, "limit", default=100, minimum=1, maximum=MAX_CHANGE_PAGE) or 100,
        offset=query_int(request, "offset", default=0, minimum=0, maximum=MAX_OFFSET) or 0,
    )
    page = await _ctx(request).service.task_changes(_task_id(request), query)
    return JSONResponse(page.to_json())


async def task_logs(request: Request) -> Response:
    limit = query_int(request, "limit", default=500, minimum=1, maximum=MAX_LIST_LIMIT) or 500
    logs = await _ctx(request).service.task_logs(_task_id(request), limit=limit)
    return JSONResponse([log.to_json() for log in logs])


def _bulk(action: str) -> Handler:
    async def bulk(request: Request) -> Response:
        ctx = _ctx(request)
        body = await read_object(request, ctx.max_body_bytes, required=False)
        for key in body:
            if key not in BULK_FIELDS:
                raise invalid_field(key, "unknown field; a bulk filter is {status, type}")
        status = _filter_values(body, "status", TASK_STATUSES)
        types = _filter_values(body, "type", None)
        result = await ctx.service.bulk(action, status=status, type_name=types)
        return JSONResponse(result.to_json())

    bulk.__name__ = f"bulk_{action}"
    return bulk


def _filter_values(
    body: dict[str, Any], name: str, allowed: tuple[str, ...] | None
) -> list[str] | None:
    """A bulk filter field: one value or a non-empty array of them."""
    if name not in body:
        return None
    raw = body[name]
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise invalid_field(name, "expected a string or a non-empty array of strings")
    for value in values:
        if allowed is not None and value not in allowed:
            raise invalid_field(
                name, f"unknown value {value[:40]!r}; use one of {', '.join(allowed)}"
            )
        if not value.strip():
            raise invalid_field(name, "expected a non-empty string")
    return list(values)


async def all_logs(request: Request) -> Response:
    since_ms = query_int(request, "since", default=None, minimum=0, maximum=2**53)
    level = query_choice(request, "level", allowed=LOG_LEVELS)
    task_id = query_text(request, "taskId")
    limit = query_int(request, "limit", default=500, minimum=1, maximum=MAX_LIST_LIMIT) or 500
    logs = await _ctx(request).service.logs(
        since_ms=since_ms, level=level, task_id=task_id, limit=limit
    )
    return JSONResponse([log.to_json() for log in logs])


# --- quick operations, queue, status ----------------------------------------------------------


async def quick(request: Request) -> Response:
    """``/api/quick/<alias>``: every alias the registry gives a type is a quick operation."""
    ctx = _ctx(request)
    name = str(request.path_params["name"])
    types = await ctx.service.task_types()
    info = next((t for t in types if name in t.aliases), None)
    if info is None:
        aliases = ", ".join(alias for t in types for alias in t.aliases)
        raise ApiError(404, "not_found", f"no quick operation {name!r}; use one of {aliases}")
    data = await read_object(request, ctx.max_body_bytes, required=False)
    priority = priority_field(data)
    data.pop("priority", None)
    return await _submit(ctx, info, data, priority)


async def pause_queue(request: Request) -> Response:
    service = _ctx(request).service
    await service.pause()
    return JSONResponse((await service.queue_status()).to_json())


async def resume_queue(request: Request) -> Response:
    service = _ctx(request).service
    await service.resume()
    return JSONResponse((await service.queue_status()).to_json())


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def status(request: Request) -> Response:
    """Health, queue and provider; keeps the original's system/tasks/queue keys."""
    ctx = _ctx(request)
    info = await ctx.service.info()
    queue = await ctx.service.queue_status()
    pending = await ctx.service.list_tasks(status="PENDING", limit=50)
    return JSONResponse(
        {
            "status": "ok",
            "system": {
                "uptime": round(time.monotonic() - ctx.started_at_s, 1),
                "memory": {"rss": _rss_bytes()},
                "version": info.version,
                "environment": f"python {platform.python_version()} on {platform.system().lower()}",
            },
            "tasks": {
                "running": queue.running,
                "queued": queue.pending,
                "maxConcurrent": queue.max_running,
                "totalTasks": queue.total,
            },
            "queue": {
                **queue.to_json(),
                "queue": [
                    {
                        "id": t.task_id,
                        "type": t.type,
                        "priority": t.priority.name,
                        "createdAt": t.created_at_ms,
                    }
                    for t in pending
                ],
            },
            "provider": {
                "name": info.provider,
                "online": info.online,
                "chatModel": info.chat_model,
                "imageModel": info.image_model,
            },
            "service": info.to_json(),
        }
    )


# --- backups, characters ----------------------------------------------------------------------


async def list_backups(request: Request) -> Response:
    return JSONResponse([backup.to_json() for backup in await _ctx(request).service.list_backups()])


async def restore_backup(request: Request) -> Response:
    service = _ctx(request).service
    name = str(request.path_params["name"])
    if name not in {backup.name for backup in await service.list_backups()}:
        raise ApiError(
            404,
            "backup_not_found",
            f"no backup named {name!r}; GET /api/backups lists them",
            {"name": name},
        )
    return JSONResponse(await service.restore_backup(name))


async def characters_summary(request: Request) -> Response:
    return JSONResponse(await _ctx(request).service.characters_summary())


def _character_query(request: Request) -> CharacterQuery:
    return CharacterQuery.parse(
        search=query_text(request, "search"),
        filters=query_values(request, "filter", allowed=CHARACTER_FILTERS),
        language=query_text(request, "language"),
        sort=query_choice(request, "sort", allowed=CHARACTER_SORT_VALUES),
        limit=query_int(request, "limit", default=100, minimum=1, maximum=MAX_CHARACTER_PAGE)
        or 100,
        offset=query_int(request, "offset", default=0, minimum=0, maximum=MAX_OFFSET) or 0,
    )


async def list_characters(request: Request) -> Response:
    page = await _ctx(request).service.list_characters(_character_query(request))
    return JSONResponse(page.to_json())


async def character_ids(request: Request) -> Response:
    return JSONResponse(
        {"ids": await _ctx(request).service.character_ids(_character_query(request))}
    )


async def get_character(request: Request) -> Response:
    detail = await _ctx(request).service.character(str(request.path_params["character_id"]))
    return JSONResponse(detail.to_json())


async def revert_change(request: Request) -> Response:
    raw = str(request.path_params["entry_id"])
    if not raw.isdigit() or len(raw) > 18:
        raise invalid_field("entryId", "a journal entry id is a whole number")
    return JSONResponse(await _ctx(request).service.revert_change(int(raw)))


async def export_cards(request: Request) -> Response:
    ctx = _ctx(request)
    body = await read_object(request, ctx.max_body_bytes, required=True)
    check_schema(EXPORT_BODY_SCHEMA, body)
    directory = body.get("directory")
    if directory is not None:
        parts = PurePath(directory).parts
        if PurePath(directory).is_absolute() or ".." in parts or "\x00" in directory:
            raise invalid_field(
                "directory",
                "over the network cards go only under the data dir's cards/: give a relative name",
                status_code=403,
                code="forbidden_path",
            )
    report = await ctx.service.export_cards(body["ids"], body.get("format", "v3"), directory)
    return JSONResponse(report)


Handler = Callable[[Request], Awaitable[Response]]
API_ROUTES: list[tuple[str, str, Handler, str]] = [
    # (method, path, handler, summary) — the OpenAPI document is built from this table.
    ("GET", "/api/tasks", list_tasks, "List tasks (a JSON array; X-Total-Count has the total)"),
    ("POST", "/api/tasks", create_task, "Create a task {type, priority, data} → 201 with the task"),
    ("GET", "/api/tasks/types", task_types, "Registered task types with their parameter schemas"),
    ("POST", "/api/tasks/preview", preview_task, "How many items a task would touch {type, data}"),
    *SCHEDULE_ROUTES,
    *[
        ("POST", f"/api/tasks/bulk/{action}", _bulk(action), summary)
        for action, summary in (
            ("retry", "Retry every matching task (default: every FAILED one)"),
            ("cancel", "Cancel every matching task (default: every PENDING or RUNNING one)"),
            ("delete", "Delete every matching task (default: every finished one)"),
        )
        if action in BULK_ACTIONS
    ],
    ("GET", "/api/tasks/{task_id}", get_task, "One task"),
    ("PATCH", "/api/tasks/{task_id}", patch_task, "Change a pending task's priority {priority}"),
    ("DELETE", "/api/tasks/{task_id}", delete_task, "Delete a task (cancels it first)"),
    ("POST", "/api/tasks/{task_id}/cancel", cancel_task, "Cancel a pending or running task"),
    (
        "POST",
        "/api/tasks/{task_id}/retry",
        retry_task,
        "Retry a failed or cancelled task's failed items; {data} changes parameters",
    ),
    ("POST", "/api/tasks/{task_id}/revert", revert_task, "Undo everything a finished task wrote"),
    ("GET", "/api/tasks/{task_id}/items", task_items, "Per-item state"),
    (
        "GET",
        "/api/tasks/{task_id}/changes",
        task_changes,
        "What the task wrote: a page of its changes, by field, state and text",
    ),
    ("GET", "/api/tasks/{task_id}/logs", task_logs, "The task's log lines"),
    ("GET", "/api/logs", all_logs, "Log lines of every task, oldest first"),
    (
        "POST",
        "/api/quick/{name}",
        quick,
        "Quick operation; the body is the type's parameters (+ priority)",
    ),
    ("POST", "/api/queue/pause", pause_queue, "Pause the queue"),
    ("POST", "/api/queue/resume", resume_queue, "Resume the queue"),
    ("GET", "/api/status", status, "Health, queue and provider"),
    ("GET", "/api/backups", list_backups, "Database backups, newest first"),
    (
        "POST",
        "/api/backups/{name}/restore",
        restore_backup,
        "Restore a backup (the current state is backed up first)",
    ),
    (
        "GET",
        "/api/characters/summary",
        characters_summary,
        "Counts of missing fields, MBTI distribution",
    ),
    (
        "GET",
        "/api/characters",
        list_characters,
        "A page of characters: search, filter, language, sort, limit, offset",
    ),
    (
        "GET",
        "/api/characters/ids",
        character_ids,
        "The ids of every character a search and filter match",
    ),
    (
        "GET",
        "/api/characters/{character_id}",
        get_character,
        "One character: every column, its avatar file, its history from the journal",
    ),
    (
        "POST",
        "/api/characters/export",
        export_cards,
        "Write characters as Character Card files (v2/v3 PNG, JSON) {ids, format, directory}",
    ),
    (
        "POST",
        "/api/journal/{entry_id}/revert",
        revert_change,
        "Undo one journaled change if the cell still holds what it wrote",
    ),
    *REVIEW_ROUTES,
]


class _PathRoute(Route):
    """Every method of one path; a templated path never claims a fixed one (``/api/tasks/types``
    is not the task ``types``), so a wrong method there is a 405 naming the fixed path's methods.
    """

    def __init__(self, path: str, handlers: dict[str, Handler], fixed_paths: frozenset[str]):
        async def dispatch(request: Request) -> Response:
            return await handlers[request.method if request.method != "HEAD" else "GET"](request)

        super().__init__(path, dispatch, methods=list(handlers), name=path)
        self._fixed_paths = fixed_paths if "{" in path else frozenset()

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["path"] in self._fixed_paths:
            return Match.NONE, {}
        return super().matches(scope)


def api_routes() -> list[Route]:
    by_path: dict[str, dict[str, Handler]] = {}
    for method, path, handler, _summary in API_ROUTES:
        by_path.setdefault(path, {})[method] = handler
    fixed = frozenset(path for path in by_path if "{" not in path)
    return [_PathRoute(path, handlers, fixed) for path, handlers in by_path.items()]
