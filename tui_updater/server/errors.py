"""HTTP error bodies: ``{"error": {"code", "message", "details"}}`` and the exception → status map.

The remote client (client.py) maps the same codes back to the package's exceptions.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from tui_updater.errors import (
    InvalidParameters,
    MigrationError,
    ScheduleNotFound,
    TaskNotFound,
    TavernError,
    UnknownTaskType,
)
from tui_updater.server.codes import MESSAGE_ERRORS

logger = logging.getLogger("tui_updater")


class ApiError(Exception):
    """An HTTP error answer raised from a route or the security layer."""

    def __init__(self, status_code: int, code: str, message: str, details: Any = None):
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details
        super().__init__(message)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(code, message, details), status_code=status_code, headers=headers
    )


def invalid_field(
    field: str, message: str, *, status_code: int = 422, code: str = "invalid_parameters"
) -> ApiError:
    """An error naming one field of the request."""
    return ApiError(
        status_code,
        code,
        f"{field}: {message}",
        {"field": field, "reason": message, "errors": [{"field": field, "message": message}]},
    )


def api_error_for(exc: Exception) -> ApiError:
    """Translate an engine exception into its HTTP answer (never a 5xx for a TavernError)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, InvalidParameters):
        details = {"field": exc.field, "reason": exc.message, "errors": exc.details}
        return ApiError(422, "invalid_parameters", str(exc), details)
    if isinstance(exc, UnknownTaskType):
        return ApiError(400, "unknown_task_type", str(exc), {"type": exc.name, "known": exc.known})
    if isinstance(exc, TaskNotFound):
        return ApiError(404, "task_not_found", str(exc), {"taskId": exc.task_id})
    if isinstance(exc, ScheduleNotFound):
        return ApiError(404, "schedule_not_found", str(exc), {"scheduleId": exc.schedule_id})
    if isinstance(exc, MigrationError):
        return ApiError(422, "migration_error", str(exc), {"statement": exc.statement_number})
    for cls, status_code, code in MESSAGE_ERRORS:
        if isinstance(exc, cls):
            return ApiError(status_code, code, str(exc))
    if isinstance(exc, TavernError):
        return ApiError(400, "bad_request", str(exc))
    return ApiError(500, "internal", "internal server error; see the server log")


async def handle_exception(request: Request, exc: Exception) -> JSONResponse:
    """Starlette exception handler: every failure becomes the JSON error shape."""
    error = api_error_for(exc)
    if error.status_code >= 500:
        logger.error("%s %s failed: %r", request.method, request.url.path, exc, exc_info=exc)
    return error_response(error.status_code, error.code, error.message, error.details)
