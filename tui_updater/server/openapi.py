"""The OpenAPI 3.1 document, built from the route table and each task type's parameter schema.

It describes what the server accepts, no more and no less: each quick operation has its own
path and its type's own parameters, query parameters carry the server's bounds, creates
document their ``Location`` header and lists their ``X-Total-Count``.
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tui_updater.core.changes import CHANGE_STATES, MAX_CHANGE_PAGE
from tui_updater.core.service import (
    CHARACTER_FILTERS,
    LOG_LEVELS,
    MAX_CHARACTER_PAGE,
    TaskTypeInfo,
)
from tui_updater.server.bodies import EXPORT_BODY_SCHEMA, PRIORITY_NAMES
from tui_updater.server.review_routes import (
    ONE_PROPOSAL_PATHS,
    PROPOSAL_ID_PATTERN,
    PROPOSAL_SCHEMA,
    PROPOSAL_STATUSES,
    REVIEW_BODIES,
)
from tui_updater.server.routes import (
    API_ROUTES,
    CHARACTER_SORT_VALUES,
    ITEM_STATUSES,
    MAX_LIST_LIMIT,
    MAX_OFFSET,
    SORT_VALUES,
    TASK_STATUSES,
)
from tui_updater.server.schedule_routes import (
    ESTIMATE_BODY_SCHEMA,
    RETRY_BODY_SCHEMA,
    SCHEDULE_BODY_SCHEMA,
    SCHEDULE_PATCH_SCHEMA,
)

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
# JSON Schema patterns have no case-insensitive flag: spell each letter both ways.
PRIORITY_NAME_PATTERN = "^(?:{})$".format(
    "|".join("".join(f"[{c.upper()}{c.lower()}]" for c in name) for name in PRIORITY_NAMES)
)
PRIORITY_SCHEMA: dict[str, Any] = {
    "description": "LOW=1, NORMAL=2, HIGH=3, URGENT=4: the name (in any case) or the number",
    "anyOf": [
        {"type": "string", "pattern": PRIORITY_NAME_PATTERN},
        {"type": "integer", "minimum": 1, "maximum": 4},
    ],
}
ERROR_STATUSES = {
    "400": "Malformed JSON, unknown task type or bad request",
    "401": "Token missing or wrong",
    "403": "Foreign Host or Origin, or a script path outside the migrations directory",
    "404": "No such task, backup or route",
    "405": "Method not allowed on this path (Allow lists the ones that are)",
    "409": "Not allowed in the task's current state",
    "413": "Body too large",
    "415": "Content-Type is not application/json",
    "422": "Invalid parameters; message and details name the field",
}
TASK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["taskId", "type", "priority", "status", "progress"],
    "properties": {
        "taskId": {"type": "string"},
        "type": {"type": "string"},
        "priority": {"type": "string", "enum": list(PRIORITY_NAMES)},
        "priorityValue": {"type": "integer"},
        "status": {"type": "string", "enum": list(TASK_STATUSES)},
        "progress": {"type": "number"},
        "message": {"type": "string"},
        "data": {"type": "object"},
        "result": {},
        "error": {"type": ["string", "null"]},
        "attempt": {"type": "integer"},
        "createdAt": {"type": "integer"},
        "startedAt": {"type": ["integer", "null"]},
        "completedAt": {"type": ["integer", "null"]},
        "updatedAt": {"type": "integer"},
        "items": {"type": "object"},
        "usage": {"type": "object"},
        "reviewPending": {"type": "integer", "description": "proposals waiting for review"},
        "revertedAt": {
            "type": ["integer", "null"],
            "description": "when everything it wrote was reverted (status keeps how it ended)",
        },
    },
}
ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["taskId", "seq", "key", "status"],
    "properties": {
        "taskId": {"type": "string"},
        "seq": {"type": "integer"},
        "key": {"type": "string"},
        "label": {"type": "string"},
        "status": {"type": "string", "enum": list(ITEM_STATUSES)},
        "attempts": {"type": "integer"},
        "error": {"type": ["string", "null"]},
        "result": {},
        "updatedAt": {"type": "integer"},
        "retryable": {"type": "boolean"},
    },
}
CHANGE_PAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["rows", "total", "offset", "byState", "fields"],
    "properties": {
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["entryId", "characterId", "name", "field", "state"],
                "properties": {
                    "entryId": {"type": "integer"},
                    "characterId": {"type": "string"},
                    "name": {"type": "string"},
                    "field": {"type": "string"},
                    "oldValue": {},
                    "newValue": {},
                    "state": {"type": "string", "enum": list(CHANGE_STATES)},
                    "createdAt": {"type": "integer"},
                    "file": {"type": ["string", "null"]},
                },
            },
        },
        "total": {"type": "integer", "minimum": 0},
        "offset": {"type": "integer", "minimum": 0},
        "byState": {"type": "object", "additionalProperties": {"type": "integer"}},
        "fields": {"type": "array", "items": {"type": "string"}},
    },
}
LOG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["timestamp", "level", "message"],
    "properties": {
        "timestamp": {"type": "integer"},
        "level": {"type": "string"},
        "message": {"type": "string"},
        "taskId": {"type": ["string", "null"]},
    },
}
BULK_RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["action", "matched", "done", "skipped"],
    "properties": {
        "action": {"type": "string"},
        "matched": {"type": "integer"},
        "done": {"type": "array", "items": {"type": "string"}},
        "skipped": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"taskId": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
}


def _one_or_many(item: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [item, {"type": "array", "items": item, "minItems": 1}]}


BULK_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "Which tasks; without status, the action's default statuses",
    "properties": {
        "status": _one_or_many({"type": "string", "enum": list(TASK_STATUSES)}),
        "type": _one_or_many({"type": "string", "minLength": 1, "pattern": r"\S"}),
    },
}
PATCH_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["priority"],
    "additionalProperties": False,
    "properties": {"priority": {"$ref": "#/components/schemas/Priority"}},
}
_CREATES = {("POST", "/api/tasks"), ("POST", "/api/quick/{name}")}
_RESPONSES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/tasks"): {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
    ("POST", "/api/tasks"): {"$ref": "#/components/schemas/Task"},
    ("POST", "/api/quick/{name}"): {"$ref": "#/components/schemas/Task"},
    ("GET", "/api/tasks/{task_id}"): {"$ref": "#/components/schemas/Task"},
    ("PATCH", "/api/tasks/{task_id}"): {"$ref": "#/components/schemas/Task"},
    ("POST", "/api/tasks/{task_id}/cancel"): {"$ref": "#/components/schemas/Task"},
    ("POST", "/api/tasks/{task_id}/retry"): {"$ref": "#/components/schemas/Task"},
    ("GET", "/api/tasks/{task_id}/items"): {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Item"},
    },
    ("GET", "/api/tasks/{task_id}/changes"): {"$ref": "#/components/schemas/ChangePage"},
    ("GET", "/api/tasks/{task_id}/logs"): {
        "type": "array",
        "items": {"$ref": "#/components/schemas/LogLine"},
    },
    ("GET", "/api/logs"): {"type": "array", "items": {"$ref": "#/components/schemas/LogLine"}},
    **{
        (method, path): (
            {"$ref": "#/components/schemas/Proposal"}
            if path in ONE_PROPOSAL_PATHS
            else {"type": "array", "items": {"$ref": "#/components/schemas/Proposal"}}
        )
        for method, path, _handler, _summary in API_ROUTES
        if path.startswith("/api/tasks/{task_id}/proposals")
    },
}


def _operation_id(method: str, path: str) -> str:
    words = path.strip("/").replace("{", "").replace("}", "").replace("-", "_").split("/")
    return "_".join([method.lower(), *words])


# A created task's id feeds the operations on one task (stateful clients and testers follow them).
_TASK_LINKS = {
    f"{method.lower()}{suffix.replace('/', '_')}": {
        "operationId": _operation_id(method, f"/api/tasks/{{task_id}}{suffix}"),
        "parameters": {"task_id": "$response.body#/taskId"},
    }
    for method, suffix in (
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/cancel"),
        ("POST", "/retry"),
        ("POST", "/revert"),
        ("GET", "/items"),
        ("GET", "/changes"),
        ("GET", "/logs"),
    )
}


def _params_schema_name(type_name: str) -> str:
    return f"{type_name}_params"


def _hoist_defs(name: str, schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """Move pydantic's ``$defs`` into the components: ``#/$defs/X`` means the document root here."""
    schema = copy.deepcopy(schema)
    defs = schema.pop("$defs", {})

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                node["$ref"] = f"#/components/schemas/{name}.{ref.removeprefix('#/$defs/')}"
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)
        return node

    for def_name, definition in defs.items():
        schemas[f"{name}.{def_name}"] = rewrite(definition)
    return rewrite(schema)


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    parameter: dict[str, Any] = {"name": name, "in": "query", "schema": schema}
    if schema.get("type") == "array":
        parameter.update(style="form", explode=False)  # ?status=FAILED,CANCELLED
    if description:
        parameter["description"] = description
    return parameter


