"""The server's connection bounds over real loopback sockets: header time and open connections."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.server.conftest import app_for
from tui_updater.engine.service import LocalService
from tui_updater.server.embedded import RunningServer, start_server
from tui_updater.server.limits import BoundedH11Protocol, ConnectionLimits

REQUEST = b"GET /api/tasks HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"p" * 40 + b"\r\n\r\n"
TRICKLE_INTERVAL_S = 0.1  # REQUEST takes ~9 s at this pace; the bound below is 0.5 s


@contextlib.asynccontextmanager
async def bounded_server(
    service: LocalService, tmp_path: Path, limits: ConnectionLimits
) -> AsyncIterator[RunningServer]:
    server = await start_server(app_for(service, tmp_path), "127.0.0.1", 0, limits=limits)
    try:
        yield server
    finally:
        await server.stop()


async def closed_by_peer(reader: asyncio.StreamReader, wait_s: float) -> bool:
    """True when the server closed the connection (EOF or reset) within ``wait_s``."""
    try:
        return await asyncio.wait_for(reader.read(65536), wait_s) == b""
    except TimeoutError:
        return False
    except ConnectionError:
        return True


async def trickle(port: int, *, first: bytes = b"") -> tuple[int, bytes]:
    """Send REQUEST one byte per interval; (bytes sent when the server closed, what it sent)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    received = b""
    if first:
        writer.write(first)
        await writer.drain()
        received = await reader.readuntil(b"\r\n\r\n")
    sent = 0
    try:
        for byte in REQUEST:
            writer.write(bytes([byte]))
            await writer.drain()
            sent += 1
            if await closed_by_peer(reader, TRICKLE_INTERVAL_S):
                return sent, received
        return sent, received + await reader.read(65536)
    except ConnectionError:
        return sent, received
    finally:
        writer.close()


@pytest.mark.parametrize("keep_alive_first", [False, True], ids=["fresh", "after-a-response"])
async def test_trickled_headers_are_cut_off_at_the_bound(
    sample_service: LocalService, tmp_path: Path, keep_alive_first: bool
) -> None:
    limits = ConnectionLimits(header_timeout_s=0.5, max_connections=16)
    async with bounded_server(sample_service, tmp_path, limits) as server:
        first = b"GET /api/tasks HTTP/1.1\r\nHost: localhost\r\n\r\n" if keep_alive_first else b""
        sent, received = await trickle(server.port, first=first)
    assert sent < len(REQUEST), "the server waited for the whole trickled request"
    assert received.count(b"HTTP/1.1 200") == (1 if keep_alive_first else 0)


async def test_idle_connections_past_the_cap_do_not_block_a_request(
    sample_service: LocalService, tmp_path: Path
) -> None:
    limits = ConnectionLimits(header_timeout_s=60.0, max_connections=8)
    extra = 5
    async with bounded_server(sample_service, tmp_path, limits) as server:
        idle = []
        for index in range(limits.max_connections + extra):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /api/tasks HTTP/1.1\r\n" if index % 2 else b"")
            await writer.drain()
            idle.append((reader, writer))
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /api/tasks HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        # each of the extra idle connections and the request evicted the oldest idle one
        evicted = [await closed_by_peer(r, 10) for r, _ in idle[: extra + 1]]
        open_now = len(server.server.server_state.connections)
        for _, idle_writer in idle:
            idle_writer.close()
    assert answer.startswith(b"HTTP/1.1 200")
    assert evicted == [True] * (extra + 1)
    assert open_now <= limits.max_connections


async def test_busy_connections_are_kept_and_the_newcomer_is_refused(
    sample_service: LocalService, tmp_path: Path
) -> None:
    limits = ConnectionLimits(header_timeout_s=60.0, max_connections=2)
    async with bounded_server(sample_service, tmp_path, limits) as server:
        busy = []
        for _ in range(limits.max_connections):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            # headers complete, body still to come: a request in progress, not idle
            writer.write(
                b"POST /api/tasks HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
            )
            await writer.drain()
            busy.append((reader, writer))
        connections = server.server.server_state.connections
        while len(connections) < limits.max_connections or any(
            isinstance(conn, BoundedH11Protocol) and conn.awaiting_request() for conn in connections
        ):
            await asyncio.sleep(0.01)  # until the server has parsed both requests' headers
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        refused = await closed_by_peer(reader, 10)
        writer.close()
        kept = [not await closed_by_peer(r, 0.2) for r, _ in busy]
        for _, busy_writer in busy:
            busy_writer.close()
    assert refused
    assert kept == [True] * limits.max_connections
