"""The event bus and its subscriber buffer (``core.eventbuffer``, shared with the WebSocket
clients and ``--connect``): progress coalesced in place per task, never ahead of a later state
change of its task; terminal events kept; overflow → resync."""

from __future__ import annotations

import pytest

from tui_updater.core.eventbuffer import EventBuffer
from tui_updater.core.events import Event, EventType
from tui_updater.core.service import SubscriberOverflow
from tui_updater.engine.bus import EventBus


def progress(task_id: str, value: float) -> Event:
    return Event(EventType.TASK_PROGRESS, task_id=task_id, progress=value, status="RUNNING")


# The order that once left a consumer on a stale state: progress of attempt 1, the retry, the
# restart, then progress of attempt 2.
RETRY_SEQUENCE = [
    progress("a", 50),
    Event(EventType.TASK_RETRYING, task_id="a", status="PENDING", progress=40),
    Event(EventType.TASK_STARTED, task_id="a", status="RUNNING", progress=40),
    progress("a", 60),
    progress("a", 70),
]


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


def test_progress_after_a_retry_is_delivered_after_the_retry_event():
    bus = EventBus()
    sub = bus.subscribe()
    for event in RETRY_SEQUENCE:
        bus.publish(event)
    events = sub.drain()
    # A consumer applying events in order must end on the newest state (70 %, RUNNING).
    assert [(e.type.value, e.progress) for e in events] == [
        ("task_progress", 50),
        ("task_retrying", 40),
        ("task_started", 40),
        ("task_progress", 70),
    ]


def test_log_lines_do_not_break_progress_coalescing():
    bus = EventBus()
    sub = bus.subscribe()
    bus.publish(progress("a", 10))
    bus.publish(Event(EventType.LOG, task_id="a", message="item done"))
    bus.publish(progress("a", 20))
    assert [e.type.value for e in sub.drain()] == ["task_progress", "log"]


def test_a_size_bound_counts_coalesced_payloads_at_their_new_size():
    buffer: EventBuffer[str] = EventBuffer(max_events=100, max_size=30)
    buffer.push(progress("a", 1), "x" * 10, 10)
    buffer.push(progress("a", 2), "y" * 4, 4)  # replaces the 10-byte payload in place
    buffer.push(Event(EventType.LOG, message="l"), "z" * 20, 20)
    assert buffer.pending == 2 and buffer.pending_size == 24
    assert buffer.drain() == ["y" * 4, "z" * 20] and buffer.pending_size == 0
    buffer.push(Event(EventType.LOG, message="l"), "z" * 20, 20)
    buffer.push(Event(EventType.LOG, message="m"), "w" * 20, 20)  # 40 > 30: too far behind
    assert buffer.overflowed and buffer.pending == 0
    with pytest.raises(SubscriberOverflow):
        buffer.drain()


def story_of(seed: int, count: int) -> list[Event]:
    """A shuffled mix of progress, log lines and state changes over a few tasks; every other
    run of seven events has no progress (the buffer's fast path)."""
    import random

    rng = random.Random(seed)
    quiet = [EventType.LOG] * 3 + [EventType.TASK_STARTED, EventType.TASK_COMPLETED]
    busy = [EventType.TASK_PROGRESS] * 4 + quiet
    return [
        Event(
            rng.choice(quiet if (index // 7) % 2 else busy),
            task_id=rng.choice("abcd"),
            progress=float(index),
            status="X",
        )
        for index in range(count)
    ]


@pytest.mark.parametrize("size_unit", [20, 14])
@pytest.mark.parametrize("seed", range(12))
def test_a_shared_batch_queues_exactly_what_pushing_each_event_queues(
    seed: int, size_unit: int
) -> None:
    from tui_updater.core.eventbuffer import SharedBatch

    events = story_of(seed, 140)
    # bounds that batches cross now and then (overflow, then a fresh buffer: a resync)
    bounds = {"max_events": 14 + seed % 10, "max_size": size_unit * (12 + 2 * seed)}
    pushed: EventBuffer[str] = EventBuffer(**bounds)
    extended: EventBuffer[str] = EventBuffer(**bounds)
    drained: list[object] = []
    for start in range(0, len(events), 7):
        chunk = events[start : start + 7]
        payloads = [f"{e.type.value}:{e.task_id}:{e.progress:g}" for e in chunk]
        sizes = [len(p) for p in payloads]
        for event, payload, size in zip(chunk, payloads, sizes, strict=True):
            pushed.push(event, payload, size)
        extended.extend(SharedBatch(chunk, payloads, sizes))
        assert (pushed.pending, pushed.pending_size, pushed.overflowed) == (
            extended.pending,
            extended.pending_size,
            extended.overflowed,
        )
        if start % 21 == 14:  # the consumer takes everything every third batch
            results = []
            for buffer in (pushed, extended):
                try:
                    results.append(buffer.drain())
                except SubscriberOverflow:
                    results.append("resync")
            assert results[0] == results[1]
            drained.append(results[0])
            if results[0] == "resync":
                pushed, extended = EventBuffer(**bounds), EventBuffer(**bounds)
    assert len(drained) == 6
