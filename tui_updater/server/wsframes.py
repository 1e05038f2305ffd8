"""The WebSocket protocol the embedded server runs: uvicorn's websockets-sansio one, plus an ASGI
extension that sends many ready-made frames in one write.

Fanned-out events are the same bytes for every client (a server's frames are not masked), so
the hub frames each event once (``text_frame``) and a client's sender hands over every frame it
has ready in one ``websocket.send`` message carrying ``frames``: one transport write, one
system call, instead of one per frame. Each event is still a frame of its own. A server without
the extension (any other ASGI server, the test client) simply gets one ``text`` per message.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

FRAMES_EXTENSION = "tavern.websocket.frames"


def text_frame(payload: bytes) -> bytes:
    """A complete, unmasked text frame (a server's) holding ``payload`` (UTF-8 JSON)."""
    return Frame(Opcode.TEXT, payload).serialize(mask=False)


def supports_frames(scope: Any) -> bool:
    """Whether the server behind this connection takes ``frames`` in ``websocket.send``."""
    return FRAMES_EXTENSION in (scope.get("extensions") or {})


class FramedWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, advertising and serving ``FRAMES_EXTENSION``."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        # The app's task is created above but has not run yet: it sees the extension.
        self.scope["extensions"][FRAMES_EXTENSION] = {}

    async def send(self, message: Any) -> None:
        frames = message.get("frames") if message["type"] == "websocket.send" else None
        if frames is None:
            await super().send(message)
            return
        await self.writable.wait()  # the transport's flow control, as for any send
        if self.disconnected:
            raise ClientDisconnected()
        if not self.handshake_complete or self.initial_response is not None:
            raise RuntimeError("frames sent before the WebSocket was accepted")
        if self.close_sent or self.conn.state is not State.OPEN:
            # Closing (either side): no data frame may follow a close frame.
            raise ClientDisconnected()
        # Whole unfragmented data frames between whole frames of the protocol's own (pings, the
        # close): the connection's state machine has nothing to track for them.
        self.transport.write(b"".join(frames))