def _csv(values: tuple[str, ...] | None) -> dict[str, Any]:
    item: dict[str, Any] = (
        {"type": "string", "enum": list(values)}
        if values
        else {"type": "string", "minLength": 1, "pattern": "^[^,]+$"}
    )
    return {"type": "array", "items": item, "minItems": 1}


def _limit(default: int | None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_LIST_LIMIT}
    if default is not None:
        schema["default"] = default
    return _query("limit", schema)


_OFFSET = _query("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET})
_CHARACTER_FILTERS = [
    _query("search", {"type": "string"}, "in the name or the description, case-insensitive"),
    _query("filter", _csv(CHARACTER_FILTERS), "conditions that must all hold, comma-separated"),
    _query("language", {"type": "string"}, "only characters of this language"),
    _query(
        "sort", {"type": "string", "enum": list(CHARACTER_SORT_VALUES)}, "-field for descending"
    ),
]
_QUERIES: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("GET", "/api/tasks"): [
        _query("status", _csv(TASK_STATUSES), "one status or several, comma-separated"),
        _query("type", _csv(None), "one task type or several, comma-separated"),
        _query("sort", {"type": "string", "enum": list(SORT_VALUES)}, "-field for descending"),
        _query(
            "database", {"type": "string"}, "only this character database's tasks (absolute path)"
        ),
        _limit(None),
        _OFFSET,
    ],
    ("GET", "/api/tasks/{task_id}/items"): [
        _query("status", _csv(ITEM_STATUSES), "one item status or several, comma-separated"),
        _limit(500),
        _OFFSET,
    ],
    ("GET", "/api/tasks/{task_id}/changes"): [
        _query("field", {"type": "string"}, "only changes of this column"),
        _query("state", {"type": "string", "enum": list(CHANGE_STATES)}, "only this state"),
        _query("search", {"type": "string"}, "in the character's name or id, or a value"),
        _query(
            "limit", {"type": "integer", "minimum": 1, "maximum": MAX_CHANGE_PAGE, "default": 100}
        ),
        _OFFSET,
    ],
    ("GET", "/api/tasks/{task_id}/logs"): [_limit(500)],
    ("GET", "/api/tasks/{task_id}/proposals"): [
        _query("status", _csv(PROPOSAL_STATUSES), "one proposal state or several, comma-separated"),
    ],
    ("GET", "/api/characters"): [
        *_CHARACTER_FILTERS,
        _query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_CHARACTER_PAGE, "default": 100},
        ),
        _OFFSET,
    ],
    ("GET", "/api/characters/ids"): _CHARACTER_FILTERS,
    ("GET", "/api/logs"): [
        _query("since", {"type": "integer", "minimum": 0, "maximum": 2**53}, "epoch ms, inclusive"),
        _query("level", {"type": "string", "enum": list(LOG_LEVELS)}, "this level and above"),
        _query("taskId", {"type": "string"}, "only this task's lines"),
        _limit(500),
    ],
}


