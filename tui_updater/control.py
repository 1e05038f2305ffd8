"""The state dir's control socket: listening from the start, served from its first connection.

The owner binds the socket as it opens, so another process can attach at once; the engine's
REST + WebSocket app (Starlette under uvicorn) is built only when a client first connects. A
``run`` nobody attaches to never imports the server stack, nor waits for uvicorn to stop.
Connections made before the app is up wait in the socket's backlog and are served once it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_updater.server.embedded import RunningServer

log = logging.getLogger(__name__)

_BACKLOG = 128


def bind_unix_socket(path: Path) -> socket.socket:
    """A listening Unix socket only this user can open (0600 from the moment it exists)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)
    try:
        sock.bind(str(path))
        os.chmod(path, 0o600)
        sock.listen(_BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    finally:
        os.umask(previous)
    return sock


class ControlSocket:
    """Serves ``make_app()`` on ``path`` once a client connects; ``aclose()`` stops either way."""

    def __init__(self, path: Path, make_app: Callable[[], Any]) -> None:
        self.path = path
        self._make_app = make_app
        self._sock: socket.socket | None = bind_unix_socket(path)
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._sock.fileno(), self._first_connection)
        self._starting: asyncio.Task[None] | None = None
        self.running: RunningServer | None = None

    @property
    def serving(self) -> bool:
        """Whether a client has connected, so the app is up or coming up (it may answer its
        first request before ``_serve`` resumes to record it)."""
        return self.running is not None or (
            self._starting is not None and not self._starting.done()
        )

    def _first_connection(self) -> None:
        assert self._sock is not None
        self._loop.remove_reader(self._sock.fileno())
        self._starting = asyncio.create_task(self._serve(self._sock), name="control-socket")

    async def _serve(self, sock: socket.socket) -> None:
        from tui_updater.server.embedded import serve_unix_socket

        try:
            app = self._make_app()
            running = await serve_unix_socket(app, sock)
        except Exception:
            # Queued clients are refused rather than left waiting for an app that never comes.
            log.exception("the control socket %s could not be served", self.path)
            self._close_socket()
            return
        running.app = app
        self.running = running

    def _close_socket(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None

    async def aclose(self) -> None:
        """Stop accepting; when the app was up, close its WebSocket clients (code 1001) and
        wait for uvicorn to finish the requests in progress."""
        if self._starting is not None:
            await asyncio.shield(self._starting)
        running, self.running = self.running, None
        if running is None:
            self._close_socket()
            return
        running.stop_accepting()
        self._sock = None  # uvicorn's listener owned and closed it
        if running.app is not None:
            await running.app.state.hub.aclose()
        await running.stop()
