"""Bounds on what a connection may hold: time to send request headers, and connections in all.

uvicorn (0.54, h11 and httptools alike) has no header-read timeout: ``timeout_keep_alive`` is
armed only after a response and is cancelled by the next byte, so a client that trickles its
headers holds a socket forever, and ``limit_concurrency`` answers 503 only once headers are
complete. Both bounds therefore live in a subclass of uvicorn's h11 protocol, where the
parser's state says whether a connection is still waiting for a request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

logger = logging.getLogger("tui_updater")


@dataclass(frozen=True)
class ConnectionLimits:
    """``header_timeout_s``: from a request's first byte (or the connection) to its last header
    line; ``max_connections``: open connections, WebSockets included."""

    header_timeout_s: float = 10.0
    max_connections: int = 256


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request-header deadline and a cap on open connections.

    At the cap a new connection closes the longest-waiting idle one (no request in progress:
    trickling headers or keep-alive), as nginx reuses keep-alive connections; when every open
    connection is busy the new one is closed at once.
    """

    limits = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._opened_at = time.monotonic()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self._make_room():
            logger.warning(
                "server: %d connections open, all busy; refused one from %s",
                self.limits.max_connections,
                self.client[0] if self.client else "?",
            )
            transport.close()
            return
        self._arm_header_deadline()

    def data_received(self, data: bytes) -> None:
        if self._header_deadline is None and self.awaiting_request():
            self._arm_header_deadline()  # a kept-alive connection starts its next request
        super().data_received(data)
        if not self.awaiting_request():
            self._cancel_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def awaiting_request(self) -> bool:
        """True while no request is in progress: headers still arriving, or idle keep-alive."""
        idle_cycle = self.cycle is None or self.cycle.response_complete
        return idle_cycle and self.conn.their_state is h11.IDLE

    def _make_room(self) -> bool:
        others = [
            conn
            for conn in self.connections
            if conn is not self and not conn.transport.is_closing()  # type: ignore[attr-defined]
        ]
        if len(others) < self.limits.max_connections:
            return True
        idle = [
            conn
            for conn in others
            if isinstance(conn, BoundedH11Protocol) and conn.awaiting_request()
        ]
        if not idle:
            return False
        min(idle, key=lambda conn: conn._opened_at).transport.close()
        return True

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        self._header_deadline = self.loop.call_later(
            self.limits.header_timeout_s, self._header_deadline_passed
        )

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _header_deadline_passed(self) -> None:
        self._header_deadline = None
        if self.awaiting_request() and not self.transport.is_closing():
            self.transport.close()


def bounded_protocol(limits: ConnectionLimits) -> type[BoundedH11Protocol]:
    """A BoundedH11Protocol class carrying these limits (uvicorn instantiates it per connection)."""
    return type("BoundedH11Protocol", (BoundedH11Protocol,), {"limits": limits})
