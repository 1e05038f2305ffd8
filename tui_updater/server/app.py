"""The Starlette application of ``--serve``: REST under /api, WebSocket /ws, /openapi.json."""

from __future__ import annotations

import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from tui_updater.config import ServerSettings
from tui_updater.core.service import UpdaterService
from tui_updater.errors import TavernError
from tui_updater.server.errors import ApiError, error_response, handle_exception
from tui_updater.server.openapi import openapi_endpoint
from tui_updater.server.routes import ApiContext, api_routes
from tui_updater.server.security import SecurityMiddleware
from tui_updater.server.websocket import EventHub, websocket_endpoint

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = (
        exc.detail if exc.status_code != 404 else f"no route {request.method} {request.url.path}"
    )
    return error_response(exc.status_code, code, str(message), headers=dict(exc.headers or {}))


def create_app(
    service: UpdaterService, settings: ServerSettings, *, migrations_dir: Path
) -> Starlette:
    """Build the server for ``service``; ``migrations_dir`` bounds script paths sent over the network."""
    middleware = []
    if settings.allow_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.allow_origins),
                allow_methods=["GET", "POST", "DELETE"],
                allow_headers=["Authorization", "Content-Type"],
            )
        )
    middleware.append(Middleware(SecurityMiddleware, settings=settings))
    routes = [
        *api_routes(),
        Route("/openapi.json", openapi_endpoint, methods=["GET"]),
        WebSocketRoute("/ws", websocket_endpoint),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            HTTPException: _http_exception,
            ApiError: handle_exception,
            TavernError: handle_exception,
            Exception: handle_exception,
        },
    )
    # No redirects to a slash-less path: an API answers JSON (a 404 naming the route), never an
    # empty 307 (fuzzing found `/api/tasks/%2F` redirecting).
    app.router.redirect_slashes = False
    app.state.api = ApiContext(
        service=service,
        migrations_dir=migrations_dir,
        max_body_bytes=settings.max_body_bytes,
        started_at_s=time.monotonic(),
    )
    app.state.hub = EventHub(service)
    return app
