"""Event order: coalesced progress must never jump ahead of a later state change of its task."""

from __future__ import annotations

from tui_updater.core.events import Event, EventType
from tui_updater.engine.bus import EventBus


def progress(task_id: str, value: float) -> Event:
    return Event(EventType.TASK_PROGRESS, task_id=task_id, progress=value, status="RUNNING")


def test_progress_after_a_retry_is_delivered_after_the_retry_event():
    bus = EventBus()
    sub = bus.subscribe()
    bus.publish(progress("a", 50))  # attempt 1
    bus.publish(Event(EventType.TASK_RETRYING, task_id="a", status="PENDING", progress=40))
    bus.publish(Event(EventType.TASK_STARTED, task_id="a", status="RUNNING", progress=40))
    bus.publish(progress("a", 60))  # attempt 2
    bus.publish(progress("a", 70))
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
