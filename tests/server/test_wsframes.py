"""The frames extension of the embedded server: default clients get every ready event as a frame
of its own, written together; servers without the extension still serve one text per send."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from tests.server.conftest import app_for, wait_until
from tui_updater.core.events import Event, EventType
from tui_updater.engine.service import LocalService
from tui_updater.server.embedded import EmbeddedServer, _start, server_config
from tui_updater.server.websocket import EventHub
from tui_updater.server.wsframes import text_frame

READY_TOGETHER = 60


def burst(count: int) -> list[Event]:
    """Terminal events and log lines alternating, all published before the sender runs."""
    return [
        Event(EventType.TASK_COMPLETED, task_id=f"t{i}", status="COMPLETED", progress=100.0)
        if i % 2
        else Event(EventType.LOG, task_id=f"t{i}", message=f"line {i}", level="INFO")
        for i in range(count)
    ]


async def receive_burst(port: int, service: LocalService, hub: EventHub) -> list[Any]:
    async with connect(f"ws://127.0.0.1:{port}/ws", proxy=None) as ws:
        await ws.recv()  # the snapshot
        await wait_until(lambda: len(hub.clients) == 1)
        for event in burst(READY_TOGETHER):
            service.engine.bus.publish(event)
        return [json.loads(await ws.recv()) for _ in range(READY_TOGETHER)]


def assert_one_event_per_frame_in_order(frames: list[Any]) -> None:
    assert all(isinstance(frame, dict) for frame in frames)  # never an array: one event a frame
    assert [frame["taskId"] for frame in frames] == [f"t{i}" for i in range(READY_TOGETHER)]
    terminal = [frame for frame in frames if frame["type"] == "task_completed"]
    assert len(terminal) == READY_TOGETHER // 2


async def test_default_clients_are_sent_ready_made_frames_one_event_each(
    sample_service: LocalService, tmp_path: Path, live_server: Any
) -> None:
    app = app_for(sample_service, tmp_path)
    server = await live_server(app)
    hub: EventHub = app.state.hub
    frames = await receive_burst(server.port, sample_service, hub)
    assert_one_event_per_frame_in_order(frames)
    assert hub.delivered_messages >= READY_TOGETHER


async def test_the_hub_uses_frames_only_where_the_server_offers_them(
    sample_service: LocalService, tmp_path: Path, live_server: Any
) -> None:
    app = app_for(sample_service, tmp_path)
    server = await live_server(app)
    hub: EventHub = app.state.hub
    async with connect(f"ws://127.0.0.1:{server.port}/ws", proxy=None) as ws:
        await ws.recv()
        await wait_until(lambda: len(hub.clients) == 1)
        assert [client.framed for client in hub.clients] == [True]
    async with connect(f"ws://127.0.0.1:{server.port}/ws?batch=1", proxy=None) as ws:
        await ws.recv()
        await wait_until(lambda: len(hub.clients) == 1)
        assert [client.framed for client in hub.clients] == [True]  # batched: one array frame


async def test_a_server_without_the_extension_gets_one_text_per_event(
    sample_service: LocalService, tmp_path: Path
) -> None:
    app = app_for(sample_service, tmp_path)
    config = server_config(app, "127.0.0.1", 0)
    config.ws = "websockets-sansio"  # uvicorn's own protocol: no frames extension
    server = await _start(EmbeddedServer(config), None, "cannot listen")
    try:
        hub: EventHub = app.state.hub
        frames = await receive_burst(server.port, sample_service, hub)
        assert_one_event_per_frame_in_order(frames)
    finally:
        with contextlib.suppress(Exception):
            await app.state.hub.aclose()
        await server.stop()


def test_text_frame_is_a_final_unmasked_text_frame_of_the_payload() -> None:
    for payload in (b'{"type":"log"}', "é".encode() * 100, b"x" * 70_000):  # 7, 16, 64-bit sizes
        reader = StreamReader()
        reader.feed_data(text_frame(payload))
        parser = Frame.parse(reader.read_exact, mask=False)
        try:
            next(parser)
            raise AssertionError("the frame is incomplete")
        except StopIteration as done:
            parsed = done.value
        assert parsed.fin and parsed.opcode is Opcode.TEXT and parsed.data == payload
        assert reader.buffer == b""  # nothing after the frame
