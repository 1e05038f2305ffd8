"""A minimal asyncio HTTP/1.1 server with keep-alive, for loopback fakes in tests and benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import http
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_MAX_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False  # close the socket without answering


Handler = Callable[[Request], Awaitable[Response]]


def _encode(response: Response, keep_alive: bool) -> bytes:
    try:
        phrase = http.HTTPStatus(response.status).phrase
    except ValueError:
        phrase = "Unknown"
    lines = [
        f"HTTP/1.1 {response.status} {phrase}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {len(response.body)}",
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
    ]
    lines.extend(f"{name}: {value}" for name, value in response.headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    length = int(headers.get("content-length", "0") or "0")
    return await reader.readexactly(length) if length else b""


class Http11Server:
    """Serves ``handler`` on ``host``:``port`` (0 = any free port) until ``stop()``."""

    def __init__(
        self, handler: Handler, host: str = "127.0.0.1", port: int = 0, *, reuse_port: bool = False
    ) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._reuse_port = reuse_port  # several processes serve one port (the kernel spreads)
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept,
            self._host,
            self._port,
            limit=_MAX_HEAD_BYTES,
            backlog=1024,
            reuse_port=self._reuse_port or None,
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except (asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError):
            pass
        except (asyncio.LimitOverrunError, ValueError):
            with contextlib.suppress(Exception):
                writer.write(_encode(Response(400, b'{"error":{"message":"bad request"}}'), False))
        finally:
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()
            self._connections.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, version = request_line.split(" ", 2)
            headers: dict[str, str] = {}
            for line in header_lines:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await _read_body(reader, headers)
            parts = urlsplit(target)
            response = await self._handler(
                Request(method.upper(), parts.path, parts.query, headers, body)
            )
            if response.drop_connection:
                return
            keep_alive = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
            writer.write(_encode(response, keep_alive))
            await writer.drain()
            if not keep_alive:
                return
