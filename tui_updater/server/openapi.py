"""The OpenAPI 3.1 document, built from the route table and each task type's parameter schema."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tui_updater.core.service import TaskTypeInfo
from tui_updater.server.routes import API_ROUTES, QUICK_TYPES

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}
PRIORITY_SCHEMA: dict[str, Any] = {
    "description": "LOW=1, NORMAL=2, HIGH=3, URGENT=4; a name in any case or the number",
    "anyOf": [
        {
            "type": "string",
            "enum": ["LOW", "NORMAL", "HIGH", "URGENT", "low", "normal", "high", "urgent"],
        },
        {"type": "integer", "minimum": 1, "maximum": 4},
    ],
}
ERROR_STATUSES = {
    "400": "Malformed JSON, unknown task type or bad request",
    "401": "Token missing or wrong",
    "403": "Foreign Host or Origin, or a script path outside the migrations directory",
    "404": "No such task, backup or route",
    "409": "Not allowed in the task's current state",
    "413": "Body too large",
    "415": "Content-Type is not application/json",
    "422": "Invalid parameters; message and details name the field",
}
_ACTION_CREATES = {("POST", "/api/tasks"), ("POST", "/api/quick/{name}")}


def _params_schema_name(type_name: str) -> str:
    return f"{type_name}_params"


def _create_body(types: list[TaskTypeInfo]) -> dict[str, Any]:
    variants = [
        {
            "type": "object",
            "required": ["type"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": info.name},
                "priority": PRIORITY_SCHEMA,
                "data": {"$ref": f"#/components/schemas/{_params_schema_name(info.name)}"},
            },
        }
        for info in types
    ]
    return {"oneOf": variants} if variants else {"type": "object"}


def _quick_body(types: list[TaskTypeInfo]) -> dict[str, Any]:
    known = {info.name for info in types}
    variants = [
        {
            "allOf": [{"$ref": f"#/components/schemas/{_params_schema_name(type_name)}"}],
            "description": f"/api/quick/{slug}: {type_name} parameters, plus an optional priority",
        }
        for slug, type_name in QUICK_TYPES.items()
        if type_name in known
    ]
    return {"anyOf": variants} if variants else {"type": "object"}


def _operation(method: str, path: str, summary: str, types: list[TaskTypeInfo]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "operationId": f"{method.lower()}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
    }
    parameters: list[dict[str, Any]] = []
    for name in ("task_id", "name"):
        if "{" + name + "}" in path:
            schema: dict[str, Any] = {"type": "string"}
            if name == "name" and path.startswith("/api/quick"):
                schema = {"type": "string", "enum": list(QUICK_TYPES)}
            parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    if method == "GET" and path == "/api/tasks":
        parameters += [
            {
                "name": "status",
                "in": "query",
                "schema": {
                    "type": "string",
                    "enum": ["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"],
                },
            },
            {"name": "type", "in": "query", "schema": {"type": "string"}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}},
            {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
        ]
    if path.endswith("/items") or path.endswith("/logs"):
        parameters.append(
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "default": 500},
            }
        )
    if parameters:
        operation["parameters"] = parameters
    if method == "POST" and path in ("/api/tasks", "/api/tasks/preview"):
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _create_body(types)}},
        }
    elif path == "/api/quick/{name}":
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": _quick_body(types)}},
        }
    ok = "201" if (method, path) in _ACTION_CREATES else "200"
    responses: dict[str, Any] = {
        ok: {
            "description": "OK",
            "content": {"application/json": {"schema": _response_schema(method, path)}},
        }
    }
    for code, text in ERROR_STATUSES.items():
        responses[code] = {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    operation["responses"] = responses
    return operation


def _response_schema(method: str, path: str) -> dict[str, Any]:
    task = {"$ref": "#/components/schemas/Task"}
    if path == "/api/tasks":
        return {"type": "array", "items": task} if method == "GET" else task
    if path == "/api/quick/{name}" or path.endswith(("/cancel", "/retry")):
        return task
    if path == "/api/tasks/{task_id}" and method == "GET":
        return task
    return {}


TASK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["taskId", "type", "priority", "status", "progress"],
    "properties": {
        "taskId": {"type": "string"},
        "type": {"type": "string"},
        "priority": {"type": "string"},
        "priorityValue": {"type": "integer"},
        "status": {
            "type": "string",
            "enum": ["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"],
        },
        "progress": {"type": "number"},
        "message": {"type": "string"},
        "data": {"type": "object"},
        "result": {},
        "error": {"type": ["string", "null"]},
        "attempt": {"type": "integer"},
        "createdAt": {"type": "integer"},
        "startedAt": {"type": ["integer", "null"]},
        "completedAt": {"type": ["integer", "null"]},
        "items": {"type": "object"},
        "usage": {"type": "object"},
    },
}


def build_openapi(types: list[TaskTypeInfo], *, version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, _handler, summary in API_ROUTES:
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, summary, types)
    schemas: dict[str, Any] = {
        "Error": ERROR_SCHEMA,
        "Task": TASK_SCHEMA,
        "Priority": PRIORITY_SCHEMA,
    }
    for info in types:
        schema = dict(info.params_schema)
        schema.setdefault("title", info.title)
        schema.setdefault("description", info.description)
        schemas[_params_schema_name(info.name)] = schema
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tavern-updater-tui",
            "version": version,
            "description": "REST API of the headless engine. WebSocket events at /ws: a snapshot, then "
            "one event object per message (arrays of them only with ?batch=1); close code 4000 "
            "'resync' means reconnect and resync.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{}, {"bearer": []}],
    }


async def openapi_endpoint(request: Request) -> Response:
    service = request.app.state.api.service
    info = await service.info()
    return JSONResponse(build_openapi(await service.task_types(), version=info.version))
