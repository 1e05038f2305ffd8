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
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui_updater.core.models import TaskStatus
from tui_updater.core.service import UpdaterService
from tui_updater.server.bodies import query_int, read_object
from tui_updater.server.errors import ApiError, invalid_field
from tui_updater.server.security import restrict_local_paths

QUICK_TYPES = {
    "character-avatars": "CHARACTER_AVATAR",
    "character-settings": "CHARACTER_SETTINGS",
    "mbti-assignment": "MBTI_ASSIGNMENT",
    "database-upgrade": "DATABASE_UPGRADE",
}
CREATE_FIELDS = ("type", "priority", "data", "options")
MAX_LIST_LIMIT = 100_000


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


async def _known_types(service: UpdaterService) -> list[str]:
    return [info.name for info in await service.task_types()]


async def _submit(
    ctx: ApiContext, type_name: str, data: dict[str, Any], priority: object
) -> JSONResponse:
    data = restrict_local_paths(data, await ctx.service.task_types(), ctx.migrations_dir)
    task = await ctx.service.submit(type_name, data, "NORMAL" if priority is None else priority)
    return JSONResponse(task.to_json(), status_code=201)


def _type_field(body: dict[str, Any], known: list[str]) -> str:
    type_name = body.get("type")
    if not isinstance(type_name, str) or not type_name.strip():
        raise invalid_field("type", f"required: one of {', '.join(known)}")
    return type_name.strip()


def _data_field(body: dict[str, Any]) -> dict[str, Any]:
    name = "data" if "data" in body else "options"
    data = body.get(name)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise invalid_field(
            name, f"expected a JSON object of parameters, not {type(data).__name__}"
        )
    return data


# --- tasks ------------------------------------------------------------------------------------


async def list_tasks(request: Request) -> Response:
    ctx = _ctx(request)
    status = request.query_params.get("status") or None
    if status is not None:
        status = status.strip().upper()
        if status not in TaskStatus.__members__:
            raise invalid_field(
                "status", f"unknown status; use one of {', '.join(TaskStatus.__members__)}"
            )
    type_name = (request.query_params.get("type") or "").strip().upper() or None
    limit = query_int(request, "limit", default=None, minimum=1, maximum=MAX_LIST_LIMIT)
    offset = query_int(request, "offset", default=0, minimum=0, maximum=10**9) or 0
    tasks = await ctx.service.list_tasks(
        status=status, type_name=type_name, limit=limit, offset=offset
    )
    return JSONResponse([task.to_json() for task in tasks])


async def create_task(request: Request) -> Response:
    ctx = _ctx(request)
    body = await read_object(request, ctx.max_body_bytes, required=True)
    for key in body:
        if key not in CREATE_FIELDS:
            raise invalid_field(key, "unknown field; a task is {type, priority, data}")
    type_name = _type_field(body, await _known_types(ctx.service))
    return await _submit(ctx, type_name, _data_field(body), body.get("priority"))


async def preview_task(request: Request) -> Response:
    ctx = _ctx(request)
    body = await read_object(request, ctx.max_body_bytes, required=True)
    for key in body:
        if key not in CREATE_FIELDS:
            raise invalid_field(key, "unknown field; a preview is {type, data}")
    type_name = _type_field(body, await _known_types(ctx.service))
    data = restrict_local_paths(
        _data_field(body), await ctx.service.task_types(), ctx.migrations_dir
    )
    count = await ctx.service.preview(type_name, data)
    return JSONResponse({"type": type_name, "count": count})


async def task_types(request: Request) -> Response:
    return JSONResponse([info.to_json() for info in await _ctx(request).service.task_types()])


async def get_task(request: Request) -> Response:
    task = await _ctx(request).service.get_task(_task_id(request))
    return JSONResponse(task.to_json())


async def delete_task(request: Request) -> Response:
    task_id = _task_id(request)
    await _ctx(request).service.delete(task_id)
    return JSONResponse({"success": True, "taskId": task_id, "message": f"task {task_id} deleted"})


async def cancel_task(request: Request) -> Response:
    return JSONResponse((await _ctx(request).service.cancel(_task_id(request))).to_json())


async def retry_task(request: Request) -> Response:
    return JSONResponse((await _ctx(request).service.retry(_task_id(request))).to_json())


async def revert_task(request: Request) -> Response:
    return JSONResponse(await _ctx(request).service.revert(_task_id(request)))


async def task_items(request: Request) -> Response:
    limit = query_int(request, "limit", default=500, minimum=1, maximum=MAX_LIST_LIMIT) or 500
    offset = query_int(request, "offset", default=0, minimum=0, maximum=10**9) or 0
    items = await _ctx(request).service.list_items(_task_id(request), limit=limit, offset=offset)
    return JSONResponse([item.to_json() for item in items])


async def task_logs(request: Request) -> Response:
    limit = query_int(request, "limit", default=500, minimum=1, maximum=MAX_LIST_LIMIT) or 500
    logs = await _ctx(request).service.task_logs(_task_id(request), limit=limit)
    return JSONResponse([log.to_json() for log in logs])


# --- quick operations, queue, status ----------------------------------------------------------


async def quick(request: Request) -> Response:
    ctx = _ctx(request)
    name = str(request.path_params["name"])
    type_name = QUICK_TYPES.get(name)
    if type_name is None:
        raise ApiError(
            404, "not_found", f"no quick operation {name!r}; use one of {', '.join(QUICK_TYPES)}"
        )
    data = await read_object(request, ctx.max_body_bytes, required=False)
    priority = data.pop("priority", None)
    return await _submit(ctx, type_name, data, priority)


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


Handler = Callable[[Request], Awaitable[Response]]
API_ROUTES: list[tuple[str, str, Handler, str]] = [
    # (method, path, handler, summary) — the OpenAPI document is built from this table.
    ("GET", "/api/tasks", list_tasks, "List tasks (a JSON array), newest first"),
    ("POST", "/api/tasks", create_task, "Create a task {type, priority, data} → 201 with the task"),
    ("GET", "/api/tasks/types", task_types, "Registered task types with their parameter schemas"),
    ("POST", "/api/tasks/preview", preview_task, "How many items a task would touch {type, data}"),
    ("GET", "/api/tasks/{task_id}", get_task, "One task"),
    ("DELETE", "/api/tasks/{task_id}", delete_task, "Delete a task (cancels it first)"),
    ("POST", "/api/tasks/{task_id}/cancel", cancel_task, "Cancel a pending or running task"),
    (
        "POST",
        "/api/tasks/{task_id}/retry",
        retry_task,
        "Retry a failed or cancelled task's failed items",
    ),
    ("POST", "/api/tasks/{task_id}/revert", revert_task, "Undo everything a finished task wrote"),
    ("GET", "/api/tasks/{task_id}/items", task_items, "Per-item state"),
    ("GET", "/api/tasks/{task_id}/logs", task_logs, "The task's log lines"),
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
]


def api_routes() -> list[Route]:
    return [
        Route(path, handler, methods=[method]) for method, path, handler, _summary in API_ROUTES
    ]