def _create_body(types: list[TaskTypeInfo], *, preview: bool) -> dict[str, Any]:
    variants = []
    for info in types:
        params = {"$ref": f"#/components/schemas/{_params_schema_name(info.name)}"}
        properties: dict[str, Any] = {
            "type": {"type": "string", "enum": [info.name, *info.aliases]},
            "priority": {"$ref": "#/components/schemas/Priority"},
            "data": params,
            "options": {
                **params,
                "deprecated": True,
                "description": "the original's name for data",
            },
        }
        variants.append(
            {
                "type": "object",
                "required": ["type"],
                "additionalProperties": False,
                "properties": properties,
                "not": {"required": ["data", "options"]},
            }
        )
    description = "How many items it would touch (priority is checked, not used)" if preview else ""
    body: dict[str, Any] = {"oneOf": variants} if variants else {"type": "object"}
    if description:
        body["description"] = description
    return body


def _quick_body(info: TaskTypeInfo, schemas: dict[str, Any]) -> dict[str, Any]:
    """The type's parameters with ``priority`` beside them, as the quick route reads them."""
    body = copy.deepcopy(schemas[_params_schema_name(info.name)])
    body.setdefault("properties", {})["priority"] = {"$ref": "#/components/schemas/Priority"}
    body["title"] = f"{info.name} quick body"
    return body


