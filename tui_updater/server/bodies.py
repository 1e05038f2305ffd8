"""Reading request bodies and query parameters: size-limited JSON, strict numbers, named fields."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any, NoReturn

from starlette.requests import Request

from tui_updater.server.errors import ApiError, invalid_field

EMPTY: Any = object()  # read_json's answer for a body with no bytes (JSON null is None)


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


async def read_json(request: Request, max_bytes: int) -> Any:
    """The body parsed as JSON, ``EMPTY`` when absent; 400 for malformed JSON, 413 when too large."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise ApiError(413, "payload_too_large", f"body exceeds the limit of {max_bytes} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return EMPTY
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            "malformed_json",
            f"malformed JSON body: {exc.msg} at line {exc.lineno} column {exc.colno}",
            {"line": exc.lineno, "column": exc.colno},
        ) from None
    except (
        ValueError,
        RecursionError,
    ) as exc:  # NaN/Infinity, undecodable bytes, huge ints, deep nesting
        raise ApiError(400, "malformed_json", f"malformed JSON body: {str(exc)[:200]}") from None


async def read_object(request: Request, max_bytes: int, *, required: bool) -> dict[str, Any]:
    """The body as a JSON object (``{}`` when empty and not required)."""
    body = await read_json(request, max_bytes)
    if body is EMPTY:
        if required:
            raise ApiError(400, "invalid_body", "a JSON object body is required")
        return {}
    if not isinstance(body, dict):
        raise ApiError(
            400, "invalid_body", f"the body must be a JSON object, not {type(body).__name__}"
        )
    return body


def query_text(request: Request, name: str) -> str | None:
    """A query parameter that takes one value: 422 naming it when it is given twice."""
    given = request.query_params.getlist(name)
    if len(given) > 1:
        raise invalid_field(name, f"given {len(given)} times; give it once")
    return given[0] if given else None


def query_int(
    request: Request, name: str, *, default: int | None, minimum: int, maximum: int
) -> int | None:
    """An integer query parameter within bounds; 422 naming it otherwise."""
    raw = query_text(request, name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise invalid_field(name, f"expected a whole number, got {raw[:40]!r}") from None
    if not minimum <= value <= maximum:
        raise invalid_field(name, f"must be between {minimum} and {maximum}, got {value}")
    return value


def query_values(
    request: Request, name: str, *, allowed: Collection[str] | None = None
) -> list[str] | None:
    """A comma-separated query parameter (``?status=FAILED,CANCELLED``); ``None`` when absent.

    Values are taken exactly as the OpenAPI document lists them: present but empty, or a value
    outside ``allowed``, is a 422 naming the parameter.
    """
    raw = query_text(request, name)
    if raw is None:
        return None
    values = raw.split(",")
    if any(not value for value in values):
        raise invalid_field(name, "expected one or more comma-separated values, got an empty one")
    if allowed is not None:
        for value in values:
            if value not in allowed:
                raise invalid_field(
                    name, f"unknown value {value[:40]!r}; use one of {', '.join(allowed)}"
                )
    return list(dict.fromkeys(values))


def query_choice(request: Request, name: str, *, allowed: Collection[str]) -> str | None:
    """A query parameter that takes one of ``allowed`` exactly; ``None`` when absent."""
    raw = query_text(request, name)
    if raw is None:
        return None
    if raw not in allowed:
        raise invalid_field(name, f"unknown value {raw[:40]!r}; use one of {', '.join(allowed)}")
    return raw


PRIORITY_NAMES = ("LOW", "NORMAL", "HIGH", "URGENT")


def priority_field(body: dict[str, Any], *, default: object = "NORMAL") -> object:
    """``priority`` as the schema allows it: a name (in any case) or a whole number 1–4.

    An integral float (``3.0``) is a whole number in JSON Schema, so it is accepted as one.
    """
    if "priority" not in body:
        return default
    value = body["priority"]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4:
        return value
    if isinstance(value, str) and value.upper() in PRIORITY_NAMES:
        return value
    names = ", ".join(f"{name} ({number})" for number, name in enumerate(PRIORITY_NAMES, 1))
    raise invalid_field("priority", f"invalid priority {value!r}; use one of {names}")


_validators: dict[str, Any] = {}


def check_schema(schema: dict[str, Any], data: dict[str, Any]) -> None:
    """422 naming the field when ``data`` does not match ``schema`` (JSON Schema 2020-12).

    The OpenAPI document publishes these schemas; checking them here makes the server accept
    exactly what the document says (pydantic alone would also take ``"3"`` or ``0`` for a
    number or a boolean).
    """
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    key = json.dumps(schema, sort_keys=True)
    validator = _validators.get(key)
    if validator is None:
        validator = _validators[key] = Draft202012Validator(schema)
    error = best_match(validator.iter_errors(data))
    if error is None:
        return
    path = [str(part) for part in error.absolute_path]
    message = error.message[:300]
    if not path and error.validator == "additionalProperties":
        known = set(schema.get("properties", {}))
        path, message = sorted(k for k in data if k not in known)[:1], "unknown field"
    elif not path and error.validator == "required":
        path = [name for name in error.validator_value if name not in data][:1]
    raise invalid_field(".".join(path) or "data", message)


# POST /api/characters/export (the route checks it; OpenAPI publishes it).
EXPORT_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ids"],
    "additionalProperties": False,
    "properties": {
        "ids": {
            "type": "array",
            "minItems": 1,
            "maxItems": 10000,
            "items": {"type": "string", "minLength": 1, "maxLength": 200},
        },
        "format": {"type": "string", "enum": ["v2", "v3", "json"], "default": "v3"},
        "directory": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "description": "a folder under the server's data dir cards/ (relative)",
        },
    },
}
