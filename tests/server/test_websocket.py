"""/ws with a real uvicorn and a real websockets client: one event per frame (arrays only when
asked), order, field names, back-pressure."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.engine.test_bus import RETRY_SEQUENCE
from tests.server.conftest import app_for, wait_until
from tui_updater.core.events import Event, EventType
from tui_updater.engine.service import LocalService
from tui_updater.server.client import RemoteService
from tui_updater.server.websocket import RESYNC_CLOSE_CODE, EventHub

FIELDS = {"type", "taskId", "status", "progress", "message", "result", "error", "timestamp"}


def one_event(message: str | bytes) -> dict[str, Any]:
    """A default client's frame: exactly one JSON event object, as the seed's client expects."""
    data = json.loads(message)
    assert isinstance(data, dict), data
    return data


def events_of(frame: Any) -> list[dict[str, Any]]:
    """The events of a decoded frame: one object, or (for a batched client) an array of them."""
    return frame if isinstance(frame, list) else [frame]


async def events_until(ws: ClientConnection, task_id: str, last: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while True:
            event = one_event(await ws.recv())
            if event.get("taskId") == task_id and event["type"] != "log":
                seen.append(event)
                if event["type"] == last:
                    return seen


async def frames_until_marker(ws: ClientConnection, marker: str) -> list[Any]:
    """Every frame (decoded) up to the one holding the log line ``marker``."""
    frames: list[Any] = []
    async with asyncio.timeout(10):
        while True:
            frames.append(json.loads(await ws.recv()))
            if any(e.get("message") == marker for e in events_of(frames[-1])):
                return frames


def apply_in_order(events: list[dict[str, Any]], task_id: str) -> tuple[str, float]:
    """The state a client ends on that applies each event of the task as it arrives."""
    state = ("", 0.0)
    for event in events:
        if event.get("taskId") == task_id and event["type"] != "log":
            state = (event["status"], event["progress"])
    return state


@pytest.mark.parametrize("path", ["/ws", "/ws?batch=1"])
async def test_a_retry_replayed_through_the_websocket_ends_on_the_newest_state(
    sample_service: LocalService, tmp_path: Path, live_server: Any, path: str
) -> None:
    server = await live_server(app_for(sample_service, tmp_path))
    async with connect(f"ws://127.0.0.1:{server.port}{path}", proxy=None) as ws:
        await ws.recv()  # snapshot
        # Published back to back: the server's buffer for this client holds them all at once.
        for event in RETRY_SEQUENCE:
            sample_service.engine.bus.publish(event)
        sample_service.engine.bus.publish(Event(EventType.LOG, message="end of replay"))
        frames = await frames_until_marker(ws, "end of replay")
    events = [event for frame in frames for event in events_of(frame)]
    assert apply_in_order(events, "a") == ("RUNNING", 70)
    assert [(e["type"], e["progress"]) for e in events if e["type"] != "log"] == [
        ("task_progress", 50),
        ("task_retrying", 40),
        ("task_started", 40),
        ("task_progress", 70),
    ]


def a_task_story(task_id: str) -> list[Event]:
    return [
        Event(EventType.TASK_STARTED, task_id=task_id, status="RUNNING", progress=0.0),
        Event(EventType.LOG, task_id=task_id, message=f"task started: {task_id}", level="INFO"),
        Event(EventType.TASK_PROGRESS, task_id=task_id, status="RUNNING", progress=100.0),
        Event(EventType.LOG, task_id=task_id, message=f"task completed: {task_id}", level="INFO"),
        Event(EventType.TASK_COMPLETED, task_id=task_id, status="COMPLETED", progress=100.0),
    ]


async def test_events_ready_together_go_one_object_per_frame_unless_batching_was_asked(
    sample_service: LocalService, tmp_path: Path, live_server: Any
) -> None:
    server = await live_server(app_for(sample_service, tmp_path))
    url = f"ws://127.0.0.1:{server.port}"
    async with connect(f"{url}/ws", proxy=None) as plain:
        async with connect(f"{url}/ws?batch=1", proxy=None) as batched:
            await plain.recv()
            await batched.recv()
            story = [event for i in range(5) for event in a_task_story(f"task_{i}")]
            for event in story:
                sample_service.engine.bus.publish(event)
            sample_service.engine.bus.publish(Event(EventType.LOG, message="end"))
            plain_frames = await frames_until_marker(plain, "end")
            batched_frames = await frames_until_marker(batched, "end")
    assert all(isinstance(frame, dict) for frame in plain_frames)
    expected = [(e.type.value, e.task_id) for e in story] + [("log", None)]
    assert [(f["type"], f["taskId"]) for f in plain_frames] == expected
    # Everything was ready at once: the batched client gets it as one array.
    assert len(batched_frames) == 1 and isinstance(batched_frames[0], list)
    assert [(e["type"], e["taskId"]) for e in batched_frames[0]] == expected


async def test_the_connect_client_asks_for_batches_and_reads_them(
    sample_service: LocalService, tmp_path: Path, live_server: Any
) -> None:
    app = app_for(sample_service, tmp_path)
    hub: EventHub = app.state.hub
    server = await live_server(app)
    remote = RemoteService(f"http://127.0.0.1:{server.port}")
    try:
        subscription = remote.subscribe()
        await wait_until(lambda: len(hub.clients) == 1 and remote.connection_state == "connected")
        assert [client.batched for client in hub.clients] == [True]
        story = [event for i in range(3) for event in a_task_story(f"task_{i}")]
        for event in story:
            sample_service.engine.bus.publish(event)
        received: list[Event] = []
        async with asyncio.timeout(10):
            async for batch in subscription.batches():
                received += batch
                if len(received) >= len(story):
                    break
        assert [(e.type, e.task_id) for e in received] == [(e.type, e.task_id) for e in story]
        subscription.close()
    finally:
        await remote.aclose()


async def test_real_client_sees_started_progress_completed_in_order(
    sample_service: LocalService, tmp_path: Path, live_server: Any
) -> None:
    server = await live_server(app_for(sample_service, tmp_path))
    async with connect(f"ws://127.0.0.1:{server.port}/ws", proxy=None) as ws:
        snapshot = json.loads(await ws.recv())
        assert (
            snapshot["type"] == "snapshot"
            and snapshot["tasks"] == []
            and "paused" in snapshot["status"]
        )
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{server.port}", trust_env=False
        ) as http:
            created = await http.post(
                "/api/tasks",
                json={"type": "SAMPLE", "data": {"count": 30, "sleep_s": 0.005, "concurrency": 3}},
            )
        assert created.status_code == 201
        task_id = created.json()["taskId"]
        events = await events_until(ws, task_id, "task_completed")

    kinds = [e["type"] for e in events]
    assert (
        kinds[0] == "task_created" and kinds[1] == "task_started" and kinds[-1] == "task_completed"
    )
    assert set(kinds[2:-1]) == {"task_progress"} and len(kinds) >= 3
    progress = [e["progress"] for e in events if e["type"] == "task_progress"]
    assert progress == sorted(progress)
    for event in events:
        assert FIELDS <= set(event), event
        assert isinstance(event["timestamp"], int)
    assert events[-1]["status"] == "COMPLETED" and events[-1]["progress"] == 100.0


async def test_snapshot_lists_existing_tasks(
    sample_service: LocalService, tmp_path: Path, live_server: Any
) -> None:
    await sample_service.pause()
    task = await sample_service.submit("SAMPLE", {"count": 1})
    server = await live_server(app_for(sample_service, tmp_path))
    async with connect(f"ws://127.0.0.1:{server.port}/ws", proxy=None) as ws:
        snapshot = json.loads(await ws.recv())
    assert [t["taskId"] for t in snapshot["tasks"]] == [task.task_id]
    assert snapshot["status"]["paused"] is True


def flood_progress(service: LocalService, task_ids: list[str], steps: int) -> None:
    for step in range(steps):
        for task_id in task_ids:
            service.engine.bus.publish(
                Event(
                    EventType.TASK_PROGRESS,
                    task_id=task_id,
                    status="RUNNING",
                    progress=step / steps * 100,
                )
            )


async def test_slow_client_gets_progress_coalesced_and_every_terminal_event(
    sample_service: LocalService, tmp_path: Path, live_server: Any
) -> None:
    app = app_for(sample_service, tmp_path)
    hub: EventHub = app.state.hub
    server = await live_server(app)
    task_ids = [f"task_{i}" for i in range(20)]
    async with connect(f"ws://127.0.0.1:{server.port}/ws", proxy=None, max_queue=1) as ws:
        await ws.recv()  # snapshot; from here on the client does not read for a while
        for round_ in range(20):
            flood_progress(sample_service, task_ids, 50)
            await asyncio.sleep(0)
            for client in hub.clients:  # bounded: at most one progress slot per task is queued
                assert client.pending <= len(task_ids) * 2
                assert not client.overflowed, round_
        for task_id in task_ids:
            sample_service.engine.bus.publish(
                Event(EventType.TASK_COMPLETED, task_id=task_id, status="COMPLETED", progress=100.0)
            )
        received: list[dict[str, Any]] = []
        async with asyncio.timeout(10):
            while sum(1 for e in received if e["type"] == "task_completed") < len(task_ids):
                received.append(one_event(await ws.recv()))
    completed = [e["taskId"] for e in received if e["type"] == "task_completed"]
    assert completed == task_ids
    assert sum(1 for e in received if e["type"] == "task_progress") < 20 * 50 * len(task_ids)


async def test_client_that_falls_behind_is_closed_with_resync(
    sample_service: LocalService, tmp_path: Path, live_server: Any
) -> None:
    app = app_for(sample_service, tmp_path)
    app.state.hub = EventHub(sample_service, max_events=50, max_bytes=100_000)
    server = await live_server(app)
    async with connect(f"ws://127.0.0.1:{server.port}/ws", proxy=None, max_queue=1) as ws:
        await ws.recv()
        hub: EventHub = app.state.hub
        for chunk in range(10):  # log lines are never coalesced: 200 per chunk overflows 50 slots
            for line in range(200):
                sample_service.engine.bus.publish(
                    Event(EventType.LOG, message=f"line {chunk}-{line} " + "x" * 200, level="INFO")
                )
            await asyncio.sleep(0)
            for client in hub.clients:
                assert client.pending <= 50 and client.pending_size <= 100_000
        async with asyncio.timeout(10):
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == RESYNC_CLOSE_CODE and closed.value.rcvd.reason == "resync"
    # After reconnecting the client resyncs from a fresh snapshot.
    async with connect(f"ws://127.0.0.1:{server.port}/ws", proxy=None) as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"


async def test_hub_unsubscribes_when_last_client_leaves(
    sample_service: LocalService, tmp_path: Path, live_server: Any
) -> None:
    app = app_for(sample_service, tmp_path)
    server = await live_server(app)
    async with connect(f"ws://127.0.0.1:{server.port}/ws", proxy=None) as ws:
        await ws.recv()
        assert sample_service.engine.bus.subscriber_count == 1
    await wait_until(lambda: sample_service.engine.bus.subscriber_count == 0)
    assert not app.state.hub.clients


async def test_server_shutdown_closes_clients_with_going_away(
    sample_service: LocalService, tmp_path: Path, live_server: Any
) -> None:
    app = app_for(sample_service, tmp_path)
    server = await live_server(app)
    async with connect(f"ws://127.0.0.1:{server.port}/ws", proxy=None) as ws:
        await ws.recv()
        await app.state.hub.aclose()
        async with asyncio.timeout(5):
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
