"""WebSocket /ws: a snapshot on connect, then engine events, with bounded per-client buffers.

Protocol (server → client only; anything the client sends is ignored):
  1. ``{"type": "snapshot", "tasks": [task…], "status": {queue…}, "service": {…}}``
  2. events, each ``{type, taskId, status, progress, message, result, error, timestamp, …}``;
     a message holds ONE event object, or a JSON ARRAY of events when several were ready.
  A client that falls too far behind is closed with code 4000, reason "resync": reconnect and
  start again from the snapshot. On shutdown clients are closed with 1001.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from tui_updater.core.events import Event, EventType
from tui_updater.core.service import SubscriberOverflow, Subscription, UpdaterService

logger = logging.getLogger("tui_updater")
RESYNC_CLOSE_CODE = 4000
RESYNC_REASON = "resync"
GOING_AWAY_CODE = 1001


class ClientBuffer:
    """One client's pending messages: progress coalesced per task, bounded by count and bytes."""

    def __init__(self, *, max_events: int, max_bytes: int):
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._slots: deque[list[str]] = deque()
        self._progress: dict[str | None, list[str]] = {}
        self._bytes = 0
        self._wake = asyncio.Event()
        self.overflowed = False
        self.closing: tuple[int, str] | None = None

    @property
    def pending_events(self) -> int:
        return len(self._slots)

    @property
    def pending_bytes(self) -> int:
        return self._bytes

    def push(self, event: Event, text: str) -> None:
        if self.overflowed or self.closing:
            return
        if event.type is EventType.TASK_PROGRESS:
            slot = self._progress.get(event.task_id)
            if slot is not None:
                self._bytes += len(text) - len(slot[0])
                slot[0] = text
                return
        if len(self._slots) >= self.max_events or self._bytes + len(text) > self.max_bytes:
            self.overflow()
            return
        slot = [text]
        self._slots.append(slot)
        self._bytes += len(text)
        if event.type is EventType.TASK_PROGRESS:
            self._progress[event.task_id] = slot
        self._wake.set()

    def overflow(self) -> None:
        """Drop the backlog; the sender closes the connection with 4000 "resync"."""
        self.overflowed = True
        self._slots.clear()
        self._progress.clear()
        self._bytes = 0
        self._wake.set()

    def close(self, code: int, reason: str) -> None:
        self.closing = (code, reason)
        self._wake.set()

    async def next_message(self) -> str:
        """The next frame: one event, or an array of events; raises on overflow or close."""
        while not self._slots and not self.overflowed and not self.closing:
            self._wake.clear()
            await self._wake.wait()
        if self.overflowed:
            raise SubscriberOverflow("client fell behind")
        if self.closing:
            raise ConnectionAbortedError(self.closing[1])
        texts = [slot[0] for slot in self._slots]
        self._slots.clear()
        self._progress.clear()
        self._bytes = 0
        return texts[0] if len(texts) == 1 else "[" + ",".join(texts) + "]"


class EventHub:
    """One engine subscription fanned out to every connected client; each event serialised once."""

    def __init__(
        self,
        service: UpdaterService,
        *,
        max_events: int = 2000,
        max_bytes: int = 4_000_000,
        send_timeout_s: float = 30.0,
    ):
        self.service = service
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.send_timeout_s = send_timeout_s
        self.clients: set[ClientBuffer] = set()
        self._subscription: Subscription | None = None
        self._pump: asyncio.Task[None] | None = None
        self.delivered_messages = 0

    def register(self) -> ClientBuffer:
        client = ClientBuffer(max_events=self.max_events, max_bytes=self.max_bytes)
        self.clients.add(client)
        if self._pump is None:
            self._subscription = self.service.subscribe()
            self._pump = asyncio.create_task(self._run(self._subscription), name="ws-event-pump")
        return client

    def unregister(self, client: ClientBuffer) -> None:
        self.clients.discard(client)
        if not self.clients:
            self._stop_pump()

    def _stop_pump(self) -> None:
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None

    async def _run(self, subscription: Subscription) -> None:
        try:
            async for batch in subscription.batches():
                for event in batch:
                    text = json.dumps(
                        event.to_json(), ensure_ascii=False, separators=(",", ":"), default=str
                    )
                    for client in tuple(self.clients):
                        client.push(event, text)
        except SubscriberOverflow:
            # The hub itself fell behind (the loop was starved): everyone resyncs.
            for client in tuple(self.clients):
                client.overflow()
            self._subscription = None
            self._pump = None

    def close_all(self, code: int = GOING_AWAY_CODE, reason: str = "server shutting down") -> None:
        for client in tuple(self.clients):
            client.close(code, reason)

    async def aclose(self) -> None:
        self.close_all()
        pump = self._pump
        self._stop_pump()
        if pump is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await pump


async def _snapshot(service: UpdaterService) -> str:
    tasks = await service.list_tasks()
    queue = await service.queue_status()
    info = await service.info()
    return json.dumps(
        {
            "type": "snapshot",
            "tasks": [t.to_json() for t in tasks],
            "status": queue.to_json(),
            "service": info.to_json(),
        },
        ensure_ascii=False,
        default=str,
    )


async def _send_loop(
    websocket: WebSocket, client: ClientBuffer, hub: EventHub
) -> tuple[int, str] | None:
    """Send until the client leaves; returns the close code and reason to use, if any."""
    while True:
        try:
            message = await client.next_message()
        except SubscriberOverflow:
            return RESYNC_CLOSE_CODE, RESYNC_REASON
        except ConnectionAbortedError:
            return client.closing
        try:
            async with asyncio.timeout(hub.send_timeout_s):
                await websocket.send_text(message)
        except TimeoutError:
            return RESYNC_CLOSE_CODE, RESYNC_REASON
        hub.delivered_messages += 1


async def _receive_loop(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


async def websocket_endpoint(websocket: WebSocket) -> None:
    hub: EventHub = websocket.app.state.hub
    await websocket.accept()
    client = hub.register()  # before the snapshot, so no event falls between the two
    try:
        await websocket.send_text(await _snapshot(hub.service))
        sender = asyncio.create_task(_send_loop(websocket, client, hub))
        receiver = asyncio.create_task(_receive_loop(websocket))
        done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        receiver.cancel()
        sender.cancel()
        close = None
        if sender in done and sender.exception() is None:
            close = sender.result()
        if close is not None and websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close(code=close[0], reason=close[1])
    except (WebSocketDisconnect, OSError, RuntimeError):
        pass  # the client went away mid-send
    finally:
        hub.unregister(client)
