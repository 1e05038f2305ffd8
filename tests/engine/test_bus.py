"""The event bus: progress coalesced in place per task, terminal events kept, overflow → resync."""

from __future__ import annotations

import pytest

from tui_updater.core.events import Event, EventType
from tui_updater.core.service import SubscriberOverflow
from tui_updater.engine.bus import EventBus


def progress(task_id: str, value: float) -> Event:
    return Event(EventType.TASK_PROGRESS, task_id=task_id, progress=value)


def test_progress_coalesces_in_place_and_terminal_events_stay():
    bus = EventBus()
    sub = bus.subscribe()
    bus.publish(Event(EventType.TASK_STARTED, task_id="a"))
    bus.publish(progress("a", 10))
    bus.publish(progress("b", 5))
    bus.publish(progress("a", 20))
    bus.publish(progress("a", 30))
    bus.publish(Event(EventType.TASK_COMPLETED, task_id="a"))
    bus.publish(Event(EventType.TASK_FAILED, task_id="b"))
    events = sub.drain()
    assert [(e.type.value, e.task_id, e.progress) for e in events] == [
        ("task_started", "a", None),
        ("task_progress", "a", 30),
        ("task_progress", "b", 5),
        ("task_completed", "a", None),
        ("task_failed", "b", None),
    ]
    assert sub.coalesced == 2
    bus.publish(progress("a", 40))  # after a drain, progress queues again
    assert [e.progress for e in sub.drain()] == [40]


def test_a_subscriber_that_falls_behind_is_told_to_resync():
    bus = EventBus()
    slow = bus.subscribe(max_pending=5)
    fast = bus.subscribe(max_pending=100)
    for i in range(6):
        bus.publish(Event(EventType.TASK_CREATED, task_id=f"t{i}"))
    with pytest.raises(SubscriberOverflow):
        slow.drain()
    assert len(fast.drain()) == 6  # one slow subscriber never costs the others anything
    for i in range(50):
        bus.publish(progress("t0", i))
    assert fast.pending == 1  # bounded: progress for one task is one slot


async def test_batches_wait_for_events_and_close_ends_iteration():
    bus = EventBus()
    sub = bus.subscribe()
    bus.publish(Event(EventType.QUEUE_PAUSED))
    batch = await sub.get_batch()
    assert [e.type for e in batch] == [EventType.QUEUE_PAUSED]
    sub.close()
    assert await sub.get_batch() == []
    assert bus.subscriber_count == 0
