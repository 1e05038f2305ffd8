"""Changing a pending task's priority: its place in the queue, what is stored, what is refused."""

from __future__ import annotations

import asyncio

import pytest

from tests.engine.sample_types import Recorder
from tui_updater.core.models import Priority, TaskStatus
from tui_updater.errors import InvalidParameters, TaskNotFound, TaskStateError


async def test_a_new_priority_reorders_the_queue_and_is_stored(make_engine, recorder: Recorder):
    engine = make_engine(max_running_tasks=1)
    await engine.start()
    await engine.pause()
    labels = {}
    for label, priority in [("a", "LOW"), ("b", "NORMAL"), ("c", "NORMAL"), ("d", "HIGH")]:
        task = await engine.submit("SAMPLE", {"count": 1, "label": label}, priority)
        labels[label] = task.task_id
    changed = await engine.set_priority(labels["a"], "URGENT")
    assert changed.priority is Priority.URGENT and changed.status is TaskStatus.PENDING
    stored = await engine.store.get_task(labels["a"])
    assert stored is not None and stored.priority is Priority.URGENT
    lowered = await engine.set_priority(labels["d"], 1)
    assert lowered.priority is Priority.LOW
    await engine.resume()
    await engine.wait_idle()
    order = {task_id: label for label, task_id in labels.items()}
    assert [order[t] for t in recorder.started] == ["a", "b", "c", "d"]
    await engine.stop()


async def test_tasks_raised_to_one_priority_keep_their_submission_order(
    make_engine, recorder: Recorder
):
    engine = make_engine(max_running_tasks=1)
    await engine.start()
    await engine.pause()
    first = await engine.submit("SAMPLE", {"count": 1}, "LOW")
    second = await engine.submit("SAMPLE", {"count": 1}, "LOW")
    await engine.set_priority(second.task_id, "HIGH")
    await engine.set_priority(first.task_id, "HIGH")
    await engine.resume()
    await engine.wait_idle()
    assert recorder.started == [first.task_id, second.task_id]
    await engine.stop()


async def test_only_pending_tasks_change_priority(make_engine, recorder: Recorder):
    engine = make_engine()
    await engine.start()
    running = await engine.submit("SAMPLE", {"count": 2, "concurrency": 1, "sleep_s": 30})
    while not recorder.in_flight:
        await asyncio.sleep(0.005)
    with pytest.raises(TaskStateError, match="RUNNING"):
        await engine.set_priority(running.task_id, "HIGH")
    cancelled = await engine.cancel(running.task_id)
    with pytest.raises(TaskStateError, match="CANCELLED"):
        await engine.set_priority(cancelled.task_id, "HIGH")
    with pytest.raises(TaskNotFound):
        await engine.set_priority("task_does_not_exist", "HIGH")
    await engine.pause()
    queued = await engine.submit("SAMPLE", {"count": 1})
    with pytest.raises(InvalidParameters) as bad:
        await engine.set_priority(queued.task_id, "SOON")
    assert bad.value.field == "priority"
    assert (await engine.get_task(queued.task_id)).priority is Priority.NORMAL
    await engine.stop()
