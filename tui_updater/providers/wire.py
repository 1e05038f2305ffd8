"""A lean HTTP/1.1 keep-alive client for the gateway's JSON calls (the provider's hot path).

httpx + httpcore cost about 0.5 ms of CPU per request and their pool grows O(pool²) with
concurrency (peer-baselines.md section 3), which caps one process near a thousand requests a
second. The gateway calls are always the same shape — a JSON POST to one origin — so this client
does only that: a stack of idle keep-alive connections, requests written in one piece, responses
read by Content-Length or chunked encoding. Anything unusual raises ``WireError`` and the caller
translates it; proxies, redirects and downloads stay with httpx.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024


class WireError(Exception):
    """A transport failure (connection, protocol); ``timeout`` tells a slow server apart."""

    def __init__(self, message: str, *, timeout: bool = False):
        self.timeout = timeout
        super().__init__(message)


@dataclass(frozen=True)
class WireResponse:
    status_code: int
    headers: Mapping[str, str]  # lower-cased names
    content: bytes


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()


class WireClient:
    """JSON requests to one origin over reused HTTP/1.1 connections."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 180.0,
        max_idle: int = 256,
    ):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"unsupported gateway URL {base_url!r}")
        self._tls = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._tls else 80)
        default_port = (443 if self._tls else 80) == self._port
        self._host_header = self._host if default_port else f"{self._host}:{self._port}"
        self._prefix = parts.path.rstrip("/")
        self._ssl = ssl.create_default_context() if self._tls else None
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._idle: list[_Connection] = []
        self._max_idle = max_idle
        self._closed = False

    async def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> WireResponse:
        """POST ``body`` (JSON) to ``prefix/path`` and return the whole answer."""
        head = (
            f"POST {self._prefix}/{path.lstrip('/')} HTTP/1.1\r\n"
            f"Host: {self._host_header}\r\n"
            "Content-Type: application/json\r\n"
            "Accept: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            + "\r\n"
        ).encode("latin-1")
        message = head + body
        while self._idle:
            connection = self._idle.pop()
            if connection.reader.at_eof() or connection.writer.is_closing():
                connection.close()  # the server closed it while idle
                continue
            try:
                return await self._exchange(connection, message, reused=True)
            except _StaleConnection:
                continue  # the server closed this idle connection: try the next, or a new one
        connection = await self._connect()
        return await self._exchange(connection, message, reused=False)

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    # --- internals ------------------------------------------------------------------------------

    async def _connect(self) -> _Connection:
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                reader, writer = await asyncio.open_connection(
                    self._host, self._port, ssl=self._ssl, limit=MAX_HEADER_BYTES
                )
        except TimeoutError:
            raise WireError(f"connecting to {self._host_header} timed out", timeout=True) from None
        except (OSError, ssl.SSLError) as exc:
            raise WireError(f"cannot connect to {self._host_header}: {exc}") from None
        return _Connection(reader, writer)

    async def _exchange(
        self, connection: _Connection, message: bytes, *, reused: bool
    ) -> WireResponse:
        keep = False
        try:
            connection.writer.write(message)
            try:
                async with asyncio.timeout(self._read_timeout_s):
                    try:
                        head = await connection.reader.readuntil(b"\r\n\r\n")
                    except asyncio.IncompleteReadError as exc:
                        if reused and not exc.partial:
                            raise _StaleConnection from None
                        raise WireError(
                            f"{self._host_header} closed the connection mid-answer"
                        ) from None
                    status, headers = _parse_head(head)
                    content = await self._read_body(connection.reader, headers)
            except TimeoutError:
                raise WireError(
                    f"{self._host_header} did not answer in {self._read_timeout_s:g}s", timeout=True
                ) from None
            except (ConnectionError, OSError) as exc:
                raise WireError(f"connection to {self._host_header} failed: {exc}") from None
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                raise WireError(f"bad HTTP answer from {self._host_header}: {exc}") from None
            keep = headers.get("connection", "").lower() != "close"
            return WireResponse(status, headers, content)
        finally:
            if keep and not self._closed and len(self._idle) < self._max_idle:
                self._idle.append(connection)
            else:
                connection.close()

    @staticmethod
    async def _read_body(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY_BYTES:
                    raise ValueError("answer too large")
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
        length = headers.get("content-length")
        if length is None:
            raise ValueError("answer without Content-Length or chunked encoding")
        size = int(length)
        if size > MAX_BODY_BYTES:
            raise ValueError("answer too large")
        return await reader.readexactly(size)


class _StaleConnection(Exception):
    """A reused keep-alive connection ended before a single byte of answer: the server had
    closed it as the request went out (the keep-alive race), so the request is sent again."""


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x status line: {lines[0][:60]!r}")
    status = int(rest[:3])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if status == 100:
        raise ValueError("unexpected 100 Continue")
    return status, headers
