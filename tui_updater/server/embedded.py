"""uvicorn run inside an already running asyncio loop, leaving signal handling to the caller."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from tui_updater.server.limits import ConnectionLimits, bounded_protocol
from tui_updater.server.wsframes import FramedWebSocketProtocol


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that does not install its own SIGINT/SIGTERM handlers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _DenialNoiseFilter(logging.Filter):
    """uvicorn logs an error after a WebSocket denial response it sent itself; drop that line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "ASGI callable returned without completing handshake."


_DENIAL_FILTER = _DenialNoiseFilter()


class RunningServer:
    """A started EmbeddedServer: its bound port, and a way to stop it."""

    def __init__(self, server: EmbeddedServer, task: asyncio.Task[None]):
        self.server = server
        self.task = task
        self.app: Any = None  # the app served, for its owner to close its WebSocket hub

    @property
    def port(self) -> int:
        sockets = self.server.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    @property
    def host(self) -> str:
        return str(self.server.config.host)

    def stop_accepting(self) -> None:
        """Close the listening sockets now; open connections stay until stop()."""
        self.server.should_exit = True
        for listener in self.server.servers:
            listener.close()

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def server_config(
    app: ASGIApp, host: str, port: int, limits: ConnectionLimits = ConnectionLimits()
) -> uvicorn.Config:
    """uvicorn settings: no logging config of its own, no lifespan, no WebSocket compression,
    and h11 bounded in header time and open connections (see server.limits)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=bounded_protocol(limits),
        log_config=None,
        lifespan="off",
        ws=FramedWebSocketProtocol,  # websockets-sansio, plus one write per batch of frames
        ws_per_message_deflate=False,
        ws_max_size=1_048_576,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=5,
    )


async def start_server(
    app: ASGIApp, host: str, port: int, *, limits: ConnectionLimits = ConnectionLimits()
) -> RunningServer:
    """Start serving in the current loop; raise OSError when the port cannot be bound."""
    return await _start(
        EmbeddedServer(server_config(app, host, port, limits)),
        None,
        f"cannot listen on {host}:{port} (address in use or not available)",
    )


async def serve_unix_socket(
    app: ASGIApp, sock: socket.socket, *, limits: ConnectionLimits = ConnectionLimits()
) -> RunningServer:
    """Serve on a bound, listening Unix socket, connections already queued on it included."""
    server = EmbeddedServer(server_config(app, "localhost", 0, limits))
    return await _start(server, [sock], f"cannot serve on {sock.getsockname()}")


async def _start(
    server: EmbeddedServer, sockets: list[socket.socket] | None, failure: str
) -> RunningServer:
    uvicorn_logger = logging.getLogger("uvicorn.error")
    if _DENIAL_FILTER not in uvicorn_logger.filters:
        uvicorn_logger.addFilter(_DENIAL_FILTER)
    task = asyncio.create_task(server.serve(sockets=sockets), name="uvicorn")
    while not server.started:
        if task.done():
            # uvicorn logs a bind failure and raises SystemExit; report it as an OSError.
            with contextlib.suppress(SystemExit):
                task.result()
            raise OSError(failure)
        await asyncio.sleep(0.01)
    return RunningServer(server, task)
