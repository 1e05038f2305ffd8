"""The server's guards: bind policy, Host / Origin / token / content-type / size checks (ASGI),
and the rule that a network request may name files (the parameters a type's schema marks as
server-local paths, such as a migration script) only inside the migrations dir.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tui_updater.config import ServerSettings
from tui_updater.core.capabilities import is_sql_field, local_path_fields
from tui_updater.core.service import TaskTypeInfo
from tui_updater.errors import ConfigError
from tui_updater.server.errors import ApiError, error_body, invalid_field

_SQL_START = re.compile(
    r"^\s*(--|/\*|(ALTER|ANALYZE|ATTACH|BEGIN|COMMIT|CREATE|DELETE|DETACH|DROP|END|INSERT|"
    r"PRAGMA|REINDEX|RELEASE|REPLACE|ROLLBACK|SAVEPOINT|SELECT|UPDATE|UPSERT|VACUUM|WITH)\s)",
    re.IGNORECASE,
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# A DNS name: dot-separated labels of letters, digits and inner hyphens, optional final dot.
_DNS_NAME = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.?"
)
# RFC 9110 Host: uri-host [":" port]; an IPv6 literal only in brackets, the port digits only.
_HOST_HEADER = re.compile(
    r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[^\[\]:]+))(?::(?P<port>[0-9]{1,5}))?"
)


def is_loopback_host(host: str) -> bool:
    """True for localhost and its subdomains, 127.0.0.0/8 and ::1 (with or without brackets)."""
    name = host.strip()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    name = name.lower()
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    if not _DNS_NAME.fullmatch(name):
        return False
    name = name.rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def check_bind(server: ServerSettings) -> None:
    """Refuse to serve on a non-loopback address without a token."""
    if not is_loopback_host(server.host) and not server.token:
        raise ConfigError(
            f"--host {server.host} is not a loopback address, so a token is required: pass --token T "
            "or set TAVERN_UPDATER_TOKEN (clients then send 'Authorization: Bearer T')"
        )


def host_name(header_value: str) -> str | None:
    """The name part of a Host header ("[::1]:3002" → "::1", "localhost:3002" → "localhost"),
    or None when the value is not a well-formed host with an optional port."""
    match = _HOST_HEADER.fullmatch(header_value)
    if match is None or (match["port"] is not None and int(match["port"]) > 65535):
        return None
    if match["ipv6"] is not None and ":" not in match["ipv6"]:
        return None  # brackets hold IPv6 literals only
    return match["ipv6"] or match["name"]


def bearer_token(headers: Headers, query_string: bytes, *, allow_query: bool) -> str | None:
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if allow_query:
        values = parse_qs(query_string.decode("latin-1")).get("token")
        if values:
            return values[0]
    return None


class SecurityMiddleware:
    """Refuses foreign Host headers (loopback binds), foreign Origins, missing tokens,
    non-JSON bodies and oversize bodies, for REST requests and WebSocket handshakes alike."""

    def __init__(self, app: ASGIApp, *, settings: ServerSettings):
        self.app = app
        self.check_host = is_loopback_host(settings.host)
        self.token = settings.token.encode() if settings.token else None
        self.allow_origins = frozenset(
            origin.rstrip("/").lower() for origin in settings.allow_origins
        )
        self.max_body_bytes = settings.max_body_bytes

    def refusal(self, scope: Scope, headers: Headers) -> ApiError | None:
        """Why this request must be refused, or None."""
        if self.check_host:
            host = headers.get("host")
            name = None if host is None else host_name(host)
            if host is not None and (name is None or not is_loopback_host(name)):
                return ApiError(
                    403,
                    "forbidden_host",
                    f"Host {host!r} is not a loopback name; this server answers only localhost, 127.0.0.1 and [::1]",
                )
        origin = headers.get("origin")
        if origin is not None and origin.rstrip("/").lower() not in self.allow_origins:
            return ApiError(
                403,
                "forbidden_origin",
                f"Origin {origin!r} is not allowed (start the server with --allow-origin {origin} to allow it)",
            )
        if self.token is not None:
            given = bearer_token(
                headers, scope.get("query_string", b""), allow_query=scope["type"] == "websocket"
            )
            if given is None:
                return ApiError(
                    401, "unauthorized", "this server needs 'Authorization: Bearer <token>'"
                )
            if not hmac.compare_digest(given.encode(), self.token):
                return ApiError(401, "unauthorized", "wrong token")
        if scope["type"] == "http" and scope["method"] in _BODY_METHODS:
            return self.body_refusal(headers)
        return None

    def body_refusal(self, headers: Headers) -> ApiError | None:
        length_text = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = 0
        if length_text is not None:
            try:
                length = int(length_text)
            except ValueError:
                return ApiError(
                    400, "bad_request", f"Content-Length {length_text!r} is not a number"
                )
        if length <= 0 and not chunked:
            return None
        if length > self.max_body_bytes:
            return ApiError(
                413,
                "payload_too_large",
                f"body of {length} bytes exceeds the limit of {self.max_body_bytes} bytes",
            )
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            shown = media_type or "none"
            return ApiError(
                415,
                "unsupported_media_type",
                f"Content-Type must be application/json (got {shown})",
            )
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        error = self.refusal(scope, Headers(scope=scope))
        if error is not None:
            if scope["type"] == "http":
                await _send_http_error(send, error)
            else:
                await _refuse_websocket(scope, receive, send, error)
            return
        if scope["type"] == "http":
            receive = _limited(receive, self.max_body_bytes)
        await self.app(scope, receive, send)


def _limited(receive: Receive, max_bytes: int) -> Receive:
    """Count body bytes while they are read; past the limit the read raises a 413."""
    seen = 0

    async def limited_receive() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > max_bytes:
                raise ApiError(
                    413, "payload_too_large", f"body exceeds the limit of {max_bytes} bytes"
                )
        return message

    return limited_receive


def _error_bytes(error: ApiError) -> bytes:
    import json

    return json.dumps(
        error_body(error.code, error.message, error.details), separators=(",", ":")
    ).encode()


async def _send_http_error(send: Send, error: ApiError) -> None:
    body = _error_bytes(error)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if error.status_code == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _refuse_websocket(scope: Scope, receive: Receive, send: Send, error: ApiError) -> None:
    """Refuse the handshake with an HTTP status (denial response) when the server supports it."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        body = _error_bytes(error)
        await send(
            {
                "type": "websocket.http.response.start",
                "status": error.status_code,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": error.code})


def looks_like_path(value: str) -> bool:
    """A single line that is not SQL: a script file name (the engine reads it as a path)."""
    text = value.strip()
    if not text or "\n" in text or ";" in text:
        return False
    if text.lower().endswith(".sql"):
        return True
    return _SQL_START.match(text + " ") is None


def _path_fields(types: Iterable[TaskTypeInfo]) -> dict[str, bool]:
    """Every parameter some type marks as a server-local path → whether it may also be SQL.

    The request's type is not resolved here (aliases are the engine's business); a field any
    type marks is guarded, and the type's own schema then refuses fields it does not have.
    """
    fields: dict[str, bool] = {}
    for info in types:
        properties = info.params_schema.get("properties") or {}
        for name in local_path_fields(info.params_schema):
            fields[name] = fields.get(name, False) or is_sql_field(properties[name])
    return fields


def restrict_local_paths(
    data: dict[str, Any], types: Iterable[TaskTypeInfo], migrations_dir: Path
) -> dict[str, Any]:
    """For network requests: a path in a server-local-path parameter must resolve inside
    ``migrations_dir``; it is replaced by the file's absolute path. SQL text passes unchanged."""
    restricted = dict(data)
    for name, may_be_sql in _path_fields(types).items():
        value = data.get(name)
        if isinstance(value, str) and (looks_like_path(value) if may_be_sql else value.strip()):
            restricted[name] = _inside(name, value.strip(), migrations_dir)
    return restricted


def _inside(name: str, text: str, migrations_dir: Path) -> str:
    root = migrations_dir.resolve()
    raw = Path(text)
    try:
        path = (raw if raw.is_absolute() else root / raw).resolve()
    except (OSError, RuntimeError, ValueError):
        raise invalid_field(name, f"{text[:80]!r} is not a usable path") from None
    if not path.is_relative_to(root):
        raise invalid_field(
            name,
            f"{text[:80]!r} is outside the migrations directory {root}; over the network only files there can be used",
            status_code=403,
            code="forbidden_path",
        )
    try:
        found = path.is_file() or path.is_dir()  # a directory: a prisma/migrations folder
    except OSError:  # a name too long for the file system, for one
        found = False
    if not found:
        raise invalid_field(name, f"no file {path.name[:80]!r} in the migrations directory {root}")
    return str(path)
