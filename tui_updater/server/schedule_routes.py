"""REST routes for schedules (/api/schedules) and the budget estimate (/api/tasks/estimate)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tui_updater.core.schedules import ScheduleChange, ScheduleSpec
from tui_updater.server.bodies import read_object
from tui_updater.server.errors import invalid_field
from tui_updater.server.security import restrict_local_paths


def _api(request: Request) -> Any:
    return request.app.state.api  # routes.ApiContext (imported there; this module is its part)


def _schedule_id(request: Request) -> str:
    return str(request.path_params["schedule_id"])


async def list_schedules(request: Request) -> Response:
    schedules = await _api(request).service.list_schedules()
    return JSONResponse([schedule.to_json() for schedule in schedules])


async def add_schedule(request: Request) -> Response:
    ctx = _api(request)
    body = await read_object(request, ctx.max_body_bytes, required=True)
    if isinstance(body.get("data"), dict):  # its tasks are created later, by the engine itself
        body["data"] = await _confined(ctx, body["data"])
    schedule = await ctx.service.add_schedule(body)
    location = f"/api/schedules/{schedule.schedule_id}"
    return JSONResponse(schedule.to_json(), status_code=201, headers={"Location": location})


async def patch_schedule(request: Request) -> Response:
    ctx = _api(request)
    body = await read_object(request, ctx.max_body_bytes, required=True)
    schedule = await ctx.service.update_schedule(_schedule_id(request), body)
    return JSONResponse(schedule.to_json())


async def delete_schedule(request: Request) -> Response:
    schedule_id = _schedule_id(request)
    await _api(request).service.remove_schedule(schedule_id)
    return JSONResponse({"success": True, "scheduleId": schedule_id})


async def estimate_task(request: Request) -> Response:
    ctx = _api(request)
    body = await read_object(request, ctx.max_body_bytes, required=True)
    for key in body:
        if key not in ("type", "data"):
            raise invalid_field(key, "unknown field; an estimate is {type, data}")
    type_name = body.get("type")
    if not isinstance(type_name, str) or not type_name.strip():
        raise invalid_field("type", "required: a task type name")
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise invalid_field("data", "expected a JSON object of parameters")
    data = await _confined(ctx, data)
    return JSONResponse((await ctx.service.estimate(type_name.strip(), data)).to_json())


async def _confined(ctx: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Server-local paths in the parameters only inside the migrations dir, as for a create."""
    return restrict_local_paths(data, await ctx.service.task_types(), ctx.migrations_dir)


def retry_data(body: dict[str, Any]) -> dict[str, Any] | None:
    """A retry's optional body {data}: parameters to change (a new maxTokens…)."""
    for key in body:
        if key != "data":
            raise invalid_field(key, "unknown field; a retry takes {data}")
    data = body.get("data")
    if data is not None and not isinstance(data, dict):
        raise invalid_field("data", "expected a JSON object of parameters to change")
    return data or None


Handler = Callable[[Request], Awaitable[Response]]
SCHEDULE_ROUTES: list[tuple[str, str, Handler, str]] = [
    (
        "POST",
        "/api/tasks/estimate",
        estimate_task,
        "Tokens and cost a task would take {type, data}",
    ),
    ("GET", "/api/schedules", list_schedules, "Schedules (rules) with their last and next run"),
    ("POST", "/api/schedules", add_schedule, "Add a schedule {type, data, cron | everyMinutes…}"),
    ("PATCH", "/api/schedules/{schedule_id}", patch_schedule, "Enable/disable or change one"),
    ("DELETE", "/api/schedules/{schedule_id}", delete_schedule, "Remove a schedule"),
]


def _alias_schema(model: Any) -> dict[str, Any]:
    schema: dict[str, Any] = model.model_json_schema(by_alias=True)
    schema["additionalProperties"] = False
    return schema


SCHEDULE_BODY_SCHEMA = _alias_schema(ScheduleSpec)
SCHEDULE_PATCH_SCHEMA = _alias_schema(ScheduleChange)
ESTIMATE_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"type": {"type": "string"}, "data": {"type": "object"}},
    "required": ["type"],
    "additionalProperties": False,
}
RETRY_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"data": {"type": "object"}},
    "additionalProperties": False,
}
