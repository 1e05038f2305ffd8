"""WebSocket /ws: a snapshot on connect, then engine events, with bounded per-client buffers.

Protocol (server → client only; anything the client sends is ignored):
  1. ``{"type": "snapshot", "tasks": [task…], "status": {queue…}, "service": {…}}``
  2. events, ONE JSON event object per message:
     ``{type, taskId, status, progress, message, result, error, timestamp, …}``.
     A client that connects to ``/ws?batch=1`` gets everything ready at once in one message:
     a single object, or a JSON ARRAY of events (``--connect`` asks for this).
  Each event is its own frame; where the server offers it (``server.wsframes``) every frame a
  client has ready goes out in one write, each event framed once for all clients.
  A client that falls too far behind is closed with code 4000, reason "resync": reconnect and
  start again from the snapshot. On shutdown clients are closed with 1001.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from tui_updater.core.eventbuffer import EventBuffer, SharedBatch
from tui_updater.core.service import SubscriberOverflow, Subscription, UpdaterService
from tui_updater.server.wsframes import supports_frames, text_frame

logger = logging.getLogger("tui_updater")
RESYNC_CLOSE_CODE = 4000
RESYNC_REASON = "resync"
GOING_AWAY_CODE = 1001
BATCH_QUERY_VALUES = ("1", "true", "yes")


class EncodedEvent:
    """One event as every client is sent it: its JSON text, and that text as a WebSocket frame."""

    __slots__ = ("frame", "text")

    def __init__(self, text: str, frame: bytes | None):
        self.text = text
        self.frame = frame


class ClientStream(EventBuffer[EncodedEvent]):
    """One client's pending events (``core.eventbuffer``), bounded by count and JSON bytes."""

    def __init__(self, *, max_events: int, max_bytes: int, batched: bool, framed: bool = False):
        super().__init__(max_events=max_events, max_size=max_bytes)
        self.batched = batched
        self.framed = framed  # sends ready-made frames (server.wsframes)
        self.closing: tuple[int, str] | None = None

    def shut(self, code: int, reason: str) -> None:
        """Stop sending; the connection is closed with ``code`` and ``reason``."""
        self.closing = (code, reason)
        self.close()

    def frames(self, events: list[EncodedEvent]) -> list[str]:
        """One event object per frame; a batched client gets one array of everything ready."""
        texts = [event.text for event in events]
        if not self.batched or len(texts) == 1:
            return texts
        return ["[" + ",".join(texts) + "]"]


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
        self.clients: set[ClientStream] = set()
        self._subscription: Subscription | None = None
        self._pump: asyncio.Task[None] | None = None
        self.delivered_messages = 0
        self._framed_clients = 0
        # the bytes last sent for a run of events, per mode (batched or not): every client
        # drains the same run when they keep up, and is sent the same bytes
        self._wire: dict[bool, tuple[list[EncodedEvent], bytes]] = {}

    def register(self, *, batched: bool = False, framed: bool = False) -> ClientStream:
        client = ClientStream(
            max_events=self.max_events, max_bytes=self.max_bytes, batched=batched, framed=framed
        )
        self.clients.add(client)
        self._framed_clients += client.framed
        if self._pump is None:
            self._subscription = self.service.subscribe()
            self._pump = asyncio.create_task(self._run(self._subscription), name="ws-event-pump")
        return client

    def unregister(self, client: ClientStream) -> None:
        if client in self.clients:
            self.clients.discard(client)
            self._framed_clients -= client.framed
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
                framed = self._framed_clients > 0
                encoded: list[EncodedEvent] = []
                for event in batch:
                    # Encoded once for every client: the JSON, and the frame that carries it.
                    text = json.dumps(
                        event.to_json(), ensure_ascii=False, separators=(",", ":"), default=str
                    )
                    encoded.append(
                        EncodedEvent(text, text_frame(text.encode()) if framed else None)
                    )
                shared = SharedBatch(batch, encoded, [len(e.text) for e in encoded])
                for client in tuple(self.clients):
                    client.extend(shared)
        except SubscriberOverflow:
            # The hub itself fell behind (the loop was starved): everyone resyncs.
            for client in tuple(self.clients):
                client.overflow()
            self._subscription = None
            self._pump = None

    def wire_bytes(self, events: list[EncodedEvent], batched: bool) -> bytes:
        """The frames a framed client is sent for ``events``, built once per run of events.

        One frame per event, or for a batched client one frame holding a JSON array (a single
        event goes as its own object, as ``ClientStream.frames`` sends it).
        """
        last = self._wire.get(batched)
        if last is not None and last[0] == events:  # element by element: identity, in C
            return last[1]
        if batched and len(events) > 1:
            data = text_frame(("[" + ",".join(e.text for e in events) + "]").encode())
        else:
            data = b"".join(e.frame or text_frame(e.text.encode()) for e in events)
        self._wire[batched] = (events, data)
        return data

    def close_all(self, code: int = GOING_AWAY_CODE, reason: str = "server shutting down") -> None:
        for client in tuple(self.clients):
            client.shut(code, reason)

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
    websocket: WebSocket, client: ClientStream, hub: EventHub
) -> tuple[int, str] | None:
    """Send until the client leaves; returns the close code and reason to use, if any."""
    while True:
        try:
            events = await client.get_batch()
        except SubscriberOverflow:
            return RESYNC_CLOSE_CODE, RESYNC_REASON
        if client.closing is not None:
            return client.closing
        if not events:
            return None
        try:
            # One deadline for what was taken: a client that cannot accept it in time resyncs.
            async with asyncio.timeout(hub.send_timeout_s):
                if client.framed:
                    data = hub.wire_bytes(events, client.batched)
                    await websocket.send({"type": "websocket.send", "frames": [data]})
                    sent = 1 if client.batched else len(events)
                else:
                    texts = client.frames(events)
                    for text in texts:
                        await websocket.send_text(text)
                    sent = len(texts)
        except TimeoutError:
            return RESYNC_CLOSE_CODE, RESYNC_REASON
        hub.delivered_messages += sent


async def _receive_loop(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


async def websocket_endpoint(websocket: WebSocket) -> None:
    hub: EventHub = websocket.app.state.hub
    batched = websocket.query_params.get("batch", "").lower() in BATCH_QUERY_VALUES
    await websocket.accept()
    framed = supports_frames(websocket.scope)
    client = hub.register(
        batched=batched, framed=framed
    )  # before the snapshot: no event falls between the two
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
