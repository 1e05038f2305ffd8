"""The remote event stream of ``--connect``: one WebSocket to the server's /ws, reconnected with
backoff, fanned out to bounded subscriptions that raise SubscriberOverflow to ask for a resync.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from websockets.asyncio.client import connect, unix_connect
from websockets.exceptions import InvalidStatus, WebSocketException

from tui_updater.core.eventbuffer import EventBuffer
from tui_updater.core.events import Event

logger = logging.getLogger("tui_updater")


class RemoteSubscription(EventBuffer[Event]):
    """A subscriber's bounded buffer (``core.eventbuffer``), fed by the EventChannel."""

    def __init__(self, channel: EventChannel, *, max_pending: int = 10_000):
        super().__init__(max_events=max_pending)
        self._channel = channel
        self.needs_resync = False  # set when the connection was lost after this subscribed

    def close(self) -> None:
        super().close()
        self._channel.detach(self)


def parse_message(text: str | bytes) -> tuple[list[Event], dict[str, Any] | None]:
    """Events in a /ws message (one object, or an array when batched) and the snapshot, if any."""
    try:
        data = json.loads(text)
    except ValueError:
        return [], None
    if isinstance(data, dict) and data.get("type") == "snapshot":
        return [], data
    items = data if isinstance(data, list) else [data]
    events: list[Event] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        try:
            events.append(Event.from_json(item))
        except (KeyError, ValueError, TypeError):
            continue  # an event type this client does not know yet
    return events, None


class EventChannel:
    """Keeps one WebSocket open; ``state`` is "connecting", "connected", "reconnecting in Ns"
    or "disconnected". After a reconnect every subscriber that may have missed events resyncs."""

    def __init__(
        self,
        ws_url: str,
        *,
        headers: dict[str, str],
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 10.0,
        uds: str | None = None,
    ):
        self.ws_url = ws_url
        self.uds = uds  # a Unix socket to connect through (the state dir owner's)
        self.headers = headers
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.subscribers: set[RemoteSubscription] = set()
        self.state = "disconnected"
        self.last_error: str | None = None
        self.snapshot: dict[str, Any] | None = None
        self.connects = 0
        self._task: asyncio.Task[None] | None = None

    def subscribe(self) -> RemoteSubscription:
        subscription = RemoteSubscription(self)
        # While the server is known to be down, whatever the caller loaded is stale: resync later.
        subscription.needs_resync = self.state.startswith("reconnecting")
        self.subscribers.add(subscription)
        if self._task is None:
            self.state = "connecting"
            self._task = asyncio.create_task(self._run(), name="remote-events")
        return subscription

    def detach(self, subscription: RemoteSubscription) -> None:
        self.subscribers.discard(subscription)

    def _lost(self) -> None:
        for subscription in self.subscribers:
            subscription.needs_resync = True

    def _connect(self) -> connect:
        options: dict[str, Any] = {
            "additional_headers": self.headers,
            "compression": None,
            "max_size": 64 * 1024 * 1024,
            "open_timeout": 10,
        }
        if self.uds is not None:
            return unix_connect(self.uds, self.ws_url, **options)
        return connect(self.ws_url, proxy=None, **options)

    async def _run(self) -> None:
        delay_s = self.backoff_initial_s
        while True:
            resync_requested = False
            try:
                async with self._connect() as ws:
                    first = await ws.recv()
                    _events, self.snapshot = parse_message(first)
                    self.state = "connected"
                    self.last_error = None
                    self.connects += 1
                    delay_s = self.backoff_initial_s
                    for subscription in tuple(self.subscribers):
                        if subscription.needs_resync:
                            subscription.needs_resync = False
                            subscription.overflow()  # batches() raises: resync
                    async for message in ws:
                        events, _snapshot = parse_message(message)
                        for subscription in tuple(self.subscribers):
                            for event in events:
                                subscription.push(event, event)
                    resync_requested = ws.close_code == 4000
                    self.last_error = (
                        f"closed by server ({ws.close_code} {ws.close_reason})".strip()
                    )
            except asyncio.CancelledError:
                self.state = "disconnected"
                raise
            except InvalidStatus as exc:
                self.last_error = f"refused: HTTP {exc.response.status_code}"
            except (OSError, TimeoutError, WebSocketException) as exc:
                self.last_error = str(exc) or type(exc).__name__
            self._lost()
            if resync_requested:
                self.state = "reconnecting"
                continue  # the server asked for a resync: reconnect at once
            await self._wait(delay_s)
            delay_s = min(delay_s * 2, self.backoff_max_s)

    async def _wait(self, delay_s: float) -> None:
        """Sleep before the next attempt, keeping ``state`` as a countdown for the header."""
        remaining_s = delay_s
        while remaining_s > 0:
            self.state = f"reconnecting in {remaining_s:g}s"
            step_s = min(1.0, remaining_s)
            await asyncio.sleep(step_s)
            remaining_s = round(remaining_s - step_s, 3)
        self.state = "reconnecting"

    async def aclose(self) -> None:
        for subscription in tuple(self.subscribers):
            subscription.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.state = "disconnected"