def _responses(method: str, path: str) -> dict[str, Any]:
    schedule_created = (method, path) == ("POST", "/api/schedules")
    ok = "201" if (method, path) in _CREATES or schedule_created else "200"
    answer: dict[str, Any] = {
        "description": "Created" if ok == "201" else "OK",
        "content": {"application/json": {"schema": _RESPONSES.get((method, path), {})}},
    }
    if ok == "201":
        answer["headers"] = {
            "Location": {"description": "the new resource's URL", "schema": {"type": "string"}}
        }
        if not schedule_created:
            answer["links"] = _TASK_LINKS
    if (method, path) == ("GET", "/api/tasks"):
        answer["headers"] = {
            "X-Total-Count": {
                "description": "matching tasks before limit/offset",
                "schema": {"type": "integer", "minimum": 0},
            }
        }
    responses = {ok: answer}
    for code, text in ERROR_STATUSES.items():
        responses[code] = {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    return responses


_SCHEDULE_BODIES: dict[tuple[str, str], tuple[dict[str, Any], bool]] = {
    ("POST", "/api/schedules"): (SCHEDULE_BODY_SCHEMA, True),
    ("PATCH", "/api/schedules/{schedule_id}"): (SCHEDULE_PATCH_SCHEMA, True),
    ("POST", "/api/tasks/estimate"): (ESTIMATE_BODY_SCHEMA, True),
    ("POST", "/api/tasks/{task_id}/retry"): (RETRY_BODY_SCHEMA, False),
}


def _operation(
    method: str, path: str, summary: str, types: list[TaskTypeInfo], schemas: dict[str, Any]
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "operationId": _operation_id(method, path),
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in ("task_id", "name", "character_id", "schedule_id")
        if "{" + name + "}" in path
    ]
    if "{entry_id}" in path:
        parameters.append(
            {
                "name": "entry_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
            }
        )
    if "{proposal_id}" in path:
        parameters.append(
            {
                "name": "proposal_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": PROPOSAL_ID_PATTERN},
            }
        )
    parameters += _QUERIES.get((method, path), [])
    if parameters:
        operation["parameters"] = parameters
    body: dict[str, Any] | None = None
    required = True
    if method == "POST" and path in ("/api/tasks", "/api/tasks/preview"):
        body = _create_body(types, preview=path.endswith("preview"))
    elif (method, path) in REVIEW_BODIES:
        body, required = REVIEW_BODIES[(method, path)]
    elif (method, path) in _SCHEDULE_BODIES:
        body, required = _SCHEDULE_BODIES[(method, path)]
    elif method == "PATCH":
        body = PATCH_BODY_SCHEMA
    elif path == "/api/characters/export":
        body = EXPORT_BODY_SCHEMA
    elif path.startswith("/api/tasks/bulk/"):
        body, required = BULK_BODY_SCHEMA, False
    if body is not None:
        operation["requestBody"] = {
            "required": required,
            "content": {"application/json": {"schema": body}},
        }
    operation["responses"] = _responses(method, path)
    return operation


def _quick_operation(
    slug: str, info: TaskTypeInfo, summary: str, schemas: dict[str, Any]
) -> dict[str, Any]:
    operation = _operation("POST", "/api/quick/{name}", summary, [], schemas)
    operation.pop("parameters", None)
    operation["summary"] = f"Quick {info.name}: its parameters (+ priority) → 201 with the task"
    operation["operationId"] = f"post_api_quick_{slug.replace('-', '_')}"
    operation["requestBody"] = {
        "required": False,
        "content": {"application/json": {"schema": _quick_body(info, schemas)}},
    }
    return operation


def build_openapi(types: list[TaskTypeInfo], *, version: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Error": ERROR_SCHEMA,
        "Task": TASK_SCHEMA,
        "Item": ITEM_SCHEMA,
        "LogLine": LOG_SCHEMA,
        "ChangePage": CHANGE_PAGE_SCHEMA,
        "BulkResult": BULK_RESULT_SCHEMA,
        "Priority": PRIORITY_SCHEMA,
        "Proposal": PROPOSAL_SCHEMA,
    }
    for info in types:
        name = _params_schema_name(info.name)
        schema = _hoist_defs(name, info.params_schema, schemas)
        schema.setdefault("title", info.title)
        schema.setdefault("description", info.description)
        schemas[name] = schema
    paths: dict[str, dict[str, Any]] = {}
    for method, path, _handler, summary in API_ROUTES:
        if path == "/api/quick/{name}":
            for info in types:
                for slug in info.aliases:
                    paths[f"/api/quick/{slug}"] = {
                        "post": _quick_operation(slug, info, summary, schemas)
                    }
            continue
        operation = _operation(method, path, summary, types, schemas)
        if path.startswith("/api/tasks/bulk/"):
            operation["responses"]["200"]["content"]["application/json"]["schema"] = {
                "$ref": "#/components/schemas/BulkResult"
            }
        paths.setdefault(path, {})[method.lower()] = operation
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
