"""The loopback Host check over real HTTP: only a well-formed loopback host (and port) is served."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import app_for
from tui_updater.engine.service import LocalService
from tui_updater.server.security import host_name, is_loopback_host

MALFORMED_HOSTS = [
    "localhost:evil.com",
    "localhost:80:80",
    "127.0.0.1.evil.com",
    "[::1]x",
    "[::1]:80x",
    "",
    "localhost:",
    "localhost:99999",
    "localhost:+80",
    "::1",
    "[127.0.0.1]",
    "..localhost",
    "localhost..",
    "evil.com:localhost",
    "localhost@evil.com",
    "127.0.0.1:80@evil.com",
]
WELL_FORMED_HOSTS = [
    "localhost",
    "localhost:3002",
    "LOCALHOST:3002",
    "localhost.",
    "app.localhost:3002",
    "127.0.0.1:3002",
    "127.0.0.2",
    "[::1]:3002",
    "[::1]",
]


async def raw_get_status(port: int, host: str) -> int:
    """GET /api/tasks with a Host header sent byte for byte as given; the HTTP status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /api/tasks HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])


@pytest.mark.parametrize("host", MALFORMED_HOSTS)
def test_malformed_host_values_are_not_loopback(host: str) -> None:
    name = host_name(host)
    assert name is None or not is_loopback_host(name)


async def test_live_server_refuses_malformed_hosts_and_serves_loopback_ones(
    sample_service: LocalService, tmp_path: Path, live_server: Any
) -> None:
    server = await live_server(app_for(sample_service, tmp_path))
    refused = {host: await raw_get_status(server.port, host) for host in MALFORMED_HOSTS}
    assert {host: status for host, status in refused.items() if status not in (400, 403)} == {}
    served = {host: await raw_get_status(server.port, host) for host in WELL_FORMED_HOSTS}
    assert {host: status for host, status in served.items() if status != 200} == {}
