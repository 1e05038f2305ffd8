"""RemoteService (--connect) against a real server: the same answers and exceptions, events, reconnect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import app_for, wait_until
from tui_updater.core.events import Event, EventType
from tui_updater.core.models import Priority, TaskStatus
from tui_updater.core.service import SubscriberOverflow, UpdaterService
from tui_updater.engine.service import LocalService
from tui_updater.errors import InvalidParameters, TaskNotFound, TaskStateError, UnknownTaskType
from tui_updater.server.client import (
    RemoteError,
    RemoteService,
    ServerUnreachable,
    error_from_response,
)
from tui_updater.server.embedded import start_server


@pytest.fixture
async def remote(
    sample_service: LocalService, tmp_path: Path, live_server: Any
) -> AsyncIterator[RemoteService]:
    server = await live_server(app_for(sample_service, tmp_path))
    service = RemoteService(
        f"http://127.0.0.1:{server.port}", backoff_initial_s=0.05, backoff_max_s=0.2
    )
    yield service
    await service.aclose()


async def collect_until(subscription: Any, task_id: str, kind: EventType) -> list[Event]:
    seen: list[Event] = []
    async with asyncio.timeout(10):
        async for batch in subscription.batches():
            seen += [e for e in batch if e.task_id == task_id]
            if any(e.type is kind for e in seen):
                return seen
    return seen


async def test_remote_service_is_an_updater_service(remote: RemoteService) -> None:
    service: UpdaterService = remote  # type-checked against the protocol
    info = await service.info()
    assert info.remote == remote.url and info.provider == "offline"
    assert [t.name for t in await service.task_types()] == ["SAMPLE"]
    assert await service.preview("SAMPLE", {"count": 7}) == 7


async def test_submit_list_get_items_logs_through_rest(
    remote: RemoteService, sample_service: LocalService
) -> None:
    subscription = remote.subscribe()
    task = await remote.submit("SAMPLE", {"count": 4}, Priority.HIGH)
    assert task.priority is Priority.HIGH and task.status is TaskStatus.PENDING
    events = await collect_until(subscription, task.task_id, EventType.TASK_COMPLETED)
    assert events[0].type is EventType.TASK_CREATED
    done = await remote.get_task(task.task_id)
    assert done.status is TaskStatus.COMPLETED and done.counts.done == 4
    assert [t.task_id for t in await remote.list_tasks(status="COMPLETED")] == [task.task_id]
    assert len(await remote.list_items(task.task_id)) == 4
    assert await remote.task_logs(task.task_id)
    status = await remote.queue_status()
    assert status.total == 1 and not status.paused
    await remote.delete(task.task_id)
    with pytest.raises(TaskNotFound):
        await remote.get_task(task.task_id)
    subscription.close()


async def test_errors_come_back_as_the_same_exceptions(remote: RemoteService) -> None:
    with pytest.raises(InvalidParameters) as bad:
        await remote.submit("SAMPLE", {"count": "many"})
    assert bad.value.field == "count"
    with pytest.raises(InvalidParameters) as bad_priority:
        await remote.submit("SAMPLE", {}, "SOON")
    assert bad_priority.value.field == "priority"
    with pytest.raises(UnknownTaskType) as unknown:
        await remote.submit("NOPE", {})
    assert unknown.value.known == ["SAMPLE"]
    with pytest.raises(TaskNotFound):
        await remote.cancel("task_missing")
    await remote.pause()
    task = await remote.submit("SAMPLE", {"count": 1})
    await remote.cancel(task.task_id)
    with pytest.raises(TaskStateError):
        await remote.cancel(task.task_id)
    assert isinstance(
        error_from_response(401, {"error": {"code": "unauthorized", "message": "m"}}), RemoteError
    )


async def test_pause_resume_and_cancel_a_running_task(remote: RemoteService) -> None:
    task = await remote.submit("SAMPLE", {"count": 50, "sleep_s": 0.05, "concurrency": 1})
    for _ in range(500):
        if (await remote.get_task(task.task_id)).status is TaskStatus.RUNNING:
            break
        await asyncio.sleep(0.01)
    cancelled = await remote.cancel(task.task_id)
    assert cancelled.status is TaskStatus.CANCELLED
    retried = await remote.retry(task.task_id)
    assert retried.status is TaskStatus.PENDING


async def test_unreachable_server_raises_server_unreachable() -> None:
    remote = RemoteService("http://127.0.0.1:9", backoff_initial_s=0.05)
    try:
        with pytest.raises(ServerUnreachable, match=r"127\.0\.0\.1:9"):
            await remote.list_tasks()
    finally:
        await remote.aclose()


async def test_reconnects_after_restart_and_asks_for_a_resync(
    sample_service: LocalService, tmp_path: Path
) -> None:
    app = app_for(sample_service, tmp_path)
    server = await start_server(app, "127.0.0.1", 0)
    port = server.port
    remote = RemoteService(f"http://127.0.0.1:{port}", backoff_initial_s=0.05, backoff_max_s=0.2)
    try:
        subscription = remote.subscribe()
        await wait_until(lambda: remote.connection_state == "connected")
        await server.stop()
        await wait_until(lambda: remote.connection_state.startswith("reconnecting"))
        with pytest.raises(ServerUnreachable):
            await remote.list_tasks()

        server = await start_server(app_for(sample_service, tmp_path), "127.0.0.1", port)
        with pytest.raises(SubscriberOverflow):
            async with asyncio.timeout(10):
                async for _batch in subscription.batches():
                    pass
        assert remote.connection_state == "connected", remote.last_error
        # Resync: list the tasks, subscribe again; new events flow on the same connection.
        assert await remote.list_tasks() == []
        again = remote.subscribe()
        task = await remote.submit("SAMPLE", {"count": 2})
        events = await collect_until(again, task.task_id, EventType.TASK_COMPLETED)
        assert events[-1].type is EventType.TASK_COMPLETED
    finally:
        await remote.aclose()
        await server.stop()
    assert remote.connection_state == "disconnected"
